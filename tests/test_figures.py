"""Figure 3 and Figure 4 (figures.py): what each point and bar is, what each panel says, reproducible files, the
data as CSV."""

import math

import pandas as pd
import pytest
from made_runs import feedback_runs, figure_runs
from scipy import stats

from neft.analysis.grid import Grid
from neft.errors import NeftError


def drawn(fig) -> dict:
    """{(panel title, variant): (x, y, bar bottoms, bar tops)} of each point, read back from the Figure: its line
    (gid: the variant) and its error bars (gid: '<variant> CI95', a vertical line between caps)."""
    out = {}
    for ax in fig.axes:
        lines = [line for line in ax.lines if line.get_gid() and not line.get_gid().endswith(" CI95")]
        for line in lines:
            variant = line.get_gid()
            points = sorted((x, y) for x, y in zip(line.get_xdata(), line.get_ydata()) if not math.isnan(y))
            bars = {}
            for bar in (b for b in ax.lines if b.get_gid() == f"{variant} CI95"):
                x, ys = bar.get_xdata()[3], [y for y in bar.get_ydata() if not math.isnan(y)]
                if ys:  # seaborn also draws an empty bar where the variant has no point
                    bars[round(x, 9)] = (min(ys), max(ys))
            ends = [bars.get(round(x, 9), (math.nan, math.nan)) for x, _ in points]
            out[ax.get_title().splitlines()[0], variant] = (
                [x for x, _ in points],
                [y for _, y in points],
                [lo for lo, _ in ends],
                [hi for _, hi in ends],
            )
    return out


@pytest.mark.parametrize("name,y,mc_ci", [("figure3", "accuracy", "mc_ci95"), ("figure4", "ekl", "mc_ekl_ci95")])
def test_figure_shows_the_mean_and_ci95_of_each_point(tmp_path, name, y, mc_ci):
    """What is drawn equals runs.csv computed here: the mean over seeds, the Student-t CI95 over seeds (the MC
    CI95 with one seed), clipped at 0 and 100; W/O Noise (trained at 0) at each eval sigma, the others at eval
    sigma = sigma_d."""
    from neft.analysis.figures import draw

    runs = figure_runs(tmp_path)
    lines = drawn(draw(name, runs, Grid("unit", [0.1, 0.3], [0, 1, 2], stand_ins={"mnist": "fashion_mnist"})))
    assert set(lines) == {("VGG-8, Fashion-MNIST (for MNIST)", m) for m in ("vanilla", "noise", "ovf", "irs")}
    offsets = {}
    for (_, method), (xs, ys, lows, highs) in lines.items():
        mine = runs[runs.method == method]
        mine = mine if method == "vanilla" else mine[mine.eval_sigma == mine.sigma_d]
        sigmas = sorted(mine.eval_sigma.unique())
        assert len(xs) == len(sigmas)
        offsets[method] = {round(x - s, 9) for x, s in zip(xs, sigmas)}
        for s, mean, low, high in zip(sigmas, ys, lows, highs):
            values = mine[mine.eval_sigma == s][y]
            n = len(values)
            ci = (
                stats.t.ppf(0.975, n - 1) * values.std() / math.sqrt(n)
                if n > 1
                else mine[mine.eval_sigma == s][mc_ci].item()
            )
            bottom, top = max(values.mean() - ci, 0), min(values.mean() + ci, 100)  # clipped where y ends
            assert (mean, low, high) == pytest.approx((values.mean(), bottom, top))
    assert all(len(o) == 1 and abs(next(iter(o))) < 0.02 for o in offsets.values())  # one small offset per method
    assert len({next(iter(o)) for o in offsets.values()}) == 4  # ... a different one each: no point hides another


