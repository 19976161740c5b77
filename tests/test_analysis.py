"""aggregate, beta search, tables, figures and report on small hand-made result files."""

import json
import math
import re
import subprocess
import sys

import pandas as pd
import pytest
from scipy import stats

from neft.analysis.aggregate import aggregate, collect, summarize
from neft.analysis.beta_search import search
from neft.analysis.report import Grid, ablations_section, convergence_section, figure_section, load_claims, report
from neft.analysis.tables import Setting, ablations, convergence, init_sensitivity, table1, table2, write
from neft.analysis.verdicts import INCONCLUSIVE, INDICATIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED
from neft.errors import NeftError
from neft.variants import parse_variant


def result(
    model,
    dataset,
    method,
    sigma_d,
    seed,
    accuracy: dict,
    status="completed",
    beta=None,
    n_feedback=None,
    ekl=1.0,
    epochs=3,
    val=50.0,
    anti_aligned=(),
    init="reference",
):
    """A neft.mc/1 result: `accuracy` maps eval sigma -> per-run accuracies. A diverged run with accuracies
    diverged after a kept epoch (that epoch was evaluated); without, before any."""
    hp = {k: v for k, v in dict(beta=beta, n_feedback=n_feedback).items() if v is not None}
    rows = [
        dict(
            sigma=s,
            runs=len(a),
            accuracy=a,
            ekl_runs=[ekl] * len(a),
            mean=sum(a) / len(a),
            std=pd.Series(a).std(),
            ci95=0.0,
            ekl=ekl,
        )
        for s, a in accuracy.items()
    ]
    config = dict(
        model=model,
        dataset=dataset,
        method=method,
        sigma_d=sigma_d,
        seed=seed,
        epochs=epochs,
        width=1.0,
        train_subset=None,
        init=init,
    )
    return {
        "format": "neft.mc/1",
        "status": status,
        "n_test": 100,
        "seconds": 2.0,
        "provenance": {"device": "cpu", "git_commit": "abc123", "time": "2026-11-25T10:00:00+00:00"},
        "train": {
            "status": status,
            "diverged_epoch": 2 if status == "diverged" else None,
            "config": config,
            "method_hparams": hp,
            "flags": {"irs_heads_anti_aligned": list(anti_aligned)},
            "selected_val_accuracy": val,
            "selection": "val",
            "seconds": 10.0,
        },
        "results": rows,
    }


def write_runs(root, specs):
    """specs: (variant, sigma_d, seed, {eval sigma: [accuracies]}, extra) on vgg8/mnist -> paths."""
    paths = []
    for variant, sigma_d, seed, accuracy, extra in specs:
        path = root / "vgg8" / "mnist" / variant / f"sd{sigma_d:g}" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(result("vgg8", "mnist", parse_variant(variant)[0], sigma_d, seed, accuracy, **extra))
        )
        paths.append(path)
    return paths


def runs_of(tmp_path, specs):
    return collect(write_runs(tmp_path / "mc", specs), tmp_path / "mc")


def test_parse_variant():
    assert parse_variant("irs") == ("irs", "", None)
    assert parse_variant("ovf-pre50") == ("ovf", "pre", 50.0)
    assert parse_variant("irs-beta0.0001") == ("irs", "beta", 0.0001)
    assert parse_variant("irs-noheadnoise") == ("irs", "noheadnoise", None)


def test_summary_is_mean_std_and_student_t_over_seeds(tmp_path):
    seeds = {0: 60.0, 1: 70.0, 2: 62.0}
    runs = runs_of(tmp_path, [("noise", 0.3, s, {0.3: [a - 1, a + 1]}, {}) for s, a in seeds.items()])
    row = summarize(runs).iloc[0]
    values = pd.Series(list(seeds.values()))
    assert row.n_seeds == 3 and row["mean"] == pytest.approx(values.mean())
    assert row["std"] == pytest.approx(values.std())
    assert row.ci95 == pytest.approx(stats.t.ppf(0.975, 2) * values.std() / math.sqrt(3))


