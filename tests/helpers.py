"""Shared test helpers (imported by the test modules; pytest puts tests/ on sys.path)."""

import torch

from neft.config import TrainConfig
from neft.noise import NoiseLaw

# a YAML alias bomb: 400 bytes that expand to 9**9 values
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi")
)


def tiny(**overrides) -> TrainConfig:
    """A narrow, CPU-only training config on the synthetic set (seconds per epoch)."""
    values = dict(
        model="vgg8",
        dataset="synthetic",
        method="noise",
        sigma_d=0.1,
        width=0.125,
        epochs=1,
        val_size=256,
        val_mc_runs=2,
        device="cpu",
        num_workers=0,
        checkpoint_every_s=1e9,
    )
    values.update(overrides)
    return TrainConfig(**values)


def state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def marker_image() -> torch.Tensor:
    """Black 32x32 image with two markers that reveal the crop offset and the flip of any crop."""
    image = torch.zeros(1, 32, 32, dtype=torch.uint8)
    image[0, 16, 10], image[0, 16, 12] = 255, 128
    return image


def offsets_and_flip(batch: torch.Tensor) -> list[tuple[int, int, bool]]:
    """From crops of the marker image: (dy, dx, flipped) per image."""
    bright, dim = batch[:, 0].flatten(1).topk(2).indices.unbind(1)
    rows, cols, dim_cols = bright // 32, bright % 32, dim % 32
    flipped = dim_cols < cols
    # unflipped: col = 10 + 4 - dx; flipped: col = 31 - (14 - dx)
    dx = torch.where(flipped, cols - 17, 14 - cols)
    return list(zip((20 - rows).tolist(), dx.tolist(), flipped.tolist()))


def record_draws(monkeypatch) -> list[list[torch.Tensor]]:
    """Every standard-normal draw of the noise law from now on (one list of tensors per chip), in order: two
    evaluations saw the same chips when they drew the same."""
    draws, original = [], NoiseLaw.standard_normal
    monkeypatch.setattr(
        NoiseLaw, "standard_normal", staticmethod(lambda w, g: draws.append(original(w, g)) or draws[-1])
    )
    return draws


def same_draws(a: list[list[torch.Tensor]], b: list[list[torch.Tensor]]) -> bool:
    return len(a) == len(b) and all(len(x) == len(y) and all(map(torch.equal, x, y)) for x, y in zip(a, b))
