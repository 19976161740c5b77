"""ResNet-18, CIFAR style (reference layout): 3x3 stem with 64 channels, stride 1, no max-pool;
BasicBlocks [2, 2, 2, 2] with widths 64/128/256/512 and strides 1/2/2/2; 1x1 conv+BN shortcut where
the shape changes; global average pool; FC 512 -> classes."""

from torch import Tensor, nn

from ..layers import NoisyConv2d, NoisyLinear
from . import MODELS, channels


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = NoisyConv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = NoisyConv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(NoisyConv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


@MODELS.register("resnet18")
class ResNet18(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32, width: float = 1.0):
        super().__init__()
        widths = [channels(n, width) for n in (64, 128, 256, 512)]
        self.stem = nn.Sequential(
            NoisyConv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages, c_in = [], widths[0]
        for c_out, stride in zip(widths, (1, 2, 2, 2)):
            stages.append(nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)))
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.fc = NoisyLinear(widths[3], num_classes)
        # IRS snapshots after the stem and after stages 1-4 (channels, pool size)
        self.irs_taps = [(widths[0], 6), (widths[0], 6), (widths[1], 4), (widths[2], 3), (widths[3], 2)]

    def forward(self, x: Tensor, taps: bool = False):
        x = self.stem(x)
        features = [x]
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        logits = self.fc(x.mean(dim=(2, 3)))
        return (logits, features) if taps else logits
