"""Evaluate trained models by Monte-Carlo noisy inference over a sigma grid and write each result file
(JSON with every run, plus a tidy CSV of one row per sigma) with its provenance. Several models in one
process (`neft evaluate --model a.pt b.pt --out a.json b.json`) share one start-up: the device, each test
set loaded once, one model per architecture (built, placed and compiled once; each file's weights are
loaded into it); each result is written, atomically, as soon as it is done."""

import dataclasses
import logging
import time
from pathlib import Path

import torch

from .checkpoint import load_weights, read_model_file
from .config import EvalConfig
from .data import evaluation_data
from .device import place, resolve_device, set_precision
from .errors import CheckpointError
from .formats import RESULT_FORMAT
from .io import check_writable, save_json, save_text
from .mc import mc_evaluate
from .models import build_model
from .noise import NoiseLaw
from .provenance import provenance

log = logging.getLogger("neft")
TRAIN_KEYS = (
    "status",
    "diverged_epoch",
    "epochs_run",
    "selection",
    "selected_epoch",
    "selected_val_accuracy",
    "flags",
    "model_args",
    "method_hparams",
    "noise_law",
    "config",
    "seconds",
    "provenance",
)


class Session:
    """What the evaluations of one process share: the device, the test sets on it, the models by architecture."""

    def __init__(self, cfg: EvalConfig):
        self.cfg, self.device = cfg, resolve_device(cfg.device)
        set_precision(cfg.precision)
        self.test_sets, self.models = {}, {}

    def test_set(self, dataset: str):
        if dataset not in self.test_sets:
            x, y, spec = evaluation_data(dataset, self.cfg.data_dir, self.cfg.download, self.cfg.test_subset)
            self.test_sets[dataset] = x.to(self.device), y.to(self.device), spec
        return self.test_sets[dataset]

    def model(self, meta: dict, path) -> tuple[torch.nn.Module, torch.nn.Module]:
        """(model holding the file's weights, what runs it: the model or its compiled form)."""
        key = tuple(sorted(meta["model_args"].items()))
        if key not in self.models:
            model = place(build_model(**meta["model_args"]), self.device)
            self.models[key] = model, torch.compile(model) if self.cfg.compile else model
        model, runner = self.models[key]
        load_weights(model, meta, path)
        return model, runner


def evaluate(
    model_path: str | Path,
    cfg: EvalConfig,
    out_json: str | Path,
    out_csv: str | Path | None = None,
    session: Session | None = None,
) -> dict:
    started = time.monotonic()
    session = session or Session(cfg)
    meta = read_model_file(model_path)
    train_cfg = meta["config"]
    law = NoiseLaw(**{k: v if getattr(cfg, k) is None else getattr(cfg, k) for k, v in meta["noise_law"].items()})
    result = {
        "format": RESULT_FORMAT,
        "model_file": str(model_path),
        "status": meta["status"],
        "train": {k: meta[k] for k in TRAIN_KEYS},
        "eval_config": dataclasses.asdict(cfg),
        "noise_law": law.as_dict(),
        "results": [],
    }
    if meta["state_dict"] is not None:
        x, y, spec = session.test_set(train_cfg["dataset"])
        expected = dict(in_channels=spec.in_channels, num_classes=spec.num_classes, image_size=spec.image_size)
        if any(meta["model_args"][k] != v for k, v in expected.items()):
            raise CheckpointError(
                f"{model_path}: model {meta['model_args']} does not fit dataset {spec.name} {expected}; retrain it"
            )
        for path in (out_json, out_csv):
            if path is not None:
                check_writable(path)  # now, not after the Monte-Carlo runs
        log.info("%s: %d runs at each of %d sigmas on %d test images", model_path, cfg.runs, len(cfg.sigmas), len(y))
        _, runner = session.model(meta, model_path)
        results = mc_evaluate(runner, law, x, y, cfg.sigmas, cfg.runs, cfg.seed, cfg.batch_size, cfg.precision)
        result.update(n_test=len(y), results=[r.as_dict() for r in results])
    result.update(seconds=time.monotonic() - started, provenance=provenance(session.device))
    if out_csv is not None:
        save_text(out_csv, tidy_rows(result).to_csv(index=False))
    save_json(out_json, result)
    return result


def tidy_rows(result: dict):
    """One row per evaluated sigma, keyed by what was trained (model, dataset, method, sigma_d, seed)."""
    import pandas as pd

    cfg = result["train"]["config"]
    keys = {k: cfg[k] for k in ("model", "dataset", "method", "sigma_d", "seed")}
    rows = [
        {
            **keys,
            "status": result["status"],
            "sigma": r["sigma"],
            "runs": r["runs"],
            "mean": r["mean"],
            "std": r["std"],
            "ci95": r["ci95"],
            "ekl": r["ekl"],
        }
        for r in result["results"]
    ]
    columns = [*keys, "status", "sigma", "runs", "mean", "std", "ci95", "ekl"]
    return (
        pd.DataFrame(rows, columns=columns)
        if rows
        else pd.DataFrame([{**keys, "status": result["status"]}], columns=columns)
    )
