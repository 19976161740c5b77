"""Interruptions: a training run killed (SIGKILL) or preempted (SIGTERM to its process group) in the
middle of an epoch resumes from its last checkpoint to the same weights as an uninterrupted run; a
killed Monte-Carlo evaluation leaves no result file; an interrupted write keeps the previous file."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from neft.checkpoint import read_model_file
from neft.cli import main
from neft.config import TrainConfig
from neft.io import save_json
from neft.trainer import train

from helpers import state_equal
from test_reliability import flags

RUN = dict(dataset="synthetic", width=0.125, device="cpu", num_workers=0, val_size=256, train_subset=512, epochs=4,
           val_mc_runs=2)
STEPS = 4  # per epoch: 512 images in batches of 128


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    train(TrainConfig(**RUN), out)
    return out


def start(args: list[str], cwd, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}  # the thread count of this process (conftest): same float sums
    return subprocess.Popen([sys.executable, "-m", "neft", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def wait_mid_epoch(proc: subprocess.Popen, checkpoint) -> None:
    """Return once the run's checkpoint lies inside its second epoch or a later one."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            state = torch.load(checkpoint, weights_only=True)
            if state["epoch"] >= 1 and 0 < state["step"] < STEPS:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run ended before it could be interrupted: {proc.communicate()[1][-800:]}")


def resume_and_compare(tmp_path, monkeypatch, uninterrupted) -> None:
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "run" / "model.pt").exists() and (tmp_path / "run" / "checkpoint.pt").exists()
    assert main(["train", "--out", "run", "--resume", *flags(RUN)]) == 0
    assert state_equal(read_model_file(tmp_path / "run" / "model.pt")["state_dict"],
                       read_model_file(uninterrupted / "model.pt")["state_dict"])
    strip = lambda history: [{k: v for k, v in h.items() if k != "seconds"} for h in history]  # noqa: E731
    assert strip(json.loads((tmp_path / "run" / "train.json").read_text())["history"]) == \
        strip(json.loads((uninterrupted / "train.json").read_text())["history"])


def test_sigkill_mid_epoch_then_resume_reaches_the_same_weights(tmp_path, monkeypatch, uninterrupted):
    proc = start(["train", "--out", "run", *flags(RUN), "--checkpoint-every-s", "0"], tmp_path)
    wait_mid_epoch(proc, tmp_path / "run" / "checkpoint.pt")
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    resume_and_compare(tmp_path, monkeypatch, uninterrupted)


def test_sigterm_to_the_process_group_checkpoints_and_exits_143(tmp_path, monkeypatch, uninterrupted):
    """A cluster preempting a job signals all its processes: DataLoader workers included."""
    proc = start(["train", "--out", "run", *flags(RUN), "--checkpoint-every-s", "0", "--num-workers", "2"], tmp_path,
                 start_new_session=True)
    wait_mid_epoch(proc, tmp_path / "run" / "checkpoint.pt")
    os.killpg(proc.pid, signal.SIGTERM)
    err = proc.communicate()[1]
    assert proc.returncode == 143 and "Traceback" not in err, err
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert err.splitlines()[-1] == (f"neft: stopped by SIGTERM at epoch {state['epoch'] + 1}, step {state['step']}; "
                                    f"checkpoint in run/checkpoint.pt")
    resume_and_compare(tmp_path, monkeypatch, uninterrupted)


def test_killed_evaluation_leaves_no_result(tmp_path, uninterrupted):
    proc = start(["evaluate", "--model", str(uninterrupted / "model.pt"), "--out", "r.json", "--csv", "r.csv",
                  "--runs", "100000", "--sigmas", "0.1", "--device", "cpu"], tmp_path)
    for line in proc.stderr:  # the Monte-Carlo runs have started
        if "runs at each of" in line:
            break
    time.sleep(1)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert list(tmp_path.iterdir()) == []  # no result, no temp file


def test_an_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    save_json(tmp_path / "r.json", {"runs": 1})

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)  # stopped after writing, before the rename
    with pytest.raises(KeyboardInterrupt):
        save_json(tmp_path / "r.json", {"runs": 2})
    assert json.loads((tmp_path / "r.json").read_text()) == {"runs": 1} and os.listdir(tmp_path) == ["r.json"]