def test_diverged_runs_are_counted_not_averaged(tmp_path):
    runs = runs_of(tmp_path, [("ovf", 0.3, 0, {0.3: [50.0, 52.0]}, {}), ("ovf", 0.3, 1, {}, dict(status="diverged"))])
    row = summarize(runs).iloc[0]
    assert (row.n_seeds, row.n_diverged, row["mean"]) == (1, 1, 51.0)
    everything_diverged = summarize(runs_of(tmp_path / "b", [("irs", 0.3, 0, {}, dict(status="diverged"))]))
    assert (everything_diverged.n_seeds[0], everything_diverged.n_diverged[0]) == (0, 1)


def test_aggregate_writes_both_tables(tmp_path):
    paths = write_runs(tmp_path / "mc", [("noise", 0.3, 0, {0.0: [90.0, 90.0], 0.3: [40.0, 44.0]}, {})])
    aggregate(paths, tmp_path / "mc", tmp_path / "runs.csv", tmp_path / "summary.csv")
    assert list(pd.read_csv(tmp_path / "runs.csv").accuracy) == [90.0, 42.0]
    assert len(pd.read_csv(tmp_path / "summary.csv")) == 2


def test_a_file_whose_path_disagrees_with_its_run_is_refused(tmp_path):
    path = tmp_path / "mc" / "vgg8" / "mnist" / "noise" / "sd0.3" / "seed1.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(result("vgg8", "mnist", "noise", 0.3, 0, {0.3: [1.0, 2.0]})))
    with pytest.raises(NeftError, match="seed"):
        collect([path], tmp_path / "mc")


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


def test_convergence_verdict_needs_significantly_fewer_failures_than_noise_injection(tmp_path):
    """Fisher's exact test, one-sided each way: 0 of 10 against 7 of 10 is fewer (p = 0.002), 7 against 0 more;
    1 against 1 is no difference, never against."""
    setting = Setting("vgg8", "mnist", 0.35, tuple(range(10)))

    def accuracies(failed: int) -> list[float]:  # `failed` runs 9+ points below the mean of the ten
        return [60.0] * failed + [90.0] * (10 - failed)

    cases = [(7, 0, REPRODUCED, "7 of 10"), (0, 7, NOT_REPRODUCED, "0 of 10"), (1, 1, INCONCLUSIVE, "1 of 10")]
    for noise_failed, ovf_failed, word, ours in cases:
        specs = [
            (m, 0.35, s, {0.35: [a, a]}, dict(epochs=200))
            for m, failed in (("noise", noise_failed), ("ovf", ovf_failed))
            for s, a in enumerate(accuracies(failed))
        ]
        runs = runs_of(tmp_path / word.replace(" ", "_"), specs)
        grid = Grid("unit", [0.35], list(range(10)), convergence=setting, convergence_methods=["noise", "ovf"])
        rows = convergence_section(runs, load_claims(), grid).rows
        assert (rows[1]["verdict"], rows[0]["ours"]) == (word, ours)
        assert rows[2]["verdict"] == NOT_RUN  # IRS was not run
    noise = [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in enumerate([90.0, 91.0, 70.0])]
    ovf = [("ovf", 0.35, s, {0.35: [a, a]}, dict(epochs=200)) for s, a in enumerate([90.0, 90.0, 60.0])]
    few = Grid(
        "unit",
        [0.35],
        [0, 1, 2],
        convergence=Setting("vgg8", "mnist", 0.35, (0, 1, 2)),
        convergence_methods=["noise", "ovf"],
    )
    rows = convergence_section(runs_of(tmp_path / "few", noise + ovf), load_claims(), few).rows
    assert rows[1]["verdict"] == INDICATIVE[INCONCLUSIVE] and "3 of 10 runs" in rows[1]["evidence short of the paper's"]


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


