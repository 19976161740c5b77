"""Models registered by name.

Each model takes (in_channels, num_classes, image_size, width) and exposes `irs_taps`: (channels, pool
size) of the intermediate features an IRS head can read, shallowest first. `model(x, taps=True)`
returns (logits, [those features]).
"""

from torch import nn

from .. import catalogue
from ..init import initialise
from ..registry import Registry

MODELS: Registry[type[nn.Module]] = Registry("model", catalogue.MODELS)  # each imported on first use


def build_model(
    name: str, in_channels: int, num_classes: int, image_size: int, width: float = 1.0, init: str = "reference"
) -> nn.Module:
    """The model, initialised by `init` (neft/init.py); its arguments are kept in `model.args` (saved in
    every model file and checkpoint, so `build_model(**model.args)` rebuilds it)."""
    model = initialise(
        MODELS.get(name)(in_channels=in_channels, num_classes=num_classes, image_size=image_size, width=width), init
    )
    model.args = dict(
        name=name, in_channels=in_channels, num_classes=num_classes, image_size=image_size, width=width, init=init
    )
    return model


def channels(n: int, width: float) -> int:
    """Layer width n scaled by the width multiplier (at least 1 channel)."""
    return max(1, round(n * width))
