"""The smoke DAG on a real single-node SLURM cluster (tests/slurm/start-cluster.sh), through
profiles/slurm (plus the accounting-free overlay tests/slurm/profile) and
snakemake-executor-plugin-slurm: every train/evaluate job is an sbatch job; one training is killed
with scancel while it runs, retried (the profile's `retries: 2`), and the DAG still makes every output.
One Snakemake run serves all tests here: about 3 to 3.5 minutes on 2 cores."""

import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_workflow import ROOT, copy_workflow, planned, snakemake
from test_workflow import test_smoke_makes_every_output as check_smoke_outputs

# Fixed path: no spaces (it goes into slurm.conf) and readable by the slurm user (pytest's tmp is 0700).
SLURM_DIR = "/tmp/neft-slurm-test"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CI") != "true" and os.environ.get("NEFT_SLURM") != "1",
        reason="starts a real SLURM cluster (root, apt): set NEFT_SLURM=1 or CI=true",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="tests/slurm/start-cluster.sh needs root"),
    pytest.mark.skipif(
        not (shutil.which("apt-get") or shutil.which("slurmctld")),
        reason="needs apt-get (Debian) to install slurm-wlm, or slurm-wlm installed",
    ),
]


def cluster_script(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ROOT / "tests" / "slurm" / name],
        env=dict(os.environ, NEFT_SLURM_DIR=SLURM_DIR),
        capture_output=True,
        text=True,
        timeout=600,
    )


def squeue(*args: str) -> list[list[str]]:
    out = subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, timeout=30).stdout
    return [line.split() for line in out.splitlines()]


@pytest.fixture(scope="module")
def cluster():
    """A fresh cluster (state from an earlier run removed), always stopped afterwards."""
    cluster_script("stop-cluster.sh")  # one left by an interrupted run, by its pid files
    shutil.rmtree(SLURM_DIR, ignore_errors=True)
    try:
        started = cluster_script("start-cluster.sh")
        assert started.returncode == 0, started.stdout + started.stderr
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SLURM_CONF", f"{SLURM_DIR}/slurm.conf")
            yield
    finally:
        cluster_script("stop-cluster.sh")


def cancel_a_running_training(dag, work) -> str | None:
    """scancel a train job once its `neft train` has started (its log exists), or the next one if it
    ended first; its SLURM job id."""
    while not dag.done():
        for job, comment in squeue("-t", "RUNNING", "-o", "%i %k"):
            if not comment.startswith("rule_train_wildcards_"):
                continue
            # the train rule's wildcards (neft/layout.py: RUN) joined by "_"; a dataset name may hold one too
            model, rest = comment.removeprefix("rule_train_wildcards_").split("_", 1)
            dataset, variant, sigma_d, seed = rest.rsplit("_", 3)
            logs = work.glob(f"results/*/logs/train/{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}.log")
            if any(logs) and subprocess.run(["scancel", job], capture_output=True).returncode == 0:
                return job
        time.sleep(0.5)
    return None


@pytest.fixture(scope="module")
def run(cluster, tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("slurm"))
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        dag = pool.submit(
            snakemake,
            "--profile",
            ROOT / "profiles" / "slurm",
            "--profile",
            ROOT / "tests" / "slurm" / "profile",
            "--configfile",
            "config/smoke.yaml",
            cwd=work,
            timeout=600,
        )
        killed = cancel_a_running_training(dag, work)
        out = dag.result()
    run_id = re.search(r"SLURM run ID: (\S+)", out.text)
    # every job of this run, finished ones too (the cluster's MinJobAge is 600 s)
    states = dict(squeue("-t", "all", "-n", run_id[1], "-o", "%i %T")) if run_id else {}
    print(f"SLURM smoke DAG: {time.monotonic() - started:.0f} s, killed SLURM job {killed}, jobs {states}")
    return work, out, killed, states


def submissions(text: str) -> dict[str, str]:
    """SLURM job id -> Snakemake job id, from 'Job 21 has been submitted with SLURM jobid 1 (log: ...)'."""
    return {m[2]: m[1] for m in re.finditer(r"Job (\d+) has been submitted with SLURM jobid (\d+)", text)}


def test_dag_finishes_with_every_output(run):
    work, out, _, _ = run
    assert out.returncode == 0, out.text[-5000:]
    check_smoke_outputs(work)


def test_every_cluster_job_was_submitted_to_slurm_and_completed(run):
    _, out, killed, states = run
    jobs = planned(out.text)  # the run's own 'Job stats' table; the other rules are localrules
    submitted = submissions(out.text)
    assert len(submitted) == jobs["train"] + jobs["evaluate"] + 1  # + the retry of the killed job
    assert set(states) == set(submitted), out.text[-5000:]
    assert {job: state for job, state in states.items() if state != "COMPLETED"} == {killed: "CANCELLED"}


def test_a_cancelled_job_is_retried(run):
    work, out, killed, _ = run
    assert killed, "no train job was seen RUNNING"
    snakemake_job = submissions(out.text)[killed]
    assert f"Trying to restart job {snakemake_job}." in out.text, out.text[-5000:]
    # resubmitted as a new SLURM job; the cancelled job's log is kept
    assert list(submissions(out.text).values()).count(snakemake_job) == 2
    assert list((work / ".snakemake" / "slurm_logs").rglob(f"{killed}.log"))