def test_tables_are_written_as_csv_markdown_html_latex(tmp_path):
    runs = runs_of(
        tmp_path,
        [("ovf", 0.3, s, {0.3: [60.0 + s, 60.0 + s]}, dict(n_feedback=3)) for s in (0, 1)]
        + [("ovf-n1", 0.3, 0, {0.3: [50.0, 50.0]}, dict(n_feedback=1))],
    ).assign(dataset="fashion_mnist")
    setting = Setting("vgg8", "fashion_mnist", 0.3, (0, 1))
    outs = [tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "t.html", tmp_path / "t.tex"]
    title = f"Table 1. Accuracy (%) — {setting.describe(runs, {'mnist': 'fashion_mnist'})}"
    write("table1", table1(runs, setting), outs, title)
    csv, md, html, tex = (out.read_text() for out in outs)
    assert pd.read_csv(outs[0])["mean"].tolist() == [50.0, 60.5]
    assert title.endswith("VGG-8, Fashion-MNIST (for MNIST), σ_d = 0.3, seeds 0 1 (n = 2), 3 epochs, R = 2")
    assert f"**{title}**" in md and "| OVF      | 50.00 (n = 1) | 60.50 ± 6.35 * |" in md
    assert "|:---------|--------------:|---------------:|" in md  # numbers right-aligned
    assert "mean ± CI95 over seeds" in md and "n = 1: the mean alone, no CI95" in md
    assert '<td style="text-align: right;">60.50 ± 6.35 *</td>' in html and "<title>Table 1. Accuracy" in html
    assert "% needs \\usepackage{booktabs}" in tex and "\\begin{table}[htbp]" in tex and "\\label{tab:table1}" in tex
    assert "\\caption{Accuracy (\\%) --- VGG-8, Fashion-MNIST (for MNIST), $\\sigma_d$ = 0.3" in tex
    assert "method & 1 & $1{\\sim}3$ \\\\" in tex and "OVF & 50.00 (n = 1) & 60.50 $\\pm$ 6.35 * \\\\" in tex
    assert "\\begin{tabular}{lrr}" in tex and "\\toprule" in tex and "\\end{table}" in tex
    assert not any("nan" in text for text in (md, html, tex))
    write("table1", table1(runs.iloc[:0], setting), outs, "Table 1")
    assert "not run" in outs[1].read_text() and "Not run." in outs[3].read_text()


def test_latex_escapes_what_latex_would_misread():
    from neft.analysis.tables import latex

    assert latex("1~3") == "$1{\\sim}3$" and latex("a ~ b") == "a \\textasciitilde{} b"
    assert latex("σ_d = 0.3, β ± 1.2, -3.50, pre-trained") == (
        "$\\sigma_d$ = 0.3, $\\beta$ $\\pm$ 1.2, $-$3.50, pre-trained"
    )
    assert latex("50% & #1_{x}^\\<") == "50\\% \\& \\#1\\_\\{x\\}\\^{}\\textbackslash{}$<$"
    assert latex("NFT − ablated — W/O") == "NFT $-$ ablated --- W/O"


def test_ablation_change_is_nft_minus_ablated_paired_by_seed(tmp_path):
    specs = [("ovf", 0.3, s, {0.3: [a, a]}, dict(n_feedback=3)) for s, a in [(0, 60.0), (1, 62.0)]]
    specs += [("ovf-revdecay", 0.3, s, {0.3: [a, a]}, {}) for s, a in [(0, 50.0), (1, 53.0)]]
    table = ablations(runs_of(tmp_path, specs), SETTING)
    row = table.iloc[0]
    ci = stats.t.ppf(0.975, 1) * pd.Series([10.0, 9.0]).std() / math.sqrt(2)
    assert (row.nft_minus_ablated, row.nft_minus_ablated_ci95, row.n_paired) == (9.5, pytest.approx(ci), 2)
    write("ablations", table, [tmp_path / "a.md"], "Ablations")
    text = " ".join((tmp_path / "a.md").read_text().split())
    assert f"| OVF | reversed decay | 61.00 ± 12.71 | 51.50 ± 19.06 | +9.50 ± {ci:.2f} |" in text


