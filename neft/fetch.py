"""Fetch a dataset once, before parallel jobs read it: download it where the network allows, or unpack
it (Debian's Fashion-MNIST) into data_dir, check that both splits load, and cache the eval-transformed
test split there (data.cache_file), so that evaluations skip the per-image transforms. The pipeline does
this on the machine that runs Snakemake, so compute nodes without network find the files in place and
parallel jobs never race to write them."""

from pathlib import Path

from .data import write_cache
from .datasets import DATASETS, load_split
from .io import save_json


def fetch(dataset: str, data_dir: str | Path, download: bool, out: str | Path) -> dict:
    spec = DATASETS.get(dataset)
    found = {"dataset": dataset, "data_dir": str(data_dir)}
    for split in ("train", "test"):
        found[f"n_{split}"] = len(load_split(spec, data_dir, download, train=split == "train"))
    found["test_cache"] = str(write_cache(spec, data_dir, download, num_workers=0))
    save_json(out, found)
    return found
