"""aggregate: MC result files -> runs.csv (per-seed rows, checked against their paths) and summary.csv (means
over seeds); the beta search's pick."""

import json
import math

import pandas as pd
import pytest
from made_runs import result, runs_of, write_runs
from scipy import stats

from neft.analysis.aggregate import aggregate, collect, summarize
from neft.analysis.beta_search import search
from neft.errors import NeftError
from neft.variants import parse_variant


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
