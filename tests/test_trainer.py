"""Trainer: resume reaches the same weights, worker count does not matter, divergence is recorded,
pretrained starts are checked, IRS heads pointing away from the label are recorded."""
import json

import pytest
import torch

from neft.checkpoint import read_checkpoint, read_model_file
from neft.errors import CheckpointError
from neft.methods.vanilla import Vanilla
from neft.trainer import Interrupted, anti_aligned_heads, train

from helpers import state_equal, tiny


class StopAfter(dict):
    """A stop flag that turns on after `steps` training steps (what SIGTERM does)."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def __getitem__(self, key):
        self.steps -= 1
        return self.steps < 0


def weights(path):
    return read_model_file(path / "model.pt")["state_dict"]


@pytest.mark.parametrize("method,stop_at", [("irs", 8), ("noise", 3), ("ovf", 8)])
def test_resume_reaches_the_same_weights(tmp_path, method, stop_at):
    # 8 steps per epoch: stopping after 8 steps cuts at the very end of epoch 1 (before its validation),
    # after 3 steps mid-epoch
    cfg = tiny(method=method, epochs=2, batch_size=128, train_subset=1024)
    full = train(cfg, tmp_path / "full")
    with pytest.raises(Interrupted):
        train(cfg, tmp_path / "cut", stop=StopAfter(stop_at))
    assert (tmp_path / "cut" / "checkpoint.pt").exists() and not (tmp_path / "cut" / "model.pt").exists()
    resumed = train(cfg, tmp_path / "cut", resume=True)
    assert state_equal(weights(tmp_path / "full"), weights(tmp_path / "cut"))
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in full["history"]]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in resumed["history"]]
    assert not (tmp_path / "cut" / "checkpoint.pt").exists()
    assert train(cfg, tmp_path / "cut", resume=True)["history"] == resumed["history"]  # finished: no work


def test_workers_do_not_change_the_result(tmp_path):
    a = train(tiny(train_subset=512), tmp_path / "a")
    b = train(tiny(train_subset=512, num_workers=2), tmp_path / "b")
    assert state_equal(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert a["history"][0]["train_loss"] == b["history"][0]["train_loss"]


def test_split_sizes_and_selection(tmp_path):
    result = train(tiny(epochs=2, train_subset=300, select="val"), tmp_path)
    assert result["n_val"] == 256 and result["n_train"] == 300
    best = max(result["history"], key=lambda h: h["val_noisy"])
    assert result["selected_epoch"] == best["epoch"]
    assert result["flags"] == {"irs_heads_anti_aligned": []}  # no heads outside IRS
    saved = json.loads((tmp_path / "train.json").read_text())
    assert saved["provenance"]["torch"] == torch.__version__ and saved["config"]["seed"] == 0


def test_a_copy_without_git_takes_its_commit_from_the_environment(monkeypatch):
    from neft import provenance

    def no_git(*args, **kwargs):
        raise OSError("git: not found")
    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    monkeypatch.setenv("NEFT_GIT_COMMIT", "0123abcd")
    provenance.git_commit.cache_clear()
    try:
        assert provenance.git_commit() == "0123abcd"
    finally:
        provenance.git_commit.cache_clear()


def test_nan_loss_ends_the_run_as_diverged(tmp_path, monkeypatch):
    calls = {"n": 0}
    original = Vanilla.loss

    def nan_in_epoch_two(self, model, x, y, g):
        loss, extras = original(self, model, x, y, g)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] > 4 else loss), extras

    monkeypatch.setattr(Vanilla, "loss", nan_in_epoch_two)
    result = train(tiny(method="vanilla", sigma_d=0.0, epochs=3, train_subset=512), tmp_path)  # 4 steps per epoch
    assert result["status"] == "diverged" and result["diverged_epoch"] == 2 and result["epochs_run"] == 1
    meta = read_model_file(tmp_path / "model.pt")
    assert meta["status"] == "diverged" and meta["selected_epoch"] == 1


def test_pretrained_start_and_checks(tmp_path):
    # a pretrained model of another init fits: its weights replace this run's initial ones
    train(tiny(method="vanilla", sigma_d=0.0, train_subset=256, init="pytorch"), tmp_path / "pre")
    result = train(tiny(method="ovf", sigma_d=0.2, train_subset=256, init_from=str(tmp_path / "pre" / "model.pt")),
                   tmp_path / "ovf")
    assert result["status"] == "completed" and result["model_args"]["init"] == "reference"
    with pytest.raises(CheckpointError, match="does not match"):
        train(tiny(model="resnet18", train_subset=256, init_from=str(tmp_path / "pre" / "model.pt")), tmp_path / "bad")


def test_checkpoint_of_another_run_is_refused(tmp_path):
    with pytest.raises(Interrupted):
        train(tiny(train_subset=256), tmp_path, stop=StopAfter(1))
    with pytest.raises(CheckpointError, match="another run"):
        read_checkpoint(tmp_path / "checkpoint.pt", {**tiny().__dict__, "sigma_d": 0.3}, "cpu")


def test_anti_aligned_heads_rule():
    history = [{"train_loss": 2.3, "head_acc": [1.0, 9.0, 4.0]}, {"train_loss": 2.4, "head_acc": [4.9, 30.0, 5.0]}]
    assert anti_aligned_heads(history, 10) == [1]  # last epoch, below half of chance, whatever the loss did
    assert anti_aligned_heads(history, 5) == [1, 3]
    assert anti_aligned_heads([{"train_loss": 2.3, "head_acc": []}], 10) == [] and anti_aligned_heads([], 10) == []
