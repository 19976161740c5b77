"""Interruptions: a training run killed (SIGKILL) or preempted (SIGTERM to its process group) in the
middle of an epoch resumes from its last checkpoint to the same weights as an uninterrupted run; a
killed Monte-Carlo evaluation leaves no result file; an interrupted write keeps the previous file; a
full disk at the end of training loses no training; a second training in the same folder refuses."""

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from helpers import state_equal

import neft.io
from neft.checkpoint import read_model_file
from neft.cli import main
from neft.config import TrainConfig, as_flags
from neft.io import folder_lock, save_json
from neft.methods.injection import NoiseInjection
from neft.trainer import train

RUN = dict(
    dataset="synthetic",
    width=0.125,
    device="cpu",
    num_workers=0,
    val_size=256,
    train_subset=512,
    epochs=4,
    val_mc_runs=2,
)
STEPS = 4  # per epoch: 512 images in batches of 128


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    train(TrainConfig(**RUN), out)
    return out


def start(args: list[str], cwd, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}  # this process's (conftest): same float sums
    return subprocess.Popen(
        [sys.executable, "-m", "neft", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def wait_mid_epoch(proc: subprocess.Popen, checkpoint) -> None:
    """Return once the run's checkpoint lies inside its second epoch or a later one."""
    wait_for_a_checkpoint(proc, checkpoint, lambda state: state["epoch"] >= 1 and 0 < state["step"] < STEPS)


def wait_for_a_checkpoint(proc: subprocess.Popen, checkpoint, where=lambda state: True) -> None:
    """Return once the run has written a checkpoint (`where` it is), or fail."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if where(torch.load(checkpoint, weights_only=True)):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run ended before it could be interrupted: {proc.communicate()[1][-800:]}")


def resume_and_compare(tmp_path, monkeypatch, uninterrupted) -> None:
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "run" / "model.pt").exists() and (tmp_path / "run" / "checkpoint.pt").exists()
    assert main(["train", "--out", "run", "--resume", *as_flags(RUN)]) == 0
    assert state_equal(
        read_model_file(tmp_path / "run" / "model.pt")["state_dict"],
        read_model_file(uninterrupted / "model.pt")["state_dict"],
    )
    strip = lambda history: [{k: v for k, v in h.items() if k != "seconds"} for h in history]  # noqa: E731
    assert strip(json.loads((tmp_path / "run" / "train.json").read_text())["history"]) == strip(
        json.loads((uninterrupted / "train.json").read_text())["history"]
    )


def test_sigkill_mid_epoch_then_resume_reaches_the_same_weights(tmp_path, monkeypatch, uninterrupted):
    proc = start(["train", "--out", "run", *as_flags(RUN), "--checkpoint-every-s", "0"], tmp_path)
    wait_mid_epoch(proc, tmp_path / "run" / "checkpoint.pt")
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    resume_and_compare(tmp_path, monkeypatch, uninterrupted)


def test_sigterm_to_the_process_group_checkpoints_and_exits_143(tmp_path, monkeypatch, uninterrupted):
    """A cluster preempting a job signals all its processes: DataLoader workers included."""
    proc = start(
        ["train", "--out", "run", *as_flags(RUN), "--checkpoint-every-s", "0", "--num-workers", "2"],
        tmp_path,
        start_new_session=True,
    )
    wait_mid_epoch(proc, tmp_path / "run" / "checkpoint.pt")
    os.killpg(proc.pid, signal.SIGTERM)
    err = proc.communicate()[1]
    assert proc.returncode == 143 and "Traceback" not in err, err
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert err.splitlines()[-1] == (
        f"neft: stopped by SIGTERM at epoch {state['epoch'] + 1}, step {state['step']}; checkpoint in run/checkpoint.pt"
    )
    resume_and_compare(tmp_path, monkeypatch, uninterrupted)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP], ids=["SIGINT", "SIGHUP"])
def test_ctrl_c_and_a_closed_terminal_checkpoint_like_sigterm(tmp_path, signum):
    """Ctrl-C (SIGINT) and a closed terminal (SIGHUP) reach the whole foreground process group, DataLoader workers
    included: the trainer writes a checkpoint, says so in one line and exits 128 + the signal, like SIGTERM
    (whose test above shows such a checkpoint resumes to the same weights)."""
    proc = start(
        ["train", "--out", "run", *as_flags(RUN), "--checkpoint-every-s", "0", "--num-workers", "2"],
        tmp_path,
        start_new_session=True,
    )
    wait_for_a_checkpoint(proc, tmp_path / "run" / "checkpoint.pt")
    os.killpg(proc.pid, signum)
    err = proc.communicate()[1]
    assert proc.returncode == 128 + signum and "Traceback" not in err, err
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert err.splitlines()[-1] == (
        f"neft: stopped by {signum.name} at epoch {state['epoch'] + 1}, step {state['step']}; checkpoint in "
        f"run/checkpoint.pt"
    )


def test_killed_evaluation_leaves_no_result(tmp_path, uninterrupted):
    proc = start(
        [
            "evaluate",
            "--model",
            str(uninterrupted / "model.pt"),
            "--out",
            "r.json",
            "--csv",
            "r.csv",
            "--runs",
            "100000",
            "--sigmas",
            "0.1",
            "--device",
            "cpu",
        ],
        tmp_path,
    )
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


def full_disk(name: str):
    """neft.io.write_atomic, failing as on a full disk when it writes a file called `name`."""
    atomic = neft.io.write_atomic

    def write_or_fail(path, write):
        def no_space(f):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return atomic(path, no_space if Path(path).name == name else write)

    return write_or_fail


@pytest.mark.parametrize("name", ["model.pt", "train.json"])
def test_a_full_disk_at_the_end_keeps_the_training_and_resume_writes_it(
    tmp_path, monkeypatch, capsys, uninterrupted, name
):
    """The checkpoint is written before model.pt and train.json: when writing one of them fails (ENOSPC),
    one line says so, and --resume writes them without a training step, to the same weights."""
    atomic = neft.io.write_atomic
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(neft.io, "write_atomic", full_disk(name))
    assert main(["train", "--out", "run", *as_flags(RUN)]) == 2
    assert capsys.readouterr().err == (
        f"neft: error: cannot write run/{name} (No space left on device); the finished "
        f"training is kept in run/checkpoint.pt: make room, then rerun with --resume "
        f"to write the results without training again\n"
    )
    assert not (tmp_path / "run" / "train.json").exists() and (tmp_path / "run" / "checkpoint.pt").exists()
    assert not list((tmp_path / "run").glob(".*"))  # no temp file, no lock
    monkeypatch.setattr(neft.io, "write_atomic", atomic)
    steps, loss = [], NoiseInjection.loss
    monkeypatch.setattr(NoiseInjection, "loss", lambda *args: steps.append(1) or loss(*args))
    resume_and_compare(tmp_path, monkeypatch, uninterrupted)
    assert steps == [] and not (tmp_path / "run" / "checkpoint.pt").exists()


@contextmanager
def small_disk(kind: str, folder: Path, size: int):
    """`folder` on a disk of `size` bytes, the size changed by calling what is given: a real tmpfs where this
    process may mount one (root in CI), else writes beyond `size` bytes per file fail with EFBIG
    (RLIMIT_FSIZE), as a full disk fails them with ENOSPC."""
    folder.mkdir()
    if kind == "tmpfs":
        mount = lambda *options: subprocess.run(["mount", *options], capture_output=True, text=True)  # noqa: E731
        made = mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
        if made.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}); the file-size-limit case stands in")
        try:
            yield lambda new: mount("-o", f"remount,size={new}", str(folder)).check_returncode()
        finally:
            os.chdir(folder.parent)  # out of it, so that it can be unmounted
            subprocess.run(["umount", str(folder)], check=True)
    else:
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, limits[1]))
        try:
            yield lambda new: resource.setrlimit(resource.RLIMIT_FSIZE, (new, limits[1]))
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)


SMALL = {**RUN, "epochs": 1, "train_subset": 256}  # checkpoint.pt 2.5 MB, model.pt 0.8 MB, train.json 2 kB
NO_SPACE = {"tmpfs": "No space left on device", "file-size-limit": "File too large"}


@pytest.mark.parametrize("kind", ["tmpfs", "file-size-limit"])
def test_a_checkpoint_too_big_for_the_disk_loses_no_training(tmp_path, monkeypatch, caplog, kind):
    """The final checkpoint does not fit (torch.save raised RuntimeError, a traceback, and the run was lost):
    model.pt and train.json, smaller, are written all the same, and the run is complete."""
    with small_disk(kind, tmp_path / "disk", 2_000_000):
        monkeypatch.chdir(tmp_path / "disk")
        assert main(["train", "--out", "run", *as_flags(SMALL)]) == 0
        assert sorted(os.listdir("run")) == ["model.pt", "train.json"]  # no checkpoint, no temp file, no lock
        assert read_model_file("run/model.pt")["status"] == "completed"
    assert f"cannot write run/checkpoint.pt ({NO_SPACE[kind]}); no checkpoint is kept" in caplog.text


@pytest.mark.parametrize("kind", ["tmpfs", "file-size-limit"])
def test_a_disk_too_small_for_anything_is_one_line(tmp_path, monkeypatch, capsys, kind):
    with small_disk(kind, tmp_path / "disk", 500_000):
        monkeypatch.chdir(tmp_path / "disk")
        assert main(["train", "--out", "run", *as_flags(SMALL)]) == 2
        assert os.listdir(".") == []  # the run folder, empty, is removed again
    assert capsys.readouterr().err == (
        f"neft: error: cannot write run/model.pt ({NO_SPACE[kind]}); no checkpoint is kept: make room, then train "
        f"again\n"
    )


def test_a_full_disk_mid_run_keeps_the_last_checkpoint_to_resume_from(tmp_path, monkeypatch, capsys, uninterrupted):
    """4 MB hold one checkpoint (2.5 MB) but not a second beside it: the write of the next one fails, the last
    one is kept, whole; with room made, --resume reaches the same weights. Needs a real disk: a per-file limit
    would let every checkpoint fit."""
    with small_disk("tmpfs", tmp_path / "disk", 4_000_000) as resize:
        monkeypatch.chdir(tmp_path / "disk")
        assert main(["train", "--out", "run", *as_flags(RUN), "--checkpoint-every-s", "0"]) == 2
        assert capsys.readouterr().err == (
            "neft: error: cannot write run/checkpoint.pt (No space left on device); the previous checkpoint is "
            "kept: make room, then rerun with --resume\n"
        )
        assert torch.load("run/checkpoint.pt", weights_only=True)["step"] == 1
        resize(32_000_000)
        resume_and_compare(tmp_path / "disk", monkeypatch, uninterrupted)


def test_a_full_disk_after_a_run_diverged_keeps_its_record(tmp_path, monkeypatch, capsys):
    """The same for a run that diverged in epoch 2: --resume writes its record without training epoch 2 again."""
    atomic, steps, loss = neft.io.write_atomic, [], NoiseInjection.loss

    def nan_from_step_5(self, *args):
        steps.append(1)
        value, extras = loss(self, *args)
        return (value * float("nan") if len(steps) > STEPS else value), extras

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(NoiseInjection, "loss", nan_from_step_5)
    monkeypatch.setattr(neft.io, "write_atomic", full_disk("model.pt"))
    assert main(["train", "--out", "run", *as_flags(RUN)]) == 2
    assert "cannot write run/model.pt" in capsys.readouterr().err
    monkeypatch.setattr(neft.io, "write_atomic", atomic)
    steps.clear()
    assert main(["train", "--out", "run", "--resume", *as_flags(RUN)]) == 0 and steps == []
    trained = json.loads((tmp_path / "run" / "train.json").read_text())
    assert [trained[k] for k in ("status", "diverged_epoch", "epochs_run", "selected_epoch")] == ["diverged", 2, 1, 1]


def test_a_second_training_in_the_same_folder_refuses_and_a_killed_one_does_not_block(tmp_path):
    """A requeued job beside a zombie one: the second process stops with one line while the first runs;
    once the first is killed (-9), the kernel has dropped its lock and the folder is free again."""
    first = start(["train", "--out", "run", *as_flags({**RUN, "epochs": 1000})], tmp_path)
    lock = tmp_path / "run" / ".lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip()) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "neft", "train", "--out", "run", *as_flags(RUN)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert first.poll() is None, first.communicate()[1][-2000:]
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 2 and second.stderr.splitlines() == [
        f"neft: error: run is in use by another neft train (pid {first.pid}); wait for it to end, or stop it"
    ]
    assert lock.exists()  # left behind by the killed process, and no obstacle:
    with folder_lock(tmp_path / "run", "test"):
        pass


def test_a_file_system_without_locks_trains_without_one(tmp_path, monkeypatch, caplog):
    """Lustre mounted without flock says ENOSYS: the lock is a safety net, so training goes on, with a warning."""

    def no_locks(fd, operation):
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(neft.io.fcntl, "flock", no_locks)
    with folder_lock(tmp_path / "run", "neft train"):
        assert (tmp_path / "run" / ".lock").read_text() == f"{os.getpid()}\n"
    assert "run: no lock (Function not implemented): nothing keeps a second neft train out" in caplog.text
    assert not (tmp_path / "run").exists()
