"""`python -m neft`: help, one-line errors with exit 2, and a train -> evaluate round trip."""

import dataclasses
import json
import subprocess
import sys

import pytest

from neft.cli import build_config, main, make_parser
from neft.config import EvalConfig, TrainConfig, as_flags

TINY = [
    "--dataset",
    "synthetic",
    "--width",
    "0.125",
    "--epochs",
    "1",
    "--val-size",
    "256",
    "--train-subset",
    "256",
    "--device",
    "cpu",
    "--num-workers",
    "0",
    "--val-mc-runs",
    "2",
]


def neft(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "neft", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", ["train", "evaluate", "list"])
def test_help(command):
    out = neft(command, "--help")
    assert out.returncode == 0 and "usage" in out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--out", "x", "--model", "vgg11"], "unknown model 'vgg11'"),
        (["train", "--out", "x", "--sigma-d", "-0.1"], "sigma_d must be in [0, 1]"),
        (["train", "--out", "x", "--epochs", "zero"], "argument --epochs"),
        (["train", "--out", "x", "--unknown-flag"], "unrecognized arguments"),
        (["train", "--out", "x", "--device-kind", "PCM"], "unknown device kind"),
        (["evaluate", "--model", "missing.pt", "--out", "r.json"], "missing.pt: no such file"),
        (["evaluate", "--model", "m.pt", "--out", "r.json", "--runs", "1"], "runs must be >= 2"),
        (["evaluate", "--model", "a.pt", "b.pt", "--out", "r.json"], "2 --model files but 1 --out files"),
        (["evaluate", "--model", "a.pt", "--out", "r.json", "--csv", "a.csv", "b.csv"], "1 --model files but 2 --csv"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as e:  # argparse errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "x").exists() and not (tmp_path / "r.json").exists()


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    out = neft("train", "--out", "x", "--model", "vgg11", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr == "neft: error: unknown model 'vgg11'; choose one of: resnet18, vgg8\n"


def test_config_file_unknown_key(tmp_path):
    (tmp_path / "c.yaml").write_text("model: vgg8\nsigma: 0.1\n")
    out = neft("train", "--out", "x", "--config", "c.yaml", cwd=tmp_path)
    assert out.returncode == 2 and "unknown key 'sigma'" in out.stderr


def test_train_then_evaluate(tmp_path):
    (tmp_path / "c.yaml").write_text("method: ovf\nsigma_d: 0.2\n")
    out = neft("train", "--out", "run", "--config", "c.yaml", "--seed", "3", *TINY, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    trained = json.loads((tmp_path / "run" / "train.json").read_text())
    assert trained["config"]["method"] == "ovf" and trained["config"]["seed"] == 3
    out = neft(
        "evaluate",
        "--model",
        "run/model.pt",
        "--out",
        "mc.json",
        "--csv",
        "mc.csv",
        "--runs",
        "3",
        "--sigmas",
        "0",
        "0.2",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "mc.json").read_text())
    assert [r["sigma"] for r in result["results"]] == [0.0, 0.2] and len(result["results"][1]["accuracy"]) == 3
    assert result["provenance"]["git_commit"] and result["train"]["method_hparams"]["beta"] == 1e-3
    assert (tmp_path / "mc.csv").read_text().count("\n") == 3
    (tmp_path / "run" / "model.pt").write_bytes((tmp_path / "run" / "model.pt").read_bytes()[:1000])
    out = neft("evaluate", "--model", "run/model.pt", "--out", "mc2.json", cwd=tmp_path)
    assert out.returncode == 2 and "truncated" in out.stderr and not (tmp_path / "mc2.json").exists()


def test_every_command_declares_what_it_reads_and_writes():
    """check_paths guards each command through the paths its COMMANDS entry names: each must be one of its
    arguments (or a field of its config), else the check would quietly skip it."""
    import dataclasses

    from neft.cli import COMMANDS

    subparsers = next(a for a in make_parser()._actions if a.dest == "command").choices
    assert set(subparsers) == set(COMMANDS)
    for name, command in COMMANDS.items():
        known = {a.dest for a in subparsers[name]._actions}
        known |= {f.name for f in dataclasses.fields(command.config)} if command.config else set()
        assert set(command.reads) | set(command.writes) <= known, name
        assert name == "list" or command.writes, name


@pytest.mark.parametrize(
    "command,cfg",
    [
        ("train", TrainConfig(method="irs", sigma_d=0.3, lr=None, beta=0.02, quantize=True, download=False)),
        ("evaluate", EvalConfig(sigmas=[0.0, 0.15, 0.4], runs=7, test_subset=None, download=False, quantize=False)),
    ],
)
def test_as_flags_is_what_the_cli_parses_back(tmp_path, command, cfg):
    """What the workflow and the benchmarks pass to `python -m neft` (config.as_flags) gives the CLI the same
    config: booleans both ways, None, lists, floats (an optional switch such as evaluate's quantize has no
    spelling for None: it is left out, as the workflow does)."""
    options = dataclasses.asdict(cfg)
    paths = ["--out", str(tmp_path)] if command == "train" else ["--model", "m.pt", "--out", "r.json"]
    args = make_parser(command).parse_args([command, *paths, *as_flags(options)])
    assert build_config(type(cfg), args) == cfg


@pytest.mark.parametrize(
    "args,message",
    [
        (["tables", "table1", "--out", "t.csv"], "tables table1 needs --runs (runs.csv) and --config"),
        (["tables", "table1", "--runs", "r.csv", "--config", "none.json", "--out", "t.csv"], "none.json: unreadable"),
        (["figures", "figure3", "--runs", "r.csv", "--out", "f.png"], "the following arguments are required: --config"),
        (["aggregate", "x.json", "--root", ".", "--runs", "r.csv", "--summary", "s.csv"], "x.json"),
        (["fetch", "mnist", "--no-download", "--data-dir", "nodata", "--out", "f.json"], "downloads are off"),
    ],
)
def test_analysis_commands_fail_in_one_line(tmp_path, args, message):
    out = subprocess.run(
        [sys.executable, "-m", "neft", *args], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr
