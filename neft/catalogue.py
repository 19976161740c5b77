"""Every training method, model and dataset, one entry each: what the workflow, the config's schema and the
analysis need to know of it without importing torch (its display name, plot style, role and the public code's
hyper-parameters), and the module that implements it, imported on first use (registry.Registry). A new method,
model or dataset is its implementation file plus its entry here: the schema's names, the display names, the
figures' styles and every list of methods are read from these (tests/test_catalogue.py adds one that way)."""

from dataclasses import dataclass, field

from .errors import ConfigError


@dataclass(frozen=True)
class Method:
    name: str  # its registry name: a config value, the `variant` wildcard
    display: str  # in figures, tables and the report
    module: str  # the module that implements it (it registers itself in neft.methods.METHODS)
    style: (
        dict  # its line in the figures: an Okabe-Ito colour (told apart under colour-vision deficiencies), marker, dash
    )
    nft: bool = (
        False  # a negative-feedback method: it has a beta, its ablations, and every claim compares it with W/ Noise
    )
    noisy: bool = True  # trained with device noise at each sigma_d (W/O Noise: once, at sigma_d = 0)
    feedbacks: int | None = None  # NFT: its number of feedbacks N (None: the model's, Model.irs_feedbacks)
    beta: dict[str, dict[str, float]] = field(default_factory=dict)  # NFT: model -> dataset -> the public code's beta


@dataclass(frozen=True)
class Model:
    name: str
    display: str
    module: str  # it registers itself in neft.models.MODELS
    lr: float  # Adam's learning rate (the public code's)
    irs_feedbacks: int  # IRS's number of feedbacks N on it: its snapshot places used by default
    beta_from: str | None = None  # a model whose betas it borrows where a method has none for it


@dataclass(frozen=True)
class Dataset:
    name: str
    display: str
    module: str  # it registers itself in neft.datasets.DATASETS
    beta_from: str | None = None  # the dataset whose beta it borrows where a method has none for it (the nearest)


def entries(*items) -> dict:
    return {item.name: item for item in items}


METHODS = entries(
    Method(
        "vanilla",
        "W/O Noise",
        "neft.methods.vanilla",
        dict(color="#000000", marker="o", linestyle="--", markerfacecolor="white"),
        noisy=False,
    ),
    Method("noise", "W/ Noise", "neft.methods.injection", dict(color="#0072B2", marker="s", linestyle=":")),
    Method(
        "ovf",
        "OVF",
        "neft.methods.ovf",
        dict(color="#D55E00", marker="^", linestyle="-"),
        nft=True,
        feedbacks=3,
        beta={
            "vgg8": {"mnist": 1e-3, "cifar10": 1e-3},
            "resnet18": {"mnist": 1e-4, "cifar10": 1e-1, "cifar100": 1e-1, "tinyimagenet": 1e-2},
        },
    ),
    Method(
        "irs",
        "IRS",
        "neft.methods.irs",
        dict(color="#009E73", marker="D", linestyle="-."),
        nft=True,
        beta={
            "vgg8": {"mnist": 1e-2, "cifar10": 1e-1},
            "resnet18": {"mnist": 1e-1, "cifar10": 1e-3, "cifar100": 1e-3, "tinyimagenet": 1e-2},
        },
    ),
)
MODELS = entries(
    Model("vgg8", "VGG-8", "neft.models.vgg", lr=1e-3, irs_feedbacks=3),
    Model("resnet18", "ResNet-18", "neft.models.resnet", lr=1e-2, irs_feedbacks=4),
)
DATASETS = entries(  # in the paper's order: the figures' panels follow it
    Dataset("mnist", "MNIST", "neft.datasets.mnist"),
    Dataset("fashion_mnist", "Fashion-MNIST", "neft.datasets.mnist", beta_from="mnist"),
    Dataset("cifar10", "CIFAR-10", "neft.datasets.cifar"),
    Dataset("cifar100", "CIFAR-100", "neft.datasets.cifar", beta_from="cifar10"),
    Dataset("tinyimagenet", "Tiny ImageNet", "neft.datasets.tinyimagenet", beta_from="cifar10"),
    Dataset("synthetic", "synthetic", "neft.datasets.synthetic", beta_from="mnist"),
)


def nft_methods() -> tuple[str, ...]:
    """The negative-feedback methods (OVF, IRS), in the catalogue's order."""
    return tuple(name for name, method in METHODS.items() if method.nft)


def noisy_methods() -> tuple[str, ...]:
    """The methods trained with device noise at each sigma_d (all but W/O Noise)."""
    return tuple(name for name, method in METHODS.items() if method.noisy)


def default_beta(method: str, model: str, dataset: str) -> float:
    """The public code's beta of an NFT method for the model and dataset; a model or dataset it did not run
    borrows that of its `beta_from`."""
    table = METHODS[method].beta
    per_model = table.get(model) or table.get(MODELS[model].beta_from, {})
    for source in (dataset, DATASETS[dataset].beta_from):
        if source in per_model:
            return per_model[source]
    raise ConfigError(
        f"{method} has no default beta for {model} on {dataset} (neft/catalogue.py); set beta in the config"
    )


def feedbacks(method: str, model: str) -> int:
    """The number of feedbacks N of an NFT method on a model, by default."""
    return METHODS[method].feedbacks or MODELS[model].irs_feedbacks
