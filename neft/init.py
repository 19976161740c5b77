"""Weight initialisation by name, applied once to every model (`build_model`) and to the IRS heads.

`reference` is the public code's: every conv and linear weight kaiming-normal (fan_out, ReLU gain:
std sqrt(2 / fan_out)), biases 0, BatchNorm weight 1 and bias 0. It matters for the noise: Eq. 5
scales a layer's noise by its max|W|, and normal weights have a larger max relative to a typical
weight than PyTorch's uniform default, so the same sigma_d is more noise (docs/method.md).
`pytorch` keeps the layers' own PyTorch defaults (the sensitivity ablation).
"""

from collections.abc import Callable

from torch import nn

from .registry import Registry

INITS: Registry[Callable[[nn.Module], None]] = Registry("init")


@INITS.register("reference")
def reference(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@INITS.register("pytorch")
def pytorch(module: nn.Module) -> None:
    """Nothing to do: the layers were built with PyTorch's defaults."""


def initialise(module: nn.Module, init: str) -> nn.Module:
    INITS.get(init)(module)
    return module
