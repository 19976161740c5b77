"""Tiny ImageNet (200 classes, 64x64): train/<wnid>/images/*.JPEG through torchvision's ImageFolder;
the labelled val/ split serves as the test set, its images sorted into classes by val_annotations.txt
(read in place: the folder is not rearranged). ImageNet mean/std."""

from pathlib import Path

from torch.utils.data import Dataset

from ..errors import DataError
from . import DatasetSpec, read_or_explain, register

URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
FOLDER = "tiny-imagenet-200"


def read_image(path: str):
    """The RGB image at `path`; images are decoded only when used, so a bad one is reported then."""
    from torchvision.datasets.folder import default_loader

    try:
        return default_loader(path)
    except OSError as e:  # PIL's truncated or unidentified image
        raise DataError(f"{path}: corrupt or truncated image ({e}); delete {FOLDER} and download it again") from None


class AnnotatedVal(Dataset):
    """val/images/*.JPEG labelled by val/val_annotations.txt (file, wnid, box)."""

    def __init__(self, root: Path, class_to_idx: dict[str, int]):
        self.samples = []
        for line in (root / "val" / "val_annotations.txt").read_text().splitlines():
            if line.strip():
                file, wnid = line.split("\t")[:2]
                self.samples.append((root / "val" / "images" / file, class_to_idx[wnid]))
        self.targets = [t for _, t in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i):
        path, target = self.samples[i]
        return read_image(str(path)), target


def load(data_dir: Path, download: bool, train: bool):
    root = data_dir / FOLDER

    def read():
        from torchvision import datasets
        from torchvision.datasets.utils import download_and_extract_archive

        if download and not (root / "train").is_dir():
            download_and_extract_archive(URL, str(data_dir))
        train_set = datasets.ImageFolder(str(root / "train"), loader=read_image)
        return train_set if train else AnnotatedVal(root, train_set.class_to_idx)

    return read_or_explain(
        "tinyimagenet", root, ["wnids.txt", "train", "val/val_annotations.txt", "val/images"], download, read
    )


register(
    DatasetSpec(
        "tinyimagenet",
        in_channels=3,
        num_classes=200,
        image_size=64,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        augment=True,
        resize=False,
        load=load,
    )
)
