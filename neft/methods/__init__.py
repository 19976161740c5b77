"""Training methods registered by name. A method is a small strategy the trainer calls once per batch:
`loss(model, x, y, generator) -> (loss, extras)`. Trainable parts of its own (IRS heads) are its
submodules: trained and checkpointed with it, never part of the saved inference model."""

from torch import Tensor, nn

from .. import catalogue
from ..layers import noisy_layers, perturbed
from ..noise import NoiseLaw
from ..registry import Registry


class Method(nn.Module):
    """Base: holds sigma_d and the noise law, and draws noisy forward passes of the backbone."""

    def __init__(self, cfg, model: nn.Module, law: NoiseLaw):
        super().__init__()
        self.sigma_d = cfg.sigma_d
        self.law = law
        self.hparams: dict = {}  # the effective hyper-parameters, recorded with the results
        self.layers = noisy_layers(model)  # found once, not at every step (a plain list: not registered)

    def noise(self, layers, sigma: float, generator, z: list[Tensor] | None = None) -> list[Tensor] | None:
        """Perturbations for `layers` at sigma (None when there is nothing to add)."""
        if sigma == 0 and not self.law.quantize:
            return None
        weights = [layer.weight for layer in layers]
        if z is None:
            z = self.law.standard_normal(weights, generator)
        return self.law.perturbations(weights, sigma, z)

    def resolve_beta(self, cfg) -> float:
        """beta from the config, else the public code's for this model and dataset (neft/catalogue.py)."""
        return cfg.beta if cfg.beta is not None else catalogue.default_beta(cfg.method, cfg.model, cfg.dataset)

    def loss(self, model: nn.Module, x: Tensor, y: Tensor, generator) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError


METHODS: Registry[type[Method]] = Registry("method", catalogue.METHODS)  # each imported on first use

__all__ = ["METHODS", "Method", "perturbed"]
