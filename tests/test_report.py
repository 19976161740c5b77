"""The replication report assembled (report.py, sections.py): numbers beside the paper's, the sections without
a verdict, the tables as their files show them, a synthetic grid."""

import math
import re

import pandas as pd
import pytest
from made_runs import feedback_runs, runs_of
from scipy import stats

from neft.analysis.grid import Grid, Setting
from neft.analysis.render import write
from neft.analysis.report import report
from neft.analysis.tables import TABLES, convergence, table1


def test_report_puts_numbers_beside_the_paper(tmp_path):
    specs = [
        (m, 0.3, s, {0.0: [92.0] * 2, 0.3: [a + s, a + s]}, {})
        for m, a in [("noise", 40.0), ("ovf", 50.0)]
        for s in (0, 1)
    ]
    out = tmp_path / "report.md"
    report(runs_of(tmp_path, specs), out, Grid("unit", [0.3], [0, 1], beta={"ovf": "default"}))
    text = " ".join(out.read_text().split())
    assert (
        "| OVF beats W/ Noise, VGG-8 / MNIST | +46.71 | +10.00 (identical seeds) (n=2) at σ_d 0.3 | better at 1 of 1 "
        "σ_d | indicative (in favour) | n = 2 seeds; 3 of 200 epochs |"
    ) in text
    assert "| epochs | 200 | 3 |" in text and "| independent runs (seeds) | ≥ 5 | seeds 0 1 (n = 2) |" in text
    assert "| git commit | – | abc123 |" in text and "| date | 2023 (arXiv 2305.14561) | 2026-11-25 |" in text
    assert "| 0.3 | | 92.00 (identical seeds) | 92.00 (identical seeds) | – |" in text  # clean accuracy at 0.3
    for section in ("Convergence", "Table 1", "Ablations", "Table 2"):
        assert re.search(f"## {section} Paper: [^#]* Ours: not run[.;]", text)
    # Figure 4: the same EKL (1.0) for both is a tie: no difference, not against
    assert "Verdicts over 24 claims: 1 indicative (in favour); 1 indicative (no difference); 22 not run." in text


def test_report_says_at_each_sigma_d_whether_nft_beats_noise_injection(tmp_path):
    specs = [
        (m, 0.3, s, {0.3: [a + s, a + s]}, {})
        for m, a in [("noise", 40.0), ("ovf", 50.0), ("irs", 39.0)]
        for s in (0, 1)
    ] + [("vanilla", 0.0, s, {0.0: [90.0, 90.0], 0.3: [20.0 + 2 * s] * 2}, {}) for s in (0, 1)]
    out = tmp_path / "report.md"
    report(runs_of(tmp_path, specs), out, Grid("unit", [0.3], [0, 1]))
    text = " ".join(out.read_text().split())
    ci = stats.t.ppf(0.975, 1) * pd.Series([20.0, 22.0]).std() / math.sqrt(2)
    assert (
        f"| 0.3 | 21.00 ± {ci:.2f} | 40.50 ± 6.35 | 50.50 ± 6.35 | 39.50 ± 6.35 | +10.00 (identical seeds) (n=2) "
        f"better | -1.00 (identical seeds) (n=2) worse |"
    ) in text
    assert (
        "- VGG-8 / MNIST, OVF − W/ Noise: better at σ_d 0.3 (paired t-tests over n = 2 seeds, Holm-corrected)."
    ) in text
    assert "- VGG-8 / MNIST, IRS − W/ Noise: worse at σ_d 0.3" in text


def test_irs_diagnostics_tell_anti_aligned_heads_from_a_failed_backbone(tmp_path):
    specs = [("noise", sd, 0, {sd: [80.0] * 2}, dict(val=80.0)) for sd in (0.1, 0.3)]
    specs += [
        ("irs", 0.1, 0, {0.1: [81.0] * 2}, dict(val=81.0, n_feedback=3, anti_aligned=[1, 2])),
        ("irs", 0.3, 0, {0.3: [60.0] * 2}, dict(val=70.0, n_feedback=3, anti_aligned=[1])),
    ]
    out = tmp_path / "report.md"
    report(runs_of(tmp_path, specs), out, Grid("unit", [0.1, 0.3], [0]))
    text = " ".join(out.read_text().split())
    assert "| VGG-8 / MNIST | 0.1 | 0 | 2 of 3 | 81.00 | 80.00 | +1.00 | did not fail |" in text
    assert "| VGG-8 / MNIST | 0.3 | 0 | 1 of 3 | 70.00 | 80.00 | -10.00 | failed |" in text
    assert (
        "IRS: heads anti-aligned (expected, see below) in 2 of 2 runs; backbone failed (noisy validation "
        "accuracy more than 5 points below W/ Noise of the same seed and σ_d) in 1 of 2: VGG-8 / MNIST "
        "σ_d 0.3 seed 0."
    ) in text
    assert "backbone failed in 1 of 2 IRS runs" in text  # beside the IRS verdict