def test_convergence_table_says_not_run_not_nan(tmp_path):
    runs = runs_of(tmp_path, [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in [(0, 90.0), (1, 80.0)]])
    table = convergence(runs, Setting("vgg8", "mnist", 0.35, (0, 1)), ["noise", "ovf"], 5.0)
    write("convergence", table, [tmp_path / "c.md", tmp_path / "c.tex"], "Convergence")
    md = " ".join((tmp_path / "c.md").read_text().split())
    assert "| W/ Noise | 2 | 0 | 0 | 0 | 85.00 [21.47, 100.00] |" in md  # 85.00 ± 63.53, clipped at 100
    assert "| OVF | not run | not run | not run | not run | not run |" in md
    assert "nan" not in md + (tmp_path / "c.tex").read_text()


def test_every_registered_name_has_a_display_name():
    from neft.analysis.names import DATASET_NAMES, METHOD_NAMES, MODEL_NAMES, dataset_name
    from neft.datasets import DATASETS
    from neft.methods import METHODS
    from neft.models import MODELS

    assert set(DATASETS.names()) <= set(DATASET_NAMES) and set(MODELS.names()) <= set(MODEL_NAMES)
    assert set(METHODS.names()) <= set(METHOD_NAMES)
    assert dataset_name("fashion_mnist", {"mnist": "fashion_mnist"}) == "Fashion-MNIST (for MNIST)"
    assert dataset_name("cifar10", {"mnist": "fashion_mnist"}) == "CIFAR-10"


def test_beta_search_picks_the_best_validation_accuracy(tmp_path):
    paths = []
    for i, (beta, val, status) in enumerate(
        [(0.1, 70.0, "completed"), (0.01, 80.0, "completed"), (0.001, None, "diverged")]
    ):
        cfg = dict(model="vgg8", dataset="mnist", method="irs", sigma_d=0.3, seed=0)
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(
            json.dumps(dict(config=cfg, method_hparams=dict(beta=beta), status=status, selected_val_accuracy=val))
        )
    assert search(paths, tmp_path / "b.yaml", tmp_path / "b.csv") == 0.01
    assert (tmp_path / "b.yaml").read_text() == "beta: 0.01\n"
    assert pd.read_csv(tmp_path / "b.csv").chosen.tolist() == [False, True, False]
    with pytest.raises(NeftError, match="diverged"):
        search(paths[2:], tmp_path / "c.yaml", tmp_path / "c.csv")


def ablation_verdicts(tmp_path, ablated: list[float] | None) -> dict:
    seeds = (0, 1, 2)
    specs = [("ovf", 0.3, s, {0.3: [a, a]}, dict(n_feedback=3, epochs=200)) for s, a in zip(seeds, (60.0, 62.0, 61.0))]
    if ablated is not None:
        specs += [("ovf-revdecay", 0.3, s, {0.3: [a, a]}, dict(epochs=200)) for s, a in zip(seeds, ablated)]
    runs = runs_of(tmp_path, specs).assign(model="resnet18", dataset="cifar10")
    section = ablations_section(
        runs, load_claims(), Grid("unit", [0.3], list(seeds), Setting("resnet18", "cifar10", 0.3, seeds))
    )
    return {row["claim"]: row["verdict"] for row in section.rows}


def test_a_verdict_flips_when_the_difference_crosses_its_rule(tmp_path):
    claim = "OVF beats its reversed decay version"
    assert ablation_verdicts(tmp_path / "a", [50.0, 53.0, 51.0])[claim] == REPRODUCED  # paired 10, 9, 10
    assert ablation_verdicts(tmp_path / "b", [61.0, 63.0, 62.0])[claim] == NOT_REPRODUCED  # ablated higher
    # not significant (paired 20, -8, 6), and the CI95 still reaches the paper's drop of 17.49: open
    assert ablation_verdicts(tmp_path / "c", [40.0, 70.0, 55.0])[claim] == INCONCLUSIVE
    # not significant either (paired 0.5, 1.0, 0.2), but its CI95 stays far below 17.49: excluded
    assert ablation_verdicts(tmp_path / "e", [59.5, 61.0, 60.8])[claim] == NOT_REPRODUCED
    assert claim not in ablation_verdicts(tmp_path / "d", None)  # not run: no row


