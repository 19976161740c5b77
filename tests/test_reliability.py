"""Bad inputs (docs/reliability.md, one test per row), divergence through the CLI, and determinism.

Every bad input gives one line on stderr naming the problem and what to do, exit code 2, no
traceback, and leaves the files on disk as they were (no model.pt, train.json or result a later
step would read). Most rows run `neft.cli.main` in this process; a few run `python -m neft`.
"""

import json
import logging
import math
import multiprocessing
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import BOMB
from made_runs import checked_config
from PIL import Image
from test_datasets import idx_set, write_idx

from neft.analysis.aggregate import aggregate
from neft.analysis.results import read_result
from neft.analysis.runs import COLUMNS, TEXT
from neft.cli import main
from neft.config import EvalConfig, TrainConfig, as_flags
from neft.errors import NeftError
from neft.evaluate import evaluate
from neft.methods.injection import NoiseInjection
from neft.trainer import Interrupted, train

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
TRAIN = dict(
    dataset="synthetic",
    width=0.125,
    epochs=1,
    val_size=256,
    train_subset=256,
    device="cpu",
    num_workers=0,
    val_mc_runs=2,
)
MNIST = dict(TRAIN, dataset="mnist", data_dir="{made}/mnist", download=False, val_size=8)  # {made}: see CASES


