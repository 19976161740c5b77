"""A small, seeded synthetic image set for tests: 10 classes of 3x32x32 images, each class a fixed
smooth random template (so random crops keep it recognisable) plus per-image noise. Learnable in a
few steps, so a short training beats chance."""

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..seeding import derive_seed
from . import DatasetSpec, register

SIZES = {True: 2048, False: 512}  # images in the train / test split


class Synthetic(Dataset):
    def __init__(self, train: bool, num_classes: int = 10):
        g = torch.Generator().manual_seed(derive_seed("synthetic-templates"))
        coarse = torch.rand(num_classes, 3, 4, 4, generator=g)
        templates = F.interpolate(coarse, size=32, mode="bilinear", align_corners=False)
        g.manual_seed(derive_seed("synthetic", train))
        n = SIZES[train]
        self.targets = torch.randint(num_classes, (n,), generator=g)
        noisy = templates[self.targets] * 0.6 + torch.rand(n, 3, 32, 32, generator=g) * 0.4
        self.data = (noisy * 255).round().to(torch.uint8)  # N, C, H, W

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        return self.data[i], int(self.targets[i])


register(
    DatasetSpec(
        "synthetic",
        in_channels=3,
        num_classes=10,
        image_size=32,
        mean=(0.5,) * 3,
        std=(0.25,) * 3,
        augment=True,
        resize=False,
        load=lambda data_dir, download, train: Synthetic(train),
    )
)
