"""Property-based tests (hypothesis) of the promise of docs/reliability.md over command lines and config
files: whatever the input, `neft.cli.main` ends with exit code 0 or 2, never a traceback, and a 2
comes with one line `neft: error: ...`; an invalid value always gives 2. Training, evaluation and
fetching are replaced by stubs (what runs before them is the real parsing and checking), so no
example trains anything; the analysis steps run for real, on files made once by a tiny real run."""

import contextlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from helpers import tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from made_runs import checked_config

import neft.evaluate
import neft.fetch
import neft.trainer
from neft.analysis.aggregate import aggregate
from neft.analysis.beta_search import search
from neft.cli import main, make_parser
from neft.config import EvalConfig, TrainConfig
from neft.errors import ConfigError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_ci_draws_the_same_examples_every_run():
    """conftest.py's profile: in CI (CI set) the examples are derandomized and no saved example is replayed."""
    if not os.environ.get("CI"):
        pytest.skip("CI is not set: examples are drawn at random, failures saved in .hypothesis/")
    assert SETTINGS.derandomize and SETTINGS.database is None


@pytest.fixture
def stubs(monkeypatch):
    """Training, evaluation and fetching stand in for themselves without doing anything."""
    monkeypatch.setattr(neft.trainer, "train", lambda *a, **k: {"status": "completed", "selected_epoch": 1})
    monkeypatch.setattr(neft.evaluate, "evaluate", lambda *a, **k: {"results": []})
    monkeypatch.setattr(neft.fetch, "fetch", lambda *a, **k: {})


def run(argv: list[str], files: dict[str, bytes] | None = None, copy_of: Path | None = None) -> tuple[int, str]:
    """main(argv) in a fresh folder (a copy of `copy_of`, or empty, plus `files`) -> (exit code, stderr); any
    other exception fails the test."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        if copy_of:
            shutil.copytree(copy_of, folder, dirs_exist_ok=True)
        os.chdir(folder)
        try:
            for name, content in (files or {}).items():
                with open(name, "wb") as f:
                    f.write(content)
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    code = main(argv)
                except SystemExit as e:  # argparse
                    code = e.code
        finally:
            os.chdir(cwd)
    return code, err.getvalue()


def assert_one_line_or_success(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.startswith("neft: error: ") and err.count("\n") == 1, err


def mostly(values: list[str], other: st.SearchStrategy) -> st.SearchStrategy:
    """One of `values` 9 times in 10, else a draw of `other`: most examples get past the first check."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda usual: st.sampled_from(values) if usual else other)


# --- random command lines
def options(command: str) -> list[str]:
    sub = next(a for a in make_parser()._actions if a.dest == "command").choices[command]
    return [o for a in sub._actions for o in a.option_strings if o not in ("-h", "--help")]


COMMANDS = ["train", "evaluate", "aggregate", "fetch", "beta-search", "figures", "tables", "report", "list"]
OPTIONS = {c: options(c) for c in COMMANDS}
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.integers(min_value=2**62, max_value=2**80).map(lambda i: str(-i)),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e999", "-1e-12", "-0", "1e-400", "0x10"]),
)
WORDS = st.sampled_from(
    [
        "",
        " ",
        "-",
        "--",
        "none",
        "null",
        "true",
        ".",
        "..",
        "run",
        "r.json",
        "r.csv",
        "m.pt",
        "c.yaml",
        "figure3",
        "table1",
        "beta",
        "synthetic",
        "vgg8",
        "irs",
        "cuda:0",
        "a=b",
    ]
)
TEXT = st.text(max_size=12).filter(lambda t: not t.startswith("-h") and "\x00" not in t)  # what argv can hold


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(COMMANDS))
    tokens = st.one_of(st.sampled_from(OPTIONS[command] or ["--x"]), NUMBER_TEXT, WORDS, TEXT)
    return [command, *draw(st.lists(tokens, max_size=10))]


@SETTINGS
@given(argv=command_lines())
def test_a_random_command_line_gives_exit_0_or_one_line_and_2(stubs, argv):
    assert_one_line_or_success(*run(argv))


