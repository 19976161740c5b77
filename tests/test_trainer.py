"""Trainer: resume reaches the same weights, worker count does not matter, divergence is recorded,
pretrained starts are checked, IRS heads pointing away from the label are recorded."""

import json
import signal
from types import SimpleNamespace

import pytest
import torch
from helpers import record_draws, same_draws, state_equal, tiny

from neft import trainer
from neft.checkpoint import read_checkpoint, read_model_file
from neft.errors import CheckpointError
from neft.methods.vanilla import Vanilla
from neft.trainer import Interrupted, anti_aligned_heads, train


class StopAfter(dict):
    """A stop flag that turns on after `steps` training steps (what SIGTERM does: it holds the signal's number)."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def __getitem__(self, key):
        self.steps -= 1
        return signal.SIGTERM if self.steps < 0 else 0


def weights(path):
    return read_model_file(path / "model.pt")["state_dict"]


# 8 steps per epoch. StopAfter(n) stops after step n + 1: 7 cuts right after epoch 1's last step (before
# its scheduler step and validation), 3 mid-epoch 1, 9 mid-epoch 2 (after a validation was kept)
@pytest.mark.parametrize("method,stop_after,cut", [("irs", 7, (0, 8)), ("noise", 3, (0, 4)), ("ovf", 9, (1, 2))])
def test_resume_reaches_the_same_weights(tmp_path, method, stop_after, cut):
    cfg = tiny(method=method, epochs=2, batch_size=128, train_subset=1024)
    full = train(cfg, tmp_path / "full")
    with pytest.raises(Interrupted):
        train(cfg, tmp_path / "cut", stop=StopAfter(stop_after))
    assert (tmp_path / "cut" / "checkpoint.pt").exists() and not (tmp_path / "cut" / "model.pt").exists()
    state = read_checkpoint(tmp_path / "cut" / "checkpoint.pt", cfg.__dict__, "cpu")
    assert (state["epoch"], state["step"]) == cut and len(state["history"]) == cut[0]
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


def test_selection_keeps_the_best_validation_epoch_and_its_weights(tmp_path, monkeypatch):
    from neft import trainer

    kept = []  # each epoch's weights, as validated

    def validation(model, *args, **kwargs):  # noisy validation accuracy 40, 60, 50 % in epochs 1, 2, 3
        kept.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return [SimpleNamespace(mean=[40.0, 60.0, 50.0][(len(kept) - 1) % 3])]

    monkeypatch.setattr(trainer, "mc_evaluate", validation)
    result = train(tiny(epochs=3, train_subset=256), tmp_path / "val")
    assert [h["val_noisy"] for h in result["history"]] == [40.0, 60.0, 50.0]
    assert result["selected_epoch"] == 2 and result["selected_val_accuracy"] == 60.0
    assert state_equal(weights(tmp_path / "val"), kept[1]) and not state_equal(kept[1], kept[2])
    result = train(tiny(epochs=3, train_subset=256, select="last"), tmp_path / "last")
    assert result["selected_epoch"] == 3 and state_equal(weights(tmp_path / "last"), kept[5])


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


def test_noisy_validation_uses_the_same_chips_every_epoch(tmp_path, monkeypatch):
    """Selection compares epochs on fixed chips: each epoch's noisy validation draws what the first drew."""
    draws, per_epoch, validation = record_draws(monkeypatch), [], trainer.mc_evaluate

    def validate_and_keep_its_draws(*args, **kwargs):
        start = len(draws)
        result = validation(*args, **kwargs)
        per_epoch.append(draws[start:])
        return result

    monkeypatch.setattr(trainer, "mc_evaluate", validate_and_keep_its_draws)
    train(tiny(epochs=3, val_mc_runs=2, train_subset=256), tmp_path)
    assert len(per_epoch) == 3 and len(per_epoch[0]) == 2 and not same_draws(per_epoch[0][:1], per_epoch[0][1:])
    assert same_draws(per_epoch[1], per_epoch[0]) and same_draws(per_epoch[2], per_epoch[0])


