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
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from . import checkpoint as ckpt_io
from .config import TrainConfig
from .data import STOP_SIGNALS, training_data
from .device import place, resolve_device, set_precision
from .errors import CheckpointError, WriteError, one_line
from .formats import read_json
from .io import check_writable, folder_lock, save_json, save_torch
from .layout import RUN_FILES
from .mc import mc_evaluate, score
from .methods import METHODS
from .models import build_model
from .provenance import provenance
from .seeding import derive_seed
from .step import TrainStep

log = logging.getLogger("neft")
# images per validation forward pass, by device type: a CPU is fastest with batches whose activations stay in
# its caches (BENCHMARKS.md, CPU), a GPU with large ones; the accuracies are the same
VAL_BATCH = {"cpu": 256}


class Interrupted(Exception):
    """A stop signal arrived; a checkpoint was written, rerun with --resume to continue."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum  # the exit code is 128 + signum, as the shell reports a process the signal ended


@contextmanager
def checkpoint_on_signals():
    """While inside, SIGTERM, SIGINT and SIGHUP (data.STOP_SIGNALS) ask the trainer to checkpoint and stop:
    flag["stop"] holds the signal's number."""
    flag = {"stop": 0}
    previous = {s: signal.signal(s, lambda signum, _: flag.update(stop=signum)) for s in STOP_SIGNALS}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def anti_aligned_heads(history: list[dict], num_classes: int) -> list[int]:
    """IRS heads (1-based) whose training accuracy in the last epoch is below half of chance. Expected,
    not a failure: the objective's -beta * head rewards heads that point away from the label."""
    return [i + 1 for i, acc in enumerate(history[-1]["head_acc"] if history else []) if acc < 50 / num_classes]


def run_files(out_dir: str | Path) -> tuple[Path, Path, Path]:
    """model.pt, train.json and checkpoint.pt of the run folder `out_dir`."""
    return tuple(Path(out_dir) / name for name in RUN_FILES)


@dataclass
class RunState:
    """Everything a checkpoint holds to resume a run at the exact step: the states of the model, the
    method (IRS heads), the optimizer, the LR schedule and the noise generator; where the run is (epoch,
    steps done in it) with the epoch's partial sums; the history, the best epoch so far, the seconds spent.
    to_checkpoint() and restore() are each other's inverse."""

    OBJECTS: ClassVar = ("model", "method", "optimizer", "scheduler")  # restored through their state_dict
    model: nn.Module
    method: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    noise_rng: torch.Generator
    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"metric": -math.inf, "epoch": None, "state": None})
    sums: dict = field(default_factory=dict)  # this epoch's: loss sum, images, IRS heads' correct predictions
    elapsed_s: float = 0.0  # seconds spent before `started` (earlier processes of the run)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        self.sums = self.sums or self.zero_sums()

    def zero_sums(self) -> dict:
        device = self.noise_rng.device
        return {
            "loss": torch.zeros((), device=device, dtype=torch.float64),
            "n": 0,
            "head_correct": torch.zeros(len(getattr(self.method, "heads", [])), device=device, dtype=torch.long),
        }

    def seconds(self) -> float:
        return self.elapsed_s + time.monotonic() - self.started

    def to_checkpoint(self) -> dict:
        return {
            **{name: getattr(self, name).state_dict() for name in self.OBJECTS},
            "noise_rng": self.noise_rng.get_state(),
            "epoch": self.epoch,
            "step": self.step,
            "sums": self.sums,
            "history": self.history,
            "best": self.best,
            "elapsed_s": self.seconds(),
        }

    def restore(self, ckpt: dict, path="checkpoint") -> None:
        """This run's objects take the states of `ckpt`; one CheckpointError naming `path` when one of them is
        another model's, optimizer's or generator's (found before anything is loaded where torch would not)."""
        problem = self.misfit(ckpt)
        if problem:
            raise CheckpointError(f"{path}: holds {problem}; delete it and train again")
        try:
            for part in self.OBJECTS:
                getattr(self, part).load_state_dict(ckpt[part])
            part = "noise generator"
            self.noise_rng.set_state(ckpt["noise_rng"].cpu())
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
            raise CheckpointError(
                f"{path}: its {part} state does not fit this run ({one_line(e)}); delete it and train again"
            ) from None
        self.epoch, self.step, self.history, self.best = ckpt["epoch"], ckpt["step"], ckpt["history"], ckpt["best"]
        self.sums = {k: v.to(self.noise_rng.device) if torch.is_tensor(v) else v for k, v in ckpt["sums"].items()}
        self.elapsed_s, self.started = ckpt["elapsed_s"], time.monotonic()

    def misfit(self, ckpt: dict) -> str | None:
        """What of `ckpt` torch's load_state_dict would take without a word (None if nothing): other model
        arguments, optimizer moments of other shapes, epoch sums or a schedule of another kind."""
        args = ckpt["model_args"]
        diff = ", ".join(f"{k} {args.get(k)!r}, this run {v!r}" for k, v in self.model.args.items() if args.get(k) != v)
        if diff:
            return f"another model ({diff})"
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        for i, moments in ckpt["optimizer"]["state"].items():
            for key, value in moments.items() if isinstance(moments, dict) else [("state", moments)]:
                shape = params[i].shape if isinstance(i, int) and 0 <= i < len(params) else None
                if not torch.is_tensor(value) or (value.ndim and value.shape != shape):
                    return f"an optimizer state of other parameters ({key} of parameter {i})"
        sums = self.zero_sums()
        if any(torch.is_tensor(v) and ckpt["sums"][k].shape != v.shape for k, v in sums.items()):
            return "the epoch sums of another method"
        if set(ckpt["scheduler"]) != set(self.scheduler.state_dict()):
            return "a learning-rate schedule of another kind"
        return None