# --- one invalid value in an otherwise valid command line, or config file
FINITE = st.floats(allow_nan=False, allow_infinity=False)
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
HUGE = st.integers(min_value=2**63, max_value=2**100) | st.integers(max_value=-(2**63) - 1, min_value=-(2**100))
INVALID = {  # config key -> values it must refuse (every float key: non-finite; every int key: beyond int64)
    "sigma_d": FINITE.filter(lambda v: not 0 <= v <= 1),
    "head_sigma": FINITE.filter(lambda v: not 0 <= v <= 1),
    "width": FINITE.filter(lambda v: v <= 0),
    "lr": FINITE.filter(lambda v: v <= 0),
    "beta": FINITE.filter(lambda v: v <= 0),
    "weight_decay": FINITE.filter(lambda v: v < 0),
    "checkpoint_every_s": FINITE.filter(lambda v: v < 0),
    "epochs": st.integers(max_value=0),
    "batch_size": st.integers(max_value=0),
    "val_size": st.integers(max_value=0),
    "val_mc_runs": st.integers(max_value=0),
    "n_feedback": st.integers().filter(lambda n: not 1 <= n <= 5),
    "train_subset": st.integers(max_value=0),
    "num_workers": st.integers(max_value=-1),
    "weight_bits": st.integers(max_value=0),
    "device_bits": st.integers(max_value=0),
    "runs": st.integers(max_value=1),
    "test_subset": st.integers(max_value=0),
    "sigmas": st.lists(FINITE.filter(lambda v: not 0 <= v <= 1), min_size=1, max_size=3),
    **{
        k: TEXT.filter(lambda t, ok=ok: t not in ok)
        for k, ok in [
            ("model", ("vgg8", "resnet18")),
            ("method", ("vanilla", "noise", "ovf", "irs")),
            ("select", ("val", "last")),
            ("dataset", ("cifar10", "cifar100", "fashion_mnist", "mnist", "synthetic", "tinyimagenet")),
            ("device_kind", ("RRAM1", "FeFET2", "RRAM4", "FeFET6")),
            ("precision", ("fp32", "tf32", "bf16")),
            ("loader", ("auto", "torchvision", "resident")),
        ]
    },
    "device": TEXT.filter(lambda t: not re.fullmatch(r"auto|cpu|cuda(:[0-9]+)?", t)),  # cuda:N: checked on use
    **{
        k: st.sampled_from(["", " "]) | st.builds(lambda a, b: f"{a}\0{b}", TEXT, TEXT)  # YAML strings may hold NUL
        for k in ("data_dir", "init_from")
    },
}
# -0.0 is 0 for every option (config.plus_zero): refused where 0 is (lr, beta, width), accepted and recorded as 0.0
# where 0 is valid, so `v < 0` above rightly leaves it out (test_a_signed_zero_is_zero)
LATER = {"evaluate": {"weight_bits", "device_bits", "device_kind"}}  # checked by evaluate against the model's values
FIELDS = {cls: {f.name: f.type for f in cls.__dataclass_fields__.values()} for cls in (TrainConfig, EvalConfig)}


def invalid(key: str, tp) -> st.SearchStrategy:
    number = "float" in str(tp) and "list" not in str(tp)
    return st.one_of(
        *([INVALID[key]] if key in INVALID else []),
        *([NOT_FINITE] if number else []),
        *([HUGE] if "int" in str(tp) and "list" not in str(tp) else []),
    )


@st.composite
def invalid_values(draw) -> tuple[str, str, object]:
    """(command, config key, a value that key must refuse)."""
    command, cls = draw(st.sampled_from([("train", TrainConfig), ("evaluate", EvalConfig)]))
    keys = [
        k
        for k, tp in FIELDS[cls].items()
        if (k in INVALID or "float" in str(tp) or "int" in str(tp)) and k not in LATER.get(command, ())
    ]
    key = draw(st.sampled_from(sorted(keys)))
    return command, key, draw(invalid(key, FIELDS[cls][key]))


