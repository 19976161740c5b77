"""Every hyper-parameter in one place, with units; unknown keys are rejected.

`TrainConfig` is one training run (model x dataset x method x sigma_d x seed); `EvalConfig` is one
Monte-Carlo evaluation. Both are plain dataclasses: the CLI builds its options from these fields, and
the values are saved with every result.
"""
import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field

from .errors import ConfigError

STEP_KINDS = ("eager", "compile", "graph")  # neft/step.py
SIGMA_GRID = [round(0.05 * i, 2) for i in range(9)]  # 0, 0.05, ..., 0.4: the paper's Figure 3 axis


def opt(default, help: str):
    """A config field with its help text (shown by `python -m neft train --help`)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    # what is trained
    model: str = opt("vgg8", "model registry name (vgg8, resnet18)")
    dataset: str = opt("fashion_mnist", "dataset registry name")
    method: str = opt("noise", "training method: vanilla (W/O noise), noise (W/ noise), ovf, irs")
    sigma_d: float = opt(0.1, "device variation sigma_d during training, relative to a device's max conductance")
    seed: int = opt(0, "drives every random choice of the run (init, split, order, crops, noise)")
    width: float = opt(1.0, "channel-width multiplier; 1.0 is the paper's model, <1 for fast CPU tests")
    init: str = opt("reference", "weight initialisation: reference (public code: kaiming-normal fan_out for every "
                                 "conv and linear, biases 0) or pytorch (PyTorch's defaults, ablation)")
    # recipe (reference defaults)
    epochs: int = opt(200, "training epochs")
    batch_size: int = opt(128, "images per step")
    lr: float | None = opt(None, "Adam learning rate; default 1e-3 for vgg8, 1e-2 for resnet18")
    weight_decay: float = opt(0.0, "Adam weight decay")
    select: str = opt("val", "model selection: 'val' = best noisy validation accuracy, 'last' = last epoch")
    val_size: int = opt(5000, "images carved from the training set for validation (never the test set)")
    val_mc_runs: int = opt(16, "noise draws (chips) per epoch for the noisy validation accuracy, fixed across epochs "
                               "(16: docs/method.md, Model selection)")
    # negative feedback (OVF, IRS)
    beta: float | None = opt(None, "negative-feedback coefficient beta; default per model/dataset from the reference")
    n_feedback: int | None = opt(None, "number of feedbacks N; default OVF 3, IRS 3 (vgg8) / 4 (resnet18)")
    delta_sigma: float = opt(0.05, "OVF: sigma step of the oriented forwards (negative = reversed ablation)")
    reverse_decay: bool = opt(False, "ablation: reverse the decay factors gamma_n")
    same_pattern: bool = opt(False, "OVF: reuse the backbone's noise pattern, rescaled (paper's text) "
                                    "instead of fresh noise per forward (public code)")
    head_sigma: float | None = opt(None, "IRS: sigma of the heads' weight noise; default sigma_d, 0 = no head noise")
    init_from: str | None = opt(None, "start from this model file (e.g. a vanilla-pretrained model.pt)")
    # noise law
    weight_bits: int = opt(8, "M: bits per weight")
    device_bits: int = opt(2, "K: bits per device; M must be a multiple of K")
    device_kind: str = opt("RRAM1", "device kind: RRAM1, FeFET2, RRAM4, FeFET6")
    quantize: bool = opt(False, "really round weights to M bits before adding noise (off, like the public code)")
    # data
    data_dir: str = opt("data", "folder holding (or receiving) the datasets")
    download: bool = opt(True, "download missing dataset files (needs network)")
    train_subset: int | None = opt(None, "use only this many training images (smoke runs)")
    # execution
    device: str = opt("auto", "auto, cpu, cuda or cuda:N")
    precision: str = opt("fp32", "fp32, tf32 or bf16 (autocast)")
    step: str = opt("eager", "how a training step runs: eager, compile (torch.compile the model) or graph (the whole "
                             "step captured in a CUDA graph and replayed; CUDA only); neft/step.py")
    loader: str = opt("auto", "auto (GPU-resident on CUDA for 28/32-px sets), torchvision, resident")
    num_workers: int = opt(2, "data-loader worker processes (torchvision loader)")
    checkpoint_every_s: float = opt(300.0, "seconds between mid-run checkpoints (also written at the end and on SIGTERM)")

    def __post_init__(self):
        check_fields(self)
        from .datasets import DATASETS
        from .init import INITS
        from .methods import METHODS
        from .models import MODELS
        MODELS.get(self.model)
        INITS.get(self.init)
        DATASETS.get(self.dataset)
        METHODS.get(self.method)
        self.noise_law()
        check_sigma("sigma_d", self.sigma_d)
        if self.head_sigma is not None:
            check_sigma("head_sigma", self.head_sigma)
        if self.method == "vanilla" and self.sigma_d != 0:
            raise ConfigError(f"method vanilla trains without noise: sigma_d must be 0, got {self.sigma_d}")
        for name in ("epochs", "batch_size", "val_mc_runs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.val_size < 1:  # every epoch is validated (log, history), whatever the selection
            raise ConfigError(f"val_size must be >= 1, got {self.val_size}")
        if not self.width > 0:
            raise ConfigError(f"width must be > 0 (1.0 is the paper's model), got {self.width}")
        if self.lr is not None and not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")
        if self.beta is not None and not self.beta > 0:
            raise ConfigError(f"beta must be > 0, got {self.beta}")
        if self.n_feedback is not None and not 1 <= self.n_feedback <= 5:
            raise ConfigError(f"n_feedback must be in 1..5, got {self.n_feedback}")
        if self.train_subset is not None and self.train_subset < 1:
            raise ConfigError(f"train_subset must be >= 1, got {self.train_subset}")
        if self.weight_decay < 0 or self.checkpoint_every_s < 0 or self.num_workers < 0:
            raise ConfigError("weight_decay, checkpoint_every_s and num_workers must be >= 0")
        check_choice("select", self.select, ("val", "last"))
        check_choice("loader", self.loader, ("auto", "torchvision", "resident"))
        check_choice("step", self.step, STEP_KINDS)
        check_step_device(self.step, self.device)
        check_precision_device(self.precision, self.device)

    def noise_law(self):
        from .noise import NoiseLaw
        return NoiseLaw(self.weight_bits, self.device_bits, self.device_kind, self.quantize)

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else {"resnet18": 1e-2}.get(self.model, 1e-3)


@dataclass
class EvalConfig:
    sigmas: list[float] = opt(SIGMA_GRID, "sigma_d values of the Monte-Carlo evaluation")
    runs: int = opt(200, "R: Monte-Carlo runs per sigma; each run fixes one noise sample per layer (one chip)")
    seed: int = opt(0, "noise seeds derive from (seed, sigma, run index) only: same draws for every method")
    batch_size: int = opt(1000, "test images per forward pass")
    test_subset: int | None = opt(None, "evaluate on the first N test images only (smoke runs)")
    weight_bits: int | None = opt(None, "M; default: the model's training value")
    device_bits: int | None = opt(None, "K; default: the model's training value")
    device_kind: str | None = opt(None, "device kind; default: the model's training value")
    quantize: bool | None = opt(None, "round weights to M bits; default: the model's training value")
    data_dir: str = opt("data", "folder holding (or receiving) the datasets")
    download: bool = opt(True, "download missing dataset files (needs network)")
    device: str = opt("auto", "auto, cpu, cuda or cuda:N")
    precision: str = opt("fp32", "fp32, tf32 or bf16 (autocast; bf16 agrees with fp32 within the MC error)")
    compile: bool = opt(False, "torch.compile the model once for all runs (CUDA)")

    def __post_init__(self):
        check_fields(self)
        if not self.sigmas:
            raise ConfigError("sigmas must list at least one value")
        for s in self.sigmas:
            check_sigma("sigmas", s)
        if self.runs < 2:
            raise ConfigError(f"runs must be >= 2 (a std needs two runs), got {self.runs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.test_subset is not None and self.test_subset < 1:
            raise ConfigError(f"test_subset must be >= 1, got {self.test_subset}")
        check_precision_device(self.precision, self.device)


INT64 = 2 ** 63  # ints go into torch tensors and generators: beyond int64 they overflow


def check_number(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")


def check_integer(name: str, value: int) -> None:
    if not -INT64 <= value < INT64:
        raise ConfigError(f"{name} must be between -2**63 and 2**63 - 1, got {value}")


def check_sigma(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0 <= value <= 1):
        raise ConfigError(f"{name} must be in [0, 1] (relative to a device's max conductance), got {value}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def check_step_device(step: str, device: str) -> None:
    """`device`: the option's value or, once resolved, the device's type."""
    if step == "graph" and device == "cpu":
        raise ConfigError("step graph captures CUDA graphs and needs a CUDA device, not the CPU; use step eager or "
                          "compile there")


def check_precision_device(precision: str, device: str) -> None:
    check_choice("precision", precision, ("fp32", "tf32", "bf16"))
    if not re.fullmatch(r"auto|cpu|cuda(:[0-9]+)?", device):  # [0-9]: str.isdigit() takes other scripts' digits
        raise ConfigError(f"device must be auto, cpu, cuda or cuda:N; got {device!r}")


def field_type(f: dataclasses.Field) -> tuple[type, bool]:
    """(base type, optional?) of a field annotated like `float | None` or `list[float]`."""
    if isinstance(f.type, types.UnionType):
        return next(a for a in typing.get_args(f.type) if a is not type(None)), True
    return f.type, False


def check_fields(cfg) -> None:
    """Type-check every field (YAML and the CLI give strings, ints, floats, bools, lists)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        tp, optional = field_type(f)
        if value is None and optional:
            continue
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            setattr(cfg, f.name, value)
        ok = (isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
              if typing.get_origin(tp) is list else isinstance(value, tp) and not (tp is not bool and isinstance(value, bool)))
        if not ok:
            raise ConfigError(f"{f.name} must be {'a list of numbers' if typing.get_origin(tp) is list else tp.__name__}"
                              f"{' or null' if optional else ''}, got {value!r}")
        for number in value if isinstance(value, list) else [value]:
            if isinstance(number, float):
                check_number(f.name, number)
            elif isinstance(number, int) and not isinstance(number, bool):
                check_integer(f.name, number)


def from_dict(cls, values: dict, where: str = "config"):
    """Build a config from a mapping, rejecting unknown keys with the list of known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known, key=str)  # YAML keys may be numbers too
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    return cls(**values)
