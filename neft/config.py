"""Every hyper-parameter in one place, with units; unknown keys are rejected.

`TrainConfig` is one training run (model x dataset x method x sigma_d x seed); `EvalConfig` is one
Monte-Carlo evaluation. Both are plain dataclasses: the CLI builds its options from these fields, and
the values are saved with every result. Each field declares its default, help text and limits once
(opt): the checks here and the pipeline config's schema (schema.py) read them. Importing this module
imports no torch.
"""

import dataclasses
import math
import re
import reprlib
import types
import typing
from dataclasses import dataclass, field

from . import catalogue
from .errors import ConfigError

STEP_KINDS = ("eager", "compile", "graph")  # neft/step.py
SIGMA_GRID = [round(0.05 * i, 2) for i in range(9)]  # 0, 0.05, ..., 0.4: the paper's Figure 3 axis
SIGMA = dict(minimum=0, maximum=1, why="relative to a device's max conductance")  # the limits of every sigma
# [0-9], not \d: other scripts' digits are no CUDA device number
DEVICE = dict(pattern=r"auto|cpu|cuda(:[0-9]+)?", why="auto, cpu, cuda or cuda:N")
PRECISION = dict(choices=("fp32", "tf32", "bf16"))
MAX_WIDTH = 16  # a VGG-8 of width 16 has 3e9 weights: more is a typo, and a model no memory holds


def opt(default, help: str, **limits):
    """A config field: its default, its help text (`--help`, the pipeline's schema) and its limits, checked
    on every config and written into the pipeline's schema (schema.py): minimum, maximum, above (exclusive
    minimum), min_items (a list), choices, pattern (with `why`: what it allows), registry (its values are
    that registry's names), unique (a list names each value once), why (said when a limit is broken)."""
    metadata = {"help": help, **limits}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    # what is trained
    model: str = opt("vgg8", "model registry name (vgg8, resnet18)", registry="model")
    dataset: str = opt("fashion_mnist", "dataset registry name", registry="dataset")
    method: str = opt("noise", "training method: vanilla (W/O noise), noise (W/ noise), ovf, irs", registry="method")
    sigma_d: float = opt(
        0.1, "device variation sigma_d during training, relative to a device's max conductance", **SIGMA
    )
    seed: int = opt(0, "drives every random choice of the run (init, split, order, crops, noise)")
    width: float = opt(
        1.0,
        "channel-width multiplier; 1.0 is the paper's model, <1 for fast CPU tests",
        above=0,
        maximum=MAX_WIDTH,
        why="1.0 is the paper's model",
    )
    init: str = opt(
        "reference",
        "weight initialisation: reference (public code: kaiming-normal fan_out for every "
        "conv and linear, biases 0) or pytorch (PyTorch's defaults, ablation)",
        registry="init",
    )
    # recipe (reference defaults)
    epochs: int = opt(200, "training epochs", minimum=1)
    batch_size: int = opt(128, "images per step", minimum=1)
    lr: float | None = opt(
        None, "Adam learning rate; default per model (neft/catalogue.py): 1e-3 for vgg8, 1e-2 for resnet18", above=0
    )
    weight_decay: float = opt(0.0, "Adam weight decay", minimum=0)
    select: str = opt(
        "val", "model selection: 'val' = best noisy validation accuracy, 'last' = last epoch", choices=("val", "last")
    )
    val_size: int = opt(
        5000,
        "images carved from the training set for validation (never the test set); every "
        "epoch is validated, whatever the selection",
        minimum=1,
    )
    val_mc_runs: int = opt(
        16,
        "noise draws (chips) per epoch for the noisy validation accuracy, fixed across epochs "
        "(16: docs/method.md, Model selection)",
        minimum=1,
    )
    # negative feedback (OVF, IRS)
    beta: float | None = opt(
        None, "negative-feedback coefficient beta; default per model/dataset from the reference", above=0
    )
    n_feedback: int | None = opt(
        None,
        "number of feedbacks N; default per method and model (neft/catalogue.py): OVF 3, IRS 3 (vgg8) / 4 (resnet18)",
        minimum=1,
        maximum=5,
    )
    delta_sigma: float = opt(0.05, "OVF: sigma step of the oriented forwards (negative = reversed ablation)")
    reverse_decay: bool = opt(False, "ablation: reverse the decay factors gamma_n")
    same_pattern: bool = opt(
        False,
        "OVF: reuse the backbone's noise pattern, rescaled (paper's text) "
        "instead of fresh noise per forward (public code)",
    )
    positive_feedback: bool = opt(
        False,
        "control (beyond the paper): OVF/IRS with the feedback's sign flipped, +beta instead of -beta",
    )
    head_sigma: float | None = opt(
        None, "IRS: sigma of the heads' weight noise; default sigma_d, 0 = no head noise", **SIGMA
    )
    n_draws: int = opt(
        1,
        "W/ Noise: K independent noise draws per step (K forwards of the batch, mean of their cross-entropies, "
        "one backward); K = N + 1 sees as many noise samples as OVF (control, beyond the paper)",
        minimum=1,
    )
    init_from: str | None = opt(None, "start from this model file (e.g. a vanilla-pretrained model.pt)")
    # noise law
    weight_bits: int = opt(8, "M: bits per weight", minimum=1)
    device_bits: int = opt(2, "K: bits per device; M must be a multiple of K", minimum=1)
    device_kind: str = opt("RRAM1", "device kind: RRAM1, FeFET2, RRAM4, FeFET6", registry="device_kind")
    quantize: bool = opt(False, "really round weights to M bits before adding noise (off, like the public code)")
    # data
    data_dir: str = opt("data", "folder holding (or receiving) the datasets")
    download: bool = opt(True, "download missing dataset files (needs network)")
    train_subset: int | None = opt(None, "use only this many training images (smoke runs)", minimum=1)
    # execution
    device: str = opt("auto", "auto, cpu, cuda or cuda:N", **DEVICE)
    precision: str = opt("fp32", "fp32, tf32 or bf16 (autocast)", **PRECISION)
    step: str = opt(
        "eager",
        "how a training step runs: eager, compile (torch.compile the model) or graph (the whole "
        "step captured in a CUDA graph and replayed; CUDA only); neft/step.py",
        choices=STEP_KINDS,
    )
    loader: str = opt(
        "auto",
        "auto (GPU-resident on CUDA for 28/32-px sets), torchvision, resident",
        choices=("auto", "torchvision", "resident"),
    )
    num_workers: int = opt(2, "data-loader worker processes (torchvision loader)", minimum=0)
    checkpoint_every_s: float = opt(
        300, "seconds between mid-run checkpoints (also written at the end and on SIGTERM)", minimum=0
    )

    def __post_init__(self):
        check_fields(self)
        check_registries(self)
        self.noise_law()
        method = catalogue.METHODS[self.method]
        if not method.noisy and self.sigma_d != 0:
            raise ConfigError(f"method {self.method} trains without noise: sigma_d must be 0, got {self.sigma_d}")
        if self.n_draws != 1 and self.method != "noise":
            raise ConfigError(f"n_draws is an option of method noise, not {self.method}; leave it at 1")
        if self.positive_feedback and not method.nft:
            raise ConfigError(
                f"positive_feedback is an option of the NFT methods ({', '.join(catalogue.nft_methods())}), "
                f"not {self.method}"
            )
        if method.nft and self.beta is None:
            catalogue.default_beta(self.method, self.model, self.dataset)  # one line where there is none
        check_step_device(self.step, self.device)

    def noise_law(self):
        from .noise import NoiseLaw

        return NoiseLaw(self.weight_bits, self.device_bits, self.device_kind, self.quantize)

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else catalogue.MODELS[self.model].lr


