"""MNIST and Fashion-MNIST: idx files through torchvision, resized 28 -> 32, normalised (0.5, 0.5).

Only the raw idx files are read (never torchvision's older processed/*.pt), and what they hold is checked:
28x28 images, one label per image, each one of the 10 classes. Fashion-MNIST is also found in Debian's
dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist, gzipped idx files): they are unpacked
into data_dir the first time."""

import gzip
import shutil
from pathlib import Path

from ..io import write_atomic
from . import DatasetSpec, check_images, check_labels, read_or_explain, readable, register

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def unpack_debian(raw: Path) -> None:
    if all((raw / f).exists() for f in IDX_FILES) or not DEBIAN_FASHION_MNIST.is_dir():
        return
    for f in IDX_FILES:
        src = DEBIAN_FASHION_MNIST / f"{f}.gz"
        if src.exists() and not (raw / f).exists():
            with gzip.open(src) as fin:  # atomic: parallel jobs may unpack at the same time
                write_atomic(raw / f, lambda fout, fin=fin: shutil.copyfileobj(fin, fout))


def idx_loader(class_name: str, name: str):
    def load(data_dir: Path, download: bool, train: bool):
        from torchvision import datasets

        cls = getattr(datasets, class_name)
        # the same class (its name is its folder's), without the fallback to processed/*.pt
        raw_only = type(class_name, (cls,), {"_check_legacy_exist": lambda self: False})
        raw = data_dir / class_name / "raw"
        if cls is datasets.FashionMNIST:
            unpack_debian(raw)

        def read():
            for file in IDX_FILES:  # a FIFO is one line, not a wait (torchvision would read it, or download onto it)
                readable(name, raw / file)
            split = raw_only(root=str(data_dir), train=train, download=download)
            prefix = "train" if train else "t10k"
            check_images(name, raw / f"{prefix}-images-idx3-ubyte", split.data.shape, (28, 28))
            check_labels(name, raw / f"{prefix}-labels-idx1-ubyte", split.targets, len(split.data), 10)
            return split

        return read_or_explain(name, raw, IDX_FILES, download, read)

    return load


for _name, _cls in (("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")):
    register(
        DatasetSpec(
            _name,
            in_channels=1,
            num_classes=10,
            image_size=32,
            mean=(0.5,),
            std=(0.5,),
            augment=False,
            resize=True,
            load=idx_loader(_cls, _name),
        )
    )
