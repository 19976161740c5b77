"""The files neft writes and reads back, declared once: each format's tag and the keys its readers use,
with their types. `check` turns a file of another format, or one that lacks a key or holds one of
another type whatever its tag says (an edited file, one of another version), into one line naming
the file and the key; `read_table` does the same for the CSV tables the analysis steps read."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .config import MAX_WIDTH, first_repeated
from .errors import CheckpointError, one_line

MODEL_FORMAT = "neft.model/1"
CHECKPOINT_FORMAT = "neft.checkpoint/1"
RESULT_FORMAT = "neft.mc/1"
CHECKED_CONFIG = "config.json"  # the pipeline's config as the workflow checked it (results/<name>/config.json)
UNTAGGED = ("train.json", CHECKED_CONFIG)  # formats without a format tag


class Closed(dict):
    """A mapping of exactly these keys (one passed on as keyword arguments)."""


@dataclass(frozen=True)
class Number:
    """A finite number (an int where `integer`) in [lo, hi]; `nan`: NaN too (a mean over no values);
    `none`: null too."""

    lo: float = -math.inf
    hi: float = math.inf
    integer: bool = False
    nan: bool = False
    none: bool = False

    def problem(self, value) -> str | None:
        if value is None and self.none:
            return None
        if isinstance(value, bool) or not isinstance(value, int if self.integer else (int, float)):
            return f"is {type(value).__name__}, expected {self}"
        if isinstance(value, float) and math.isnan(value) and self.nan:
            return None
        finite = not isinstance(value, float) or math.isfinite(value)
        return None if finite and self.lo <= value <= self.hi else f"is {value!r}, expected {self}"

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        if self.lo > -math.inf and self.hi < math.inf:
            kind += f" in [{self.lo:g}, {self.hi:g}]"
        elif self.lo > -math.inf:
            kind += f" >= {self.lo:g}"
        elif self.hi < math.inf:
            kind += f" <= {self.hi:g}"
        return kind + " or NaN" * self.nan + " or null" * self.none


@dataclass(frozen=True)
class OneOf:
    """One of these strings."""

    values: tuple[str, ...]

    def problem(self, value) -> str | None:
        return None if value in self.values else f"is {str(value)[:40]!r}, expected one of {', '.join(self.values)}"


@dataclass(frozen=True)
class Maybe:
    """A key its readers do without (they read it with a default): checked when it is there."""

    spec: object


@dataclass(frozen=True)
class Distinct:
    """A list of values of `spec`, each given once (a seed listed twice would be counted twice)."""

    spec: object


NUMBER = (int, float)
TENSOR = "tensor"  # torch.Tensor, looked up only when a torch file is checked (the analysis steps never import torch)
PERCENT, PERCENT_OR_NULL = Number(0, 100), Number(0, 100, none=True)
COUNT, COUNT_OR_NULL = Number(1, integer=True), Number(1, integer=True, none=True)
SECONDS, SIGMA, WIDTH = Number(0), Number(0, 1), Number(0, MAX_WIDTH)
STATUS, SELECTION = OneOf(("completed", "diverged")), OneOf(("val", "last"))
MODEL_ARGS = Closed(name=str, in_channels=COUNT, num_classes=COUNT, image_size=COUNT, width=WIDTH, init=str)
NOISE_LAW = Closed(weight_bits=COUNT, device_bits=COUNT, device_kind=str, quantize=bool)
RUN = dict(model=str, dataset=str, method=str, sigma_d=SIGMA, seed=Number(integer=True))
RUN_CONFIG = dict(RUN, epochs=COUNT, width=WIDTH, train_subset=COUNT_OR_NULL)
HPARAMS = dict(beta=Maybe(Number(0)), n_feedback=Maybe(COUNT))  # of the NFT methods, read by aggregate, beta-search
# what a training's record holds for the MC result, read by aggregate
FOR_RESULT = dict(
    diverged_epoch=COUNT_OR_NULL,
    flags=dict(irs_heads_anti_aligned=Maybe([COUNT])),
    method_hparams=HPARAMS,
    config=dict(RUN_CONFIG, init=Maybe(str)),
    selected_val_accuracy=PERCENT_OR_NULL,
    seconds=SECONDS,
    selection=Maybe(SELECTION),
)
HISTORY_ROW = dict(epoch=COUNT, train_loss=NUMBER, val_clean=PERCENT, val_noisy=PERCENT_OR_NULL, head_acc=[PERCENT])
RESULT_ROW = dict(
    sigma=SIGMA,
    runs=Number(2, integer=True),
    accuracy=[PERCENT],
    ekl_runs=[Number(0, nan=True)],
    mean=PERCENT,
    std=Number(0),
    ci95=Number(0),
    ekl=Number(0, nan=True),
)
SEEDS = Distinct(Number(integer=True))
SETTING = dict(enabled=bool, model=str, dataset=str, sigma_d=SIGMA, seeds=SEEDS)  # of the ablations, convergence

# format -> (the keys its readers use, with their types and ranges; what to do when a file lacks them)
FORMATS = {
    MODEL_FORMAT: (
        dict(
            FOR_RESULT,
            status=STATUS,
            state_dict=(dict, None),
            model_args=MODEL_ARGS,
            noise_law=NOISE_LAW,
            epochs_run=Number(0, integer=True),
            selection=SELECTION,
            selected_epoch=COUNT_OR_NULL,
            provenance=dict,
        ),
        "rerun the step that wrote it",
    ),  # evaluate, and train --init-from
    CHECKPOINT_FORMAT: (
        dict(
            config=dict,
            model_args=MODEL_ARGS,
            model=dict,
            method=dict,
            optimizer=dict(state=dict, param_groups=list),
            scheduler=dict,
            noise_rng=TENSOR,
            epoch=Number(0, integer=True),
            step=Number(0, integer=True),
            sums=dict(loss=TENSOR, n=Number(0, integer=True), head_correct=TENSOR),
            history=[HISTORY_ROW],
            best=dict(metric=NUMBER, epoch=COUNT_OR_NULL, state=(dict, None)),
            elapsed_s=SECONDS,
        ),
        "delete it and train again",
    ),  # train --resume
    RESULT_FORMAT: (
        dict(
            status=STATUS,
            train=FOR_RESULT,
            seconds=SECONDS,
            n_test=Maybe(COUNT),
            provenance=dict(device=str, git_commit=Maybe((str, None)), time=Maybe(str)),
            results=[RESULT_ROW],
        ),
        "rerun its evaluate step",
    ),  # aggregate
    "train.json": (
        dict(config=RUN, status=STATUS, method_hparams=HPARAMS, selected_val_accuracy=PERCENT_OR_NULL),
        "delete it and rerun its train step",
    ),  # beta-search, train --resume; it has no format tag
    CHECKED_CONFIG: (
        dict(
            name=str,
            sigma_d=Distinct(SIGMA),
            seeds=SEEDS,
            beta=dict,
            ablations=SETTING,
            convergence=dict(SETTING, methods=Distinct(str), threshold=NUMBER),
            report=dict(stand_ins=dict),
        ),
        "let the workflow write it again (snakemake ... results/<name>/config.json)",
    ),  # figures, tables, report
}


def check(path: str | Path, obj, fmt: str):
    """`obj`, read from `path`, if it is of format `fmt` with every key and its type; else one CheckpointError."""
    keys, fix = FORMATS[fmt]
    if fmt not in UNTAGGED and (not isinstance(obj, dict) or obj.get("format") != fmt):
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"{path}: format {found!r}, expected {fmt!r}; pass the right file, or rerun the step "
            f"that wrote it with this neft"
        )
    problem = _problem(obj, keys, "") or (fmt == RESULT_FORMAT and _runs_counted(obj))
    if problem:
        raise CheckpointError(f"{path}: {problem}, so not a complete {fmt!r} file; {fix}")
    return obj


def read_json(path: str | Path, fmt: str) -> dict:
    """A JSON file of format `fmt`, checked."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # missing, cut, not UTF-8, no permission
        raise CheckpointError(f"{path}: unreadable ({one_line(e)}); {FORMATS[fmt][1]}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: unreadable (nested too deeply); {FORMATS[fmt][1]}") from None
    return check(path, obj, fmt)


