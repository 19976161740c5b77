"""The tables' builders (tables.py) on hand-made runs: which runs fill which cell, and the numbers in it."""

import math

import pandas as pd
import pytest
from made_runs import feedback_runs, runs_of
from scipy import stats

from neft.analysis.aggregate import summarize
from neft.analysis.grid import Setting
from neft.analysis.render import write
from neft.analysis.tables import TABLES, ablations, convergence, init_sensitivity, table1, table2

SETTING = Setting("vgg8", "mnist", 0.3, (0, 1))


def test_table1_columns_by_feedback_count(tmp_path):
    runs = runs_of(
        tmp_path,
        [("ovf", 0.3, s, {0.3: [60.0 + s, 60.0 + s]}, dict(n_feedback=3)) for s in (0, 1)]
        + [("ovf-n1", 0.3, s, {0.3: [50.0, 50.0]}, dict(n_feedback=1)) for s in (0, 1)],
    )
    table = table1(runs, SETTING)
    assert list(table.column) == ["1", "1~3"] and list(table.main) == [False, True]
    assert list(table["mean"]) == [50.0, 60.5] and table.n_seeds.tolist() == [2, 2]


def test_table2_pretrained_columns(tmp_path):
    runs = runs_of(
        tmp_path,
        [
            ("vanilla", 0.0, 0, {0.0: [95.0, 95.0], 0.3: [11.0, 11.0]}, {}),
            ("ovf-pre1", 0.3, 0, {0.3: [40.0, 40.0]}, {}),
            ("ovf", 0.3, 0, {0.3: [55.0, 55.0]}, {}),
        ],
    )
    ovf = table2(runs, SETTING).query("method == 'ovf'")
    assert list(ovf.column) == ["pre+0", "pre+1", "scratch+3"] and list(ovf["mean"]) == [11.0, 40.0, 55.0]


def test_convergence_counts_diverged_and_low_runs(tmp_path):
    accs = {0: 90.0, 1: 91.0, 2: 80.0}
    runs = runs_of(
        tmp_path,
        [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in accs.items()]
        + [("noise", 0.35, 3, {}, dict(status="diverged"))],
    )
    row = convergence(runs, Setting("vgg8", "mnist", 0.35, (0, 1, 2, 3)), ["noise"], 5.0).iloc[0]
    # mean of the finished runs 87: 80 is 7 below it
    assert (row.runs, row.diverged, row.below_threshold, row.non_converged) == (4, 1, 1, 2)


def test_a_late_diverged_run_counts_once_and_stays_out_of_the_convergence_mean(tmp_path):
    # seed 3 diverged after a kept epoch: it has test results (20 %), but it is one diverged run, not also a
    # low one, and its accuracy must not drag the finished runs' mean (87) down to 70.25
    accs = {0: 90.0, 1: 91.0, 2: 80.0}
    runs = runs_of(
        tmp_path,
        [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in accs.items()]
        + [("noise", 0.35, 3, {0.35: [20.0, 20.0]}, dict(status="diverged"))],
    )
    row = convergence(runs, Setting("vgg8", "mnist", 0.35, (0, 1, 2, 3)), ["noise"], 5.0).iloc[0]
    assert (row.runs, row.diverged, row.below_threshold, row.non_converged) == (4, 1, 1, 2)
    assert row["mean"] == pytest.approx(87.0)
    # Figure 3's means keep it: its kept epoch was evaluated (summary: 4 seeds, 1 of them diverged)
    summary = summarize(runs).query("eval_sigma == 0.35").iloc[0]
    assert (summary.n_seeds, summary.n_diverged) == (4, 1) and summary["mean"] == pytest.approx(70.25)


