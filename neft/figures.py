"""Figure 3 (mean noisy Top-1 accuracy vs sigma_d) and Figure 4 (mean EKL of the correct predictions
vs sigma_d): one panel per model/dataset, one line per method with a Student-t CI95 band over seeds.

As in the paper, W/O Noise is trained once (sigma_d = 0): its point at sigma_d = s is its MC result at
eval sigma s. Every other method's point at s is the model trained at s, evaluated at s. The beta of
OVF and IRS in each panel is in the legend.
"""
import math
from pathlib import Path

import pandas as pd

from .aggregate import DIGITS, t_ci95
from .errors import NeftError
from .tables import NAMES

MODEL_NAMES = {"vgg8": "VGG-8", "resnet18": "ResNet-18"}
DATASETS = ["mnist", "fashion_mnist", "cifar10", "cifar100", "tinyimagenet"]  # the paper's panel order
COLORS = {"vanilla": "#7f7f7f", "noise": "#1f77b4", "ovf": "#d62728", "irs": "#2ca02c"}
FIGURES = {"figure3": ("accuracy", "mean noisy Top-1 accuracy (%)", (0, 100)),  # y, label, limits (CI bands clipped)
           "figure4": ("ekl", "mean EKL of correct predictions", (0, None))}


def points(runs: pd.DataFrame, sigma_d: list[float], seeds: list[int]) -> pd.DataFrame:
    """Per-seed points (panel, method, x) of the main runs (variants vanilla, noise, ovf, irs)."""
    grid = [round(s, DIGITS) for s in sigma_d]
    main = runs[runs.variant.isin(list(NAMES)) & runs.seed.isin(seeds)].dropna(subset=["eval_sigma"])
    vanilla = main[(main.variant == "vanilla") & main.eval_sigma.isin([0.0, *grid])]
    trained = main[(main.variant != "vanilla") & main.sigma_d.isin(grid) & (main.eval_sigma == main.sigma_d)]
    return pd.concat([vanilla.assign(x=vanilla.eval_sigma), trained.assign(x=trained.sigma_d)], ignore_index=True)


def label(method: str, betas: pd.Series) -> str:
    values = sorted(betas.dropna().unique())
    return NAMES[method] + (f" (β = {' / '.join(f'{b:g}' for b in values)})" if values else "")


def band(values) -> tuple[float, float]:
    """seaborn errorbar: the Student-t CI95 of the mean over seeds (no band with one seed)."""
    mean, half = pd.Series(values).mean(), t_ci95(values)
    half = 0.0 if math.isnan(half) else half
    return mean - half, mean + half


def plot(data: pd.DataFrame, y: str, ylabel: str, ylim: tuple, outs: list[Path]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    order = {name: i for i, name in enumerate([*MODEL_NAMES, *DATASETS])}
    panels = sorted(set(zip(data.model, data.dataset)), key=lambda p: (order.get(p[0], 99), order.get(p[1], 99), p))
    cols = max(1, min(3, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    for ax, (model, dataset) in zip(axes.flat, panels):
        panel = data[(data.model == model) & (data.dataset == dataset)]
        methods = [m for m in NAMES if m in set(panel.method)]
        labels = {m: label(m, panel[panel.method == m].beta) for m in methods}
        sns.lineplot(data=panel.assign(label=panel.method.map(labels)), x="x", y=y, hue="label",
                     hue_order=[labels[m] for m in methods], palette={labels[m]: COLORS[m] for m in methods},
                     errorbar=band, marker="o", ax=ax)
        ax.set(title=f"{MODEL_NAMES.get(model, model)}, {dataset}", xlabel="σ_d", ylabel=ylabel)
        ax.set_ylim(*ylim)
        ax.legend(title=None, fontsize="small")
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    if not panels:
        axes.flat[0].text(0.5, 0.5, "no completed runs", ha="center", va="center")
    fig.tight_layout()
    for out in map(Path, outs):
        if out.suffix not in (".png", ".pdf"):
            raise NeftError(f"{out}: unknown figure format {out.suffix!r}; use .png or .pdf")
        out.parent.mkdir(parents=True, exist_ok=True)
        # no timestamps in the files, so reruns give identical figures
        fig.savefig(out, dpi=150, metadata={"CreationDate": None} if out.suffix == ".pdf" else {"Software": None})
    plt.close(fig)


def figure(name: str, runs: pd.DataFrame, sigma_d: list[float], seeds: list[int], outs: list[Path]) -> None:
    y, ylabel, ylim = FIGURES[name]
    plot(points(runs, sigma_d, seeds), y, ylabel, ylim, outs)
