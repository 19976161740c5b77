"""The run layout, defined once: every run of a grid is named by its place

    <model>/<dataset>/<variant>/sd<sigma_d>/seed<seed>

under the grid's runs/ (model.pt, train.json), mc/ (<run>.json, <run>.csv), logs/ and benchmarks/
folders. The workflow builds its rules' path patterns from RUN and WILDCARDS and names runs with
Run.id; aggregation reads a result file's run back from its path (parse_run). A variant is a method or
a method with a tag (variants.py). Importing this module imports no torch."""

import re
from typing import NamedTuple

from .variants import VARIANT

RUN = "{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}"
WILDCARDS = {
    "model": "[a-z0-9_]+",
    "dataset": "[a-z0-9_]+",
    "variant": VARIANT.pattern,
    "sigma_d": "[0-9.]+",
    "seed": "[0-9]+",
}  # what each part of RUN may hold
RUN_FILES = ("model.pt", "train.json", "checkpoint.pt")  # what `neft train` writes into a run folder
RUN_PATH = re.compile(RUN.format(**{k: f"(?P<{k}>{v})" for k, v in WILDCARDS.items()}))


def num(x) -> str:
    """A number as it appears in a path: 0.3 -> '0.3', 1e-4 -> '0.0001', 0 and -0.0 -> '0'."""
    return f"{float(x) + 0.0:.12f}".rstrip("0").rstrip(".")


class Run(NamedTuple):
    model: str
    dataset: str
    variant: str
    sigma_d: float
    seed: int

    def wildcards(self) -> dict[str, str]:
        """The run's parts as they appear in its path."""
        return dict(
            model=self.model, dataset=self.dataset, variant=self.variant, sigma_d=num(self.sigma_d), seed=str(self.seed)
        )

    @property
    def id(self) -> str:
        return RUN.format(**self.wildcards())


def parse_run(text: str) -> Run | None:
    """'vgg8/mnist/ovf-n1/sd0.3/seed0' -> its Run; None for text that is not a run's place."""
    m = RUN_PATH.fullmatch(text)
    try:
        return m and Run(m["model"], m["dataset"], m["variant"], float(m["sigma_d"]), int(m["seed"]))
    except ValueError:  # sd0..3
        return None
