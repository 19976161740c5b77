"""Batches for training and the fixed tensors for validation and testing.

Every random choice is a pure function of the run seed: the validation split of (seed), the order of
(seed, epoch), the crop/flip of an image of (seed, epoch, index) on the torchvision path or of
(seed, epoch, step) on the resident path. Training can therefore resume mid-epoch at any step and
reach the same weights, whatever the number of loader workers.

Two training paths give the same distribution of images:
- `TorchvisionBatches`: torchvision transforms on PIL images in DataLoader workers (CPU; Tiny ImageNet);
- `ResidentBatches`: the whole uint8 set on the device, crop/flip/normalise done there in batches
  (used automatically on CUDA for the 28/32-pixel sets).
"""

import dataclasses
import hashlib
import importlib.metadata
import inspect
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .datasets import DATASETS, DatasetSpec, load_split
from .errors import ConfigError, one_line
from .io import save_torch
from .seeding import derive_seed, generator

log = logging.getLogger("neft")
TEST_CACHE_FORMAT = "neft.test-split/1"
PAD = 4  # pixels of zero padding before the random crop (reference RandomCrop(size, padding=4))


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # preemption, Ctrl-C, a closed terminal


def ignore_stop_signals(worker_id: int) -> None:
    """DataLoader workers leave SIGTERM, SIGINT and SIGHUP to the main process: a cluster (on preemption), Ctrl-C
    and a closed terminal signal the whole process group, and the trainer must live on to write its checkpoint
    (it then stops the workers)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def materialize(dataset: Dataset, indices: Tensor | None, transform, num_workers: int = 0) -> tuple[Tensor, Tensor]:
    """Apply a deterministic transform to every image once -> (images float, labels int64)."""
    subset = _Transformed(dataset, indices if indices is not None else torch.arange(len(dataset)), transform)
    xs, ys = [], []
    for x, y in DataLoader(subset, batch_size=500, num_workers=num_workers, worker_init_fn=ignore_stop_signals):
        xs.append(x)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys).long()


class _Transformed(Dataset):
    def __init__(self, dataset, indices, transform):
        self.dataset, self.indices, self.transform = dataset, indices.tolist(), transform

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        image, label = self.dataset[self.indices[i]]
        return self.transform(image), label


def uint8_images(dataset: Dataset) -> tuple[Tensor, Tensor]:
    """The raw split as (N, C, H, W) uint8 and labels, from torchvision's in-memory arrays."""
    data = torch.as_tensor(dataset.data)
    data = data[:, None] if data.ndim == 3 else data
    if data.shape[-1] in (1, 3) and data.shape[1] not in (1, 3):
        data = data.permute(0, 3, 1, 2)
    return data.contiguous(), torch.as_tensor(dataset.targets).long()


class SeededAugment(Dataset):
    """Training images keyed by (epoch, index); the transform's randomness is seeded by the key."""

    def __init__(self, dataset: Dataset, indices: Tensor, transform, seed: int):
        self.dataset, self.indices, self.transform, self.seed = dataset, indices.tolist(), transform, seed

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, key: tuple[int, int]):
        epoch, i = key
        torch.default_generator.manual_seed(derive_seed(self.seed, "augment", epoch, i))  # transforms draw from it
        image, label = self.dataset[self.indices[i]]
        return self.transform(image), label