def figure3_rows(runs, sigma_d, seeds, stand_ins=None) -> dict:
    grid = Grid("unit", sigma_d, seeds, stand_ins=stand_ins or {})
    return {r["claim"]: r for r in figure_section(runs, load_claims(), grid, {}, "Figure 3").rows}


def test_figure3_claims_use_a_stand_in_dataset_and_say_so(tmp_path):
    specs = [
        (m, 0.3, s, {0.3: [a + s, a + s]}, {})
        for m, a in [("noise", 40.0), ("ovf", 50.0), ("irs", 39.0)]
        for s in (0, 1, 2)
    ]
    runs = runs_of(tmp_path, specs).assign(dataset="fashion_mnist")
    rows = figure3_rows(runs, [0.3], [0, 1, 2], {"mnist": "fashion_mnist"})
    ovf, irs = (
        rows["OVF beats W/ Noise, VGG-8 / Fashion-MNIST (for MNIST)"],
        rows["IRS beats W/ Noise, VGG-8 / Fashion-MNIST (for MNIST)"],
    )
    # significant at the only sigma_d with 3 seeds, but Fashion-MNIST and 3 epochs are not the paper's evidence
    assert (ovf["verdict"], ovf["paper"]) == (INDICATIVE[REPRODUCED], "+46.71")
    assert ovf["evidence short of the paper's"] == "Fashion-MNIST stands in for MNIST; 3 of 200 epochs"
    assert ovf["ours"] == "+10.00 (identical seeds) (n=3) at σ_d 0.3"
    assert irs["verdict"] == INDICATIVE[NOT_REPRODUCED]  # 1 point behind at every seed: significant
    assert rows["OVF beats W/ Noise, ResNet-18 / CIFAR-10"]["verdict"] == NOT_RUN


def sigma_grid_runs(tmp_path, gains: dict[float, list[float]], epochs=200):
    """noise and ovf at several sigma_d, 3 seeds; ovf = noise + the gain of each seed."""
    specs = []
    for sd, gain in gains.items():
        for s, g in enumerate(gain):
            specs += [
                ("noise", sd, s, {sd: [50.0 + s] * 2}, dict(epochs=epochs)),
                ("ovf", sd, s, {sd: [50.0 + s + g] * 2}, dict(epochs=epochs)),
            ]
    return runs_of(tmp_path, specs)


def test_figure3_needs_a_majority_of_holm_corrected_wins_and_no_significant_loss(tmp_path):
    claim = "OVF beats W/ Noise, VGG-8 / MNIST"
    # at sigma_d 0.1 the paired t-test alone gives p = 0.013 (its CI95 clears 0), but one of four tests:
    # Holm's adjustment makes it 0.052
    rest = {0.2: [0.5, -0.5, 0.1], 0.3: [0.3, -0.2, 0.0], 0.4: [-0.4, 0.4, 0.1]}
    one = {0.1: [1.0, 1.2, 0.8], **rest}
    row = figure3_rows(sigma_grid_runs(tmp_path / "one", one), list(one), [0, 1, 2])[claim]
    assert (row["verdict"], row["k of n"]) == (NOT_REPRODUCED, "better at 0 of 4 σ_d")
    # p = 0.0033 there survives Holm (0.013), but one of four sigma_d is no majority
    one = {0.1: [1.0, 1.1, 0.9], **rest}
    row = figure3_rows(sigma_grid_runs(tmp_path / "strong", one), list(one), [0, 1, 2])[claim]
    assert (row["verdict"], row["k of n"]) == (NOT_REPRODUCED, "better at 1 of 4 σ_d")
    # wins at three of four, but a significant loss at the fourth: never "reproduced"
    loses = {0.1: [5.0, 5.2, 4.8], 0.2: [5.0, 5.1, 4.9], 0.3: [4.0, 4.2, 3.8], 0.4: [-30.0, -30.5, -29.5]}
    row = figure3_rows(sigma_grid_runs(tmp_path / "loses", loses), list(loses), [0, 1, 2])[claim]
    assert (row["verdict"], row["k of n"]) == (NOT_REPRODUCED, "better at 3 of 4 σ_d, worse at 1")
    wins = {s: g for s, g in loses.items() if s < 0.4}
    row = figure3_rows(sigma_grid_runs(tmp_path / "wins", wins), list(wins), [0, 1, 2])[claim]
    assert (row["verdict"], row["k of n"]) == (REPRODUCED, "better at 3 of 3 σ_d")


