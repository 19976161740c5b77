"""aggregate, beta search, tables, figures and report on small hand-made result files."""
import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from scipy import stats

from neft.aggregate import aggregate, collect, parse_variant, summarize
from neft.beta_search import search
from neft.errors import NeftError
from neft.report import NOT_REPRODUCED, NOT_RUN, REPRODUCED, ablation_sections, figure3_section, load_claims, report
from neft.tables import Setting, convergence, table1, table2, write


def result(model, dataset, method, sigma_d, seed, accuracy: dict, status="completed", beta=None, n_feedback=None,
           ekl=1.0, epochs=3):
    """A neft.mc/1 result: `accuracy` maps eval sigma -> per-run accuracies."""
    hp = {k: v for k, v in dict(beta=beta, n_feedback=n_feedback).items() if v is not None}
    rows = [dict(sigma=s, runs=len(a), accuracy=a, ekl_runs=[ekl] * len(a), mean=sum(a) / len(a),
                 std=pd.Series(a).std(), ci95=0.0, ekl=ekl) for s, a in accuracy.items()]
    config = dict(model=model, dataset=dataset, method=method, sigma_d=sigma_d, seed=seed, epochs=epochs, width=1.0,
                  train_subset=None)
    return {"format": "neft.mc/1", "status": status, "n_test": 100, "seconds": 2.0, "provenance": {"device": "cpu"},
            "train": {"status": status, "diverged_epoch": 2 if status == "diverged" else None, "config": config,
                      "method_hparams": hp, "flags": {"irs_head_collapse": False}, "selected_val_accuracy": 50.0,
                      "seconds": 10.0},
            "results": [] if status == "diverged" else rows}


def write_runs(root, specs):
    """specs: (variant, sigma_d, seed, {eval sigma: [accuracies]}, extra) on vgg8/mnist -> paths."""
    paths = []
    for variant, sigma_d, seed, accuracy, extra in specs:
        path = root / "vgg8" / "mnist" / variant / f"sd{sigma_d:g}" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result("vgg8", "mnist", parse_variant(variant)[0], sigma_d, seed, accuracy, **extra)))
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
    runs = runs_of(tmp_path, [("ovf", 0.3, s, {0.3: [60.0 + s, 60.0 + s]}, dict(n_feedback=3)) for s in (0, 1)]
                   + [("ovf-n1", 0.3, s, {0.3: [50.0, 50.0]}, dict(n_feedback=1)) for s in (0, 1)])
    table = table1(runs, SETTING)
    assert list(table.column) == ["1", "1~3"] and list(table.main) == [False, True]
    assert list(table["mean"]) == [50.0, 60.5] and table.n_seeds.tolist() == [2, 2]


def test_table2_pretrained_columns(tmp_path):
    runs = runs_of(tmp_path, [("vanilla", 0.0, 0, {0.0: [95.0, 95.0], 0.3: [11.0, 11.0]}, {}),
                              ("ovf-pre1", 0.3, 0, {0.3: [40.0, 40.0]}, {}), ("ovf", 0.3, 0, {0.3: [55.0, 55.0]}, {})])
    ovf = table2(runs, SETTING).query("method == 'ovf'")
    assert list(ovf.column) == ["pre+0", "pre+1", "scratch+3"] and list(ovf["mean"]) == [11.0, 40.0, 55.0]


def test_convergence_counts_diverged_and_low_runs(tmp_path):
    accs = {0: 90.0, 1: 91.0, 2: 80.0}
    runs = runs_of(tmp_path, [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in accs.items()]
                   + [("noise", 0.35, 3, {}, dict(status="diverged"))])
    row = convergence(runs, Setting("vgg8", "mnist", 0.35, (0, 1, 2, 3)), ["noise"], 5.0).iloc[0]
    # mean of the finished runs 87: 80 is 7 below it
    assert (row.runs, row.diverged, row.below_threshold, row.non_converged) == (4, 1, 1, 2)


