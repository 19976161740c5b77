"""VGG-8 (reference layout): six 3x3 conv+BN+ReLU layers (64, 128, pool, 256, 256, pool, 512, 512,
pool), then FC (512 * (size/8)^2 -> 1024), ReLU, FC (1024 -> classes)."""

from torch import Tensor, nn

from ..layers import NoisyConv2d, NoisyLinear
from . import MODELS, channels


def conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [NoisyConv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


@MODELS.register("vgg8")
class VGG8(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32, width: float = 1.0):
        super().__init__()
        c64, c128, c256, c512, c1024 = (channels(n, width) for n in (64, 128, 256, 512, 1024))
        pool = nn.MaxPool2d(2)
        # stages end where IRS snapshots are taken (after conv1, conv2+pool, conv4+pool, conv6+pool)
        self.stages = nn.ModuleList(
            [
                nn.Sequential(*conv_bn_relu(in_channels, c64)),
                nn.Sequential(*conv_bn_relu(c64, c128), pool),
                nn.Sequential(*conv_bn_relu(c128, c256), *conv_bn_relu(c256, c256), pool),
                nn.Sequential(*conv_bn_relu(c256, c512), *conv_bn_relu(c512, c512), pool),
            ]
        )
        self.fc1 = NoisyLinear(c512 * (image_size // 8) ** 2, c1024)
        self.fc2 = NoisyLinear(c1024, num_classes)
        # (channels, pool size); the last tap is the 1024-d FC feature, read without pooling
        self.irs_taps = [(c64, 6), (c128, 4), (c256, 3), (c512, 2), (c1024, None)]

    def forward(self, x: Tensor, taps: bool = False):
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        hidden = self.fc1(x.flatten(1)).relu()
        features.append(hidden)
        logits = self.fc2(hidden)
        return (logits, features) if taps else logits