def test_one_seed_is_indicative_whatever_the_gain(tmp_path):
    gains = {0.1: [5.0], 0.2: [6.0], 0.3: [-2.0]}
    row = figure3_rows(sigma_grid_runs(tmp_path, gains), list(gains), [0])["OVF beats W/ Noise, VGG-8 / MNIST"]
    assert (row["verdict"], row["k of n"]) == (INDICATIVE[INCONCLUSIVE], "ahead at 2 of 3 σ_d (sign only)")
    assert row["evidence short of the paper's"] == "n = 1 seed"


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


def figure_runs(tmp_path) -> pd.DataFrame:
    """Four methods at sigma_d 0.1 and 0.3, three seeds with skewed accuracies (mean != median), except IRS at
    0.3 (one seed: its bar is the MC CI95); distinct MC CI95s; on Fashion-MNIST (MNIST's stand-in)."""
    acc = {"vanilla": 30.0, "noise": 50.0, "ovf": 60.0, "irs": 55.0}
    specs = [
        (
            m,
            sd,
            s,
            {sd: [acc[m] + 10 * sd + [0, 1, 9][s]] * 2},
            dict(beta=0.01 if m != "noise" else None, ekl=[0.1, 0.2, 0.6][s] + sd),
        )
        for m in ("noise", "ovf", "irs")
        for sd in (0.1, 0.3)
        for s in range(3)
        if (m, sd) != ("irs", 0.3) or s == 0
    ]
    specs += [
        (
            "vanilla",
            0.0,
            s,
            {x: [acc["vanilla"] + [0, 1, 9][s] - 50 * x] * 2 for x in (0.0, 0.1, 0.3)},
            dict(ekl=[0.2, 0.3, 0.9][s]),
        )
        for s in range(3)
    ]
    runs = runs_of(tmp_path, specs).assign(dataset="fashion_mnist")
    return runs.assign(mc_ci95=0.5 + runs.accuracy / 100, mc_ekl_ci95=0.01 + runs.ekl / 10)


def drawn(fig) -> dict:
    """{(panel title, method): (x, y, bar bottoms, bar tops)}, read back from the Figure's error bars."""
    out = {}
    for ax in fig.axes:
        for bars in ax.containers:
            line, _, (segments,) = bars.lines
            ends = [(s[0][1], s[1][1]) for s in segments.get_segments()]
            out[ax.get_title().splitlines()[0], line.get_gid()] = (
                list(line.get_xdata()),
                list(line.get_ydata()),
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
    lines = drawn(draw(name, runs, [0.1, 0.3], [0, 1, 2], {"mnist": "fashion_mnist"}))
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

    fig = draw("figure3", figure_runs(tmp_path), [0.1, 0.3], [0, 1, 2])
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
        if line.get_gid()
    }
    assert len(set(styles.values())) == 4 and styles["vanilla"][2] == "--"
    one_seed = draw("figure3", figure_runs(tmp_path / "b"), [0.1, 0.3], [0])
    assert "n = 1 seed · 3 epochs · R = 2 · bars: Monte-Carlo CI95" in one_seed.axes[0].get_title()


