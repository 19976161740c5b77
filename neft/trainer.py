"""Train one model with one method at one sigma_d and seed.

Recipe (reference): Adam, cosine annealing over the epochs (stepped per epoch), cross-entropy,
batch 128. Model selection on a validation split carved from the training set (best noisy
validation accuracy at the training sigma_d; clean accuracy for sigma_d = 0) or the last epoch --
never the test set.

Outputs in `out_dir`: model.pt (the selected backbone: IRS heads are not part of it), train.json
(per-epoch history, status, flags, provenance). While running, checkpoint.pt (atomic writes) holds
everything needed to resume at the exact step: weights, IRS heads, optimizer, scheduler, the noise
generator's state, the epoch's partial sums and the history; it is written once more when training ends
(or diverges), before model.pt and train.json, so that a failed write of those (a full disk) loses no
training: `--resume` then writes them without a training step. Data order and augmentation are pure
functions of (seed, epoch, index), so resuming at any step reaches the same weights on the CPU.
A NaN/inf training loss ends the run as "diverged" with the epoch, without a crash.
"""
import dataclasses
import functools
import logging
import math
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from . import checkpoint as ckpt_io
from .config import TrainConfig
from .data import training_data
from .errors import CheckpointError, ConfigError, WriteError
from .formats import read_json
from .io import check_writable, folder_lock, save_json, save_torch
from .mc import mc_evaluate, score
from .methods import METHODS
from .models import build_model
from .provenance import provenance
from .seeding import derive_seed
from .step import TrainStep

log = logging.getLogger("neft")


class Interrupted(Exception):
    """SIGTERM arrived; a checkpoint was written, rerun with --resume to continue."""


@contextmanager
def sigterm_checkpoints():
    """While inside, SIGTERM (cluster preemption) asks the trainer to checkpoint and stop."""
    flag = {"stop": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: flag.update(stop=True))
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, previous)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"device {name!r} asked for, but {torch.cuda.device_count()} CUDA devices are available; "
                          f"use device: auto, cpu or an available cuda:N")
    return device


def set_precision(precision: str) -> None:
    """fp32 is strict (no TF32 in matmuls or cuDNN), tf32 allows it, bf16 autocasts the forward pass."""
    tf32 = precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def anti_aligned_heads(history: list[dict], num_classes: int) -> list[int]:
    """IRS heads (1-based) whose training accuracy in the last epoch is below half of chance. Expected,
    not a failure: the objective's -beta * head rewards heads that point away from the label."""
    return [i + 1 for i, acc in enumerate(history[-1]["head_acc"] if history else []) if acc < 50 / num_classes]


def run_files(out_dir: str | Path) -> tuple[Path, Path, Path]:
    """model.pt, train.json and checkpoint.pt of the run folder `out_dir`."""
    out_dir = Path(out_dir)
    return out_dir / "model.pt", out_dir / "train.json", out_dir / "checkpoint.pt"


def one_at_a_time(train_fn):
    """Two trainings in one folder (a requeued job beside a zombie one) would overwrite each other's
    checkpoint: the second stops with one line before it reads anything there (io.folder_lock)."""
    @functools.wraps(train_fn)
    def locked(cfg: TrainConfig, out_dir: str | Path, *args, **kwargs) -> dict:
        with folder_lock(Path(out_dir), "neft train"):
            return train_fn(cfg, out_dir, *args, **kwargs)
    return locked


