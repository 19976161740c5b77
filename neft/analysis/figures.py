"""Figure 3 (mean noisy Top-1 accuracy vs sigma_d) and Figure 4 (mean EKL of the correct predictions
vs sigma_d): one panel per model/dataset, one line per method.

As in the paper, W/O Noise is trained once (sigma_d = 0): its point at sigma_d = s is its MC result at
eval sigma s (drawn dashed, open markers). Every other method's point at s is the model trained at s,
evaluated at s. A point is the mean over seeds; its bar is the Student-t CI95 over seeds, or with one
seed the Monte-Carlo CI95 over that seed's R runs. Each panel states n (seeds), epochs and R; the beta of
OVF and IRS is in the legend. The methods are offset a little along x (dodge) so that points at one
sigma_d do not hide each other; the ticks stay at the true sigma_d.
"""

import math
from functools import partial
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..errors import NeftError
from ..io import write_atomic
from .aggregate import DIGITS, t_ci95
from .names import METHOD_NAMES, dataset_name, model_name
from .tables import counted, span

PANEL_ORDER = ["vgg8", "resnet18", "mnist", "fashion_mnist", "cifar10", "cifar100", "tinyimagenet"]  # the paper's
STYLES = {  # Okabe-Ito colours (told apart under the common colour-vision deficiencies), a marker and a dash each
    "vanilla": dict(color="#000000", marker="o", linestyle="--", markerfacecolor="white"),
    "noise": dict(color="#0072B2", marker="s", linestyle=":"),
    "ovf": dict(color="#D55E00", marker="^", linestyle="-"),
    "irs": dict(color="#009E73", marker="D", linestyle="-."),
}


class Figure(NamedTuple):
    label: str  # its name in the Snakemake report
    y: str  # the column of runs.csv it plots
    mc_ci: str  # the Monte-Carlo CI95 of y (runs.csv)
    ylabel: str
    ylim: tuple[float, float | None]  # bars clipped


FIGURES = {
    "figure3": Figure("Figure 3", "accuracy", "mc_ci95", "mean noisy Top-1 accuracy (%)", (0, 100)),
    "figure4": Figure("Figure 4", "ekl", "mc_ekl_ci95", "mean EKL of correct predictions", (0, None)),
}
DODGE = 0.1  # x offset between neighbouring methods, as a fraction of the smallest sigma_d step
DPI = 300
RC = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,  # TrueType fonts in PDFs (Type 3 is refused by journals)
    "font.size": 8,
    "axes.titlesize": 8.5,
    "legend.fontsize": 7,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
}
FOOTNOTE = (
    "W/O Noise (dashed, open circles): one model trained at $\\sigma_d$ = 0, evaluated at each $\\sigma$; "
    "the other methods are trained and evaluated at $\\sigma_d$. n: seeds averaged; R: Monte-Carlo runs "
    "per point. Methods are offset along x so that they do not hide each other."
)


def points(runs: pd.DataFrame, sigma_d: list[float], seeds: list[int]) -> pd.DataFrame:
    """Per-seed points (panel, method, x) of the main runs (variants vanilla, noise, ovf, irs)."""
    grid = [round(s, DIGITS) for s in sigma_d]
    main = runs[runs.variant.isin(list(METHOD_NAMES)) & runs.seed.isin(seeds)].dropna(subset=["eval_sigma"])
    vanilla = main[(main.variant == "vanilla") & main.eval_sigma.isin([0.0, *grid])]
    trained = main[(main.variant != "vanilla") & main.sigma_d.isin(grid) & (main.eval_sigma == main.sigma_d)]
    return pd.concat([vanilla.assign(x=vanilla.eval_sigma), trained.assign(x=trained.sigma_d)], ignore_index=True)


def means(points: pd.DataFrame, y: str, mc_ci: str) -> pd.DataFrame:
    """One row per (model, dataset, method, x): the mean of y over seeds, its CI95 (over seeds when n >= 2,
    else the Monte-Carlo one; nan where runs.csv has none) and what the panel says: n, epochs, R, beta."""
    rows = []
    for (model, dataset, method, x), g in points.dropna(subset=[y]).groupby(["model", "dataset", "method", "x"]):
        n = len(g)
        ci = t_ci95(g[y]) if n >= 2 else g[mc_ci].iloc[0] if mc_ci in g else math.nan
        rows.append(
            dict(
                model=model,
                dataset=dataset,
                method=method,
                x=x,
                mean=g[y].mean(),
                ci95=ci,
                n=n,
                epochs=g.epochs.iloc[0],
                runs=g.runs.max(),
                beta=g.beta.iloc[0],
            )
        )
    return pd.DataFrame(
        rows, columns=["model", "dataset", "method", "x", "mean", "ci95", "n", "epochs", "runs", "beta"]
    )