class Checkpoints:
    """The run's checkpoint.pt (atomic writes): every `checkpoint_every_s` seconds, on SIGTERM and at the end."""

    def __init__(self, path: Path, cfg: TrainConfig, model_args: dict):
        self.path, self.every_s, self.last = path, cfg.checkpoint_every_s, time.monotonic()
        self.header = {"format": ckpt_io.CHECKPOINT_FORMAT, "config": dataclasses.asdict(cfg), "model_args": model_args}

    def due(self) -> bool:
        return time.monotonic() - self.last > self.every_s

    def save(self, state: RunState) -> None:
        try:
            save_torch(self.path, {**self.header, **state.to_checkpoint()})
        except WriteError as e:
            raise WriteError(f"{e}; {self.kept()}") from None
        self.last = time.monotonic()

    def kept(self) -> str:
        """What is left to resume from, after a write of this checkpoint failed."""
        if self.path.exists():
            return "the previous checkpoint is kept: make room, then rerun with --resume"
        return "no checkpoint is kept: make room, then train again"


def one_at_a_time(train_fn):
    """Two trainings in one folder (a requeued job beside a zombie one) would overwrite each other's
    checkpoint: the second stops with one line before it reads anything there (io.folder_lock)."""

    @functools.wraps(train_fn)
    def locked(cfg: TrainConfig, out_dir: str | Path, *args, **kwargs) -> dict:
        with folder_lock(Path(out_dir), "neft train"):
            return train_fn(cfg, out_dir, *args, **kwargs)

    return locked