def test_pretrained_start_and_checks(tmp_path):
    # a pretrained model of another init fits: its weights replace this run's initial ones
    train(tiny(method="vanilla", sigma_d=0.0, train_subset=256, init="pytorch"), tmp_path / "pre")
    result = train(
        tiny(method="ovf", sigma_d=0.2, train_subset=256, init_from=str(tmp_path / "pre" / "model.pt")),
        tmp_path / "ovf",
    )
    assert result["status"] == "completed" and result["model_args"]["init"] == "reference"
    with pytest.raises(CheckpointError, match="does not match"):
        train(tiny(model="resnet18", train_subset=256, init_from=str(tmp_path / "pre" / "model.pt")), tmp_path / "bad")


def test_checkpoint_of_another_run_is_refused(tmp_path):
    cfg = tiny(train_subset=256)
    with pytest.raises(Interrupted):
        train(cfg, tmp_path, stop=StopAfter(1))
    for key, other in (("seed", 1), ("sigma_d", 0.3), ("init", "pytorch"), ("val_mc_runs", 4)):
        with pytest.raises(CheckpointError, match=f"another run \\({key} = "):
            train(tiny(train_subset=256, **{key: other}), tmp_path, resume=True)
    assert train(cfg, tmp_path, resume=True)["status"] == "completed"  # its own run resumes


def test_anti_aligned_heads_rule():
    history = [{"train_loss": 2.3, "head_acc": [1.0, 9.0, 4.0]}, {"train_loss": 2.4, "head_acc": [4.9, 30.0, 5.0]}]
    assert anti_aligned_heads(history, 10) == [1]  # last epoch, below half of chance, whatever the loss did
    assert anti_aligned_heads(history, 5) == [1, 3]
    assert anti_aligned_heads([{"train_loss": 2.3, "head_acc": []}], 10) == [] and anti_aligned_heads([], 10) == []


def same(a, b) -> bool:
    """Equal values, tensors compared exactly, at any depth of dicts and lists."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.dtype == b.dtype and torch.equal(a, b)
    return a == b


def test_run_state_saves_and_restores_symmetrically(tmp_path):
    """A run's state in the middle of an epoch, through checkpoint.pt into another run's objects (other
    weights, fresh optimizer): the same state comes out, and the noise generator goes on with the same draws."""
    from neft import trainer
    from neft.checkpoint import read_checkpoint
    from neft.datasets import DATASETS

    cfg = tiny(method="irs", epochs=3)
    spec, law = DATASETS.get(cfg.dataset), cfg.noise_law()
    torch.manual_seed(0)
    state = trainer.new_run(cfg, spec, law, torch.device("cpu"), started=0.0)
    x, y = torch.randn(8, spec.in_channels, spec.image_size, spec.image_size), torch.randint(0, spec.num_classes, (8,))
    loss, extras = state.method.loss(state.model, x, y, state.noise_rng)
    loss.backward()
    state.optimizer.step()
    state.scheduler.step()
    state.epoch, state.step, state.history = (
        1,
        3,
        [{"epoch": 1, "train_loss": 2.0, "val_clean": 10.0, "val_noisy": 9.0, "head_acc": [1.0, 2.0, 3.0]}],
    )
    state.best = {"metric": 9.0, "epoch": 1, "state": {k: v.clone() for k, v in state.model.state_dict().items()}}
    state.sums["loss"] += 7.5
    state.sums["n"] += 8
    state.sums["head_correct"] += extras["head_correct"]
    checkpoints = trainer.Checkpoints(tmp_path / "checkpoint.pt", cfg, state.model.args)
    checkpoints.save(state)
    saved = state.to_checkpoint()

    torch.manual_seed(1)
    other = trainer.new_run(cfg, spec, law, torch.device("cpu"), started=0.0)
    assert not same(other.to_checkpoint()["model"], saved["model"])
    other.restore(read_checkpoint(tmp_path / "checkpoint.pt", cfg.__dict__, "cpu"))
    restored = other.to_checkpoint()
    assert abs(restored.pop("elapsed_s") - saved.pop("elapsed_s")) < 60
    assert same(restored, saved)
    assert torch.equal(torch.randn(4, generator=state.noise_rng), torch.randn(4, generator=other.noise_rng))
