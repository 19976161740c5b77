"""Tiny ImageNet (200 classes, 64x64): train/<wnid>/images/*.JPEG, one class per folder (sorted wnids, as
torchvision's ImageFolder numbers them); the labelled val/ split serves as the test set, its images sorted
into classes by val_annotations.txt (read in place: the folder is not rearranged). ImageNet mean/std.

Folders are listed one level at a time (ImageFolder walks them following links, so a link loop under
train/ never ends); more class folders than classes, an unknown class in the annotations and an image of
another size are one line naming the file."""

import os
from pathlib import Path

from torch.utils.data import Dataset

from ..errors import DataError
from . import DatasetSpec, read_or_explain, readable, register

URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
FOLDER = "tiny-imagenet-200"
CLASSES, SIZE = 200, (64, 64)


def read_image(path: str):
    """The RGB image at `path`; images are decoded only when used, so a bad one is reported then."""
    from torchvision.datasets.folder import default_loader

    readable("tinyimagenet", Path(path))  # a FIFO is one line, not a wait
    try:
        image = default_loader(path)
    except OSError as e:  # PIL's truncated or unidentified image (no errno), or no permission to read
        what = f"cannot read it ({e.strerror})" if e.errno else f"corrupt or truncated image ({e})"
        raise DataError(f"{path}: {what}; delete {FOLDER} and download it again") from None
    if image.size != SIZE:
        raise DataError(
            f"{path}: an image of {image.size[0]}x{image.size[1]}, expected {SIZE[0]}x{SIZE[1]}; delete {FOLDER} "
            f"and download it again"
        )
    return image


class Images(Dataset):
    """(image, label) pairs of image files."""

    def __init__(self, samples: list[tuple[Path, int]], class_to_idx: dict[str, int]):
        self.samples, self.class_to_idx = samples, class_to_idx
        self.targets = [t for _, t in samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i):
        path, target = self.samples[i]
        return read_image(str(path)), target


def train_split(root: Path) -> Images:
    wnids = sorted(entry.name for entry in os.scandir(root / "train") if entry.is_dir())
    if len(wnids) > CLASSES:
        raise DataError(
            f"tinyimagenet: {root / 'train'} holds {len(wnids)} class folders, more than its {CLASSES} classes; "
            f"delete {FOLDER} and download it again"
        )
    samples = [
        (entry, label)
        for label, wnid in enumerate(wnids)
        for entry in sorted(p for p in (root / "train" / wnid / "images").iterdir() if p.is_file())
    ]
    return Images(samples, {wnid: i for i, wnid in enumerate(wnids)})


def annotated_val(root: Path, class_to_idx: dict[str, int]) -> Images:
    """val/images/*.JPEG labelled by val/val_annotations.txt (file, wnid, box)."""
    annotations, samples = root / "val" / "val_annotations.txt", []
    readable("tinyimagenet", annotations)
    for n, line in enumerate(annotations.read_text().splitlines(), 1):
        if line.strip():
            file, wnid = (line.split("\t") + [""])[:2]
            if wnid not in class_to_idx:
                raise DataError(
                    f"tinyimagenet: {annotations} line {n}: class {wnid[:40]!r} is not one of the training classes; "
                    f"delete {FOLDER} and download it again"
                )
            samples.append((root / "val" / "images" / file, class_to_idx[wnid]))
    return Images(samples, class_to_idx)


def load(data_dir: Path, download: bool, train: bool):
    root = data_dir / FOLDER

    def read():
        from torchvision.datasets.utils import download_and_extract_archive

        if download and not (root / "train").is_dir():
            download_and_extract_archive(URL, str(data_dir))
        train_set = train_split(root)
        return train_set if train else annotated_val(root, train_set.class_to_idx)

    return read_or_explain(
        "tinyimagenet", root, ["wnids.txt", "train", "val/val_annotations.txt", "val/images"], download, read
    )


register(
    DatasetSpec(
        "tinyimagenet",
        in_channels=3,
        num_classes=CLASSES,
        image_size=64,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        augment=True,
        resize=False,
        load=load,
    )
)