@one_at_a_time
def train(
    cfg: TrainConfig, out_dir: str | Path, resume: bool = False, stop: dict | None = None, overwrite: bool = False
) -> dict:
    """Run (or resume) the training described by `cfg`; returns the content of train.json. A folder holding
    another run's files is refused, unless `overwrite`; one holding this finished run gives its train.json
    without any work."""
    out_dir = Path(out_dir)
    model_path, result_path, ckpt_path = run_files(out_dir)
    done = existing_run(cfg, out_dir, resume, overwrite)
    if done:
        return done
    device = resolve_device(cfg.device)
    set_precision(cfg.precision)
    stop = stop if stop is not None else {"stop": 0}
    started = time.monotonic()

    torch.manual_seed(derive_seed(cfg.seed, "init"))
    data = training_data(cfg, device)
    law = cfg.noise_law()
    state = new_run(cfg, data.spec, law, device, started)
    check_writable(model_path)  # now, not after hours of training
    if overwrite:  # only now: a bad input above leaves the old run as it was
        for path in run_files(out_dir):
            path.unlink(missing_ok=True)
    checkpoints = Checkpoints(ckpt_path, cfg, state.model.args)
    if resume and ckpt_path.exists():
        ckpt = ckpt_io.read_checkpoint(ckpt_path, dataclasses.asdict(cfg), device, data.train.steps)
        state.restore(ckpt, ckpt_path)
        log.info("resuming %s at epoch %d, step %d", out_dir, state.epoch + 1, state.step)
    train_step = TrainStep(cfg.step, state.model, state.method, state.optimizer, device, cfg.precision)

    status, diverged_epoch = "completed", None
    progress = progress_bar(cfg.epochs * data.train.steps, state.epoch * data.train.steps + state.step)
    while state.epoch < cfg.epochs:
        epoch_start = time.monotonic()
        train_steps(state, cfg, data, train_step, checkpoints, stop, progress)
        state.scheduler.step()
        train_loss = float(state.sums["loss"] / max(state.sums["n"], 1))  # one host sync per epoch
        if not math.isfinite(train_loss):
            status, diverged_epoch = "diverged", state.epoch + 1
            log.warning("epoch %d: training loss is %s: run diverged", state.epoch + 1, train_loss)
            break
        validate(state, cfg, data, law, train_loss, epoch_start)
        state.epoch, state.step, state.sums = state.epoch + 1, 0, state.zero_sums()
        if checkpoints.due() and state.epoch < cfg.epochs:
            checkpoints.save(state)
    progress.close()
    try:
        checkpoints.save(state)  # first: a failed write below (a full disk) loses no training
        kept = (
            f"the finished training is kept in {ckpt_path}: make room, then rerun with --resume to write the "
            f"results without training again"
        )
    except WriteError as e:  # model.pt and train.json are smaller than a checkpoint: they may still fit
        log.warning("%s", e)
        kept = checkpoints.kept()
    return finish(state, cfg, data, law, out_dir, status, diverged_epoch, device, kept)


def existing_run(cfg: TrainConfig, out_dir: Path, resume: bool, overwrite: bool) -> dict | None:
    """What the run folder holds already decides: train (None), or not at all (this finished run's train.json);
    a checkpoint without --resume, or the files of another run, are one line, unless `overwrite` (train, and
    replace them)."""
    model_path, result_path, ckpt_path = run_files(out_dir)
    if overwrite:
        return None
    if ckpt_path.exists():
        if resume:
            return None
        raise CheckpointError(
            f"{out_dir} holds an unfinished training ({ckpt_path.name}); continue it with --resume, or start "
            f"again with --overwrite"
        )
    if not (model_path.exists() or result_path.exists()):
        return None
    done = read_json(result_path, "train.json")
    differs = ckpt_io.difference(done["config"], dataclasses.asdict(cfg))
    if differs:
        raise CheckpointError(
            f"{out_dir} holds a finished run of another config ({differs}); train into another folder, or "
            f"replace it with --overwrite"
        )
    if not model_path.exists():
        raise CheckpointError(
            f"{out_dir} holds {result_path.name} without {model_path.name}; replace the run with --overwrite"
        )
    log.info("%s: already complete", out_dir)
    return done


