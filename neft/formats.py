"""The files neft writes and reads back, declared once: each format's tag and the keys its readers use,
with their types. `check` turns a file of another format, or one that lacks a key or holds one of
another type whatever its tag says (an edited file, one of another version), into one line naming
the file and the key; `read_table` does the same for the CSV tables the analysis steps read."""

import json
from pathlib import Path

from .errors import CheckpointError

MODEL_FORMAT = "neft.model/1"
CHECKPOINT_FORMAT = "neft.checkpoint/1"
RESULT_FORMAT = "neft.mc/1"
CHECKED_CONFIG = "config.json"  # the pipeline's config as the workflow checked it (results/<name>/config.json)
UNTAGGED = ("train.json", CHECKED_CONFIG)  # formats without a format tag


class Closed(dict):
    """A mapping of exactly these keys (one passed on as keyword arguments)."""


NUMBER = (int, float)
TENSOR = "tensor"  # torch.Tensor, looked up only when a torch file is checked (the analysis steps never import torch)
MODEL_ARGS = Closed(name=str, in_channels=int, num_classes=int, image_size=int, width=NUMBER, init=str)
NOISE_LAW = Closed(weight_bits=int, device_bits=int, device_kind=str, quantize=bool)
RUN = dict(model=str, dataset=str, method=str, sigma_d=NUMBER, seed=int)  # what names a run
RUN_CONFIG = dict(RUN, epochs=int, width=NUMBER, train_subset=(int, None))
# what a training's record holds for the MC result, read by aggregate
FOR_RESULT = dict(
    diverged_epoch=(int, None),
    flags=dict,
    method_hparams=dict,
    config=RUN_CONFIG,
    selected_val_accuracy=(*NUMBER, None),
    seconds=NUMBER,
)
SETTING = dict(enabled=bool, model=str, dataset=str, sigma_d=NUMBER, seeds=[int])  # of the ablations, convergence
HISTORY_ROW = dict(epoch=int, train_loss=NUMBER, val_clean=NUMBER, val_noisy=(*NUMBER, None), head_acc=[NUMBER])

# format -> (the keys its readers use, with their types; what to do when a file lacks them)
FORMATS = {
    MODEL_FORMAT: (
        dict(
            FOR_RESULT,
            status=str,
            state_dict=(dict, None),
            model_args=MODEL_ARGS,
            noise_law=NOISE_LAW,
            epochs_run=int,
            selection=str,
            selected_epoch=(int, None),
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
            optimizer=dict,
            scheduler=dict,
            noise_rng=TENSOR,
            epoch=int,
            step=int,
            sums=dict(loss=TENSOR, n=int, head_correct=TENSOR),
            history=[HISTORY_ROW],
            best=dict(metric=NUMBER, epoch=(int, None), state=(dict, None)),
            elapsed_s=NUMBER,
        ),
        "delete it and train again",
    ),  # train --resume
    RESULT_FORMAT: (
        dict(
            status=str,
            train=FOR_RESULT,
            seconds=NUMBER,
            provenance=dict(device=str),
            results=[dict(sigma=NUMBER, runs=int, mean=NUMBER, std=NUMBER, ci95=NUMBER, ekl=NUMBER)],
        ),
        "rerun its evaluate step",
    ),  # aggregate
    "train.json": (
        dict(config=RUN, status=str, method_hparams=dict, selected_val_accuracy=(*NUMBER, None)),
        "delete it and rerun its train step",
    ),  # beta-search, train --resume; it has no format tag
    CHECKED_CONFIG: (
        dict(
            name=str,
            sigma_d=[NUMBER],
            seeds=[int],
            beta=dict,
            ablations=SETTING,
            convergence=dict(SETTING, methods=[str], threshold=NUMBER),
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
    problem = _problem(obj, keys, "")
    if problem:
        raise CheckpointError(f"{path}: {problem}, so not a complete {fmt!r} file; {fix}")
    return obj


def read_json(path: str | Path, fmt: str) -> dict:
    """A JSON file of format `fmt`, checked."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # missing, cut, not UTF-8
        raise CheckpointError(f"{path}: unreadable ({' '.join(str(e).split())[:160]}); {FORMATS[fmt][1]}") from None
    return check(path, obj, fmt)


def read_table(path: str | Path, what: str, columns: list[str], text: set[str], fix: str, sep: str = ","):
    """A table of the pipeline (runs.csv, a beta search's CSV, a benchmark TSV): every column there, numbers
    where numbers belong."""
    import pandas as pd

    try:
        table = pd.read_csv(path, sep=sep)
    except (OSError, ValueError) as e:  # missing, empty, not UTF-8, ragged
        raise CheckpointError(f"{path}: unreadable {what} ({' '.join(str(e).split())[:160]}); {fix}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CheckpointError(f"{path}: not a {what} (missing {', '.join(missing)}); {fix}")
    numbers = [c for c in columns if c not in text and len(table) and not pd.api.types.is_numeric_dtype(table[c])]
    if numbers:
        raise CheckpointError(f"{path}: column {numbers[0]} holds text where numbers belong; {fix}")
    return table


def _problem(value, spec, where: str) -> str | None:
    """What is wrong with `value` at key path `where` (None if nothing)."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return _wrong(value, "a mapping", where)
        missing = [k for k in spec if k not in value]
        extra = sorted(map(str, set(value) - set(spec))) if isinstance(spec, Closed) else []
        if missing or extra:
            return f"{'missing' if missing else 'unexpected'} key {where}{(missing or extra)[0]}"
        return next(filter(None, (_problem(value[k], sub, f"{where}{k}.") for k, sub in spec.items())), None)
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