def test_the_report_shows_each_table_as_its_file_does(tmp_path):
    seeds = (0, 1)
    setting = Setting("vgg8", "mnist", 0.3, seeds)
    specs = [("ovf", 0.3, s, {0.3: [60.0 + s] * 2}, dict(n_feedback=3)) for s in seeds]
    specs += [("ovf-n1", 0.3, s, {0.3: [50.0 + 2 * s] * 2}, dict(n_feedback=1)) for s in seeds]
    specs += [("noise", 0.3, s, {0.3: [40.0 + s] * 2}, {}) for s in seeds]
    runs = runs_of(tmp_path, specs)
    from neft.analysis.tables import title

    write(TABLES["table1"], table1(runs, setting), [tmp_path / "table1.md"], title("table1", setting, runs, {}))
    write(
        TABLES["convergence"],
        convergence(runs, setting, ["noise", "ovf"], 5.0),
        [tmp_path / "convergence.md"],
        title("convergence", setting, runs, {}),
    )
    out = tmp_path / "report.md"
    report(
        runs,
        out,
        Grid("unit", [0.3], list(seeds), ablation=setting, convergence=setting, convergence_methods=["noise", "ovf"]),
    )
    text = out.read_text()
    for name in ("table1", "convergence"):
        assert (tmp_path / f"{name}.md").read_text().strip() in text
    # disabled ablations: the table file and the report both say 'not run'
    write(TABLES["table1"], pd.DataFrame(), [tmp_path / "off.md"], title("table1", None, runs, {}))
    report(runs, out, Grid("unit", [0.3], list(seeds)))
    assert "not run" in (tmp_path / "off.md").read_text() and "## Table 1 Paper:" in " ".join(out.read_text().split())


@pytest.mark.parametrize(
    "matched_gain,word",
    [
        (-3.0, "indicative (in favour)"),  # W/ Noise ×4 below W/ Noise: OVF's gain survives it
        (5.0, "indicative (no difference)"),  # as good as OVF: the gain was the extra samples
        (9.0, "indicative (against)"),  # better than OVF
    ],
)
def test_the_report_says_whether_ovfs_gain_survives_the_compute_matched_baseline(tmp_path, matched_gain, word):
    runs = feedback_runs(tmp_path, matched_gain, dataset="fashion_mnist")
    grid = Grid(
        "unit",
        [0.2, 0.4],
        [0, 1, 2],
        Setting("vgg8", "fashion_mnist", 0.3, (0, 1, 2)),
        stand_ins={"mnist": "fashion_mnist"},
    )
    out = tmp_path / "report.md"
    report(runs, out, grid)
    text = " ".join(out.read_text().split())
    assert "## Is it the feedback? Beyond the paper and its public code." in text
    panel = "VGG-8 / Fashion-MNIST (for MNIST)"
    assert re.search(
        rf"\| OVF beats W/ Noise ×4, {re.escape(panel)} \| – \| [^|]+ \| [^|]+ \| {re.escape(word)} \|", text
    )
    assert (
        f"- {panel}: OVF against W/ Noise: indicative (in favour) (better at 2 of 2 σ_d); against W/ Noise ×4, "
        f"which sees as many noise samples per step: {word}"
    ) in text
    # positive feedback: OVF significantly above its +beta run, IRS tied with it: no difference, not against
    assert "- OVF beats OVF (positive feedback (+β)) at the ablations' setting: +2.30 ± " in text
    assert "IRS beats IRS (positive feedback (+β)) at the ablations' setting: +0.00 (identical seeds) (n=3) " in text
    assert "(indicative (no difference))." in text


def test_a_synthetic_grid_says_so_and_judges_nothing(tmp_path):
    from neft.analysis.figures import SYNTHETIC, draw

    specs = [(m, 0.3, s, {0.3: [a + s] * 2}, {}) for m, a in (("noise", 40.0), ("ovf", 50.0)) for s in (0, 1, 2)]
    runs = runs_of(tmp_path, specs).assign(dataset="synthetic")
    out = tmp_path / "report.md"
    report(runs, out, Grid("unit", [0.3], [0, 1, 2], stand_ins={"mnist": "synthetic"}))
    lines = out.read_text().splitlines()
    assert lines[2].startswith("**Synthetic data: the numbers of this grid check the installation and mean nothing")
    verdicts = [line.split("|")[5].strip() for line in lines if line.startswith(("| OVF beats", "| IRS beats"))]
    assert verdicts and set(verdicts) <= {"not judged (synthetic data)", "not run"}
    assert "not judged (synthetic data)" in verdicts
    assert SYNTHETIC in draw("figure3", runs, Grid("unit", [0.3], [0, 1, 2])).axes[0].get_title()
    real = runs.assign(dataset="mnist")
    assert SYNTHETIC not in draw("figure3", real, Grid("unit", [0.3], [0, 1, 2])).axes[0].get_title()