def neft(capsys, *args) -> tuple[int, str]:
    """`python -m neft ARGS` in this process -> (exit code, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse's errors
        code = e.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """Files the rows start from: a trained model and its result, a checkpoint, a model that diverged, MNIST files."""
    made = tmp_path_factory.mktemp("made")
    train(TrainConfig(**TRAIN), made / "run")
    evaluate(made / "run" / "model.pt", EvalConfig(sigmas=[0.1], runs=2, device="cpu"), made / "r.json")
    layout = made / "mc" / "vgg8" / "synthetic" / "noise" / "sd0.1" / "seed0.json"
    layout.parent.mkdir(parents=True)
    layout.write_bytes((made / "r.json").read_bytes())
    aggregate([layout], made / "mc", made / "runs.csv", made / "summary.csv")
    (made / "config.json").write_text(json.dumps(checked_config(sigma_d=[0.1], seeds=[0])))
    with pytest.raises(Interrupted):
        train(TrainConfig(**TRAIN), made / "cut", stop={"stop": signal.SIGTERM})  # checkpoint after one step
    train(TrainConfig(**TRAIN, lr=1e30), made / "diverged")  # NaN in epoch 1: no weights kept
    idx_set(made / "mnist" / "MNIST" / "raw", n=(40, 20))
    train(TrainConfig(**{**MNIST, "data_dir": str(made / "mnist")}), made / "mnist_run")
    return made


# what a row writes into its folder before the command runs: prepare(folder, made)
def text(name: str, content: str):
    return lambda tmp, made: (tmp / name).write_text(content)


def copy(src: str, dst: str, keep: int | None = None, drop: str | None = None, **meta):
    """A made file copied, cut to `keep` bytes, or with one of its torch metadata keys dropped or some changed."""

    def prepare(tmp, made):
        (tmp / dst).parent.mkdir(parents=True, exist_ok=True)
        if meta or drop:
            obj = torch.load(made / src, weights_only=True)
            obj = {k: v for k, v in obj.items() if k != drop}
            torch.save({**obj, **{k: v(obj[k]) if callable(v) else v for k, v in meta.items()}}, tmp / dst)
        else:
            (tmp / dst).write_bytes((made / src).read_bytes()[:keep])

    return prepare


def latin1(tmp, made):
    (tmp / "c.yaml").write_bytes("seed: 1  # réglage\n".encode("latin-1"))


def symlink(tmp, made):
    copy("run/model.pt", "m.pt")(tmp, made)
    os.symlink("m.pt", tmp / "link.pt")


def runs_table(tmp, made, accuracy="90.0", columns=COLUMNS, rows=1):
    """A runs.csv of `rows` equal rows: text in the text columns, 2 runs, `accuracy` as the accuracy, 0 elsewhere."""
    values = {"accuracy": accuracy, "runs": "2"}
    row = [values.get(c, "x" if c in TEXT else "0") for c in columns]
    (tmp / "runs.csv").write_text(",".join(columns) + "\n" + (",".join(row) + "\n") * rows)


def truncated_mnist(tmp, made):
    idx_set(tmp / "bad" / "MNIST" / "raw", n=(40, 20))
    images = tmp / "bad" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:3000])


def tiny_imagenet_with_a_cut_image(tmp, made):
    root = tmp / "t" / "tiny-imagenet-200"
    for c, wnid in enumerate(["n01443537", "n01629819"]):
        (root / "train" / wnid / "images").mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (64, 64), (90 * c, 20 * i, 0)).save(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG")
    (root / "val" / "images").mkdir(parents=True)
    (root / "val" / "val_annotations.txt").write_text("")
    cut = root / "train" / wnid / "images" / f"{wnid}_2.JPEG"
    cut.write_bytes(cut.read_bytes()[:300])


def finished_run_with_cut_train_json(tmp, made):
    copy("run/model.pt", "run/model.pt")(tmp, made)
    (tmp / "run" / "train.json").write_text('{"status": "compl')


def finished_run(tmp, made):
    copy("run/model.pt", "run/model.pt")(tmp, made)
    copy("run/train.json", "run/train.json")(tmp, made)


def finished_run_without_config(tmp, made):
    copy("run/model.pt", "run/model.pt")(tmp, made)
    trained = json.loads((made / "run" / "train.json").read_text())
    (tmp / "run" / "train.json").write_text(json.dumps({k: v for k, v in trained.items() if k != "config"}))


def T(*more, out="run"):
    return ["train", "--out", out, *as_flags(TRAIN), *more]


def E(*more, model="{made}/run/model.pt", out="r.json", csv="r.csv"):
    return ["evaluate", "--model", model, "--out", out, "--csv", csv, "--device", "cpu", "--runs", "2", *more]


def both(*prepares):
    return lambda tmp, made: [prepare(tmp, made) for prepare in prepares]


def link(name: str, target: str):
    return lambda tmp, made: (tmp / name).parent.mkdir(exist_ok=True) or os.symlink(target, tmp / name)


def fifo(name: str):
    return lambda tmp, made: os.mkfifo(tmp / name)


def char_device(name: str):
    """A /dev/null of the test's own (making one needs root)."""

    def prepare(tmp, made):
        try:
            os.mknod(tmp / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")

    return prepare


def bad_mnist(split: str, labels=None, size=28):
    """MNIST files in bad/ whose `split` (train, t10k) has these labels (default: 0, 1, 2, ...) or image size."""

    def prepare(tmp, made):
        raw = tmp / "bad" / "MNIST" / "raw"
        idx_set(raw, n=(40, 20))
        count = 40 if split == "train" else 20
        labels_ = np.arange(count) % 10 if labels is None else labels
        write_idx(raw, split, np.zeros((count, size, size), dtype=np.uint8), np.asarray(labels_, dtype=np.uint8))

    return prepare


def irs_train_json(tmp, made):
    trained = json.loads((made / "run" / "train.json").read_text())
    trained["config"]["method"], trained["method_hparams"] = "irs", {"beta": 0.5}
    (tmp / "t.json").write_text(json.dumps(trained))


def other_width_weights(ckpt: dict) -> dict:
    from neft.models import build_model

    return build_model("vgg8", 3, 10, 32, 0.25).state_dict()


MC_FILE = "mc/vgg8/synthetic/noise/sd0.1/seed0.json"
CKPT = copy("cut/checkpoint.pt", "run/checkpoint.pt")
CASES = [  # id, command line ({made}: the made files), a fragment of the line it prints, what to write first
    # config and command line
    ("unknown-model", T("--model", "vgg11"), "unknown model 'vgg11'; choose one of: resnet18, vgg8", None),
    ("unknown-method", T("--method", "ofv"), "unknown method 'ofv'; choose one of", None),
    ("unknown-dataset", T("--dataset", "imagenet"), "unknown dataset 'imagenet'; choose one of", None),
    ("unknown-device-kind", T("--device-kind", "PCM"), "unknown device kind 'PCM'", None),
    ("sigma-negative", T("--sigma-d", "-0.1"), "sigma_d must be in [0, 1]", None),
    ("sigma-above-1", T("--sigma-d", "1.5"), "sigma_d must be in [0, 1]", None),
    ("sigma-nan", T("--sigma-d", "nan"), "--sigma-d must be a finite number, got nan", None),
    (
        "sigma-tiny-negative",
        T("--sigma-d", "-1e-12"),
        "sigma_d must be in [0, 1] (relative to a device's max conductance), got -1e-12",
        None,
    ),
    ("n-feedback-0", T("--method", "ovf", "--n-feedback", "0"), "n_feedback must be in 1..5, got 0", None),
    ("beta-0", T("--method", "irs", "--beta", "0"), "beta must be > 0, got 0.0", None),
    ("bits-not-multiple", T("--weight-bits", "7"), "weight_bits (7) must be a multiple of device_bits (2)", None),
    ("epochs-0", T("--epochs", "0"), "epochs must be >= 1, got 0", None),
    ("lr-0", T("--lr", "0"), "lr must be > 0, got 0.0", None),
    ("width-0", T("--width", "0"), "width must be > 0", None),
    ("val-size-0", T("--val-size", "0", "--select", "last"), "val_size must be >= 1, got 0", None),
    ("val-size-whole-set", T("--val-size", "2048"), "val_size 2048 leaves no training images", None),
    ("vanilla-with-noise", T("--method", "vanilla"), "method vanilla trains without noise", None),
    ("no-such-cuda", T("--device", "cuda:99"), "device 'cuda:99' asked for, but", None),
    ("bad-device", T("--device", "tpu"), "device must be auto, cpu, cuda or cuda:N; got 'tpu'", None),
    (
        "device-other-digits",
        T("--device", "cuda:\u0663"),
        "device must be auto, cpu, cuda or cuda:N; got 'cuda:\u0663'",
        None,
    ),
    ("unknown-flag", T("--sigma", "0.1"), "unrecognized arguments: --sigma 0.1", None),
    ("flag-wrong-type", T("--epochs", "ten"), "argument --epochs: invalid int value: 'ten'", None),
    (
        "yaml-not-mapping",
        T("--config", "c.yaml"),
        "c.yaml: expected a mapping of keys to values",
        text("c.yaml", "- model\n- vgg8\n"),
    ),
    ("yaml-wrong-type", T("--config", "c.yaml"), "seed must be int, got 1.5", text("c.yaml", "seed: 1.5\n")),
    ("yaml-unknown-key", T("--config", "c.yaml"), "c.yaml: unknown key 'sigma'", text("c.yaml", "sigma: 0.1\n")),
    ("yaml-syntax", T("--config", "c.yaml"), "cannot read config file c.yaml", text("c.yaml", "epochs: [1\n")),
    ("config-missing", T("--config", "none.yaml"), "cannot read config file none.yaml", None),
    (
        "yaml-not-utf8",
        T("--config", "c.yaml"),
        "cannot read config file c.yaml: not UTF-8 text (byte 0xe9 at offset 12); save it as UTF-8",
        latin1,
    ),
    (
        "yaml-nan",
        T("--config", "c.yaml"),
        "sigma_d must be a finite number, got nan",
        text("c.yaml", "sigma_d: .nan\n"),
    ),
    (
        "yaml-huge-int",
        T("--config", "c.yaml"),
        "seed must be between -2**63 and 2**63 - 1, got 1000000000000000000000",
        text("c.yaml", "seed: 1000000000000000000000\n"),
    ),
    ("yaml-number-key", T("--config", "c.yaml"), "c.yaml: unknown key 1;", text("c.yaml", "1: 2\nsigma: 0.1\n")),
    ("eval-sigma-above-1", E("--sigmas", "0", "2"), "sigmas must be in [0, 1]", None),
    ("eval-runs-1", E("--runs", "1"), "runs must be >= 2 (a std needs two runs), got 1", None),
    ("eval-bits-not-multiple", E("--weight-bits", "7"), "weight_bits (7) must be a multiple", None),
    (
        "eval-runs-huge",
        E("--runs", "99999999999999999999999"),
        "--runs must be between -2**63 and 2**63 - 1, got 99999999999999999999999",
        None,
    ),
    # outputs that would overwrite an input or each other, one row per command
    ("out-empty", T(out=""), "--out is empty; give a path", None),
    ("data-dir-empty", T("--data-dir", ""), "--data-dir is empty; give a path", None),
    (
        "yaml-nul-in-path",
        T("--config", "c.yaml"),
        "--data-dir 'a\\x00b' holds a NUL character; give a path",
        text("c.yaml", 'data_dir: "a\\0b"\n'),
    ),
    (
        "init-from-is-output",
        T("--init-from", "run/model.pt"),
        "--out run/model.pt would overwrite --init-from run/model.pt; give another --out",
        finished_run,
    ),
    (
        "eval-out-is-model",
        E(model="m.pt", out="m.pt"),
        "--out m.pt would overwrite --model m.pt; give another --out",
        copy("run/model.pt", "m.pt"),
    ),
    ("eval-out-links-to-model", E(model="m.pt", out="link.pt"), "--out link.pt would overwrite --model m.pt", symlink),
    (
        "eval-out-is-model-folder",
        E(model="run/model.pt", out="run"),
        "--out run would replace the folder holding --model run/model.pt",
        copy("run/model.pt", "run/model.pt"),
    ),
    ("eval-csv-is-out", E(csv="r.json"), "--csv r.json would overwrite --out r.json; give another --csv", None),
    (
        "aggregate-over-input",
        ["aggregate", "r.json", "--root", ".", "--runs", "r.json", "--summary", "s.csv"],
        "--runs r.json would overwrite input r.json",
        copy("r.json", "r.json"),
    ),
    (
        "aggregate-outside-root",
        ["aggregate", "r.json", "--root", "mc", "--runs", "runs.csv", "--summary", "s.csv"],
        "r.json: not at <model>/<dataset>/<variant>/sd<sigma_d>/seed<seed>.json under mc",
        copy("r.json", "r.json"),
    ),
    (
        "beta-search-csv-is-out",
        ["beta-search", "{made}/run/train.json", "--out", "b.yaml", "--csv", "b.yaml"],
        "--csv b.yaml would overwrite --out b.yaml",
        None,
    ),
    (
        "figures-out-is-runs",
        ["figures", "figure3", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "runs.csv"],
        "--out runs.csv would overwrite --runs runs.csv",
        runs_table,
    ),
    (
        "tables-out-twice",
        ["tables", "table1", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "t.md", "./t.md"],
        "--out ./t.md would overwrite --out t.md",
        runs_table,
    ),
    (
        "report-out-is-a-figure",
        ["report", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "f.png", "--figures", "f.png"],
        "--out f.png would overwrite --figures f.png",
        runs_table,
    ),
    (
        "fetch-out-is-data-dir",
        ["fetch", "synthetic", "--data-dir", "d", "--out", "d"],
        "--out d would overwrite --data-dir d",
        None,
    ),
    # data and output folders
    (
        "data-missing-offline",
        T("--dataset", "mnist", "--data-dir", "empty", "--no-download"),
        "mnist: missing train-images-idx3-ubyte, train-labels-idx1-ubyte",
        None,
    ),
    (
        "eval-data-missing-offline",
        E("--data-dir", "empty", "--no-download", model="{made}/mnist_run/model.pt"),
        "mnist: missing",
        None,
    ),
    (
        "data-truncated",
        T("--dataset", "mnist", "--data-dir", "bad", "--no-download", "--val-size", "8"),
        "mnist: files in bad/MNIST/raw are corrupt or truncated",
        truncated_mnist,
    ),
    (
        "image-truncated",
        T("--dataset", "tinyimagenet", "--data-dir", "t", "--no-download", "--val-size", "4", "--num-workers", "2"),
        "_2.JPEG: corrupt or truncated image",
        tiny_imagenet_with_a_cut_image,
    ),
    ("run-folder-unwritable", T(out="file/run"), "cannot write file/run (file/run: Not a directory)", text("file", "")),
    ("result-folder-unwritable", E(out="file/r.json"), "cannot write file/r.json", text("file", "")),
    ("result-is-a-folder", E(out="."), "cannot write .: it is a folder", None),
    # checkpoints, model and result files
    ("model-missing", E(model="none.pt"), "none.pt: no such file", None),
    ("model-truncated", E(model="m.pt"), "m.pt: truncated or corrupt", copy("run/model.pt", "m.pt", 3000)),
    ("model-not-torch", E(model="{made}/run/train.json"), "train.json: not a torch file", None),
    (
        "model-is-checkpoint",
        E(model="{made}/cut/checkpoint.pt"),
        "format 'neft.checkpoint/1', expected 'neft.model/1'",
        None,
    ),
    (
        "model-older-format",
        E(model="m.pt"),
        "format 'neft.model/0', expected 'neft.model/1'",
        copy("run/model.pt", "m.pt", format="neft.model/0"),
    ),
    (
        "model-missing-key",
        E(model="m.pt"),
        "m.pt: missing key config, so not a complete 'neft.model/1' file; rerun the step that wrote it",
        copy("run/model.pt", "m.pt", drop="config"),
    ),
    (
        "model-wrong-type",
        E(model="m.pt"),
        "m.pt: model_args.width is str, expected a finite number in [0, 16]",
        copy("run/model.pt", "m.pt", model_args=lambda a: {**a, "width": "wide"}),
    ),
    (
        "model-dataset-mismatch",
        E("--data-dir", "{made}/mnist", "--no-download", model="m.pt"),
        "does not fit dataset mnist",
        copy("run/model.pt", "m.pt", config=lambda c: {**c, "dataset": "mnist"}),
    ),
    (
        "resume-truncated",
        T("--resume"),
        "run/checkpoint.pt: truncated or corrupt",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", 5000),
    ),
    (
        "resume-other-model",
        T("--resume", "--model", "resnet18"),
        "checkpoint of another run (model = 'vgg8', this run 'resnet18')",
        CKPT,
    ),
    (
        "resume-changed-config",
        T("--resume", "--lr", "0.01"),
        "checkpoint of another run (lr = None, this run 0.01)",
        CKPT,
    ),
    (
        "resume-older-format",
        T("--resume"),
        "format 'neft.checkpoint/0', expected 'neft.checkpoint/1'",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", format="neft.checkpoint/0"),
    ),
    (
        "resume-missing-key",
        T("--resume"),
        "run/checkpoint.pt: missing key optimizer, so not a complete "
        "'neft.checkpoint/1' file; delete it and train again",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", drop="optimizer"),
    ),
    ("resume-train-json-unreadable", T("--resume"), "run/train.json: unreadable", finished_run_with_cut_train_json),
    ("resume-train-json-missing-key", T("--resume"), "run/train.json: missing key config", finished_run_without_config),
    (
        "resume-finished-other-config",
        T("--resume", "--lr", "0.01"),
        "run holds a finished run of another config",
        finished_run,
    ),
    (
        "init-other-model",
        T("--model", "resnet18", "--init-from", "{made}/run/model.pt"),
        "model does not match this run (name 'vgg8' vs 'resnet18')",
        None,
    ),
    (
        "init-other-dataset",
        T(*as_flags(MNIST), "--init-from", "{made}/run/model.pt"),
        "model does not match this run (in_channels 3 vs 1)",
        None,
    ),
    ("init-no-weights", T("--init-from", "{made}/diverged/model.pt"), "holds no weights (training diverged", None),
    ("init-missing", T("--init-from", "none.pt"), "none.pt: no such file", None),
    (
        "init-missing-key",
        T("--init-from", "m.pt"),
        "m.pt: missing key state_dict",
        copy("run/model.pt", "m.pt", drop="state_dict"),
    ),
    (
        "beta-search-not-a-run",
        ["beta-search", "t.json", "--out", "b.yaml", "--csv", "b.csv"],
        "t.json: missing key status, so not a complete 'train.json' file",
        text("t.json", '{"config": {}}'),
    ),
    (
        "runs-csv-missing-column",
        ["figures", "figure3", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "f.png"],
        "runs.csv: not a runs table (missing file)",
        lambda tmp, made: runs_table(tmp, made, columns=COLUMNS[:-1]),
    ),
    (
        "runs-csv-text-in-numbers",
        ["tables", "table1", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "t.md"],
        "runs.csv: column accuracy holds text where numbers belong",
        lambda tmp, made: runs_table(tmp, made, accuracy="high"),
    ),
    (
        "report-benchmark-missing",
        [
            "report",
            "--runs",
            "{made}/runs.csv",
            "--config",
            "{made}/config.json",
            "--out",
            "r.md",
            "--benchmarks",
            "none.tsv",
        ],
        "none.tsv: unreadable benchmark file ([Errno 2] No such file or directory: 'none.tsv'); rerun its job",
        None,
    ),
    (
        "config-json-incomplete",
        ["report", "--runs", "{made}/runs.csv", "--config", "c.json", "--out", "r.md"],
        "c.json: missing key sigma_d, so not a complete 'config.json' file; let the workflow write it again",
        text("c.json", '{"name": "grid"}'),
    ),
    (
        "beta-table-missing",
        ["tables", "beta", "--search", "none.csv", "--out", "t.md"],
        "none.csv: unreadable beta search table ([Errno 2] No such file or directory: 'none.csv'); "
        "rerun its beta search",
        None,
    ),
    # issue 22: what neft writes or reads is a regular file (never through a link, a FIFO, a device), paths bounded
    (
        "lock-is-a-link",
        T(),
        "cannot lock run: .lock there is a symbolic link, not a lock; remove it",
        both(text("precious.txt", "keep me"), link("run/.lock", "../precious.txt")),
    ),
    ("out-is-a-link", E(out="r.json"), "cannot write r.json: it is a symbolic link", link("r.json", "elsewhere.json")),
    ("csv-is-a-fifo", E(csv="r.csv"), "cannot write r.csv: it is a FIFO; give the path of a regular", fifo("r.csv")),
    ("csv-is-a-device", E(csv="null"), "cannot write null: it is a character device", char_device("null")),
    (
        "out-is-a-run-file",
        E(out="run/train.json"),
        "--out run/train.json would replace a file of the training run in run; give another --out",
        finished_run,
    ),
    ("out-too-long", T(out="a" * 300), "cannot write " + "a" * 80 + "...", None),
    ("model-path-too-long", E(model="m" * 5000), "cannot read --model " + "m" * 80 + "...", None),
    (
        "data-dir-loop",
        T("--dataset", "mnist", "--data-dir", "loop", "--no-download"),
        "cannot read --data-dir loop (Too many levels of symbolic links)",
        link("loop", "loop"),
    ),
    ("config-is-a-fifo", T("--config", "c.yaml"), "cannot read --config c.yaml: it is a FIFO", fifo("c.yaml")),
    (
        "data-file-is-a-fifo",
        T(*as_flags({**MNIST, "data_dir": "bad"})),
        "mnist: bad/MNIST/raw/train-labels-idx1-ubyte is a FIFO, not a file; delete it and download again",
        both(
            bad_mnist("train"),
            lambda tmp, made: (tmp / "bad/MNIST/raw/train-labels-idx1-ubyte").unlink(),
            fifo("bad/MNIST/raw/train-labels-idx1-ubyte"),
        ),
    ),
    ("width-huge", T("--width", "1e6"), "width must be <= 16 (1.0 is the paper's model), got 1000000.0", None),
    (
        "model-width-huge",
        E(model="m.pt"),
        "m.pt: model_args.width is 1000000.0, expected a finite number in [0, 16]",
        copy("run/model.pt", "m.pt", model_args=lambda a: {**a, "width": 1e6}),
    ),
    (
        "yaml-alias-bomb",
        T("--config", "c.yaml"),
        "c.yaml: expands to more than 100000 values (YAML aliases?); write the config out",
        text("c.yaml", f"{BOMB}sigma_d: *i\n"),  # a known key: its error message showed the value, expanded
    ),
    (
        "yaml-too-many-digits",
        T("--config", "c.yaml"),
        "c.yaml: Exceeds the limit (4300 digits) for integer string conversion",
        text("c.yaml", f"seed: {'9' * 5000}\n"),
    ),
    # issue 22: a run folder holds one run
    (
        "train-over-another-run",
        T("--seed", "1"),
        "run holds a finished run of another config (seed = 0, this run 1); train into another folder, or replace "
        "it with --overwrite",
        finished_run,
    ),
    (
        "train-over-a-checkpoint",
        T(),
        "run holds an unfinished training (checkpoint.pt); continue it with --resume, or start again with --overwrite",
        CKPT,
    ),
    ("resume-and-overwrite", T("--resume", "--overwrite"), "--resume keeps what the run folder holds", None),
    # issue 22: each run counted once
    ("eval-sigmas-twice", E("--sigmas", "0.3", "0.1", "0.1"), "sigmas lists 0.1 more than once; give each", None),
    (
        "aggregate-file-twice",
        ["aggregate", MC_FILE, f"./{MC_FILE}", "--root", "mc", "--runs", "runs.csv", "--summary", "s.csv"],
        f"./{MC_FILE}: run vgg8/synthetic/noise/sd0.1/seed0 at sigma 0.1 is already given by {MC_FILE}",
        copy("r.json", MC_FILE),
    ),
    (
        "beta-search-file-twice",
        ["beta-search", "t.json", "./t.json", "--out", "b.yaml", "--csv", "b.csv"],
        "./t.json: the candidate beta 0.5, seed 0 is already given by t.json; give each candidate run once",
        irs_train_json,
    ),
    (
        "config-json-seeds-twice",
        ["report", "--runs", "{made}/runs.csv", "--config", "c.json", "--out", "r.md"],
        "c.json: seeds lists 0 more than once, so not a complete 'config.json' file; let the workflow write it again",
        text("c.json", json.dumps({**checked_config(), "seeds": [0, 0]})),
    ),
    (
        "runs-csv-accuracy-out-of-range",
        ["tables", "table1", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "t.md"],
        "runs.csv: line 2: accuracy is 150.0, expected a finite number in [0, 100] or NaN; rerun the aggregate step",
        lambda tmp, made: runs_table(tmp, made, accuracy="150"),
    ),
    (
        "runs-csv-row-twice",
        ["figures", "figure3", "--runs", "runs.csv", "--config", "{made}/config.json", "--out", "f.png"],
        "runs.csv: line 3 repeats the run and sigma of an earlier line; rerun the aggregate step",
        lambda tmp, made: runs_table(tmp, made, rows=2),
    ),
    # issue 22: checkpoints checked for meaning
    (
        "resume-other-model-args",
        T("--resume"),
        "run/checkpoint.pt: holds another model (width 0.25, this run 0.125); delete it and train again",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", model_args=lambda a: {**a, "width": 0.25}),
    ),
    (
        "resume-weights-of-another-width",
        T("--resume"),
        "run/checkpoint.pt: its model state does not fit this run (Error(s) in loading state_dict",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", model=other_width_weights),
    ),
    (
        "resume-epoch-outside",
        T("--resume"),
        "run/checkpoint.pt: after epoch 99, outside this run of 1 epochs of 2 steps; delete it and train again",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", epoch=99),
    ),
    (
        "resume-foreign-optimizer",
        T("--resume"),
        "run/checkpoint.pt: holds an optimizer state of other parameters (exp_avg of parameter 0)",
        copy(
            "cut/checkpoint.pt",
            "run/checkpoint.pt",
            optimizer=lambda o: {**o, "state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.zeros(3)}}},
        ),
    ),
    (
        "resume-foreign-generator",
        T("--resume"),
        "run/checkpoint.pt: its noise generator state does not fit this run",
        copy("cut/checkpoint.pt", "run/checkpoint.pt", noise_rng=torch.zeros(16, dtype=torch.uint8)),
    ),
    # issue 22: dataset files that hold something else than their format says
    (
        "data-label-outside",
        T(*as_flags({**MNIST, "data_dir": "bad"})),
        "mnist: bad/MNIST/raw/train-labels-idx1-ubyte holds label 10, outside the 10 classes (0 to 9); delete it",
        bad_mnist("train", labels=[10] + [0] * 39),
    ),
    (
        "eval-data-too-few-labels",
        E("--data-dir", "bad", "--no-download", model="{made}/mnist_run/model.pt"),
        "mnist: bad/MNIST/raw/t10k-labels-idx1-ubyte holds 19 labels for 20 images",
        bad_mnist("t10k", labels=[1] * 19),
    ),
    (
        "eval-data-wrong-size",
        E("--data-dir", "bad", "--no-download", model="{made}/mnist_run/model.pt"),
        "mnist: bad/MNIST/raw/t10k-images-idx3-ubyte holds images of 20x20, expected 28x28",
        bad_mnist("t10k", size=20),
    ),
]


def files(folder: Path) -> dict[str, bytes | str]:
    """What is under `folder`: each regular file's bytes, each link's target, what the rest is (a folder, a FIFO)."""

    def content(p: Path):
        if p.is_symlink():
            return f"-> {os.readlink(p)}"
        return p.read_bytes() if p.is_file() else stat.filemode(p.lstat().st_mode)

    return {str(p.relative_to(folder)): content(p) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("args,says,prepare", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_input(tmp_path, monkeypatch, capsys, caplog, made, args, says, prepare):
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO)
    if prepare:
        prepare(tmp_path, made)
    before = files(tmp_path)
    code, err = neft(capsys, *(a.format(made=made) for a in args))
    assert code == 2 and err.startswith("neft: error: ") and err.count("\n") == 1, err
    assert says in err
    assert files(tmp_path) == before  # nothing written, nothing removed
    assert "epoch 1/" not in caplog.text  # refused before any training


def made_result(**changes):
    """The made result file, with some keys changed (None: dropped)."""

    def content(made):
        result = json.loads((made / "r.json").read_text())
        return json.dumps({k: changes.get(k, v) for k, v in result.items() if changes.get(k, v) is not None})

    return content


def edited_result(edit):
    """The made result file, changed in place by `edit`."""

    def content(made):
        result = json.loads((made / "r.json").read_text())
        edit(result)
        return json.dumps(result)

    return content


RESULT_CASES = [  # id, the file's content from the made files, a fragment of the error
    (
        "result-older-format",
        lambda made: '{"format": "neft.mc/0", "results": []}',
        "r.json: format 'neft.mc/0', expected 'neft.mc/1'; pass the right file, or rerun the step that wrote it",
    ),
    ("result-truncated", lambda made: '{"format": "neft.mc/1", "resu', "r.json: unreadable (Unterminated string"),
    (
        "result-no-train",
        made_result(train=None),
        "r.json: missing key train, so not a complete 'neft.mc/1' file; rerun its evaluate step",
    ),
    ("result-results-wrong-type", made_result(results="none"), "r.json: results is str, expected a list"),
    ("result-row-missing-key", made_result(results=[{"sigma": 0.1}]), "r.json: missing key results.0.runs"),
    (
        "result-accuracy-nan",
        edited_result(lambda r: r["results"][0].update(mean=math.nan)),
        "r.json: results.0.mean is nan, expected a finite number in [0, 100], so not a complete 'neft.mc/1' file",
    ),
    (
        "result-accuracy-above-100",
        edited_result(lambda r: r["results"][0]["accuracy"].__setitem__(1, 150.0)),
        "r.json: results.0.accuracy.1 is 150.0, expected a finite number in [0, 100]",
    ),
    (
        "result-accuracy-infinite",
        edited_result(lambda r: r["results"][0].update(ci95=math.inf)),
        "r.json: results.0.ci95 is inf, expected a finite number >= 0",
    ),
    (
        "result-std-negative",
        edited_result(lambda r: r["results"][0].update(std=-1.0)),
        "r.json: results.0.std is -1.0, expected a finite number >= 0",
    ),
    (
        "result-runs-0",
        edited_result(lambda r: r["results"][0].update(runs=0)),
        "r.json: results.0.runs is 0, expected an integer >= 2",
    ),
    (
        "result-runs-miscounted",
        edited_result(lambda r: r["results"][0].update(runs=3)),
        "r.json: results.0.accuracy holds 2 runs, but results.0.runs is 3",
    ),
    (
        "result-deep-wrong-type",
        edited_result(lambda r: r["train"]["config"].update(seed="0")),
        "r.json: train.config.seed is str, expected an integer, so not",
    ),
    (
        "result-status-unknown",
        edited_result(lambda r: r.update(status="done")),
        "r.json: status is 'done', expected one of completed, diverged",
    ),
    (
        "result-nested-absurdly",
        lambda made: '{"format": "neft.mc/1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "r.json: unreadable (nested too deeply); rerun its evaluate step",
    ),
]


@pytest.mark.parametrize("content,says", [pytest.param(*c[1:], id=c[0]) for c in RESULT_CASES])
def test_result_file(tmp_path, made, content, says):
    """What every step reading result files (aggregate) is given by neft.results.read_result."""
    (tmp_path / "r.json").write_text(content(made))
    with pytest.raises(NeftError) as e:
        read_result(tmp_path / "r.json")
    assert says in str(e.value) and "\n" not in str(e.value)


# the keys of a result file its readers need (an oracle apart from formats.py): results.0 stands for every row
NEEDED = {
    "": ["format", "status", "train", "seconds", "provenance", "results"],
    "provenance": ["device"],
    "train": ["diverged_epoch", "flags", "method_hparams", "config", "selected_val_accuracy", "seconds"],
    "train.config": ["model", "dataset", "method", "sigma_d", "seed", "epochs", "width", "train_subset"],
    "results.0": ["sigma", "runs", "accuracy", "ekl_runs", "mean", "std", "ci95", "ekl"],
}


def key_paths(value, where=""):
    """Every key path of a result, a list's first item standing for all of them: 'train.config.seed'."""
    items = value.items() if isinstance(value, dict) else [("0", value[0])] if isinstance(value, list) and value else []
    for key, sub in items:
        path = f"{where}.{key}".lstrip(".")
        if isinstance(value, dict):
            yield path
        yield from key_paths(sub, path)


def test_each_key_dropped_in_turn(made, tmp_path):
    """Every key of a result file evaluate wrote, dropped in turn: a key its readers need (NEEDED) is one line
    naming it; any other is not needed, and the file still reads."""
    result = json.loads((made / "r.json").read_text())
    paths = list(key_paths(result))
    assert {f"{w}.{k}".lstrip(".") for w, keys in NEEDED.items() for k in keys} <= set(paths)
    for path in paths:
        edited = json.loads((made / "r.json").read_text())
        *parents, last = path.split(".")
        holder = edited
        for part in parents:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        del holder[last]
        (tmp_path / "r.json").write_text(json.dumps(edited))
        if last in NEEDED.get(".".join(parents), []):
            with pytest.raises(NeftError) as e:
                read_result(tmp_path / "r.json")
            assert f"missing key {path}," in str(e.value) or path == "format", (path, str(e.value))
        else:
            assert read_result(tmp_path / "r.json")["format"] == "neft.mc/1", path


def test_a_whole_result_file_is_read(made):
    """The checks of test_result_file pass a file evaluate wrote (the test would pass if they refused all)."""
    assert read_result(made / "r.json")["results"][0]["runs"] == 2


IN_A_PROCESS = ("yaml-not-mapping", "image-truncated", "resume-truncated")  # config, data (workers), checkpoint


@pytest.mark.parametrize("args,says,prepare", [pytest.param(*c[1:], id=c[0]) for c in CASES if c[0] in IN_A_PROCESS])
def test_bad_input_real_process(tmp_path, made, args, says, prepare):
    """Rows as a real `python -m neft`: exit code 2, no traceback (DataLoader workers included)."""
    prepare(tmp_path, made)
    out = subprocess.run(
        [sys.executable, "-m", "neft", *(a.format(made=made) for a in args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.splitlines()[-1].startswith("neft: error: ") and says in out.stderr.splitlines()[-1]


def test_an_error_in_a_worker_leaves_no_worker_behind(tmp_path, made, monkeypatch):
    """Once main() returns, the DataLoader workers are gone: left to interpreter shutdown, Python 3.12
    hangs at exit (they ignore SIGTERM), which only a real process on 3.12 shows."""
    case = next(c for c in CASES if c[0] == "image-truncated")
    case[3](tmp_path, made)
    monkeypatch.chdir(tmp_path)
    try:
        assert main(case[1]) == 2
        assert multiprocessing.active_children() == []
    finally:
        for child in multiprocessing.active_children():
            child.kill()


def test_every_row_is_in_the_doc():
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", DOC.read_text(), re.M)
    assert documented == [c[0] for c in CASES + RESULT_CASES]


def test_a_finished_run_is_kept_unless_overwrite(tmp_path, monkeypatch, capsys, caplog, made):
    """Training into a folder holding this finished run is no work ('already complete'); --overwrite replaces
    it, but only once the new run's input is checked: a bad one leaves the old run as it was."""
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO)
    finished_run(tmp_path, made)
    before = files(tmp_path)
    assert neft(capsys, *T())[0] == 0
    assert "run: already complete" in caplog.text and "epoch 1/" not in caplog.text and files(tmp_path) == before
    assert neft(capsys, *T("--overwrite", "--val-size", "2048"))[0] == 2 and files(tmp_path) == before
    assert neft(capsys, *T("--overwrite", "--seed", "1"))[0] == 0
    assert json.loads(Path("run/train.json").read_text())["config"]["seed"] == 1


@contextmanager
def unreadable(path: Path):
    """`path` at mode 000 while inside. Modes do not stop root, so a root process acts as nobody meanwhile
    (effective uid 65534)."""
    mode, root = path.stat().st_mode, os.geteuid() == 0
    path.chmod(0)
    try:
        if root:
            os.seteuid(65534)
        yield
    finally:
        if root:
            os.seteuid(0)
        path.chmod(mode)


@pytest.fixture
def open_folder(monkeypatch):
    """The working folder, open to all users (also the folders above it: mkstemp's paths are absolute)."""
    folder = Path(tempfile.mkdtemp(prefix="neft-"))
    folder.chmod(0o777)
    monkeypatch.chdir(folder)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize(
    "args,prepare,path,says",
    [
        (
            E(model="m.pt"),
            copy("run/model.pt", "m.pt"),
            "m.pt",
            "m.pt: cannot read it (Permission denied); check the path and its permissions",
        ),
        (
            T("--resume"),
            CKPT,
            "run/checkpoint.pt",
            "run/checkpoint.pt: cannot read it (Permission denied); check the path and its permissions",
        ),
        (
            T(*as_flags({**MNIST, "data_dir": "d"})),
            lambda tmp, made: idx_set(tmp / "d" / "MNIST" / "raw", n=(40, 20)),
            "d",
            "mnist: cannot read d/MNIST/raw/train-images-idx3-ubyte (Permission denied); check it and its folders",
        ),
    ],
    ids=["model", "checkpoint", "data-folder"],
)
def test_an_unreadable_file_or_folder_is_one_line(open_folder, capsys, made, args, prepare, path, says):
    prepare(open_folder, made)
    for folder in [p for p in open_folder.rglob("*") if p.is_dir()]:
        folder.chmod(0o777)  # nobody's lock and temp files go there
    with unreadable(open_folder / path):
        code, err = neft(capsys, *args)
    assert code == 2 and err == f"neft: error: {says}\n"


# divergence


def test_absurd_learning_rate_diverges_in_epoch_1_and_evaluate_records_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert neft(capsys, *T("--lr", "1e30"))[0] == 0
    trained = json.loads(Path("run/train.json").read_text())
    assert [trained[k] for k in ("status", "diverged_epoch", "epochs_run", "selected_epoch")] == [
        "diverged",
        1,
        0,
        None,
    ]
    assert neft(capsys, *E(model="run/model.pt"))[0] == 0
    result = json.loads(Path("r.json").read_text())
    assert result["status"] == "diverged" and result["results"] == [] and result["train"]["diverged_epoch"] == 1
    assert Path("r.csv").read_text().splitlines()[1].startswith("vgg8,synthetic,noise,0.1,0,diverged,")


def test_nan_after_a_selected_epoch_keeps_it_and_evaluate_measures_it(tmp_path, monkeypatch, capsys):
    """NaN from the 5th step on, i.e. in epoch 2 of 4-step epochs: epoch 1 stays the selected model."""
    monkeypatch.chdir(tmp_path)
    steps, loss = [], NoiseInjection.loss

    def nan_from_step_5(self, *args):
        steps.append(1)
        value, extras = loss(self, *args)
        return (value * float("nan") if len(steps) > 4 else value), extras

    monkeypatch.setattr(NoiseInjection, "loss", nan_from_step_5)
    assert neft(capsys, *T("--epochs", "3", "--train-subset", "512"))[0] == 0
    trained = json.loads(Path("run/train.json").read_text())
    assert [trained[k] for k in ("status", "diverged_epoch", "epochs_run", "selected_epoch")] == ["diverged", 2, 1, 1]
    assert neft(capsys, *E("--sigmas", "0", "0.1", model="run/model.pt"))[0] == 0
    result = json.loads(Path("r.json").read_text())
    assert result["status"] == "diverged" and [r["sigma"] for r in result["results"]] == [0, 0.1]
    assert all(0 <= r["mean"] <= 100 for r in result["results"]) and len(result["results"][1]["accuracy"]) == 2


# determinism


def without_time(value):
    """A result without what differs between identical runs: durations and the wall-clock time."""
    if isinstance(value, dict):
        return {
            k: without_time(v)
            for k, v in value.items()
            if k != "seconds" and not (k == "time" and "git_commit" in value)
        }
    if isinstance(value, list):
        return [without_time(v) for v in value]
    return value


def test_same_config_and_seed_give_identical_results(tmp_path, monkeypatch, capsys):
    outputs = []
    for folder in ("a", "b"):  # the same relative paths in two folders
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        assert neft(capsys, *T("--method", "irs", "--sigma-d", "0.2", "--epochs", "2", "--seed", "7"))[0] == 0
        assert neft(capsys, *E("--sigmas", "0.1", "0.3", "--seed", "7", model="run/model.pt"))[0] == 0
        model = torch.load("run/model.pt", weights_only=True)
        weights = model.pop("state_dict")
        outputs.append(
            [
                weights,
                *(
                    without_time(x)
                    for x in (
                        model,
                        json.loads(Path("run/train.json").read_text()),
                        json.loads(Path("r.json").read_text()),
                    )
                ),
                Path("r.csv").read_text(),
            ]
        )
    (weights_a, *a), (weights_b, *b) = outputs
    assert weights_a.keys() == weights_b.keys() and all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2] and a[3] == b[3]  # model meta, train.json, result, CSV
