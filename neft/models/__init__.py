"""Models registered by name.

Each model takes (in_channels, num_classes, image_size, width), keeps those in `model.args` (saved
in every checkpoint), and exposes `irs_taps`: (channels, pool size) of the intermediate features an
IRS head can read, shallowest first. `model(x, taps=True)` returns (logits, [those features]).
"""
from torch import nn

from ..registry import Registry

MODELS: Registry[type[nn.Module]] = Registry("model")


def build_model(name: str, in_channels: int, num_classes: int, image_size: int, width: float = 1.0) -> nn.Module:
    return MODELS.get(name)(in_channels=in_channels, num_classes=num_classes, image_size=image_size, width=width)


def channels(n: int, width: float) -> int:
    """Layer width n scaled by the width multiplier (at least 1 channel)."""
    return max(1, round(n * width))


from . import resnet, vgg  # noqa: E402,F401  (they register themselves)