class EpochBatchSampler:
    """Yields the batches of `epoch` from step `start` on, as lists of (epoch, index) keys."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.epoch, self.start = 0, 0

    def __len__(self):
        return steps_per_epoch(self.n, self.batch_size) - self.start

    def __iter__(self):
        order = torch.randperm(self.n, generator=generator("cpu", self.seed, "order", self.epoch)).tolist()
        for step in range(self.start, steps_per_epoch(self.n, self.batch_size)):
            yield [(self.epoch, i) for i in order[step * self.batch_size : (step + 1) * self.batch_size]]


def steps_per_epoch(n: int, batch_size: int) -> int:
    return -(-n // batch_size)  # the last, partial batch is kept


class TorchvisionBatches:
    def __init__(self, dataset, indices, spec: DatasetSpec, batch_size: int, seed: int, device, num_workers: int):
        self.sampler = EpochBatchSampler(len(indices), batch_size, seed)
        self.loader = DataLoader(
            SeededAugment(dataset, indices, spec.transform(train=True), seed),
            batch_sampler=self.sampler,
            num_workers=num_workers,
            worker_init_fn=ignore_stop_signals,
            persistent_workers=num_workers > 0,
            pin_memory=device.type == "cuda",
        )
        self.device = device
        self.steps = steps_per_epoch(len(indices), batch_size)

    def epoch(self, epoch: int, start: int = 0):
        self.sampler.epoch, self.sampler.start = epoch, start
        for x, y in self.loader:
            yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)


class ResidentBatches:
    """The training images live on the device as uint8; crops, flips and normalisation are batched."""

    def __init__(self, images: Tensor, labels: Tensor, spec: DatasetSpec, batch_size: int, seed: int, device):
        if spec.resize and images.shape[-1] != spec.image_size:
            from torchvision.transforms import v2

            images = v2.functional.resize(images, [spec.image_size, spec.image_size], antialias=True)
        self.images, self.labels = images.to(device), labels.to(device)
        self.spec, self.batch_size, self.seed, self.device = spec, batch_size, seed, device
        self.mean = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1)
        self.std = torch.tensor(spec.std, device=device).view(1, -1, 1, 1)
        self.steps = steps_per_epoch(len(labels), batch_size)

    def epoch(self, epoch: int, start: int = 0):
        order = torch.randperm(
            len(self.labels), generator=generator(self.device, self.seed, "order", epoch), device=self.device
        )
        for step in range(start, self.steps):
            idx = order[step * self.batch_size : (step + 1) * self.batch_size]
            x = self.images[idx].float().div_(255)
            if self.spec.augment:
                x = crop_flip(x, generator(self.device, self.seed, "augment", epoch, step))
            yield (x - self.mean) / self.std, self.labels[idx]


def crop_flip(x: Tensor, g: torch.Generator) -> Tensor:
    """RandomCrop(size, padding=PAD) and RandomHorizontalFlip, one draw per image, on the device."""
    n, _, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD))
    dy = torch.randint(0, 2 * PAD + 1, (n, 1, 1), generator=g, device=x.device)
    dx = torch.randint(0, 2 * PAD + 1, (n, 1, 1), generator=g, device=x.device)
    flip = torch.rand(n, 1, 1, generator=g, device=x.device) < 0.5
    rows = dy + torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    cols = dx + torch.where(flip, w - 1 - cols, cols)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


@dataclass
class TrainingData:
    spec: DatasetSpec
    train: TorchvisionBatches | ResidentBatches
    val_x: Tensor  # on the device, eval-transformed
    val_y: Tensor
    n_train: int


def training_data(cfg, device: torch.device) -> TrainingData:
    spec = DATASETS.get(cfg.dataset)
    raw = load_split(spec, cfg.data_dir, cfg.download, train=True)
    n = len(raw)
    if cfg.val_size >= n:
        raise ConfigError(f"val_size {cfg.val_size} leaves no training images (the training split has {n})")
    order = torch.randperm(n, generator=generator("cpu", cfg.seed, "val-split"))
    val_idx, train_idx = order[: cfg.val_size], order[cfg.val_size :]
    if cfg.train_subset is not None:
        train_idx = train_idx[: cfg.train_subset]
    val_x, val_y = materialize(raw, val_idx, spec.transform(train=False), cfg.num_workers)
    resident = cfg.loader == "resident" or (cfg.loader == "auto" and device.type == "cuda" and spec.image_size <= 32)
    if resident:
        images, labels = uint8_images(raw)
        train = ResidentBatches(images[train_idx], labels[train_idx], spec, cfg.batch_size, cfg.seed, device)
    else:
        train = TorchvisionBatches(raw, train_idx, spec, cfg.batch_size, cfg.seed, device, cfg.num_workers)
    return TrainingData(spec, train, val_x.to(device), val_y.to(device), len(train_idx))


def evaluation_data(
    dataset: str, data_dir: str, download: bool, subset: int | None = None, num_workers: int = 2
) -> tuple[Tensor, Tensor, DatasetSpec]:
    """The (first `subset` of the) test split, eval-transformed, on the CPU: read from the cache `neft fetch`
    writes when it is there (no per-image transforms, no torchvision import), else transformed here."""
    spec = DATASETS.get(dataset)
    cached = read_cache(spec, data_dir)
    if cached is not None:
        return cached[0][:subset], cached[1][:subset], spec
    raw = load_split(spec, data_dir, download, train=False)
    x, y = materialize(raw, torch.arange(min(subset or len(raw), len(raw))), spec.transform(train=False), num_workers)
    return x, y, spec


def cache_file(spec: DatasetSpec, data_dir: str | Path) -> Path:
    """Where the eval-transformed test split of `spec` is cached in data_dir. Its name holds a hash of what
    the transform depends on (the spec, the code of DatasetSpec.transform, torchvision's version), so a
    changed transform never reads an old file."""
    source = inspect.getsource(DatasetSpec.transform)
    what = repr((dataclasses.replace(spec, load=None), source, importlib.metadata.version("torchvision")))
    return (
        Path(data_dir)
        / "neft-cache"
        / f"{spec.name}-test-{hashlib.blake2b(what.encode(), digest_size=6).hexdigest()}.pt"
    )


def write_cache(spec: DatasetSpec, data_dir: str | Path, download: bool, num_workers: int = 2) -> Path:
    raw = load_split(spec, data_dir, download, train=False)
    x, y = materialize(raw, None, spec.transform(train=False), num_workers)
    path = cache_file(spec, data_dir)
    save_torch(path, {"format": TEST_CACHE_FORMAT, "dataset": spec.name, "images": x, "labels": y})
    return path


def read_cache(spec: DatasetSpec, data_dir: str | Path) -> tuple[Tensor, Tensor] | None:
    """The cached (images, labels), or None (with a warning if a file is there but is not the split)."""
    path = cache_file(spec, data_dir)
    if not path.is_file():
        return None
    try:
        obj = torch.load(path, weights_only=True, mmap=True)
        x, y = obj["images"], obj["labels"]
        shape = (spec.in_channels, spec.image_size, spec.image_size)
        problem = next(
            (
                what
                for what, bad in [
                    ("format", obj["format"] != TEST_CACHE_FORMAT),
                    ("dataset", obj["dataset"] != spec.name),
                    ("images", x.dtype != torch.float32 or x.ndim != 4 or tuple(x.shape[1:]) != shape),
                    ("labels", y.dtype != torch.int64 or tuple(y.shape) != (len(x),)),
                    ("label range", len(y) > 0 and not 0 <= int(y.min()) <= int(y.max()) < spec.num_classes),
                ]
                if bad
            ),
            None,
        )
    except Exception as e:  # truncated zip, foreign pickle, missing key
        problem = one_line(e, 120) or type(e).__name__
    if problem:
        log.warning(
            "%s: not the cached test split of %s (%s); transforming the images instead (neft fetch %s writes it again)",
            path,
            spec.name,
            problem,
            spec.name,
        )
        return None
    return x, y
