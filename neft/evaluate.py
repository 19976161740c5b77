"""Evaluate a trained model by Monte-Carlo noisy inference over a sigma grid and write the result
file (JSON with every run, plus a tidy CSV of one row per sigma) with its provenance."""
import dataclasses
import logging
import time
from pathlib import Path

import pandas as pd
import torch

from .checkpoint import load_model, read_model_file
from .config import EvalConfig
from .data import evaluation_data
from .device import resolve_device, set_precision
from .errors import CheckpointError
from .formats import RESULT_FORMAT
from .io import check_writable, save_json, save_text
from .mc import mc_evaluate
from .noise import NoiseLaw
from .provenance import provenance

log = logging.getLogger("neft")
TRAIN_KEYS = ("status", "diverged_epoch", "epochs_run", "selection", "selected_epoch", "selected_val_accuracy",
              "flags", "model_args", "method_hparams", "noise_law", "config", "seconds", "provenance")


def evaluate(model_path: str | Path, cfg: EvalConfig, out_json: str | Path, out_csv: str | Path | None = None) -> dict:
    started = time.monotonic()
    device = resolve_device(cfg.device)
    set_precision(cfg.precision)
    meta = read_model_file(model_path)
    train_cfg = meta["config"]
    law = NoiseLaw(**{k: v if getattr(cfg, k) is None else getattr(cfg, k) for k, v in meta["noise_law"].items()})
    result = {"format": RESULT_FORMAT, "model_file": str(model_path), "status": meta["status"],
              "train": {k: meta[k] for k in TRAIN_KEYS}, "eval_config": dataclasses.asdict(cfg),
              "noise_law": law.as_dict(), "results": []}
    if meta["state_dict"] is not None:
        model, _ = load_model(model_path)
        x, y, spec = evaluation_data(train_cfg["dataset"], cfg.data_dir, cfg.download, cfg.test_subset)
        expected = dict(in_channels=spec.in_channels, num_classes=spec.num_classes, image_size=spec.image_size)
        if any(meta["model_args"][k] != v for k, v in expected.items()):
            raise CheckpointError(f"{model_path}: model {meta['model_args']} does not fit dataset {spec.name} "
                                  f"{expected}; retrain it")
        for path in (out_json, out_csv):
            if path is not None:
                check_writable(path)  # now, not after the Monte-Carlo runs
        log.info("%s: %d runs at each of %d sigmas on %d test images", model_path, cfg.runs, len(cfg.sigmas), len(y))
        model.to(device)
        if device.type == "cuda":
            model.to(memory_format=torch.channels_last)
        runner = torch.compile(model) if cfg.compile else model
        results = mc_evaluate(runner, law, x.to(device), y.to(device), cfg.sigmas, cfg.runs, cfg.seed,
                              cfg.batch_size, cfg.precision)
        result.update(n_test=len(y), results=[r.as_dict() for r in results])
    result.update(seconds=time.monotonic() - started, provenance=provenance(device))
    if out_csv is not None:
        save_text(out_csv, tidy_rows(result).to_csv(index=False))
    save_json(out_json, result)
    return result


def tidy_rows(result: dict) -> pd.DataFrame:
    """One row per evaluated sigma, keyed by what was trained (model, dataset, method, sigma_d, seed)."""
    cfg = result["train"]["config"]
    keys = {k: cfg[k] for k in ("model", "dataset", "method", "sigma_d", "seed")}
    rows = [{**keys, "status": result["status"], "sigma": r["sigma"], "runs": r["runs"], "mean": r["mean"],
             "std": r["std"], "ci95": r["ci95"], "ekl": r["ekl"]} for r in result["results"]]
    columns = [*keys, "status", "sigma", "runs", "mean", "std", "ci95", "ekl"]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame([{**keys, "status": result["status"]}], columns=columns)


