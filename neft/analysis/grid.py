"""What the config asked the analysis for: the main grid (sigma_d, seeds), the settings of the ablations and
of the convergence count, the stand-in datasets and how each NFT method's beta was set. The workflow writes
the checked config as results/<name>/config.json; the figures, tables and report build their Grid from it."""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..catalogue import nft_methods
from ..formats import CHECKED_CONFIG, read_json
from .names import METHOD_NAMES, dataset_name, model_name
from .render import counted, span
from .runs import by_seed, select


@dataclass(frozen=True)
class Setting:
    """Where an ablation or the convergence count runs: one model/dataset/sigma_d, some seeds."""

    model: str
    dataset: str
    sigma_d: float
    seeds: tuple[int, ...]

    def rows(self, runs: pd.DataFrame, variant: str, sigma_d: float | None = None) -> pd.DataFrame:
        """The per-seed rows of `variant` trained at sigma_d (default: the setting's), any eval sigma."""
        sd = self.sigma_d if sigma_d is None else sigma_d
        return select(runs, model=self.model, dataset=self.dataset, variant=variant, sigma_d=sd, seed=self.seeds)

    def accuracy(self, runs: pd.DataFrame, variant: str, sigma_d: float | None = None) -> pd.Series:
        """MC mean accuracy at the setting's sigma_d, by seed (a run that diverged before any kept epoch has
        none; one that diverged later has its kept epoch's)."""
        return by_seed(select(self.rows(runs, variant, sigma_d), eval_sigma=self.sigma_d))

    def describe(self, runs: pd.DataFrame | None = None, stand_ins: dict | None = None) -> str:
        """'ResNet-18, Fashion-MNIST (for MNIST), σ_d = 0.3, seeds 0 1 (n = 2), 3 epochs, R = 200': epochs and
        R (MC runs) of the setting's main runs, where `runs` has them."""
        text = (
            f"{model_name(self.model)}, {dataset_name(self.dataset, stand_ins)}, σ_d = {self.sigma_d:g}, "
            f"seeds {' '.join(map(str, self.seeds))} (n = {len(self.seeds)})"
        )
        main = pd.concat([self.rows(runs, m) for m in METHOD_NAMES]) if runs is not None else pd.DataFrame()
        if len(main):
            text += f", {counted(main.epochs, 'epoch')}" if main.epochs.notna().any() else ""
            text += f", R = {span(main.runs)}" if main.runs.notna().any() else ""
        return text


@dataclass
class Grid:
    """What the config asked for: the frame of the figures, tables and report."""

    name: str
    sigma_d: list[float]
    seeds: list[int]
    ablation: Setting | None = None
    convergence: Setting | None = None
    convergence_methods: list[str] = field(default_factory=lambda: ["noise", *nft_methods()])
    threshold: float = 5.0
    stand_ins: dict[str, str] = field(default_factory=dict)  # paper dataset -> dataset run instead
    beta: dict[str, str] = field(default_factory=dict)  # NFT method -> how its beta was set
    synthetic: bool = False  # every run on synthetic data: nothing is judged (set by `report` from the runs)


def setting(block: dict) -> Setting | None:
    """The setting of the config's `ablations` or `convergence` section; None when it is disabled."""
    if not block["enabled"]:
        return None
    return Setting(block["model"], block["dataset"], float(block["sigma_d"]), tuple(block["seeds"]))


def from_config(config: dict) -> Grid:
    """The Grid of a checked config (workflow/rules/config.smk: every default filled in)."""
    convergence = config["convergence"]
    return Grid(
        name=config["name"],
        sigma_d=[float(s) for s in config["sigma_d"]],
        seeds=list(config["seeds"]),
        ablation=setting(config["ablations"]),
        convergence=setting(convergence),
        convergence_methods=list(convergence["methods"]),
        threshold=float(convergence["threshold"]),
        stand_ins=dict(config["report"]["stand_ins"]),
        beta={method: str(value) for method, value in config["beta"].items()},
    )


def read_grid(path: str | Path) -> Grid:
    """The Grid of the checked config the workflow wrote (results/<name>/config.json)."""
    return from_config(read_json(path, CHECKED_CONFIG))