def new_run(cfg: TrainConfig, spec, law, device: torch.device, started: float) -> RunState:
    """The model (initialised from the seeded global RNG, or from init_from), the method, optimizer, LR
    schedule and noise generator of a run at its start."""
    model = build_model(cfg.model, spec.in_channels, spec.num_classes, spec.image_size, cfg.width, cfg.init)
    if cfg.init_from:
        pretrained = ckpt_io.read_model_file(cfg.init_from)
        ckpt_io.check_compatible(pretrained, model.args, cfg.init_from)
        ckpt_io.load_weights(model, pretrained, cfg.init_from)
    method = METHODS.get(cfg.method)(cfg, model, law)
    place(model, device)
    method.to(device)
    optimizer = torch.optim.Adam(
        [*model.parameters(), *method.parameters()], lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    return RunState(model, method, optimizer, scheduler, torch.Generator(device=device), started=started)


def train_steps(
    state: RunState, cfg: TrainConfig, data, train_step: TrainStep, checkpoints: Checkpoints, stop: dict, progress
) -> None:
    """The current epoch's steps from state.step on: a checkpoint when one is due, and on a stop signal (then
    stop)."""
    if state.step == 0:
        state.noise_rng.manual_seed(derive_seed(cfg.seed, "train-noise", state.epoch))
    noise_rng, sums = state.noise_rng, state.sums
    state.model.train()
    state.method.train()
    for x, y in data.train.epoch(state.epoch, state.step):
        loss, extras = train_step(x, y, noise_rng)
        sums["loss"] += loss.detach().double() * len(y)
        sums["n"] += len(y)
        if "head_correct" in extras:
            sums["head_correct"] += extras["head_correct"]
        state.step += 1
        progress.update(1)
        if stop["stop"] or checkpoints.due():
            checkpoints.save(state)
            if stop["stop"]:
                progress.close()
                signum = int(stop["stop"])
                raise Interrupted(
                    f"stopped by {signal.Signals(signum).name} at epoch {state.epoch + 1}, step {state.step}; "
                    f"checkpoint in {checkpoints.path}",
                    signum,
                )


def validate(state: RunState, cfg: TrainConfig, data, law, train_loss: float, epoch_start: float) -> None:
    """The epoch's clean and noisy validation accuracy (noisy: cfg.val_mc_runs chips at the training sigma_d,
    none at sigma_d = 0) into the history; the model kept if it is the best so far (or the last, for
    select: last)."""
    model, sums = state.model, state.sums
    batch = VAL_BATCH.get(data.val_x.device.type, 1000)
    val_clean = float(score(model.eval(), data.val_x, data.val_y, batch, cfg.precision)[0]) * 100 / len(data.val_y)
    val_noisy = None
    if cfg.sigma_d > 0:
        noisy = mc_evaluate(
            model,
            law,
            data.val_x,
            data.val_y,
            [cfg.sigma_d],
            cfg.val_mc_runs,
            cfg.seed,
            batch,
            cfg.precision,
            tag="val",
        )[0]
        val_noisy = noisy.mean
    row = {
        "epoch": state.epoch + 1,
        "train_loss": train_loss,
        "val_clean": val_clean,
        "val_noisy": val_noisy,
        "head_acc": (sums["head_correct"].double() * 100 / max(sums["n"], 1)).tolist(),
        "lr": state.optimizer.param_groups[0]["lr"],
        "seconds": time.monotonic() - epoch_start,
    }
    state.history.append(row)
    log.info(
        "epoch %d/%d loss %.4f val clean %.2f%% noisy %s%s",
        state.epoch + 1,
        cfg.epochs,
        train_loss,
        val_clean,
        "-" if val_noisy is None else f"{val_noisy:.2f}%",
        "".join(f" head{i + 1} {a:.1f}%" for i, a in enumerate(row["head_acc"])),
    )
    metric = val_clean if val_noisy is None else val_noisy
    if cfg.select == "last" or metric > state.best["metric"]:
        state.best = {
            "metric": metric,
            "epoch": state.epoch + 1,
            "state": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
        }


def finish(
    state: RunState,
    cfg: TrainConfig,
    data,
    law,
    out_dir: Path,
    status: str,
    diverged_epoch: int | None,
    device: torch.device,
    kept: str,
) -> dict:
    """model.pt (the selected weights) and train.json, as a pair or not at all; then the checkpoint goes."""
    model_path, result_path, ckpt_path = run_files(out_dir)
    anti_aligned = anti_aligned_heads(state.history, data.spec.num_classes)
    if anti_aligned:
        log.info(
            "IRS heads %s point away from the label (training accuracy below half of chance), as the "
            "objective's -beta * head asks",
            anti_aligned,
        )
    best = state.best
    summary = {
        "status": status,
        "diverged_epoch": diverged_epoch,
        "epochs_run": len(state.history),
        "selection": cfg.select,
        "selected_epoch": best["epoch"],
        "selected_val_accuracy": best["metric"] if best["epoch"] else None,
        "flags": {"irs_heads_anti_aligned": anti_aligned},
        "model_args": state.model.args,
        "method_hparams": state.method.hparams,
        "noise_law": law.as_dict(),
        "n_train": data.n_train,
        "n_val": len(data.val_y),
        "config": dataclasses.asdict(cfg),
        "seconds": state.seconds(),
        "provenance": provenance(device),
    }
    try:
        save_torch(model_path, {"format": ckpt_io.MODEL_FORMAT, "state_dict": best["state"], **summary})
        save_json(result_path, {**summary, "history": state.history})
    except WriteError as e:
        model_path.unlink(missing_ok=True)  # the run's outputs come as a pair, or not at all
        raise WriteError(f"{e}; {kept}") from None
    ckpt_path.unlink(missing_ok=True)
    return {**summary, "history": state.history}


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