def test_figures_are_reproducible_png_300_dpi_and_pdf_with_truetype_fonts(tmp_path):
    from PIL import Image

    from neft.analysis.figures import figure

    runs = figure_runs(tmp_path)
    for folder in ("a", "b"):
        figure("figure3", runs, [0.1, 0.3], [0, 1, 2], [tmp_path / folder / "f.png", tmp_path / folder / "f.pdf"])
    for name in ("f.png", "f.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    pdf = (tmp_path / "a" / "f.pdf").read_bytes()
    assert pdf[:4] == b"%PDF" and b"/Type3" not in pdf and b"/CIDFontType2" in pdf
    assert Image.open(tmp_path / "a" / "f.png").info["dpi"] == pytest.approx((300, 300), abs=0.01)
    with pytest.raises(NeftError, match="unknown figure format"):
        figure("figure3", runs, [0.1, 0.3], [0], [tmp_path / "f.svg"])


def test_a_figures_csv_is_the_data_it_draws(tmp_path):
    from neft.analysis.figures import draw, figure

    runs = figure_runs(tmp_path)
    figure("figure3", runs, [0.1, 0.3], [0, 1, 2], [tmp_path / "f.csv"])
    written = pd.read_csv(tmp_path / "f.csv")
    lines = drawn(draw("figure3", runs, [0.1, 0.3], [0, 1, 2]))
    for variant, points in written.groupby("variant"):
        (_, ys, _, _) = lines["VGG-8, Fashion-MNIST", variant]
        assert list(points.sort_values("x")["mean"]) == pytest.approx(ys)
    assert set(written.columns) >= {"model", "dataset", "variant", "x", "mean", "ci95", "n", "epochs", "runs"}


@pytest.mark.parametrize(
    "args,message",
    [
        (["tables", "table1", "--out", "t.csv"], "needs --runs"),
        (
            ["tables", "table1", "--runs", "missing.csv", "--out", "t.csv", "--setting", "vgg8", "mnist", "0.3"],
            "missing.csv: unreadable runs table",
        ),
        (
            ["tables", "table1", "--runs", "r.csv", "--out", "t.csv", "--setting", "vgg8", "mnist", "high"],
            "is not a number",
        ),
        (["aggregate", "x.json", "--root", ".", "--runs", "r.csv", "--summary", "s.csv"], "x.json"),
        (["fetch", "mnist", "--no-download", "--data-dir", "nodata", "--out", "f.json"], "downloads are off"),
    ],
)
def test_analysis_commands_fail_in_one_line(tmp_path, args, message):
    out = subprocess.run(
        [sys.executable, "-m", "neft", *args], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr


def test_html_page_embeds_the_images_it_shows(tmp_path):
    """The Snakemake report shows a page in a frame of its own: an image must travel inside it."""
    import base64

    from neft.analysis.html import render

    (tmp_path / "figures").mkdir()
    image = tmp_path / "figures" / "f.png"
    image.write_bytes(b"\x89PNG not really")
    source = tmp_path / "report.md"
    source.write_text(
        "# Report: unit\n\n| claim | ours |\n|:--|--:|\n| x | +1.00 ± 0.50 |\n\n"
        "In words:\n- one\n- two\n\n![f](figures/f.png)\n"
    )
    render(source, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<p>In words:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in page  # a list right below text, as on GitHub
    assert "<title>Report: unit</title>" in page and '<td style="text-align: right;">+1.00 ± 0.50</td>' in page
    assert f'src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"' in page
    source.write_text("![f](figures/missing.png)\n")
    with pytest.raises(NeftError, match="missing.png"):
        render(source, tmp_path / "broken.html")
    assert not (tmp_path / "broken.html").exists()


def test_the_report_shows_each_table_as_its_file_does(tmp_path):
    seeds = (0, 1)
    setting = Setting("vgg8", "mnist", 0.3, seeds)
    specs = [("ovf", 0.3, s, {0.3: [60.0 + s] * 2}, dict(n_feedback=3)) for s in seeds]
    specs += [("ovf-n1", 0.3, s, {0.3: [50.0 + 2 * s] * 2}, dict(n_feedback=1)) for s in seeds]
    specs += [("noise", 0.3, s, {0.3: [40.0 + s] * 2}, {}) for s in seeds]
    runs = runs_of(tmp_path, specs)
    from neft.analysis.tables import title

    write("table1", table1(runs, setting), [tmp_path / "table1.md"], title("table1", setting, runs, {}))
    write(
        "convergence",
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
    write("table1", pd.DataFrame(), [tmp_path / "off.md"], title("table1", None, runs, {}))
    report(runs, out, Grid("unit", [0.3], list(seeds)))
    assert "not run" in (tmp_path / "off.md").read_text() and "## Table 1 Paper:" in " ".join(out.read_text().split())


def feedback_runs(tmp_path, matched_gain: float, seeds=(0, 1, 2), dataset="mnist"):
    """W/ Noise, W/ Noise ×4 and OVF at sigma_d 0.2 and 0.4 (OVF 5 points above W/ Noise, W/ Noise ×4
    `matched_gain` above it; seed spreads 0, 0.4, 0.8), and at the ablations' setting (0.3) OVF and IRS with
    their +beta runs (positive feedback 2 points below)."""
    specs = []
    for sd in (0.2, 0.4):
        for s in seeds:
            base = 50.0 + 0.4 * s
            for variant, gain in (("noise", 0.0), ("noise-draws4", matched_gain), ("ovf", 5.0 + 0.1 * s)):
                specs.append((variant, sd, s, {sd: [base + gain] * 2}, dict(epochs=200)))
    for s in seeds:
        for variant, acc in (("ovf", 60.0), ("ovf-posfb", 58.0 - 0.3 * s), ("irs", 61.0), ("irs-posfb", 61.0)):
            specs.append((variant, 0.3, s, {0.3: [acc] * 2}, dict(epochs=200)))
    return runs_of(tmp_path, specs).assign(dataset=dataset)


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
    write("feedback", long, [tmp_path / "f.md"], "Is it the feedback?")
    md = " ".join((tmp_path / "f.md").read_text().split())
    assert "| IRS − IRS (positive feedback (+β)) | VGG-8 / MNIST | 0.3 | +0.00 (identical seeds) (n=3) | n.s. |" in md
    # without the ablations' setting the compute-matched rows stay
    assert set(feedback(runs, None, (0.2, 0.4), (0, 1, 2)).versus) == {"noise-draws4", "noise"}


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
    assert SYNTHETIC in draw("figure3", runs, [0.3], [0, 1, 2]).axes[0].get_title()
    real = runs.assign(dataset="mnist")
    assert SYNTHETIC not in draw("figure3", real, [0.3], [0, 1, 2]).axes[0].get_title()


def test_figures_draw_the_compute_matched_baseline_in_a_style_of_its_own(tmp_path):
    from neft.analysis.figures import N2, STYLES, draw

    runs = feedback_runs(tmp_path, matched_gain=4.0)
    ax = draw("figure3", runs, [0.2, 0.4], [0, 1, 2]).axes[0]
    styles = {
        line.get_gid(): (line.get_color(), line.get_marker(), str(line.get_linestyle()))
        for line in ax.get_lines()
        if line.get_gid()
    }
    assert set(styles) == {"noise", "noise-draws4", "ovf"} and len(set(styles.values())) == 3
    assert styles["noise-draws4"][0].lower() == STYLES["noise-draws"]["color"].lower()
    assert "W/ Noise ×4" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert N2 not in ax.get_title()  # three seeds
    two = draw("figure3", feedback_runs(tmp_path / "two", 4.0, seeds=(0, 1)), [0.2, 0.4], [0, 1]).axes[0]
    assert N2 in two.get_title()


def test_figure4_says_lower_is_better():
    from neft.analysis.figures import FIGURES

    assert "lower is better" in FIGURES["figure4"].ylabel