def subtitle(panel: pd.DataFrame) -> str:
    """n, epochs, R and what the bars are, for one panel."""
    over_seeds, mc = panel.n >= 2, (panel.n == 1) & panel.ci95.notna()
    bars = ["CI95 over seeds"] if over_seeds.any() else []
    bars += ["Monte-Carlo CI95" + (" where n = 1" if bars else "")] if mc.any() else []
    bars += ["none where no CI is known"] if panel.ci95.isna().any() else []
    return (
        f"n = {counted(panel.n, 'seed')} · {counted(panel.epochs, 'epoch')} · R = {span(panel.runs)} · "
        f"bars: {', '.join(bars)}"
    )


def label(method: str, betas: pd.Series) -> str:
    if method == "vanilla":
        return f"{METHOD_NAMES[method]} (trained at $\\sigma_d$ = 0)"
    values = sorted(betas.dropna().unique())
    return METHOD_NAMES[method] + (f" (β = {' / '.join(f'{b:g}' for b in values)})" if values else "")


def draw(name: str, runs: pd.DataFrame, sigma_d: list[float], seeds: list[int], stand_ins: dict | None = None):
    """The matplotlib Figure (not saved): one error-bar line per method and panel, its data line's gid the method."""
    import matplotlib
    from matplotlib.figure import Figure

    shown = FIGURES[name]
    data = means(points(runs, sigma_d, seeds), shown.y, shown.mc_ci)
    order = {key: i for i, key in enumerate(PANEL_ORDER)}
    panels = sorted(set(zip(data.model, data.dataset)), key=lambda p: (order.get(p[0], 99), order.get(p[1], 99), p))
    cols = max(1, min(3, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(4.4 * cols, 3.9 * rows + 0.4), layout="constrained")
        axes = list(fig.subplots(rows, cols, squeeze=False).flat)
        for ax, (model, dataset) in zip(axes, panels):
            panel = data[(data.model == model) & (data.dataset == dataset)]
            xs = sorted(panel.x.unique())
            step = DODGE * (min(b - a for a, b in zip(xs, xs[1:])) if len(xs) > 1 else 0.1)
            for i, method in enumerate(METHOD_NAMES):
                line = panel[panel.method == method].sort_values("x")
                if line.empty:
                    continue
                offset = (i - (len(METHOD_NAMES) - 1) / 2) * step
                bars = ax.errorbar(
                    line.x + offset,
                    line["mean"],
                    yerr=line.ci95,
                    label=label(method, line.beta),
                    capsize=2.5,
                    elinewidth=0.9,
                    **STYLES[method],
                )
                bars.lines[0].set_gid(method)
            ax.set_title(f"{model_name(model)}, {dataset_name(dataset, stand_ins)}\n{subtitle(panel)}")
            ax.set(xlabel="device variation $\\sigma_d$", ylabel=shown.ylabel)
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
            ax.set_ylim(*shown.ylim)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)  # below: hides no point
        for ax in axes[len(panels) :] if panels else []:
            ax.axis("off")
        if not panels:
            axes[0].text(0.5, 0.5, "no completed runs", ha="center", va="center")
        fig.supxlabel(FOOTNOTE, fontsize=6.5, wrap=True)
    return fig


def save(fig, outs: list[Path]) -> None:
    """PNG (300 dpi) and PDF (TrueType fonts), without timestamps: reruns give identical files."""
    import logging

    import matplotlib

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its font subsetting logs every glyph at INFO
    with matplotlib.rc_context(RC):
        for out in map(Path, outs):
            metadata = {"CreationDate": None} if out.suffix == ".pdf" else {"Software": None}
            write_atomic(out, partial(fig.savefig, format=out.suffix[1:], dpi=DPI, metadata=metadata))


def figure(
    name: str,
    runs: pd.DataFrame,
    sigma_d: list[float],
    seeds: list[int],
    outs: list[Path],
    stand_ins: dict | None = None,
) -> None:
    for out in map(Path, outs):  # before drawing anything
        if out.suffix not in (".png", ".pdf"):
            raise NeftError(f"{out}: unknown figure format {out.suffix!r}; use .png or .pdf")
    save(draw(name, runs, sigma_d, seeds, stand_ins), outs)