@dataclass
class EvalConfig:
    sigmas: list[float] = opt(
        SIGMA_GRID, "sigma_d values of the Monte-Carlo evaluation", min_items=1, unique=True, **SIGMA
    )
    runs: int = opt(
        200,
        "R: Monte-Carlo runs per sigma; each run fixes one noise sample per layer (one chip)",
        minimum=2,
        why="a std needs two runs",
    )
    seed: int = opt(0, "noise seeds derive from (seed, sigma, run index) only: same draws for every method")
    batch_size: int = opt(1000, "test images per forward pass", minimum=1)
    test_subset: int | None = opt(None, "evaluate on the first N test images only (smoke runs)", minimum=1)
    weight_bits: int | None = opt(None, "M; default: the model's training value")
    device_bits: int | None = opt(None, "K; default: the model's training value")
    device_kind: str | None = opt(None, "device kind; default: the model's training value")
    quantize: bool | None = opt(None, "round weights to M bits; default: the model's training value")
    data_dir: str = opt("data", "folder holding (or receiving) the datasets")
    download: bool = opt(True, "download missing dataset files (needs network)")
    device: str = opt("auto", "auto, cpu, cuda or cuda:N", **DEVICE)
    precision: str = opt(
        "fp32", "fp32, tf32 or bf16 (autocast; bf16 agrees with fp32 within the MC error)", **PRECISION
    )
    compile: bool = opt(False, "torch.compile the model once for all runs (CUDA)")

    def __post_init__(self):
        check_fields(self)


INT64 = 2**63  # ints go into torch tensors and generators: beyond int64 they overflow