def test_the_init_table_pairs_each_method_with_its_pytorch_init_run(tmp_path):
    specs = []
    for suffix, init, base in (("", "reference", 0.0), ("-initpytorch", "pytorch", 20.0)):
        specs += [
            ("vanilla" + suffix, 0.0, s, {0.0: [95.0] * 2, 0.3: [15.0 + base + s] * 2}, dict(init=init)) for s in (0, 1)
        ]
        specs += [
            (m + suffix, 0.3, s, {0.3: [a + base + s] * 2}, dict(init=init))
            for m, a in (("noise", 40.0), ("ovf", 60.0), ("irs", 41.0))
            for s in (0, 1)
        ]
    long = init_sensitivity(runs_of(tmp_path, specs), SETTING).set_index(["method", "init"])
    assert long.loc[("vanilla", "reference"), "mean"] == 15.5 and long.loc[("vanilla", "pytorch"), "mean"] == 35.5
    assert long.loc[("ovf", "pytorch"), "change"] == pytest.approx(20.0)
    assert long.loc[("ovf", "reference"), "minus_noise"] == pytest.approx(20.0)
    assert long.loc[("ovf", "reference"), "minus_noise_outcome"] == "better"  # both seeds +20: p = 0
    assert long.loc[("irs", "pytorch"), "minus_noise_outcome"] == "better"
    one = init_sensitivity(runs_of(tmp_path / "one", [sp for sp in specs if sp[2] == 0]), SETTING)
    assert one.set_index(["method", "init"]).loc[("ovf", "reference"), "minus_noise_outcome"] == "ahead"  # sign only
    assert pd.isna(long.loc[("noise", "reference"), "minus_noise"])


def test_ablation_change_is_nft_minus_ablated_paired_by_seed(tmp_path):
    specs = [("ovf", 0.3, s, {0.3: [a, a]}, dict(n_feedback=3)) for s, a in [(0, 60.0), (1, 62.0)]]
    specs += [("ovf-revdecay", 0.3, s, {0.3: [a, a]}, {}) for s, a in [(0, 50.0), (1, 53.0)]]
    table = ablations(runs_of(tmp_path, specs), SETTING)
    row = table.iloc[0]
    ci = stats.t.ppf(0.975, 1) * pd.Series([10.0, 9.0]).std() / math.sqrt(2)
    assert (row.nft_minus_ablated, row.nft_minus_ablated_ci95, row.n_paired) == (9.5, pytest.approx(ci), 2)
    write(TABLES["ablations"], table, [tmp_path / "a.md"], "Ablations")
    text = " ".join((tmp_path / "a.md").read_text().split())
    assert f"| OVF | reversed decay | 61.00 ± 12.71 | 51.50 ± 19.06 | +9.50 ± {ci:.2f} |" in text


def test_the_feedback_table_pairs_ovf_with_the_compute_matched_baseline_and_nft_with_positive_feedback(tmp_path):
    from neft.analysis.tables import feedback

    runs = feedback_runs(tmp_path, matched_gain=4.0)
    long = feedback(runs, Setting("vgg8", "mnist", 0.3, (0, 1, 2)), (0.2, 0.4), (0, 1, 2))
    rows = {(r.comparison, r.sigma_d): r for r in long.itertuples()}
    assert set(rows) == {
        ("OVF − W/ Noise ×4", 0.2),
        ("OVF − W/ Noise ×4", 0.4),
        ("OVF − W/ Noise", 0.2),
        ("OVF − W/ Noise", 0.4),
        ("OVF − OVF (positive feedback (+β))", 0.3),
        ("IRS − IRS (positive feedback (+β))", 0.3),
    }
    matched = rows["OVF − W/ Noise ×4", 0.2]
    gains = pd.Series([1.0, 1.1, 1.2])  # OVF 5 + 0.1 s above W/ Noise, W/ Noise ×4 4 above it
    assert (matched.variant, matched.versus, matched.n_paired, matched.seeds) == ("ovf", "noise-draws4", 3, "0 1 2")
    assert matched.diff == pytest.approx(gains.mean())
    assert matched.ci95 == pytest.approx(stats.t.ppf(0.975, 2) * gains.std() / math.sqrt(3))
    assert rows["OVF − W/ Noise", 0.4].diff == pytest.approx(5.1)
    positive = rows["OVF − OVF (positive feedback (+β))", 0.3]
    assert (positive.versus, positive.diff) == ("ovf-posfb", pytest.approx(2.3))
    assert rows["IRS − IRS (positive feedback (+β))", 0.3].ci95 == 0.0  # identical seeds
    write(TABLES["feedback"], long, [tmp_path / "f.md"], "Is it the feedback?")
    md = " ".join((tmp_path / "f.md").read_text().split())
    assert "| IRS − IRS (positive feedback (+β)) | VGG-8 / MNIST | 0.3 | +0.00 (identical seeds) (n=3) | n.s. |" in md
    assert "n = 1: the mean alone" not in md  # a σ_d column (0.2) is no mean without its CI
    # without the ablations' setting the compute-matched rows stay
    assert set(feedback(runs, None, (0.2, 0.4), (0, 1, 2)).versus) == {"noise-draws4", "noise"}
