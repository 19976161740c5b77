"""The runs a claim of the paper is checked on: the panels of Figure 3 (on a stand-in dataset where one is
configured), a method's points at each sigma_d, their paired comparisons, and how the runs fall short of the
paper's setting."""

from dataclasses import dataclass

import pandas as pd

from ..variants import compute_matched
from .grid import Grid, Setting
from .names import METHOD_NAMES, dataset_name, model_name
from .render import fmt_list
from .runs import by_seed, select
from .verdicts import Paired, paired


@dataclass(frozen=True)
class Panel:
    model: str
    paper_dataset: str  # '' when the paper has no such panel
    dataset: str  # the dataset run

    @property
    def title(self) -> str:
        stand_in = {self.paper_dataset: self.dataset} if self.paper_dataset not in ("", self.dataset) else {}
        return f"{model_name(self.model)} / {dataset_name(self.dataset, stand_in)}"


def point(runs, panel: Panel, method: str, s: float, seeds, column: str = "accuracy") -> pd.Series:
    """Figure 3/4's point of `method` at σ_d = s: W/O Noise is the σ_d = 0 model evaluated at s."""
    trained_at = 0.0 if method == "vanilla" else s
    rows = select(
        runs, model=panel.model, dataset=panel.dataset, variant=method, sigma_d=trained_at, eval_sigma=s, seed=seeds
    )
    return by_seed(rows, column)


def panels(runs: pd.DataFrame, claims: dict, stand_ins: dict) -> list[Panel]:
    """Each Figure 3 panel of the paper (on its stand-in where one is configured), then the main runs'
    panels that no claim covers."""
    out = []
    for key in claims["figure3_max_improvement_over_noise_injection"]:
        model, dataset = key.split("/")
        ran = ((runs.model == model) & (runs.dataset == dataset)).any()
        out.append(Panel(model, dataset, dataset if ran or dataset not in stand_ins else stand_ins[dataset]))
    main = runs[runs.variant == "noise"]
    covered = {(p.model, p.dataset) for p in out}
    return out + [Panel(m, "", d) for m, d in sorted(set(zip(main.model, main.dataset)) - covered)]


def shortfalls(rows: pd.DataFrame, claims: dict, paper_where: str = "", used_where: str = "") -> list[str]:
    """How the runs behind a claim fall short of the paper's setting (the number of seeds aside)."""
    out = [f"{used_where} stands in for {paper_where}"] if paper_where != used_where else []
    if rows.empty:
        return out
    paper_epochs = claims["setup"]["epochs"]
    if rows.epochs.max() < paper_epochs:
        out.append(f"{fmt_list(sorted(rows.epochs.unique()))} of {paper_epochs} epochs")
    if (rows.width < 1).any():
        out.append(f"width {fmt_list(sorted(rows.width.unique()))}")
    if rows.train_subset.notna().any():
        out.append("a subset of the training set")
    return out


def panel_rows(runs, panel: Panel) -> pd.DataFrame:
    return select(runs, model=panel.model, dataset=panel.dataset, variant=list(METHOD_NAMES))


def main_series(runs) -> list[str]:
    """The main grid's variants shown in the per-σ_d tables: the methods, and W/ Noise ×(N+1) where it ran."""
    return [*METHOD_NAMES, *([compute_matched()] if (runs.variant == compute_matched()).any() else [])]


def panel_shortfalls(runs, claims, panel: Panel) -> list[str]:
    if not panel.paper_dataset:
        return []
    return shortfalls(panel_rows(runs, panel), claims, dataset_name(panel.paper_dataset), dataset_name(panel.dataset))


def where(block: dict) -> str:
    """'ResNet-18 / CIFAR-10': the model and dataset of a setting (a claims.yaml or config block)."""
    return f"{model_name(block['model'])} / {dataset_name(block['dataset'])}"


def setting_shortfalls(runs, claims, setting: Setting, paper: dict) -> list[str]:
    """How the runs at `setting` fall short of the paper's (`paper`: its claims.yaml block, model and dataset)."""
    rows = select(runs, model=setting.model, dataset=setting.dataset, sigma_d=setting.sigma_d, seed=setting.seeds)
    return shortfalls(rows, claims, where(paper), where(vars(setting)))


def comparisons(runs, panel: Panel, method: str, grid: Grid, column: str, versus="noise") -> dict[float, Paired]:
    """`method` minus `versus` (a main variant) at each sigma_d of the grid, paired by seed."""
    return {
        s: paired(point(runs, panel, method, s, grid.seeds, column), point(runs, panel, versus, s, grid.seeds, column))
        for s in grid.sigma_d
    }


def paper_improvement(claims, panel: Panel, method: str) -> float | None:
    """The paper's largest improvement of `method` over W/ Noise on the panel (Figure 3), if it has the panel and
    the method."""
    table = claims["figure3_max_improvement_over_noise_injection"]
    return table[f"{panel.model}/{panel.paper_dataset}"].get(method) if panel.paper_dataset else None


def best_text(found: dict[float, Paired], lower_is_better: bool = False) -> str:
    """'+1.23 ± 0.45 (n=3) at σ_d 0.3': the comparison most in the method's favour."""
    tested = {s: c for s, c in found.items() if c.n}
    best = (min if lower_is_better else max)(tested, key=lambda s: tested[s].diff, default=None)
    return "–" if best is None else f"{tested[best].text()} at σ_d {best:g}"
