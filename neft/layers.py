"""Conv and linear layers whose weight can carry a device-variation perturbation.

The perturbation is a detached tensor added in the forward pass (`weight + weight_noise`), so the
gradient of the noisy weight flows unchanged to the noise-free weight (straight-through). Biases and
BatchNorm never get noise.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch.nn.functional as F
from torch import Tensor, nn


class NoisyWeight:
    weight: nn.Parameter
    weight_noise: Tensor | None = None

    def noisy_weight(self) -> Tensor:
        return self.weight if self.weight_noise is None else self.weight + self.weight_noise


class NoisyConv2d(NoisyWeight, nn.Conv2d):
    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.noisy_weight(), self.bias)


class NoisyLinear(NoisyWeight, nn.Linear):
    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.noisy_weight(), self.bias)


def noisy_layers(module: nn.Module) -> list[NoisyWeight]:
    """Every conv/linear layer of `module` in registration order (the order noise is drawn in)."""
    return [m for m in module.modules() if isinstance(m, NoisyWeight)]


@contextmanager
def perturbed(layers: list[NoisyWeight], noise: list[Tensor] | None) -> Iterator[None]:
    """Run the forward passes inside with `noise` added to the layers' weights (None: no noise)."""
    for layer, n in zip(layers, noise or [None] * len(layers), strict=True):
        layer.weight_noise = n
    try:
        yield
    finally:
        for layer in layers:
            layer.weight_noise = None
