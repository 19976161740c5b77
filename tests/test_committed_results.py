"""The committed results of the CPU grid (results/cpu/, figures/cpu/) stay what the code makes of them: the
analysis steps (aggregate, figures, tables, report) rerun by Snakemake on the committed MC result files, with
nothing trained or evaluated again, reproduce the committed runs.csv, summary.csv, tables, figure data and
report. A change to the analysis that alters a committed number fails here: rerun the analysis
(tools/reanalyse.sh cpu) and commit what it writes, with the reason."""

import importlib.util
import shutil

import pytest
from test_workflow import ROOT, copy_workflow, planned, snakemake

GRID = "cpu"
RESULTS, FIGURES = ROOT / "results" / GRID, ROOT / "figures" / GRID
INPUTS = ("mc", "runs", "datasets", "benchmarks", "beta")  # what the training and evaluation jobs made
spec = importlib.util.spec_from_file_location("compare_grids", ROOT / "tools" / "compare_grids.py")
compare_grids = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_grids)


@pytest.fixture(scope="module")
def rerun(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("committed"))
    for part in INPUTS:
        if (RESULTS / part).is_dir():
            shutil.copytree(RESULTS / part, work / "results" / GRID / part)
    out = snakemake("--cores", "2", "--configfile", f"config/{GRID}.yaml", cwd=work, timeout=900)
    assert out.returncode == 0, out.text[-3000:]
    return work, planned(out.text)


@pytest.mark.slow
def test_the_analysis_reruns_without_training_or_evaluating(rerun):
    _, jobs = rerun
    assert jobs.get("train", 0) == jobs.get("evaluate", 0) == 0, jobs
    assert jobs["aggregate"] == 1 and jobs["report"] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "pattern,kind",
    [
        (f"results/{GRID}/aggregate/*.csv", "runs"),
        (f"results/{GRID}/tables/*.csv", "bytes"),
        (f"results/{GRID}/tables/*.md", "bytes"),
        (f"figures/{GRID}/*.csv", "bytes"),  # the figures by their data: PNG/PDF bytes follow matplotlib's version
        (f"results/{GRID}/report.md", "report"),
    ],
)
def test_committed_analysis_outputs_are_what_the_code_makes_of_the_committed_results(rerun, pattern, kind):
    work, _ = rerun
    committed = sorted(p.relative_to(ROOT) for p in ROOT.glob(pattern))
    made = sorted(p.relative_to(work) for p in work.glob(pattern))
    assert committed and committed == made
    differ = [str(f) for f in committed if not compare_grids.same(kind, ROOT / f, work / f, frozenset())]
    assert not differ, f"rerun the analysis (tools/reanalyse.sh {GRID}) and commit: {differ}"
