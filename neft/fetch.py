"""Fetch a dataset once, before parallel jobs read it: download it where the network allows, or unpack
it (Debian's Fashion-MNIST) into data_dir, and check that both splits load. The pipeline does this on
the machine that runs Snakemake, so compute nodes without network find the files in place and
parallel jobs never race to write them."""
from pathlib import Path

from .datasets import DATASETS, load_split
from .io import save_json


def fetch(dataset: str, data_dir: str | Path, download: bool, out: str | Path) -> dict:
    spec = DATASETS.get(dataset)
    found = {"dataset": dataset, "data_dir": str(data_dir)}
    for split in ("train", "test"):
        found[f"n_{split}"] = len(load_split(spec, data_dir, download, train=split == "train"))
    save_json(out, found)
    return found
