"""CIFAR-10 and CIFAR-100: the python pickle batches, read here rather than by torchvision's class.

A pickle runs code when it is loaded, so each batch file is read once into memory, its md5 compared with the
one torchvision's metadata gives for it, and only the bytes that matched are unpickled: a planted or damaged
file is one line, never loaded. Labels and image sizes are checked too. The class names of the meta file
are not needed (labels are indices), so it is not read."""

import hashlib
import pickle
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ..errors import DataError
from . import DatasetSpec, check_images, check_labels, read_or_explain, readable, register


class Batches(Dataset):
    """One split: uint8 images (N, 32, 32, 3) and labels, served as (PIL image, label) like torchvision's."""

    def __init__(self, data: np.ndarray, targets: list[int]):
        self.data, self.targets = data, targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        from PIL import Image

        return Image.fromarray(self.data[i]), self.targets[i]


def verified(name: str, path: Path, md5: str) -> bytes:
    """The bytes of `path`, if their md5 is `md5`."""
    readable(name, path)  # a FIFO is one line, not a wait
    content = path.read_bytes()
    found = hashlib.md5(content).hexdigest()
    if found != md5:
        raise DataError(
            f"{name}: {path} is not the file torchvision knows (md5 {found}, expected {md5}): corrupt, truncated or "
            f"replaced; delete it and download again"
        )
    return content


def read_split(name: str, folder: Path, files: list[tuple[str, str]], num_classes: int) -> Batches:
    data, targets = [], []
    for file, md5 in files:
        path = folder / file
        entry = pickle.loads(verified(name, path, md5), encoding="latin1")
        images = np.asarray(entry["data"], dtype=np.uint8)
        check_images(name, path, images.shape, (3 * 32 * 32,))
        labels = entry["labels" if "labels" in entry else "fine_labels"]
        check_labels(name, path, labels, len(images), num_classes)
        data.append(images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        targets += list(labels)
    return Batches(np.concatenate(data), targets)


def pickle_loader(class_name: str, name: str, num_classes: int):
    def load(data_dir: Path, download: bool, train: bool):
        from torchvision import datasets
        from torchvision.datasets.utils import download_and_extract_archive

        cls = getattr(datasets, class_name)  # its metadata: folder, archive, files and their md5
        folder = data_dir / cls.base_folder
        files = cls.train_list if train else cls.test_list

        def read():
            if download and not all((folder / f).exists() for f, _ in files):
                download_and_extract_archive(cls.url, str(data_dir), filename=cls.filename, md5=cls.tgz_md5)
            return read_split(name, folder, files, num_classes)

        return read_or_explain(name, folder, [f for f, _ in files], download, read)

    return load


register(
    DatasetSpec(
        "cifar10",
        in_channels=3,
        num_classes=10,
        image_size=32,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        augment=True,
        resize=False,
        load=pickle_loader("CIFAR10", "cifar10", 10),
    )
)
register(
    DatasetSpec(
        "cifar100",
        in_channels=3,
        num_classes=100,
        image_size=32,
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
        augment=True,
        resize=False,
        load=pickle_loader("CIFAR100", "cifar100", 100),
    )
)
