"""Datasets registered by name: what the model sees (channels, classes, size), the reference
transforms, and a loader for the raw train/test splits from `data_dir`.

Raw splits yield (PIL image or uint8 tensor, label). The reference transforms: MNIST-like sets are
resized to 32 and normalised with (0.5, 0.5); CIFAR and Tiny ImageNet get RandomCrop(pad 4) and a
horizontal flip for training, and per-channel normalisation.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .. import catalogue
from ..errors import DataError
from ..registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    in_channels: int
    num_classes: int
    image_size: int  # what the model sees (MNIST is resized 28 -> 32)
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: bool  # RandomCrop(size, padding=4) + RandomHorizontalFlip on training images
    resize: bool  # resize the raw images to image_size
    load: Callable[[Path, bool, bool], Dataset]  # (data_dir, download, train) -> raw split

    def transform(self, train: bool):
        """The reference transforms of one image (torchvision v2, imported here: an evaluation that reads
        the cached test split never imports torchvision)."""
        from torchvision.transforms import v2

        steps = [v2.Resize(self.image_size)] if self.resize else []
        if train and self.augment:
            steps += [v2.RandomCrop(self.image_size, padding=4), v2.RandomHorizontalFlip()]
        return v2.Compose(
            steps + [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(self.mean, self.std)]
        )


DATASETS: Registry[DatasetSpec] = Registry("dataset", catalogue.DATASETS)  # each module imported on first use


def register(spec: DatasetSpec) -> DatasetSpec:
    return DATASETS.register(spec.name)(spec)


def load_split(spec: DatasetSpec, data_dir: str | Path, download: bool, train: bool) -> Dataset:
    return spec.load(Path(data_dir), download, train)


def read_or_explain(
    name: str, folder: Path, expected: list[str], download: bool, read: Callable[[], Dataset]
) -> Dataset:
    """Run `read`; on failure raise one DataError naming the folder, the files expected and why."""
    try:
        return read()
    except Exception as e:  # torchvision raises RuntimeError, URLError, pickle/EOF errors, ...
        missing = [f for f in expected if not (folder / f).exists()]
        reason = " ".join(str(e).split())[:240] or type(e).__name__
        if missing:
            how = f"download failed ({reason})" if download else "downloads are off (download: false)"
            raise DataError(
                f"{name}: missing {', '.join(missing)} in {folder}; {how}. Put the files there or allow the download"
            ) from None
        raise DataError(
            f"{name}: files in {folder} are corrupt or truncated ({reason}); delete them and download again"
        ) from None
