"""Files the trainer writes and reads: the inference model (model.pt) and the resumable training
checkpoint (checkpoint.pt). Both carry a format tag and the model's arguments; reading checks them
(formats.py) and turns truncation, a foreign file or a missing key into one CheckpointError line."""

import dataclasses
from pathlib import Path

import torch

from .config import TrainConfig
from .errors import CheckpointError, one_line
from .formats import CHECKPOINT_FORMAT, MODEL_FORMAT, check

# config keys that may differ when resuming (where and how fast, not what is computed)
RESUMABLE_CHANGES = {"device", "num_workers", "checkpoint_every_s", "data_dir", "download"}


def _load(path: Path, fmt: str, map_location) -> dict:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as e:  # no permission to read, a folder, a name too long
        raise CheckpointError(f"{path}: cannot read it ({e.strerror}); check the path and its permissions") from None
    if magic != b"PK\x03\x04":  # torch.save writes a zip archive
        raise CheckpointError(f"{path}: not a torch file, so not a {fmt!r} file; check the path")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated zip, foreign pickle, ...
        reason = " ".join(str(e).split()).split(". ")[0][:120]
        raise CheckpointError(
            f"{path}: truncated or corrupt ({reason}); delete it and rerun the step that wrote it"
        ) from None
    return check(path, obj, fmt)


def read_model_file(path, map_location="cpu") -> dict:
    return _load(path, MODEL_FORMAT, map_location)


def difference(stored: dict, config: dict) -> str | None:
    """The first key of a run's `config` whose value `stored` (a checkpoint's or train.json's) does not have, as
    'key = stored value, this run value'; None when it is the same run. A key that `stored` lacks counts as
    its default (an option added to neft since)."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for key, value in config.items():
        old = stored.get(key, defaults.get(key))
        if key not in RESUMABLE_CHANGES and old != value:
            return f"{key} = {old!r}, this run {value!r}"
    return None


def read_checkpoint(path, config: dict, map_location, steps_per_epoch: int | None = None) -> dict:
    """A training checkpoint, checked to belong to the run described by `config` and to lie inside it: an epoch
    of its epochs, a step of its epoch (`steps_per_epoch`, when given), a history of its epochs."""
    ckpt = _load(path, CHECKPOINT_FORMAT, map_location)
    differs = difference(ckpt["config"], config)
    if differs:
        raise CheckpointError(f"{path}: checkpoint of another run ({differs}); delete it or train into another folder")
    epoch, step, best, epochs = ckpt["epoch"], ckpt["step"], ckpt["best"]["epoch"], config["epochs"]
    problems = [
        (not 0 <= epoch <= epochs, f"after epoch {epoch}"),
        (steps_per_epoch is not None and not 0 <= step <= steps_per_epoch, f"at step {step}"),
        (len(ckpt["history"]) != epoch, f"{len(ckpt['history'])} epochs of history after epoch {epoch}"),
        (best is not None and not 1 <= best <= epoch, f"best epoch {best} after epoch {epoch}"),
    ]
    problem = next((text for bad, text in problems if bad), None)
    if problem:
        raise CheckpointError(
            f"{path}: {problem}, outside this run of {epochs} epochs of {steps_per_epoch or '?'} steps; delete it "
            f"and train again"
        )
    return ckpt


def check_compatible(meta: dict, model_args: dict, path) -> None:
    """A model file used to initialise a run must be the same architecture for the same data (its
    initialisation does not matter: its weights replace this run's)."""
    diff = ", ".join(
        f"{k} {meta['model_args'].get(k)!r} vs {v!r}"
        for k, v in model_args.items()
        if k != "init" and meta["model_args"].get(k) != v
    )
    if diff:
        raise CheckpointError(
            f"{path}: model does not match this run ({diff}); start from a model of the same "
            f"architecture, width and dataset"
        )


def load_weights(model, meta: dict, path) -> None:
    """Put a model file's selected weights into `model`."""
    if meta["state_dict"] is None:
        raise CheckpointError(
            f"{path}: holds no weights (training {meta['status']} before any epoch was kept); train it again"
        )
    try:
        model.load_state_dict(meta["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit {meta['model_args']} ({one_line(e)})") from None


def load_model(path, map_location="cpu"):
    """A model file -> (model with its selected weights, the file's metadata)."""
    from .models import build_model

    meta = read_model_file(path, map_location)
    model = build_model(**meta["model_args"])
    load_weights(model, meta, path)
    return model, meta
