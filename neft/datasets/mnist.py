"""MNIST and Fashion-MNIST: idx files through torchvision, resized 28 -> 32, normalised (0.5, 0.5).

Fashion-MNIST is also found in Debian's dataset-fashion-mnist package (/usr/share/datasets/
fashion-mnist, gzipped idx files): they are unpacked into data_dir the first time."""

import gzip
import os
import shutil
import tempfile
from pathlib import Path

from . import DatasetSpec, read_or_explain, register

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def unpack_debian(raw: Path) -> None:
    if all((raw / f).exists() for f in IDX_FILES) or not DEBIAN_FASHION_MNIST.is_dir():
        return
    raw.mkdir(parents=True, exist_ok=True)
    for f in IDX_FILES:
        src = DEBIAN_FASHION_MNIST / f"{f}.gz"
        if src.exists() and not (raw / f).exists():
            # a private temp name and an atomic rename: parallel jobs may unpack at the same time
            fd, tmp = tempfile.mkstemp(dir=raw, prefix=f".{f}.", suffix=".tmp")
            with gzip.open(src) as fin, os.fdopen(fd, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            os.replace(tmp, raw / f)


def idx_loader(class_name: str, name: str):
    def load(data_dir: Path, download: bool, train: bool):
        from torchvision import datasets

        cls = getattr(datasets, class_name)
        raw = data_dir / class_name / "raw"
        if cls is datasets.FashionMNIST:
            unpack_debian(raw)
        return read_or_explain(
            name, raw, IDX_FILES, download, lambda: cls(root=str(data_dir), train=train, download=download)
        )

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