def test_convergence_verdict_needs_fewer_failures_than_noise_injection(tmp_path):
    from neft.report import convergence_section
    setting = Setting("vgg8", "mnist", 0.35, (0, 1, 2))
    noise = [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in enumerate([90.0, 91.0, 70.0])]
    for ovf_accs, verdict in [([90.0, 90.0, 89.0], REPRODUCED), ([90.0, 90.0, 60.0], NOT_REPRODUCED)]:
        ovf = [("ovf", 0.35, s, {0.35: [a, a]}, {}) for s, a in enumerate(ovf_accs)]
        runs = runs_of(tmp_path / verdict.replace(" ", "_"), noise + ovf)
        rows = convergence_section(runs, load_claims(), setting, ["noise", "ovf"], 5.0).rows
        assert rows[1]["verdict"] == verdict and rows[0]["ours"] == "1 of 3"
        assert rows[2]["verdict"] == NOT_RUN  # IRS was not run


def test_tables_are_written_as_csv_markdown_latex(tmp_path):
    runs = runs_of(tmp_path, [("ovf", 0.3, s, {0.3: [60.0 + s, 60.0 + s]}, dict(n_feedback=3)) for s in (0, 1)])
    outs = [tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "t.tex"]
    write("table1", table1(runs, SETTING), outs, "Table 1")
    assert pd.read_csv(outs[0])["mean"].tolist() == [60.5]
    assert "60.50 ± 6.35 *" in outs[1].read_text() and "\\toprule" in outs[2].read_text()
    write("table1", table1(runs.iloc[:0], SETTING), outs, "Table 1")
    assert "not run" in outs[1].read_text()


def test_beta_search_picks_the_best_validation_accuracy(tmp_path):
    paths = []
    for i, (beta, val, status) in enumerate([(0.1, 70.0, "completed"), (0.01, 80.0, "completed"), (0.001, None, "diverged")]):
        cfg = dict(model="vgg8", dataset="mnist", method="irs", sigma_d=0.3, seed=0)
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(dict(config=cfg, method_hparams=dict(beta=beta), status=status,
                                             selected_val_accuracy=val)))
    assert search(paths, tmp_path / "b.yaml", tmp_path / "b.csv") == 0.01
    assert (tmp_path / "b.yaml").read_text() == "beta: 0.01\n"
    assert pd.read_csv(tmp_path / "b.csv").chosen.tolist() == [False, True, False]
    with pytest.raises(NeftError, match="diverged"):
        search(paths[2:], tmp_path / "c.yaml", tmp_path / "c.csv")


def ablation_verdicts(tmp_path, ablated: list[float] | None) -> dict:
    specs = [("ovf", 0.3, s, {0.3: [a, a]}, dict(n_feedback=3)) for s, a in [(0, 60.0), (1, 62.0)]]
    if ablated is not None:
        specs += [("ovf-revdecay", 0.3, s, {0.3: [a, a]}, {}) for s, a in zip((0, 1), ablated)]
    sections = ablation_sections(runs_of(tmp_path, specs), load_claims(), SETTING)
    return {row["claim"]: row["verdict"] for section in sections for row in section.rows}


def test_a_verdict_flips_when_the_difference_crosses_its_rule(tmp_path):
    claim = "OVF beats its reversed decay version"
    assert ablation_verdicts(tmp_path / "a", [50.0, 53.0])[claim] == REPRODUCED      # paired: 10, 9 -> 9.5 ± 6.4
    assert ablation_verdicts(tmp_path / "b", [61.0, 63.0])[claim] == NOT_REPRODUCED  # ablated higher
    assert ablation_verdicts(tmp_path / "c", [40.0, 70.0])[claim] == NOT_REPRODUCED  # CI of the difference spans 0
    assert ablation_verdicts(tmp_path / "d", None)[claim] == NOT_RUN


def test_figure3_claims_use_a_stand_in_dataset_and_say_so(tmp_path):
    specs = [(m, 0.3, s, {0.3: [a + s, a + s]}, {}) for m, a in [("noise", 40.0), ("ovf", 50.0), ("irs", 39.0)]
             for s in (0, 1)]
    runs = runs_of(tmp_path, specs).assign(dataset="fashion_mnist")
    rows = {r["claim"]: r for r in figure3_section(runs, load_claims(), [0.3], [0, 1], {"mnist": "fashion_mnist"}).rows}
    ovf, irs = rows["OVF beats W/ Noise, vgg8/mnist"], rows["IRS beats W/ Noise, vgg8/mnist"]
    assert (ovf["verdict"], ovf["paper"], ovf["note"]) == (REPRODUCED, "+46.71", "stand-in: fashion_mnist")
    assert ovf["ours"].startswith("+10.00 at sigma_d 0.3") and irs["verdict"] == NOT_REPRODUCED
    assert rows["OVF beats W/ Noise, resnet18/cifar10"]["verdict"] == NOT_RUN


