"""Figure 3 (mean noisy Top-1 accuracy vs sigma_d) and Figure 4 (mean EKL of the correct predictions
vs sigma_d): one panel per model/dataset, one line per main variant: the methods and the compute-matched
W/ Noise ×(N+1) (beyond the paper).

As in the paper, W/O Noise is trained once (sigma_d = 0): its point at sigma_d = s is its MC result at
eval sigma s (drawn dashed, open markers). Every other method's point at s is the model trained at s,
evaluated at s. seaborn draws each panel from the per-seed rows of runs.csv (pointplot): a point is the
mean over seeds, its bar the Student-t CI95 over seeds (seaborn's error-bar function here), or with one
seed the Monte-Carlo CI95 over that seed's R runs, clipped at what the quantity can be (0 and 100 %,
EKL >= 0). Each panel states n (seeds), epochs and R (and that n = 2 gives wide intervals, and that
synthetic data means nothing); the beta of OVF and IRS is in the legend. seaborn offsets the lines a little
along x (dodge) so that points at one sigma_d do not hide each other; the ticks stay at the true sigma_d.
"""

import math
from functools import partial
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..catalogue import DATASETS, METHODS, MODELS
from ..errors import NeftError
from ..io import write_atomic
from ..variants import VARIANTS, is_main, parse_variant
from .aggregate import t_ci95
from .grid import Grid
from .names import dataset_name, model_name, variant_name
from .render import counted, span
from .runs import DIGITS

PANEL_ORDER = [*MODELS, *DATASETS]  # the catalogue's order: the paper's
STYLES = {  # keyed by series: a method, or <method>-<tag> of a main variant after it; in this order in the legend
    key: style
    for name, method in METHODS.items()
    for key, style in [
        (name, method.style),
        *((f"{name}-{v.tag}", v.style) for v in VARIANTS.values() if v.main and name in v.methods),
    ]
}


class Figure(NamedTuple):
    label: str  # its name in the Snakemake report
    y: str  # the column of runs.csv it plots
    mc_ci: str  # the Monte-Carlo CI95 of y (runs.csv)
    ylabel: str
    bounds: tuple[float, float]  # what the quantity can be: bars are clipped there


FIGURES = {
    "figure3": Figure("Figure 3", "accuracy", "mc_ci95", "mean noisy Top-1 accuracy (%)", (0, 100)),
    "figure4": Figure(
        "Figure 4", "ekl", "mc_ekl_ci95", "mean EKL of correct predictions (lower is better)", (0, math.inf)
    ),
}
DODGE = 0.1  # x offset between neighbouring methods, as a fraction of the smallest sigma_d step
BARS = {"linewidth": 0.9, "zorder": 1.9}  # thinner than the lines, beneath their markers (as matplotlib's errorbar)
CAPSIZE = 0.03  # width of an error bar's caps, as a fraction of the smallest sigma_d step
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


SYNTHETIC = "synthetic data: an installation check, not the paper"
N2 = "n = 2: CI95 = ±12.7 standard errors (t, 1 dof)"


def series(variant: str) -> str:
    """The STYLES key of a main variant: its method, or <method>-<tag> ('noise-draws4' -> 'noise-draws')."""
    method, tag, _ = parse_variant(variant)
    return f"{method}-{tag}" if tag else method


def points(runs: pd.DataFrame, sigma_d: list[float], seeds: list[int]) -> pd.DataFrame:
    """Per-seed points (panel, variant, x) of the main grid's runs (variants.is_main)."""
    grid = [round(s, DIGITS) for s in sigma_d]
    main = runs[runs.variant.map(is_main) & runs.seed.isin(seeds)].dropna(subset=["eval_sigma"])
    vanilla = main[(main.variant == "vanilla") & main.eval_sigma.isin([0.0, *grid])]
    trained = main[(main.variant != "vanilla") & main.sigma_d.isin(grid) & (main.eval_sigma == main.sigma_d)]
    return pd.concat([vanilla.assign(x=vanilla.eval_sigma), trained.assign(x=trained.sigma_d)], ignore_index=True)