BASE = {"train": ["train", "--out", "run"], "evaluate": ["evaluate", "--model", "m.pt", "--out", "r.json"]}
NUMBER_FIELDS = [(cls, k) for cls in (TrainConfig, EvalConfig) for k, tp in FIELDS[cls].items() if "float" in str(tp)]


@pytest.mark.parametrize("cls,key", NUMBER_FIELDS, ids=[f"{cls.__name__}.{key}" for cls, key in NUMBER_FIELDS])
def test_a_signed_zero_is_zero(cls, key):
    """-0.0 is refused wherever 0 is, accepted wherever 0 is, and then recorded as 0.0 (a run's path says sd0,
    not sd-0)."""

    def built(zero: float):
        try:
            value = getattr(cls(**{key: [zero] if "list" in str(FIELDS[cls][key]) else zero}), key)
        except ConfigError:
            return None
        return value if isinstance(value, list) else [value]

    plus, minus = built(0.0), built(-0.0)
    assert (plus is None) == (minus is None), (plus, minus)
    assert minus is None or all(math.copysign(1, v) == 1 for v in minus)


@SETTINGS
@given(case=invalid_values())
def test_an_invalid_option_value_gives_one_line_and_2(stubs, case):
    command, key, value = case
    values = (
        [repr(v) for v in value]
        if isinstance(value, list)
        else [repr(value) if isinstance(value, float) else str(value)]
    )
    code, err = run([*BASE[command], "--" + key.replace("_", "-"), *values])
    assert code == 2 and err.startswith("neft: error: ") and err.count("\n") == 1, (code, err)


@SETTINGS
@given(case=invalid_values())
def test_an_invalid_config_value_gives_one_line_and_2(stubs, case):
    command, key, value = case
    code, err = run([*BASE[command], "--config", "c.yaml"], {"c.yaml": yaml.safe_dump({key: value}).encode()})
    assert code == 2 and err.startswith("neft: error: ") and err.count("\n") == 1, (code, err)


# --- random config files
YAML_TEXT = st.text(max_size=12)  # a YAML string may hold any character, NUL included
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), HUGE, st.floats(), YAML_TEXT)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(YAML_TEXT, inner, max_size=3), max_leaves=6
)
KEYS = mostly(sorted(set(FIELDS[TrainConfig]) | set(FIELDS[EvalConfig])), YAML_TEXT | st.integers())


@SETTINGS
@given(
    command=st.sampled_from(["train", "evaluate"]),
    content=st.one_of(
        st.dictionaries(KEYS, VALUES, max_size=5).map(lambda d: yaml.safe_dump(d).encode()),
        VALUES.map(lambda v: yaml.safe_dump(v).encode()),
        st.binary(max_size=40),
    ),
)
def test_a_random_config_file_gives_exit_0_or_one_line_and_2(stubs, command, content):
    assert_one_line_or_success(*run([*BASE[command], "--config", "c.yaml"], {"c.yaml": content}))


# --- the analysis steps on real files, with random options
@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    """What the analysis steps read, from one tiny IRS run: its train.json, MC result, runs.csv, the beta
    search over it, a Snakemake benchmark file."""
    from neft.evaluate import evaluate as real_evaluate
    from neft.trainer import train as real_train

    folder = tmp_path_factory.mktemp("grid")
    real_train(tiny(method="irs", train_subset=256), folder / "run")
    result = folder / "mc" / "vgg8" / "synthetic" / "irs" / "sd0.1" / "seed0.json"
    real_evaluate(folder / "run" / "model.pt", EvalConfig(sigmas=[0, 0.1], runs=2, device="cpu"), result)
    aggregate([result], folder / "mc", folder / "runs.csv", folder / "summary.csv")
    search([folder / "run" / "train.json"], folder / "beta.yaml", folder / "beta.csv")
    (folder / "bench.tsv").write_text("s\th:m:s\tmax_rss\tcpu_time\n5.5\t0:00:05\t890.3\t4.9\n")
    return folder


MC = "mc/vgg8/synthetic/irs/sd0.1/seed0.json"


READ = st.sampled_from(["runs.csv", "beta.csv", "run/train.json", MC, "bench.tsv", "mc", "none.csv"])