def check_number(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")


def check_integer(name: str, value: int) -> None:
    if not -INT64 <= value < INT64:
        raise ConfigError(f"{name} must be between -2**63 and 2**63 - 1, got {value}")


def broken_limit(name: str, value, limits: dict, tp: type) -> str | None:
    """What `value` of field `name` (of base type `tp`) breaks among its `limits` (see opt); None if nothing."""
    why = f" ({limits['why']})" if "why" in limits else ""
    lo, hi, above = limits.get("minimum"), limits.get("maximum"), limits.get("above")
    if lo is not None and hi is not None and not lo <= value <= hi:
        return f"{name} must be in {f'{lo}..{hi}' if tp is int else f'[{lo}, {hi}]'}{why}, got {value}"
    if lo is not None and hi is None and not value >= lo:
        return f"{name} must be >= {lo}{why}, got {value}"
    if hi is not None and lo is None and not value <= hi:
        return f"{name} must be <= {hi}{why}, got {value}"
    if above is not None and not value > above:
        return f"{name} must be > {above}{why}, got {value}"
    if "choices" in limits and value not in limits["choices"]:
        return f"{name} must be one of {', '.join(limits['choices'])}; got {reprlib.repr(value)}"
    if "pattern" in limits and not re.fullmatch(limits["pattern"], value):
        return f"{name} must be {limits['why']}; got {reprlib.repr(value)}"
    return None


def check_step_device(step: str, device: str) -> None:
    """`device`: the option's value or, once resolved, the device's type."""
    if step == "graph" and device == "cpu":
        raise ConfigError(
            "step graph captures CUDA graphs and needs a CUDA device, not the CPU; use step eager or compile there"
        )


def field_type(f: dataclasses.Field) -> tuple[type, bool]:
    """(base type, optional?) of a field annotated like `float | None` or `list[float]`."""
    if isinstance(f.type, types.UnionType):
        return next(a for a in typing.get_args(f.type) if a is not type(None)), True
    return f.type, False


def plus_zero(number):
    """-0.0 as 0.0 (x + 0.0 changes nothing else); ints as they are."""
    return number + 0.0 if type(number) is float else number


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
        ok = (
            isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            if typing.get_origin(tp) is list
            else isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
        )
        if not ok:
            raise ConfigError(
                f"{f.name} must be {'a list of numbers' if typing.get_origin(tp) is list else tp.__name__}"
                f"{' or null' if optional else ''}, got {reprlib.repr(value)}"
            )
        if type(value) is float or isinstance(value, list):  # -0.0 is 0: one spelling in results and run paths
            value = [plus_zero(v) for v in value] if isinstance(value, list) else plus_zero(value)
            setattr(cfg, f.name, value)
        for number in value if isinstance(value, list) else [value]:
            if isinstance(number, float):
                check_number(f.name, number)
            elif isinstance(number, int) and not isinstance(number, bool):
                check_integer(f.name, number)
        if isinstance(value, list) and len(value) < f.metadata.get("min_items", 0):
            raise ConfigError(
                f"{f.name} must list at least {f.metadata['min_items']} value{'s' * (f.metadata['min_items'] > 1)}"
            )
        rounded = [round(v, 6) for v in value] if f.metadata.get("unique") else []  # as seeds see them (seeding.py)
        twice = first_repeated(rounded)
        if twice is not None:
            raise ConfigError(f"{f.name} lists {twice:g} more than once; give each value once")
        for item in value if isinstance(value, list) else [value]:
            problem = broken_limit(f.name, item, f.metadata, float if typing.get_origin(tp) is list else tp)
            if problem:
                raise ConfigError(problem)


def check_registries(cfg) -> None:
    """A field that names a registry entry names one (imports the registries, so torch)."""
    from .datasets import DATASETS
    from .init import INITS
    from .methods import METHODS
    from .models import MODELS
    from .noise import DEVICE_KINDS

    registries = {"model": MODELS, "dataset": DATASETS, "method": METHODS, "init": INITS, "device_kind": DEVICE_KINDS}
    for f in dataclasses.fields(cfg):
        if "registry" in f.metadata and getattr(cfg, f.name) is not None:
            registries[f.metadata["registry"]].get(getattr(cfg, f.name))


def from_dict(cls, values: dict, where: str = "config"):
    """Build a config from a mapping, rejecting unknown keys with the list of known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known, key=str)  # YAML keys may be numbers too
    if unknown:
        raise ConfigError(f"{where}: unknown key {reprlib.repr(unknown[0])}; known keys: {', '.join(sorted(known))}")
    return cls(**values)


def first_repeated(values: list):
    """The first value the list gives a second time; None when it gives each once."""
    return next((v for i, v in enumerate(values) if v in values[:i]), None)


def as_flags(options: dict) -> list[str]:
    """Options as `python -m neft` arguments (the inverse of the CLI's parsing), in key order:
    {'sigma_d': 0.3, 'download': False, 'lr': None} -> ['--no-download', '--lr', 'none', '--sigma-d', '0.3'].
    A switch that may be None (evaluate's quantize: the model's own setting) has no spelling for None: leave it
    out."""
    out = []
    for key, value in sorted(options.items()):
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, list):
            out += [flag, *map(str, value)]
        else:
            out += [flag, "none" if value is None else str(value)]
    return out