def read_table(
    path: str | Path,
    what: str,
    columns: list[str],
    text: set[str],
    fix: str,
    sep: str = ",",
    ranges: dict | None = None,
):
    """A table of the pipeline (runs.csv, a beta search's CSV, a benchmark TSV): every column there, numbers
    where numbers belong, and within `ranges` (column -> Number) where given."""
    import pandas as pd

    try:
        table = pd.read_csv(path, sep=sep)
    except (OSError, ValueError) as e:  # missing, empty, not UTF-8, ragged
        raise CheckpointError(f"{path}: unreadable {what} ({one_line(e)}); {fix}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CheckpointError(f"{path}: not a {what} (missing {', '.join(missing)}); {fix}")
    numbers = [c for c in columns if c not in text and len(table) and not pd.api.types.is_numeric_dtype(table[c])]
    if numbers:
        raise CheckpointError(f"{path}: column {numbers[0]} holds text where numbers belong; {fix}")
    for column, spec in (ranges or {}).items():
        values = table[column].astype(float)
        ok = values.between(spec.lo, spec.hi) & values.abs().lt(math.inf) | values.isna() & spec.nan
        if not ok.all():
            row = int(ok.idxmin())
            raise CheckpointError(f"{path}: line {row + 2}: {column} is {float(values[row])!r}, expected {spec}; {fix}")
    return table


def _problem(value, spec, where: str) -> str | None:
    """What is wrong with `value` at key path `where` (None if nothing)."""
    if isinstance(spec, (Number, OneOf)):
        problem = spec.problem(value)
        return problem and f"{where.rstrip('.') or 'the content'} {problem}"
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return _wrong(value, "a mapping", where)
        missing = [k for k, sub in spec.items() if k not in value and not isinstance(sub, Maybe)]
        extra = sorted(map(str, set(value) - set(spec))) if isinstance(spec, Closed) else []
        if missing or extra:
            return f"{'missing' if missing else 'unexpected'} key {where}{(missing or extra)[0]}"
        present = ((k, sub.spec if isinstance(sub, Maybe) else sub) for k, sub in spec.items() if k in value)
        return next(filter(None, (_problem(value[k], sub, f"{where}{k}.") for k, sub in present)), None)
    if isinstance(spec, Distinct):
        problem = _problem(value, [spec.spec], where)
        if problem:
            return problem
        twice = first_repeated(value)
        return None if twice is None else f"{where.rstrip('.')} lists {twice!r} more than once"
    if isinstance(spec, list):
        if not isinstance(value, list):
            return _wrong(value, "a list", where)
        return next(filter(None, (_problem(v, spec[0], f"{where}{i}.") for i, v in enumerate(value))), None)
    types = spec if isinstance(spec, tuple) else (spec,)
    if TENSOR in types:
        import torch

        types = tuple(torch.Tensor if t == TENSOR else t for t in types)
    ok = any(
        value is None if t is None else isinstance(value, t) and not (isinstance(value, bool) and t is not bool)
        for t in types
    )
    return None if ok else _wrong(value, " or ".join("null" if t is None else t.__name__ for t in types), where)


def _wrong(value, expected: str, where: str) -> str:
    return f"{where.rstrip('.') or 'the content'} is {type(value).__name__}, expected {expected}"


def _runs_counted(result: dict) -> str | None:
    """Each row of a result holds its per-run lists for its number of runs."""
    for i, row in enumerate(result["results"]):
        for key in ("accuracy", "ekl_runs"):
            if len(row[key]) != row["runs"]:
                return f"results.{i}.{key} holds {len(row[key])} runs, but results.{i}.runs is {row['runs']}"
    return None
