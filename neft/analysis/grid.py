"""What the config asked the analysis for: the main grid (sigma_d, seeds), the settings of the ablations and
of the convergence count, the stand-in datasets and how each NFT method's beta was set."""

from dataclasses import dataclass, field

import pandas as pd

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
    """What the config asked for: the report's frame (from the pipeline's flags)."""

    name: str
    sigma_d: list[float]
    seeds: list[int]
    ablation: Setting | None = None
    convergence: Setting | None = None
    convergence_methods: list[str] = field(default_factory=lambda: ["noise", "ovf", "irs"])
    threshold: float = 5.0
    stand_ins: dict[str, str] = field(default_factory=dict)  # paper dataset -> dataset run instead
    beta: dict[str, str] = field(default_factory=dict)  # NFT method -> how its beta was set
    synthetic: bool = False  # every run on synthetic data: nothing is judged (set by `report` from the runs)
