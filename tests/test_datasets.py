"""Each loader reads tiny files written in its real on-disk format; missing or corrupt files give
one clear error; training and evaluation data are what the reference transforms make; the
validation split is carved from the training split."""

import gzip
import hashlib
import os
import pickle
import re
import struct

import numpy as np
import pytest
import torch
from helpers import tiny
from PIL import Image

from neft.cli import main
from neft.data import ResidentBatches, TorchvisionBatches, evaluation_data, training_data, uint8_images
from neft.datasets import DATASETS, load_split, mnist, tinyimagenet
from neft.errors import DataError


def write_idx(folder, prefix, images, labels, compress=False):
    folder.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if compress else open
    suffix = ".gz" if compress else ""
    with opener(folder / f"{prefix}-images-idx3-ubyte{suffix}", "wb") as f:
        f.write(struct.pack(">IIII", 2051, *images.shape) + images.tobytes())
    with opener(folder / f"{prefix}-labels-idx1-ubyte{suffix}", "wb") as f:
        f.write(struct.pack(">II", 2049, len(labels)) + labels.tobytes())


def idx_set(folder, compress=False, n=(12, 6)):
    rng = np.random.default_rng(0)
    for prefix, count in zip(("train", "t10k"), n):
        write_idx(
            folder,
            prefix,
            rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, count, dtype=np.uint8),
            compress,
        )


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_idx_files(tmp_path, name, folder, monkeypatch):
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", tmp_path / "none")
    idx_set(tmp_path / folder / "raw")
    spec = DATASETS.get(name)
    train = load_split(spec, tmp_path, download=False, train=True)
    assert len(train) == 12
    x, y, _ = evaluation_data(name, str(tmp_path), download=False, num_workers=0)
    assert x.shape == (6, 1, 32, 32) and y.dtype == torch.int64  # resized 28 -> 32
    assert x.min() >= -1 and x.max() <= 1  # Normalize(0.5, 0.5)


def bad_idx_split(folder, labels=(0, 1, 2, 3), size=28):
    """A MNIST set whose test split has 4 images of `size` pixels and these `labels`."""
    idx_set(folder)
    images = np.zeros((4, size, size), dtype=np.uint8)
    write_idx(folder, "t10k", images, np.array(labels, dtype=np.uint8))


@pytest.mark.parametrize(
    "labels,size,file,says",
    [
        ((0, 1, 2, 10), 28, "t10k-labels-idx1-ubyte", "holds label 10, outside the 10 classes (0 to 9)"),
        ((0, 1, 2), 28, "t10k-labels-idx1-ubyte", "holds 3 labels for 4 images"),
        ((0, 1, 2, 3), 20, "t10k-images-idx3-ubyte", "holds images of 20x20, expected 28x28"),
    ],
    ids=["label-outside", "too-few-labels", "wrong-size"],
)
def test_idx_files_are_checked_for_their_labels_and_sizes(tmp_path, labels, size, file, says):
    bad_idx_split(tmp_path / "MNIST" / "raw", labels, size)
    with pytest.raises(DataError, match=re.escape(f"mnist: {tmp_path / 'MNIST' / 'raw' / file} {says}")):
        load_split(DATASETS.get("mnist"), tmp_path, download=False, train=False)