def written(*names: str) -> st.SearchStrategy:
    """Mostly one of `names` (in this folder or a new one), else a path that clashes or cannot be written."""
    bad = st.sampled_from(["runs.csv", "o.txt", "o", "o.md/o.csv", "."])
    return mostly([*names, *(f"sub/{n}" for n in names)], bad)


WRITE = written("o.md", "o.csv", "o.tex", "o.png", "o.pdf")
SIGMA = st.sampled_from([0.0, 0.05, 0.1, 0.3, 1.0])
SEEDS = st.lists(st.integers(0, 7), min_size=1, max_size=3, unique=True)
MODEL, DATASET = st.sampled_from(["vgg8", "resnet18"]), st.sampled_from(["synthetic", "mnist", "cifar10"])


def some(strategy, min_size=1):
    """1 to 4 different values (a value given twice is refused: rows config-json-seeds-twice, aggregate-file-twice)."""
    return st.lists(strategy, min_size=min_size, max_size=4, unique=True)


@st.composite
def grid_config(draw) -> bytes:
    """The grid's checked config (config.json, as the workflow writes it) with random values of what the analysis
    reads: the main grid, the settings of the ablations and of the convergence count, stand-in datasets."""

    def setting(**more) -> dict:
        where = dict(model=draw(MODEL), dataset=draw(DATASET), sigma_d=draw(SIGMA), seeds=draw(SEEDS))
        return dict(where, enabled=draw(st.booleans()), **more)

    methods = st.lists(st.sampled_from(["noise", "ovf", "irs"]), min_size=1, max_size=3, unique=True)
    values = dict(
        sigma_d=draw(st.lists(SIGMA, min_size=1, max_size=4, unique=True)),
        seeds=draw(SEEDS),
        ablations=setting(),
        convergence=setting(methods=draw(methods), threshold=draw(st.sampled_from([0.5, 5.0, 50.0]))),
        report={"stand_ins": draw(st.dictionaries(DATASET, DATASET, max_size=2))},
    )
    return json.dumps(checked_config(**values)).encode()


@st.composite
def analysis_lines(draw) -> tuple[list[str], dict[str, bytes]]:
    """A command line of an analysis step that names the grid's files, with random values and options, and the
    files it writes first (the grid's config.json)."""
    command = draw(st.sampled_from(["aggregate", "beta-search", "figures", "tables", "report"]))
    maybe = lambda *tokens, p=0.5: list(tokens) if draw(st.floats(0, 1)) < p else []  # noqa: E731
    if command == "aggregate":
        return [
            command,
            *draw(some(mostly([MC], READ))),
            "--root",
            draw(st.sampled_from(["mc", ".", "x", "mc/vgg8"])),
            "--runs",
            draw(WRITE),
            "--summary",
            draw(WRITE),
        ], {}
    if command == "beta-search":
        return [command, *draw(some(mostly(["run/train.json"], READ))), "--out", draw(WRITE), "--csv", draw(WRITE)], {}
    read = ["--runs", draw(mostly(["runs.csv"], READ)), "--config", draw(mostly(["config.json"], READ))]
    files = {"config.json": draw(grid_config())}
    if command == "figures":
        figure = draw(st.sampled_from(["figure3", "figure4"]))
        return [command, figure, *read, "--out", *draw(some(written("o.png", "o.pdf", "o.csv")))], files
    if command == "tables":
        return [
            command,
            draw(st.sampled_from(["table1", "table2", "ablations", "convergence", "init", "feedback", "beta"])),
            *maybe(*read, p=0.9),
            "--out",
            *draw(some(written("o.md", "o.csv", "o.tex"))),
            *maybe("--search", *draw(some(mostly(["beta.csv"], READ), 0))),
        ], files
    return [
        command,
        *read,
        "--out",
        draw(written("o.md")),
        *maybe("--benchmarks", *draw(some(mostly(["bench.tsv"], READ), 0))),
    ], files


@SETTINGS
@given(line=analysis_lines())
def test_an_analysis_step_on_real_files_with_random_options_gives_exit_0_or_one_line_and_2(grid, line):
    argv, files = line
    assert_one_line_or_success(*run(argv, files, copy_of=grid))
