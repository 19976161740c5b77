"""Datasets registered by name: what the model sees (channels, classes, size), the reference
transforms, and a loader for the raw train/test splits from `data_dir`.

Raw splits yield (PIL image or uint8 tensor, label). The reference transforms: MNIST-like sets are
resized to 32 and normalised with (0.5, 0.5); CIFAR and Tiny ImageNet get RandomCrop(pad 4) and a
horizontal flip for training, and per-channel normalisation.
"""

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .. import catalogue
from ..errors import DataError, one_line
from ..io import kind
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
    """Run `read`; on failure raise one DataError naming the folder, the files expected and why (a DataError
    that `read` raises, naming its file, is passed on)."""
    try:
        return read()
    except DataError:
        raise
    except Exception as e:  # torchvision raises RuntimeError, URLError, pickle/EOF errors, ...
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError) and e.filename:  # no permission, a loop
            raise DataError(f"{name}: cannot read {e.filename} ({e.strerror}); check it and its folders") from None
        missing = [f for f in expected if not readable(name, folder / f)]
        reason = one_line(e, 240) or type(e).__name__
        if missing:
            how = f"download failed ({reason})" if download else "downloads are off (download: false)"
            raise DataError(
                f"{name}: missing {', '.join(missing)} in {folder}; {how}. Put the files there or allow the download"
            ) from None
        raise DataError(
            f"{name}: files in {folder} are corrupt or truncated ({reason}); delete them and download again"
        ) from None


def readable(name: str, path: Path) -> bool:
    """Whether `path` is there (False: missing); one line when it cannot be looked up (no permission to search
    a folder on the way, a loop of links, a name too long), which os.path.exists would call missing, or when it
    is neither a file nor a folder (reading a FIFO waits for a writer forever)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise DataError(f"{name}: cannot read {path} ({e.strerror}); check it and its folders") from None
    what = None if stat.S_ISDIR(mode) else kind(mode)
    if what:
        raise DataError(f"{name}: {path} is {what}, not a file; delete it and download again")
    return True


def check_images(name: str, path: Path, shape: tuple[int, ...], size: tuple[int, ...]) -> None:
    """The images read from `path` (their array's `shape`) are of the dataset's `size` (what follows the count)."""
    if tuple(shape[1:]) != size:
        raise DataError(
            f"{name}: {path} holds images of {'x'.join(map(str, shape[1:]))}, expected {'x'.join(map(str, size))}; "
            f"delete it and download again"
        )


def check_labels(name: str, path: Path, labels, n: int, num_classes: int) -> None:
    """The labels read from `path` are one per image (`n`), each a class of the dataset."""
    labels = torch.as_tensor(labels)
    if labels.shape != (n,):
        raise DataError(f"{name}: {path} holds {labels.numel()} labels for {n} images; delete it and download again")
    outside = labels[(labels < 0) | (labels >= num_classes)]
    if len(outside):
        raise DataError(
            f"{name}: {path} holds label {int(outside[0])}, outside the {num_classes} classes (0 to "
            f"{num_classes - 1}); delete it and download again"
        )