def means(points: pd.DataFrame, y: str, mc_ci: str) -> pd.DataFrame:
    """One row per (model, dataset, variant, x): the mean of y over seeds, its CI95 (over seeds when n >= 2,
    else the Monte-Carlo one; nan where runs.csv has none) and what the panel says: n, epochs, R, beta."""
    rows = []
    for (model, dataset, variant, x), g in points.dropna(subset=[y]).groupby(["model", "dataset", "variant", "x"]):
        n = len(g)
        ci = t_ci95(g[y]) if n >= 2 else g[mc_ci].iloc[0] if mc_ci in g else math.nan
        rows.append(
            dict(
                model=model,
                dataset=dataset,
                variant=variant,
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
        rows, columns=["model", "dataset", "variant", "x", "mean", "ci95", "n", "epochs", "runs", "beta"]
    )


def subtitle(panel: pd.DataFrame, synthetic: bool) -> str:
    """n, epochs, R and what the bars are, for one panel; what n = 2 and synthetic data mean."""
    over_seeds, mc = panel.n >= 2, (panel.n == 1) & panel.ci95.notna()
    bars = ["CI95 over seeds"] if over_seeds.any() else []
    bars += ["Monte-Carlo CI95" + (" where n = 1" if bars else "")] if mc.any() else []
    bars += ["none where no CI is known"] if panel.ci95.isna().any() else []
    caveats = [N2] if (panel.n == 2).any() else []
    caveats += [SYNTHETIC] if synthetic else []
    return "\n".join(
        [
            f"n = {counted(panel.n, 'seed')} · {counted(panel.epochs, 'epoch')} · R = {span(panel.runs)} · "
            f"bars: {', '.join(bars)}",
            *caveats,
        ]
    )


def label(variant: str, betas: pd.Series) -> str:
    if variant == "vanilla":
        return f"{variant_name(variant)} (trained at $\\sigma_d$ = 0)"
    values = sorted(betas.dropna().unique())
    return variant_name(variant) + (f" (β = {' / '.join(f'{b:g}' for b in values)})" if values else "")


def interval(bounds: tuple[float, float]):
    """seaborn's error-bar function: the Student-t CI95 over the seeds of a point, cut where the quantity ends."""

    def ci95(values: pd.Series) -> tuple[float, float]:
        mean, half = values.mean(), t_ci95(values)
        return max(mean - half, bounds[0]), min(mean + half, bounds[1])

    return ci95


def width(xs) -> float:
    """seaborn's unit along a numeric x (native_scale): the smallest step between the points, else 1."""
    steps = [b - a for a, b in zip(xs, xs[1:])]
    return min(steps) if steps else 1.0


def bar(ax, x: float, low: float, high: float, cap: float, **kwargs) -> None:
    """An error bar drawn as seaborn's pointplot draws one: a vertical line with caps `cap` wide."""
    xs = [x - cap / 2, x + cap / 2, math.nan, x, x, math.nan, x - cap / 2, x + cap / 2]
    ax.plot(xs, [low, low, math.nan, low, high, math.nan, high, high], **kwargs)


def panel_plot(ax, seeds: pd.DataFrame, panel: pd.DataFrame, shown: Figure) -> list[str]:
    """One panel: seaborn's pointplot of the per-seed points (mean, Student-t CI95 bars, dodged), the Monte-Carlo
    CI95 where a point has one seed; gids name each variant's line ('ovf') and bars ('ovf CI95'). Returns the
    variants drawn, in the legend's order."""
    import seaborn as sns
    from matplotlib.colors import to_hex

    variants = sorted(set(panel.variant), key=lambda v: list(STYLES).index(series(v)))
    styles = [STYLES[series(v)] for v in variants]
    xs = sorted(seeds.x.unique())
    sns.pointplot(
        seeds,
        x="x",
        y=shown.y,
        hue="variant",
        hue_order=variants,
        native_scale=True,
        dodge=DODGE * (len(variants) - 1) if len(variants) > 1 else False,
        estimator="mean",
        errorbar=interval(shown.bounds),
        palette=[style["color"] for style in styles],
        markers=[style["marker"] for style in styles],
        linestyles=[style["linestyle"] for style in styles],
        capsize=CAPSIZE,
        err_kws=BARS,
        linewidth=RC["lines.linewidth"],
        markersize=RC["lines.markersize"],
        markeredgewidth=1.0,
        legend=False,
        ax=ax,
    )
    colours = {to_hex(style["color"]): (v, style) for v, style in zip(variants, styles)}
    for line in list(ax.lines):
        variant, style = colours[to_hex(line.get_color())]
        if line.get_marker() in ("None", "", None):
            line.set_gid(f"{variant} CI95")
            continue
        line.set_gid(variant)
        line.set_markerfacecolor(style.get("markerfacecolor", style["color"]))
        offset = line.get_xdata()[0] - xs[0]  # seaborn's dodge of this variant
        for point in panel[(panel.variant == variant) & (panel.n == 1) & panel.ci95.notna()].itertuples():
            low, high = max(point.mean - point.ci95, shown.bounds[0]), min(point.mean + point.ci95, shown.bounds[1])
            cap = CAPSIZE * width(xs)
            bar(ax, point.x + offset, low, high, cap, color=style["color"], gid=f"{variant} CI95", **BARS)
    return variants


def draw(name: str, runs: pd.DataFrame, grid: Grid):
    """The matplotlib Figure (not saved): seaborn's pointplot of each panel (see panel_plot)."""
    import matplotlib
    from matplotlib.figure import Figure

    shown = FIGURES[name]
    tidy = points(runs, grid.sigma_d, grid.seeds).dropna(subset=[shown.y])
    drawn = means(tidy, shown.y, shown.mc_ci)
    order = {key: i for i, key in enumerate(PANEL_ORDER)}
    panels = sorted(set(zip(drawn.model, drawn.dataset)), key=lambda p: (order.get(p[0], 99), order.get(p[1], 99), p))
    cols = max(1, min(3, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(4.4 * cols, 3.9 * rows + 0.4), layout="constrained")
        axes = list(fig.subplots(rows, cols, squeeze=False).flat)
        for ax, (model, dataset) in zip(axes, panels):
            panel = drawn[(drawn.model == model) & (drawn.dataset == dataset)]
            seeds = tidy[(tidy.model == model) & (tidy.dataset == dataset)]
            variants = panel_plot(ax, seeds, panel, shown)
            xs = sorted(panel.x.unique())
            synthetic = dataset == "synthetic"
            ax.set_title(f"{model_name(model)}, {dataset_name(dataset, grid.stand_ins)}\n{subtitle(panel, synthetic)}")
            ax.set(xlabel="device variation $\\sigma_d$", ylabel=shown.ylabel)
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
            ax.set_ylim(shown.bounds[0], None if math.isinf(shown.bounds[1]) else shown.bounds[1])
            handles = {line.get_gid(): line for line in ax.lines}
            ax.legend(
                [handles[v] for v in variants],
                [label(v, panel[panel.variant == v].beta) for v in variants],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.16),  # below: hides no point
                ncols=2,
                frameon=False,
            )
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


def data(name: str, runs: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """What the figure draws: one row per panel, variant and x (mean, CI95 before clipping, n, epochs, R, beta)."""
    shown = FIGURES[name]
    return means(points(runs, grid.sigma_d, grid.seeds), shown.y, shown.mc_ci)


def figure(name: str, runs: pd.DataFrame, grid: Grid, outs: list[Path]) -> None:
    """The figure as PNG and/or PDF, and its data as CSV, by each output's suffix."""
    from ..io import save_text

    for out in map(Path, outs):  # before drawing anything
        if out.suffix not in (".png", ".pdf", ".csv"):
            raise NeftError(f"{out}: unknown figure format {out.suffix!r}; use .png, .pdf or .csv (its data)")
    images = [out for out in map(Path, outs) if out.suffix != ".csv"]
    if images:
        save(draw(name, runs, grid), images)
    for out in map(Path, outs):
        if out.suffix == ".csv":
            save_text(out, data(name, runs, grid).to_csv(index=False))