def test_figure_states_n_epochs_r_and_what_the_bars_are(tmp_path):
    from neft.analysis.figures import draw

    fig = draw("figure3", figure_runs(tmp_path), Grid("unit", [0.1, 0.3], [0, 1, 2]))
    ax = fig.axes[0]
    assert ax.get_title() == (
        "VGG-8, Fashion-MNIST\nn = 1–3 seeds · 3 epochs · R = 2 · bars: CI95 over seeds, Monte-Carlo CI95 where n = 1"
    )
    assert ax.get_xlabel() == "device variation $\\sigma_d$" and [t.get_text() for t in ax.get_xticklabels()] == [
        "0",
        "0.1",
        "0.3",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["W/O Noise (trained at $\\sigma_d$ = 0)", "W/ Noise", "OVF (β = 0.01)", "IRS (β = 0.01)"]
    styles = {
        line.get_gid(): (line.get_color(), line.get_marker(), line.get_linestyle())
        for line in ax.get_lines()
        if line.get_gid() and not line.get_gid().endswith(" CI95")
    }
    assert len(set(styles.values())) == 4 and styles["vanilla"][2] == "--"
    one_seed = draw("figure3", figure_runs(tmp_path / "b"), Grid("unit", [0.1, 0.3], [0]))
    assert "n = 1 seed · 3 epochs · R = 2 · bars: Monte-Carlo CI95" in one_seed.axes[0].get_title()


def test_figures_are_reproducible_png_300_dpi_and_pdf_with_truetype_fonts(tmp_path):
    from PIL import Image

    from neft.analysis.figures import figure

    runs = figure_runs(tmp_path)
    for folder in ("a", "b"):
        figure(
            "figure3",
            runs,
            Grid("unit", [0.1, 0.3], [0, 1, 2]),
            [tmp_path / folder / "f.png", tmp_path / folder / "f.pdf"],
        )
    for name in ("f.png", "f.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    pdf = (tmp_path / "a" / "f.pdf").read_bytes()
    assert pdf[:4] == b"%PDF" and b"/Type3" not in pdf and b"/CIDFontType2" in pdf
    assert Image.open(tmp_path / "a" / "f.png").info["dpi"] == pytest.approx((300, 300), abs=0.01)
    with pytest.raises(NeftError, match="unknown figure format"):
        figure("figure3", runs, Grid("unit", [0.1, 0.3], [0]), [tmp_path / "f.svg"])


def test_a_figures_csv_is_the_data_it_draws(tmp_path):
    from neft.analysis.figures import draw, figure

    runs = figure_runs(tmp_path)
    figure("figure3", runs, Grid("unit", [0.1, 0.3], [0, 1, 2]), [tmp_path / "f.csv"])
    written = pd.read_csv(tmp_path / "f.csv")
    lines = drawn(draw("figure3", runs, Grid("unit", [0.1, 0.3], [0, 1, 2])))
    for variant, points in written.groupby("variant"):
        (_, ys, _, _) = lines["VGG-8, Fashion-MNIST", variant]
        assert list(points.sort_values("x")["mean"]) == pytest.approx(ys)
    assert set(written.columns) >= {"model", "dataset", "variant", "x", "mean", "ci95", "n", "epochs", "runs"}


def test_figures_draw_the_compute_matched_baseline_in_a_style_of_its_own(tmp_path):
    from neft.analysis.figures import N2, STYLES, draw

    runs = feedback_runs(tmp_path, matched_gain=4.0)
    ax = draw("figure3", runs, Grid("unit", [0.2, 0.4], [0, 1, 2])).axes[0]
    styles = {
        line.get_gid(): (line.get_color(), line.get_marker(), str(line.get_linestyle()))
        for line in ax.get_lines()
        if line.get_gid() and not line.get_gid().endswith(" CI95")
    }
    assert set(styles) == {"noise", "noise-draws4", "ovf"} and len(set(styles.values())) == 3
    assert styles["noise-draws4"][0].lower() == STYLES["noise-draws"]["color"].lower()
    assert "W/ Noise ×4" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert N2 not in ax.get_title()  # three seeds
    two = draw("figure3", feedback_runs(tmp_path / "two", 4.0, seeds=(0, 1)), Grid("unit", [0.2, 0.4], [0, 1])).axes[0]
    assert N2 in two.get_title()


def test_figure4_says_lower_is_better():
    from neft.analysis.figures import FIGURES

    assert "lower is better" in FIGURES["figure4"].ylabel
