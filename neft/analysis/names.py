"""Display names of methods, variants, models and datasets (neft/catalogue.py), for figures, tables and the
report."""

from ..catalogue import DATASETS, METHODS, MODELS
from ..variants import VARIANTS, parse_variant

METHOD_NAMES = {name: method.display for name, method in METHODS.items()}
MODEL_NAMES = {name: model.display for name, model in MODELS.items()}
DATASET_NAMES = {name: dataset.display for name, dataset in DATASETS.items()}


def method_name(method: str) -> str:
    return METHOD_NAMES.get(method, method)


def variant_name(variant: str) -> str:
    """'W/ Noise ×4' for noise-draws4, 'OVF' for ovf, 'OVF (positive feedback (+β))' for ovf-posfb."""
    method, tag, value = parse_variant(variant)
    if not tag:
        return method_name(method)
    if tag == "draws":
        return f"{method_name(method)} ×{value:g}"
    return f"{method_name(method)} ({VARIANTS[tag].label}{'' if value is None else f' {value:g}'})"


def model_name(model: str) -> str:
    return MODEL_NAMES.get(model, model)


def dataset_name(dataset: str, stand_ins: dict[str, str] | None = None) -> str:
    """'Fashion-MNIST (for MNIST)' where `stand_ins` ({paper dataset: dataset used}) says it stands in."""
    name = DATASET_NAMES.get(dataset, dataset)
    papers = [paper for paper, used in (stand_ins or {}).items() if used == dataset]
    return f"{name} (for {' / '.join(map(dataset_name, papers))})" if papers else name