def test_fashion_mnist_from_the_debian_package_folder(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    idx_set(debian, compress=True)
    monkeypatch.setattr(mnist, "DEBIAN_FASHION_MNIST", debian)
    train = load_split(DATASETS.get("fashion_mnist"), tmp_path / "data", download=False, train=True)
    assert len(train) == 12 and (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


CIFAR = [  # name, folder, classes, label key, batch files, meta file
    (
        "cifar10",
        "cifar-10-batches-py",
        10,
        "labels",
        [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
        "batches.meta",
    ),
    ("cifar100", "cifar-100-python", 100, "fine_labels", ["train", "test"], "meta"),
]


def write_cifar(root, n_classes, label_key, files, labels=None, size=3072):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for name in files:
        batch = {
            "data": rng.integers(0, 256, (4, size), dtype=np.uint8),
            label_key: rng.integers(0, n_classes, 4).tolist() if labels is None else labels,
        }
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))


def known_as_they_are(monkeypatch, name, root, files):
    """torchvision's md5 of each batch file (what the loader checks) set to that of the tiny file written here."""
    from torchvision import datasets

    cls = getattr(datasets, {"cifar10": "CIFAR10", "cifar100": "CIFAR100"}[name])
    md5 = {f: hashlib.md5((root / f).read_bytes()).hexdigest() for f in files}
    monkeypatch.setattr(cls, "train_list", [[f, md5[f]] for f in files[:-1]])
    monkeypatch.setattr(cls, "test_list", [[files[-1], md5[files[-1]]]])


@pytest.mark.parametrize("name,folder,classes,key,files,meta", CIFAR)
def test_cifar_pickle_batches(tmp_path, monkeypatch, name, folder, classes, key, files, meta):
    write_cifar(tmp_path / folder, classes, key, files)
    (tmp_path / folder / meta).write_bytes(pickle.dumps({}))
    known_as_they_are(monkeypatch, name, tmp_path / folder, files)
    train = load_split(DATASETS.get(name), tmp_path, download=False, train=True)
    assert len(train) == 4 * (len(files) - 1)
    images, labels = uint8_images(train)
    assert images.shape == (len(train), 3, 32, 32) and labels.max() < classes
    x, _, spec = evaluation_data(name, str(tmp_path), download=False, num_workers=0)
    assert x.shape == (4, 3, 32, 32) and spec.num_classes == classes
    (tmp_path / folder / files[0]).write_bytes((tmp_path / folder / files[0]).read_bytes()[:100])
    with pytest.raises(DataError, match=f"{files[0]} is not the file torchvision knows .*: corrupt, truncated"):
        load_split(DATASETS.get(name), tmp_path, download=False, train=True)


class Payload:
    """A pickle that makes a folder when it is loaded: what a planted batch file could run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


@pytest.mark.parametrize("name,folder,classes,key,files,meta", CIFAR)
def test_a_planted_cifar_batch_is_never_unpickled(tmp_path, capsys, name, folder, classes, key, files, meta):
    """torchvision's own md5 of each file, checked before any unpickling: a batch file that runs code when loaded
    is one line naming it, and its code never runs (through the CLI, in training and in evaluation)."""
    write_cifar(tmp_path / folder, classes, key, files)
    marker = tmp_path / "payload-ran"
    for planted in (files[0], files[-1]):  # a training batch, the test batch
        (tmp_path / folder / planted).write_bytes(pickle.dumps(Payload(marker)))
    for argv in (
        ["train", "--out", str(tmp_path / "run"), "--dataset", name, "--data-dir", str(tmp_path), "--no-download"],
        ["fetch", name, "--data-dir", str(tmp_path), "--no-download", "--out", str(tmp_path / "f.json")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"neft: error: {name}: {tmp_path / folder}/") and "not the file torchvision knows" in err
        assert err.count("\n") == 1 and not marker.exists()


@pytest.mark.parametrize(
    "labels,size,says",
    [
        ([0, 1, 2, 10], 3072, "holds label 10, outside the 10 classes (0 to 9)"),
        ([0, 1, 2], 3072, "holds 3 labels for 4 images"),
        ([0, 1, 2, 3], 1024, "holds images of 1024, expected 3072"),
    ],
    ids=["label-outside", "too-few-labels", "wrong-size"],
)
def test_cifar_batches_are_checked_for_their_labels_and_sizes(tmp_path, monkeypatch, labels, size, says):
    name, folder, classes, key, files, _ = CIFAR[0]
    write_cifar(tmp_path / folder, classes, key, files)
    write_cifar(tmp_path / folder, classes, key, files[1:2], labels, size)
    known_as_they_are(monkeypatch, name, tmp_path / folder, files)
    with pytest.raises(DataError, match=re.escape(f"cifar10: {tmp_path / folder / files[1]} {says}")):
        load_split(DATASETS.get(name), tmp_path, download=False, train=True)


WNIDS = ["n01443537", "n01629819", "n01641577"]


def tiny_imagenet(tmp_path, val_wnids=(2, 0, 1, 2)):
    """Tiny ImageNet's layout with 3 classes of 2 training images each and 4 annotated validation images."""
    root = tmp_path / "tiny-imagenet-200"
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    for c, wnid in enumerate(WNIDS):
        (root / "train" / wnid / "images").mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(2):
            Image.new("RGB", (64, 64), (80 * c, 10 * i, 0)).save(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG")
    (root / "val" / "images").mkdir(parents=True)
    lines = []
    for i, c in enumerate(val_wnids):
        Image.new("RGB", (64, 64), (i, i, i)).save(root / "val" / "images" / f"val_{i}.JPEG")
        lines.append(f"val_{i}.JPEG\t{WNIDS[c] if isinstance(c, int) else c}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def test_tiny_imagenet_folders_and_val_annotations(tmp_path):
    root = tiny_imagenet(tmp_path)
    os.symlink("..", root / "train" / WNIDS[0] / "images" / "loop")  # ImageFolder, following links, walked on
    train = load_split(DATASETS.get("tinyimagenet"), tmp_path, download=False, train=True)
    assert len(train) == 6 and train.class_to_idx == {w: i for i, w in enumerate(WNIDS)}
    x, y, _ = evaluation_data("tinyimagenet", str(tmp_path), download=False, num_workers=0)
    assert x.shape == (4, 3, 64, 64) and y.tolist() == [2, 0, 1, 2]


def test_tiny_imagenet_is_checked_for_its_classes_and_image_sizes(tmp_path, monkeypatch):
    root = tiny_imagenet(tmp_path, val_wnids=(2, "n99999999"))
    spec = DATASETS.get("tinyimagenet")
    with pytest.raises(DataError, match="val_annotations.txt line 2: class 'n99999999' is not one of the training"):
        load_split(spec, tmp_path, download=False, train=False)
    small = root / "train" / WNIDS[1] / "images" / f"{WNIDS[1]}_1.JPEG"
    Image.new("RGB", (32, 32)).save(small)
    train = load_split(spec, tmp_path, download=False, train=True)
    with pytest.raises(DataError, match=re.escape(f"{small}: an image of 32x32, expected 64x64")):
        [train[i] for i in range(len(train))]
    monkeypatch.setattr(tinyimagenet, "CLASSES", 2)  # 3 class folders: one more than the classes
    with pytest.raises(DataError, match=f"{root / 'train'} holds 3 class folders, more than its 2 classes"):
        load_split(spec, tmp_path, download=False, train=True)


@pytest.mark.parametrize("name", ["mnist", "cifar10", "cifar100", "tinyimagenet"])
def test_missing_files_offline_name_the_folder_and_files(tmp_path, name):
    with pytest.raises(DataError, match=f"{name}: missing .* in {tmp_path}.*download: false"):
        load_split(DATASETS.get(name), tmp_path, download=False, train=True)


def test_resident_and_torchvision_paths_yield_the_same_batches_shape(tmp_path):
    spec = DATASETS.get("synthetic")
    raw = load_split(spec, tmp_path, False, True)
    idx = torch.arange(300)
    tv = TorchvisionBatches(raw, idx, spec, 128, seed=0, device=torch.device("cpu"), num_workers=0)
    images, labels = uint8_images(raw)
    res = ResidentBatches(images[idx], labels[idx], spec, 128, seed=0, device=torch.device("cpu"))
    a, b = list(tv.epoch(0)), list(res.epoch(0))
    assert [x.shape for x, _ in a] == [x.shape for x, _ in b] == [(128, 3, 32, 32)] * 2 + [(44, 3, 32, 32)]
    assert sorted(torch.cat([y for _, y in a]).tolist()) == sorted(torch.cat([y for _, y in b]).tolist())


def as_uint8(x: torch.Tensor, spec) -> torch.Tensor:
    """Eval-transformed images back to uint8 (exact: the normalisation is affine)."""
    mean, std = torch.tensor(spec.mean).view(1, -1, 1, 1), torch.tensor(spec.std).view(1, -1, 1, 1)
    return ((x * std + mean) * 255).round().to(torch.uint8)


def keys(images: torch.Tensor, labels: torch.Tensor) -> list[bytes]:
    return [im.numpy().tobytes() + bytes([y]) for im, y in zip(images, labels.tolist())]


def test_validation_split_is_carved_from_the_training_split_disjoint_and_complete(tmp_path):
    spec = DATASETS.get("synthetic")
    data = training_data(tiny(val_size=500, loader="resident", data_dir=str(tmp_path)), torch.device("cpu"))
    everything = keys(*uint8_images(load_split(spec, tmp_path, False, True)))
    val, train = keys(as_uint8(data.val_x, spec), data.val_y), keys(data.train.images, data.train.labels)
    assert len(val) == 500 and len(train) == data.n_train == len(everything) - 500
    assert set(val).isdisjoint(train)
    assert sorted(val + train) == sorted(everything)  # every training image, once
    assert set(everything).isdisjoint(keys(*uint8_images(load_split(spec, tmp_path, False, False))))  # test apart


def test_evaluation_and_validation_images_are_the_plain_eval_transform_whatever_the_seed(tmp_path):
    """No crop or flip: the same tensors on every call, whatever the global RNG state (which the
    torchvision transforms draw from), and each one the plain transform of a raw image."""
    spec = DATASETS.get("synthetic")
    raw = load_split(spec, tmp_path, False, False)
    plain = torch.stack([spec.transform(train=False)(raw[i][0]) for i in range(len(raw))])
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        x, y, _ = evaluation_data("synthetic", str(tmp_path), False, num_workers=0)
        assert torch.equal(x, plain) and y.tolist() == [raw[i][1] for i in range(len(raw))]
    cfg = tiny(val_size=300, data_dir=str(tmp_path))
    torch.manual_seed(1)
    first = training_data(cfg, torch.device("cpu")).val_x
    torch.manual_seed(2)
    second = training_data(cfg, torch.device("cpu"))
    assert torch.equal(first, second.val_x)
    training_images = set(keys(*uint8_images(load_split(spec, tmp_path, False, True))))
    val_images = keys(as_uint8(second.val_x, spec), second.val_y)
    assert all(k in training_images for k in val_images)  # uncropped, unflipped