@one_at_a_time
def train(cfg: TrainConfig, out_dir: str | Path, resume: bool = False, stop: dict | None = None) -> dict:
    """Run (or resume) the training described by `cfg`; returns the content of train.json."""
    out_dir = Path(out_dir)
    model_path, result_path, ckpt_path = run_files(out_dir)
    config = dataclasses.asdict(cfg)
    if resume and result_path.exists() and model_path.exists() and not ckpt_path.exists():
        done = read_json(result_path, "train.json")
        if done["config"] != config:
            raise CheckpointError(f"{out_dir} holds a finished run of another config; delete it or train into "
                                  f"another folder")
        log.info("%s: already complete", out_dir)
        return done
    device = resolve_device(cfg.device)
    set_precision(cfg.precision)
    stop = stop if stop is not None else {"stop": False}
    started = time.monotonic()

    torch.manual_seed(derive_seed(cfg.seed, "init"))
    data = training_data(cfg, device)
    spec = data.spec
    model = build_model(cfg.model, spec.in_channels, spec.num_classes, spec.image_size, cfg.width, cfg.init)
    if cfg.init_from:
        pretrained = ckpt_io.read_model_file(cfg.init_from)
        ckpt_io.check_compatible(pretrained, model.args, cfg.init_from)
        ckpt_io.load_weights(model, pretrained, cfg.init_from)
    law = cfg.noise_law()
    method = METHODS.get(cfg.method)(cfg, model, law)
    check_writable(model_path)  # now, not after hours of training
    model.to(device)
    method.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=cfg.learning_rate,
                                 weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    train_step = TrainStep(cfg.step, model, method, optimizer, device, cfg.precision)
    noise_rng = torch.Generator(device=device)

    # run state; everything here goes into the checkpoint
    epoch, step, history, best, elapsed = 0, 0, [], {"metric": -math.inf, "epoch": None, "state": None}, 0.0
    sums = {"loss": torch.zeros((), device=device, dtype=torch.float64), "n": 0,
            "head_correct": torch.zeros(len(getattr(method, "heads", [])), device=device, dtype=torch.long)}
    if resume and ckpt_path.exists():
        state = ckpt_io.read_checkpoint(ckpt_path, config, map_location=device)
        model.load_state_dict(state["model"])
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        noise_rng.set_state(state["noise_rng"].cpu())
        epoch, step, history, best, elapsed = state["epoch"], state["step"], state["history"], state["best"], state["elapsed_s"]
        sums = {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in state["sums"].items()}
        log.info("resuming %s at epoch %d, step %d", out_dir, epoch + 1, step)

    def save_checkpoint():
        try:
            save_torch(ckpt_path, {
                "format": ckpt_io.CHECKPOINT_FORMAT, "config": config, "model_args": model.args,
                "model": model.state_dict(), "method": method.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "noise_rng": noise_rng.get_state(), "epoch": epoch, "step": step,
                "sums": sums, "history": history, "best": best, "elapsed_s": elapsed + time.monotonic() - started})
        except WriteError as e:
            kept = "the previous checkpoint is kept" if ckpt_path.exists() else "no checkpoint is kept"
            raise WriteError(f"{e}; {kept}: make room, then rerun with --resume") from None
        return time.monotonic()

    status, diverged_epoch = "completed", None
    last_checkpoint = time.monotonic()
    progress = progress_bar(cfg.epochs * data.train.steps, epoch * data.train.steps + step)
    sigma_select = cfg.sigma_d
    while epoch < cfg.epochs:
        epoch_start = time.monotonic()
        if step == 0:
            noise_rng.manual_seed(derive_seed(cfg.seed, "train-noise", epoch))
        model.train()
        method.train()
        for x, y in data.train.epoch(epoch, step):
            loss, extras = train_step(x, y, noise_rng)
            sums["loss"] += loss.detach().double() * len(y)
            sums["n"] += len(y)
            if "head_correct" in extras:
                sums["head_correct"] += extras["head_correct"]
            step += 1
            progress.update(1)
            if stop["stop"] or time.monotonic() - last_checkpoint > cfg.checkpoint_every_s:
                last_checkpoint = save_checkpoint()
                if stop["stop"]:
                    progress.close()
                    raise Interrupted(f"stopped by SIGTERM at epoch {epoch + 1}, step {step}; checkpoint in {ckpt_path}")
        scheduler.step()
        train_loss = float(sums["loss"] / max(sums["n"], 1))  # one host sync per epoch
        if not math.isfinite(train_loss):
            status, diverged_epoch = "diverged", epoch + 1
            log.warning("epoch %d: training loss is %s: run diverged", epoch + 1, train_loss)
            break
        val_clean = float(score(model.eval(), data.val_x, data.val_y, 1000, cfg.precision)[0]) * 100 / len(data.val_y)
        val_noisy = None
        if sigma_select > 0:
            noisy = mc_evaluate(model, law, data.val_x, data.val_y, [sigma_select], cfg.val_mc_runs, cfg.seed,
                                precision=cfg.precision, tag="val")[0]
            val_noisy = noisy.mean
        row = {"epoch": epoch + 1, "train_loss": train_loss, "val_clean": val_clean, "val_noisy": val_noisy,
               "head_acc": (sums["head_correct"].double() * 100 / max(sums["n"], 1)).tolist(),
               "lr": optimizer.param_groups[0]["lr"], "seconds": time.monotonic() - epoch_start}
        history.append(row)
        log.info("epoch %d/%d loss %.4f val clean %.2f%% noisy %s%s", epoch + 1, cfg.epochs, train_loss, val_clean,
                 "-" if val_noisy is None else f"{val_noisy:.2f}%",
                 "".join(f" head{i + 1} {a:.1f}%" for i, a in enumerate(row["head_acc"])))
        metric = val_clean if val_noisy is None else val_noisy
        if cfg.select == "last" or metric > best["metric"]:
            best = {"metric": metric, "epoch": epoch + 1,
                    "state": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}}
        epoch, step = epoch + 1, 0
        sums = {"loss": torch.zeros_like(sums["loss"]), "n": 0, "head_correct": torch.zeros_like(sums["head_correct"])}
        if time.monotonic() - last_checkpoint > cfg.checkpoint_every_s and epoch < cfg.epochs:
            last_checkpoint = save_checkpoint()
    progress.close()
    save_checkpoint()  # first: a failed write below (a full disk) loses no training

    anti_aligned = anti_aligned_heads(history, spec.num_classes)
    if anti_aligned:
        log.info("IRS heads %s point away from the label (training accuracy below half of chance), as the "
                 "objective's -beta * head asks", anti_aligned)
    summary = {
        "status": status, "diverged_epoch": diverged_epoch, "epochs_run": len(history),
        "selection": cfg.select, "selected_epoch": best["epoch"], "selected_val_accuracy": best["metric"] if best["epoch"] else None,
        "flags": {"irs_heads_anti_aligned": anti_aligned},
        "model_args": model.args, "method_hparams": method.hparams, "noise_law": law.as_dict(),
        "n_train": data.n_train, "n_val": len(data.val_y), "config": config,
        "seconds": elapsed + time.monotonic() - started, "provenance": provenance(device),
    }
    try:
        save_torch(model_path, {"format": ckpt_io.MODEL_FORMAT, "state_dict": best["state"], **summary})
        save_json(result_path, {**summary, "history": history})
    except WriteError as e:
        model_path.unlink(missing_ok=True)  # the run's outputs come as a pair, or not at all
        raise WriteError(f"{e}; the finished training is kept in {ckpt_path}: make room, then rerun with --resume "
                         f"to write the results without training again") from None
    ckpt_path.unlink(missing_ok=True)
    return {**summary, "history": history}


class progress_bar:
    """A tqdm bar on a terminal, nothing otherwise (logs and batch jobs stay clean)."""

    def __init__(self, total: int, initial: int):
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=initial, unit="step", leave=False)

    def update(self, n: int) -> None:
        if self.bar:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar:
            self.bar.close()

