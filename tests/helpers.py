"""Shared test helpers (imported by the test modules; pytest puts tests/ on sys.path)."""
import torch

from neft.config import TrainConfig


def tiny(**overrides) -> TrainConfig:
    """A narrow, CPU-only training config on the synthetic set (seconds per epoch)."""
    values = dict(model="vgg8", dataset="synthetic", method="noise", sigma_d=0.1, width=0.125, epochs=1,
                  val_size=256, val_mc_runs=2, device="cpu", num_workers=0, checkpoint_every_s=1e9)
    values.update(overrides)
    return TrainConfig(**values)


def state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
