"""The GPU kit (tools/gpu/run.sh, unpack.sh) and bench.py's estimate, rehearsed on the CPU: each call's parts run in
their budgets, what finished comes back in results.tar.gz, and a later call or another checkout goes on from it."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from test_workflow import ROOT, copy_workflow, expected_runs, load_config, planned, snakemake


def test_the_estimate_prices_w_noise_with_k_draws_from_its_timed_step_else_as_ovf_with_k_forwards():
    """benchmarks/bench.py --estimate: a training of W/ Noise with K noise draws per step costs what the timed
    W/ Noise x4 step says, scaled per forward; from a file without that step (2026-11-25's), what OVF's with
    N + 1 = K forwards costs, and the output says so. One draw is W/ Noise's own step."""
    import importlib.util

    from neft.config import as_flags

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    steps = {"vanilla": 1.0, "noise": 1.2, "ovf": 4.0, "irs": 2.0}

    def job(method, timed=steps, **options):
        argv = ["train", "--out", "run", "--sigma-d", "0.3", *as_flags(dict(model="vgg8", dataset="mnist", **options))]
        measured = {"vgg8_step_s": timed, "vgg8_mc": {"fast_s": 0.5}, "mc_images": 10000}
        return bench.job_seconds([*argv, "--method", method], measured, reference=False)

    assert job("noise", n_draws=4)[0] == job("ovf")[0] == job("ovf", n_feedback=3)[0]
    assert job("noise")[0] < job("noise", n_draws=2)[0] == job("ovf", n_feedback=1)[0] < job("ovf")[0]
    assert job("noise")[1] == "eager" and "W/ Noise x4 as OVF's step" in job("noise", n_draws=4)[1]
    x4 = steps | {"noise x4": 5.5}  # its own step timed: used, no note
    assert job("noise", x4, n_draws=4) == job("ovf", steps | {"ovf": 5.5}) and job("noise", x4, n_draws=4)[1] == "eager"
    assert job("noise", x4, n_draws=2)[0] == job("ovf", steps | {"ovf": 5.5}, n_feedback=1)[0]


def gpu_kit(tmp_path: Path) -> Path:
    """A checkout as tools/gpu/run.sh finds it there: the workflow, its profiles, the kit and the benchmarks (and the
    test helpers the device check uses), and a grid of the smoke config's 2 trainings (one.yaml)."""
    there = copy_workflow(tmp_path / "there")
    for name in ("profiles", "tools", "benchmarks"):
        shutil.copytree(ROOT / name, there / name)
    (there / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "helpers.py", there / "tests")
    (there / "one.yaml").write_text(
        "extends: config/smoke.yaml\nmethods: [vanilla, noise]\ncompute_matched: false\nseeds: [0]\n"
        "beta: {ovf: default, irs: default}\nablations: {enabled: false}\nconvergence: {enabled: false}\n"
    )
    return there


def run_kit(there: Path, tmp_path: Path, *args: str) -> tuple[Path, str]:
    """One call of tools/gpu/run.sh (on the CPU, no wheels to install): its $OUT folder and run.log."""
    out_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    run = subprocess.run(
        ["bash", "tools/gpu/run.sh", "--commit", "0123abcd", "--cores", "2", *args],
        cwd=there,
        env=dict(os.environ, PYTHON=sys.executable, OUT=str(out_dir)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out_dir, (out_dir / "run.log").read_text()


@pytest.mark.slow
def test_gpu_kit_measures_each_benchmark_into_its_json(tmp_path):
    """tools/gpu/run.sh --measure --no-grid (on the CPU at --smoke sizes): bench.py, sharing.py, precision.py and
    bench.py's compile comparison each run in their time budget and write their JSON to $OUT; no grid runs."""
    there = gpu_kit(tmp_path)
    out_dir, log = run_kit(there, tmp_path, "--measure", "--smoke", "--no-grid", "--configfile", "one.yaml")
    for part in ("bench", "sharing", "precision", "bench-compile"):
        assert f"{part}: exit 0" in log, log[-3000:]
    bench = json.loads((out_dir / "bench.json").read_text())
    assert (
        set(bench["vgg8_step_s"]) == {"vanilla", "noise", "ovf", "irs", "noise x4"} and bench["vgg8_mc"]["fast_s"] > 0
    )
    assert "# one.yaml: 2 trainings, 2 evaluations planned" in log and "reference-style:" not in log
    sharing = json.loads((out_dir / "sharing.json").read_text())
    assert [r["jobs"] for r in sharing["results"]] == [1, 2] and {"device", "torch", "git_commit"} <= set(sharing)
    precision = json.loads((out_dir / "precision.json").read_text())
    assert set(precision["accuracy"]) == {"tf32", "bf16"} and len(precision["accuracy"]["bf16"]) == 1
    assert "vgg8_step_s" in json.loads((out_dir / "bench-compile.json").read_text())
    assert "no grid in this call" in log and not (out_dir / "results.tar.gz").exists()


def unpack_kit(out_dir: Path, tmp_path: Path, config: str, results: int) -> Path:
    """Another checkout with the grid's config, in which tools/gpu/unpack.sh put the `results` MC results a call
    brought back."""
    here = copy_workflow(tmp_path / "here")
    shutil.copytree(ROOT / "tools", here / "tools")
    shutil.copy2(tmp_path / "there" / config, here / config)
    subprocess.run(["git", "init", "-q"], cwd=here, check=True)
    unpacked = subprocess.run(
        ["bash", "tools/gpu/unpack.sh", str(out_dir / "results.tar.gz")], cwd=here, capture_output=True, text=True
    )
    assert unpacked.returncode == 0 and f"unpacked {results} MC results" in unpacked.stdout, (
        unpacked.stdout + unpacked.stderr
    )
    return here


@pytest.mark.slow
def test_gpu_kit_first_call_checks_runs_the_grid_on_the_paths_that_passed_then_benchmarks(tmp_path):
    """tools/gpu/run.sh --first --smoke: config/gpu-first.yaml at tiny sizes on the CPU. The short device check
    (no torch.compile) cannot run the graph step here, so the grid runs eager steps (the config it ran comes
    back as first.yaml); after the grid, bench.py times the step kinds it used; the runs come back, and a
    checkout that unpacks them has nothing left to train."""
    there = gpu_kit(tmp_path)
    (there / "tiny.yaml").write_text(
        "extends: config/gpu-first.yaml\nexperiments: [{model: vgg8, dataset: synthetic}]\nseeds: [0]\n"
        "train: {width: 0.0625, epochs: 1, train_subset: 256, val_size: 64, val_mc_runs: 2}\n"
        "eval: {runs: 2, test_subset: 128}\nexecution: {device: cpu, num_workers: 0}\n"
        "resources: {gpu: 0, train: {threads: 1}, evaluate: {threads: 1}}\n"
    )
    started = time.monotonic()
    out_dir, log = run_kit(there, tmp_path, "--first", "--smoke", "--configfile", "tiny.yaml")
    print(f"run.sh --first --smoke: {time.monotonic() - started:.0f} s")
    assert "short_check: exit 0" in log, log[-3000:]
    ran = yaml.safe_load((out_dir / "first.yaml").read_text())
    assert ran == {"extends": "tiny.yaml", "train": {"step": "eager"}}, ran
    assert "snakemake exit 0" in log and "bench: exit 0" in log, log[-3000:]
    assert log.index("snakemake exit 0") < log.index("bench: exit 0")  # the benchmark only after the grid
    evaluated = len(expected_runs(load_config("gpu-first") | {"seeds": [0]})[0])
    assert f"packed {evaluated} MC results" in log, log[-3000:]
    bench = json.loads((out_dir / "bench.json").read_text())
    assert bench["steps"] == ["eager"] and set(bench["vgg8_step_s"]) == {"vanilla", "noise", "ovf", "irs", "noise x4"}
    here = unpack_kit(out_dir, tmp_path, "tiny.yaml", evaluated)
    train = json.loads(next((here / "results/gpu-first/runs").rglob("train.json")).read_text())
    assert train["config"]["step"] == "eager" and train["config"]["epochs"] == 1
    assert "Nothing to be done" in snakemake("-n", "--configfile", "tiny.yaml", cwd=here).text


@pytest.mark.slow
def test_gpu_kit_brings_back_what_finished_and_the_next_call_goes_on(tmp_path):
    """tools/gpu/run.sh (here on the CPU, no wheels to install): a call cut at its deadline still packs
    results.tar.gz; a call that finishes packs the MC results and no model; unpack.sh puts them into
    another checkout, where nothing is left to train."""
    there = gpu_kit(tmp_path)
    (there / "long.yaml").write_text("extends: one.yaml\nname: long\ntrain: {epochs: 1000}\n")  # never done in time

    def call(config, minutes):
        return run_kit(there, tmp_path, "--configfile", config, "--minutes", minutes)

    _, log = call("long.yaml", "1.6")  # 96 s, less 75 s to stop and pack: the grid runs for about 20 s
    assert "(deadline)" in log, log[-3000:]
    out_dir, log = call("one.yaml", "5")
    assert "snakemake exit 0" in log and "packed 2 MC results" in log, log[-3000:]
    packed = subprocess.run(["tar", "tzf", str(out_dir / "results.tar.gz")], capture_output=True, text=True).stdout
    assert "results/smoke/mc/vgg8/synthetic/noise/sd0.3/seed0.json" in packed and ".pt" not in packed
    assert "figures/smoke/figure3.png" in packed and "/logs/" not in packed

    here = unpack_kit(out_dir, tmp_path, "one.yaml", 2)
    assert "Nothing to be done" in snakemake("-n", "--configfile", "one.yaml", cwd=here).text
    # a clone writes files in path order (each newer than those before it): the analysis is redone, not
    # the runs (a grid with `beta: search` would redo its search and the runs it feeds: docs/pipeline.md)
    for age, path in enumerate(sorted((here / "results").rglob("*"))):
        os.utime(path, (1.7e9 + age, 1.7e9 + age))
    jobs = planned(snakemake("-n", "--configfile", "one.yaml", cwd=here).text)
    assert jobs.get("train", 0) == jobs.get("evaluate", 0) == 0, jobs
