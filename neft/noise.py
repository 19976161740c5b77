"""Device-variation noise law (paper Eq. 4-5) and the device kinds.

A weight of M bits is stored on M/K devices of K bits each. Device j holds the K-bit digit g_j of the
weight's magnitude; programming perturbs it by dg_j ~ N(0, (sigma_d * (2^K - 1))^2), i.e. sigma_d is
relative to one device's maximum conductance. Recombining the digits with weights 2^(jK) and the LSB
max|W| / (2^M - 1) gives the weight perturbation (Eq. 5)

    dW = max|W| / (2^M - 1) * sum_j dg_j 2^(jK)  ~  N(0, (sigma_d * max|W| * c)^2),
    c  = sqrt(sum_j 2^(2jK)) / sum_j 2^(jK)        (0.7776 for M=8, K=2),

with max|W| taken over the whole weight tensor of a layer and independent dg_j per device.

Device kinds (RRAM1, FeFET2, RRAM4, FeFET6) have a state factor s: weights with
0.25 < |w|/max|W| < 0.75 sit in the noisier middle states and get s times the noise, and sigma_d is
rescaled by 1/sqrt(0.4 s^2 + 0.6) so that the average variance stays near sigma_d^2.

Like the authors' public code, weights are NOT rounded to M bits by default: M and K only set the
noise scale. `quantize=True` really rounds to the M-bit grid first (the paper's W_d-bar, Eq. 4).
Perturbations are detached: added to the noise-free weight they give a straight-through estimator,
so gradients reach the noise-free weights.
"""

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from .errors import ConfigError
from .registry import Registry


@dataclass(frozen=True)
class DeviceKind:
    """A multi-level device whose mid-range states are `state_factor` (s) times noisier."""

    name: str
    state_factor: float  # s; 1 = uniform noise over all states

    @property
    def sigma_scale(self) -> float:
        """1/sqrt(0.4 s^2 + 0.6): keeps the average variance near sigma_d^2."""
        return 1.0 / math.sqrt(0.4 * self.state_factor**2 + 0.6)

    def state_multiplier(self, weight: Tensor, max_abs: Tensor) -> Tensor | None:
        """Per-weight noise multiplier (s inside the 0.25-0.75 band, 1 outside); None when s = 1."""
        if self.state_factor == 1:
            return None
        r = weight.abs() / max_abs
        band = (r > 0.25) & (r < 0.75)
        return torch.where(band, self.state_factor, 1.0).to(weight.dtype)


DEVICE_KINDS: Registry[DeviceKind] = Registry("device kind")
for _kind in (DeviceKind("RRAM1", 1), DeviceKind("FeFET2", 2), DeviceKind("RRAM4", 4), DeviceKind("FeFET6", 6)):
    DEVICE_KINDS.register(_kind.name)(_kind)


@dataclass(frozen=True)
class NoiseLaw:
    """Eq. 4-5 for M-bit weights on K-bit devices of one kind."""

    weight_bits: int = 8  # M
    device_bits: int = 2  # K
    device_kind: str = "RRAM1"
    quantize: bool = False  # round weights to M bits before adding noise (paper's W_d-bar)

    def __post_init__(self):
        if not (
            isinstance(self.weight_bits, int)
            and isinstance(self.device_bits, int)
            and self.weight_bits > 0
            and self.device_bits > 0
        ):
            raise ConfigError(
                f"weight_bits and device_bits must be positive integers, got {self.weight_bits} and {self.device_bits}"
            )
        if self.weight_bits % self.device_bits:
            raise ConfigError(
                f"weight_bits ({self.weight_bits}) must be a multiple of device_bits "
                f"({self.device_bits}): each weight is stored on M/K whole devices"
            )
        DEVICE_KINDS.get(self.device_kind)

    @property
    def kind(self) -> DeviceKind:
        return DEVICE_KINDS.get(self.device_kind)

    @property
    def slice_factor(self) -> float:
        """c = sqrt(sum_j 2^(2jK)) / sum_j 2^(jK), j = 0..M/K-1: std of dW per (sigma_d * max|W|)."""
        k, n = self.device_bits, self.weight_bits // self.device_bits
        return math.sqrt(sum(4 ** (j * k) for j in range(n))) / sum(2 ** (j * k) for j in range(n))

    def as_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def standard_normal(weights: list[Tensor], generator: torch.Generator) -> list[Tensor]:
        """One N(0, 1) draw for all weights in a single kernel, split and shaped like them."""
        total = sum(w.numel() for w in weights)
        z = torch.randn(total, generator=generator, device=weights[0].device, dtype=torch.float32)
        return [part.view_as(w) for part, w in zip(z.split([w.numel() for w in weights]), weights)]

    def perturbations(self, weights: list[Tensor], sigma_d: float, z: list[Tensor]) -> list[Tensor]:
        """W_p - W for each weight tensor, from standard normals `z` (same shapes as `weights`)."""
        weights = [w.detach() for w in weights]
        max_abs = torch.stack(torch._foreach_norm(weights, ord=math.inf)).clamp_min(1e-12)
        std = max_abs * (sigma_d * self.slice_factor * self.kind.sigma_scale)  # one std per layer
        deltas = torch._foreach_mul(z, list(std.unbind()))
        multipliers = [self.kind.state_multiplier(w, a) for w, a in zip(weights, max_abs)]
        if multipliers[0] is not None:
            torch._foreach_mul_(deltas, multipliers)
        if self.quantize:
            lsb = max_abs / (2**self.weight_bits - 1)
            torch._foreach_add_(deltas, [torch.round(w / q) * q - w for w, q in zip(weights, lsb)])
        return deltas

    def sample(self, weights: list[Tensor], sigma_d: float, generator: torch.Generator) -> list[Tensor]:
        """A fresh perturbation of every weight tensor at sigma_d."""
        return self.perturbations(weights, sigma_d, self.standard_normal(weights, generator))