def test_report_puts_numbers_beside_the_paper(tmp_path):
    specs = [(m, 0.3, s, {0.3: [a + s, a + s]}, {}) for m, a in [("noise", 40.0), ("ovf", 50.0)] for s in (0, 1)]
    runs = runs_of(tmp_path, specs)
    out = tmp_path / "report.md"
    report(runs, out, "unit", [0.3], [0, 1], None, None, ["noise", "ovf"], 5.0, {}, [], [], [])
    text = " ".join(out.read_text().split())
    assert "| OVF beats W/ Noise, vgg8/mnist | +46.71 | +10.00 at sigma_d 0.3 (n=2) | reproduced |" in text
    assert "## Verdict rules" in text and "| vgg8 | mnist | 4 | 3 | 0 1 | 2 |" in text


def test_report_says_at_each_sigma_d_whether_nft_beats_noise_injection(tmp_path):
    specs = [(m, 0.3, s, {0.3: [a + s, a + s]}, {}) for m, a in [("noise", 40.0), ("ovf", 50.0), ("irs", 39.0)]
             for s in (0, 1)] + [("vanilla", 0.0, s, {0.0: [90.0, 90.0], 0.3: [20.0 + 2 * s] * 2}, {}) for s in (0, 1)]
    out = tmp_path / "report.md"
    report(runs_of(tmp_path, specs), out, "unit", [0.3], [0, 1], None, None, ["noise"], 5.0, {}, [], [], [])
    text = " ".join(out.read_text().split())
    ci = stats.t.ppf(0.975, 1) * pd.Series([20.0, 22.0]).std() / math.sqrt(2)
    assert (f"| 0.3 | 21.00 ± {ci:.2f} | 40.50 ± 6.35 | 50.50 ± 6.35 | 39.50 ± 6.35 | +10.00 ± 0.00 (n=2) "
            f"| -1.00 ± 0.00 (n=2) |") in text
    assert "- vgg8 / mnist, OVF minus W/ Noise: above 0 at sigma_d 0.3." in text
    assert "- vgg8 / mnist, IRS minus W/ Noise: below 0 at sigma_d 0.3." in text
    assert "flagged as collapsed (below half of chance while the loss fell) in 0 of 2 IRS runs" in text


def test_figures_are_png_and_pdf(tmp_path):
    from neft.figures import figure
    specs = [(m, sd, s, {0.0: [90.0, 90.0], sd: [40.0 + s, 41.0 + s]}, dict(beta=0.01 if m != "noise" else None))
             for m in ("noise", "ovf") for sd in (0.1, 0.3) for s in (0, 1)]
    specs += [("vanilla", 0.0, s, {0.0: [95.0, 95.0], 0.1: [80.0, 80.0], 0.3: [20.0, 22.0]}, {}) for s in (0, 1)]
    runs = runs_of(tmp_path, specs)
    outs = [tmp_path / "f.png", tmp_path / "f.pdf"]
    figure("figure3", runs, [0.1, 0.3], [0, 1], outs)
    assert outs[0].read_bytes()[:4] == b"\x89PNG" and outs[1].read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("args,message", [
    (["tables", "table1", "--out", "t.csv"], "needs --runs and --setting"),
    (["tables", "table1", "--runs", "missing.csv", "--out", "t.csv", "--setting", "vgg8", "mnist", "0.3"],
     "missing.csv: unreadable runs table"),
    (["tables", "table1", "--runs", "r.csv", "--out", "t.csv", "--setting", "vgg8", "mnist", "high"], "is not a number"),
    (["aggregate", "x.json", "--root", ".", "--runs", "r.csv", "--summary", "s.csv"], "x.json"),
    (["fetch", "mnist", "--no-download", "--data-dir", "nodata", "--out", "f.json"], "downloads are off"),
])
def test_analysis_commands_fail_in_one_line(tmp_path, args, message):
    out = subprocess.run([sys.executable, "-m", "neft", *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr
