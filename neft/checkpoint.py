"""Files the trainer writes and reads: the inference model (model.pt) and the resumable training
checkpoint (checkpoint.pt). Both carry a format tag and the model's arguments; reading checks them
(formats.py) and turns truncation, a foreign file or a missing key into one CheckpointError line."""

from pathlib import Path

import torch

from .errors import CheckpointError
from .formats import CHECKPOINT_FORMAT, MODEL_FORMAT, check

# config keys that may differ when resuming (where and how fast, not what is computed)
RESUMABLE_CHANGES = {"device", "num_workers", "checkpoint_every_s", "data_dir", "download"}


def _load(path: Path, fmt: str, map_location) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
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


def read_checkpoint(path, config: dict, map_location) -> dict:
    """A training checkpoint, checked to belong to the run described by `config`."""
    ckpt = _load(path, CHECKPOINT_FORMAT, map_location)
    for key, value in config.items():
        if key not in RESUMABLE_CHANGES and ckpt["config"].get(key) != value:
            raise CheckpointError(
                f"{path}: checkpoint of another run ({key} = {ckpt['config'].get(key)!r}, this run "
                f"{value!r}); delete it or train into another folder"
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
        raise CheckpointError(
            f"{path}: weights do not fit {meta['model_args']} ({' '.join(str(e).split())[:160]})"
        ) from None


def load_model(path, map_location="cpu"):
    """A model file -> (model with its selected weights, the file's metadata)."""
    from .models import build_model

    meta = read_model_file(path, map_location)
    model = build_model(**meta["model_args"])
    load_weights(model, meta, path)
    return model, meta
