"""Evaluation start-up: several models in one process give each the result it gets alone; models train and
are evaluated in channels-last layout on the CPU; the test split cached by `neft fetch` is the transformed
split, read without torchvision; a bad cache file is not used."""

import json
import subprocess
import sys

import pytest
import torch
from helpers import tiny

from neft.checkpoint import read_model_file
from neft.config import EvalConfig
from neft.data import cache_file, evaluation_data
from neft.datasets import DATASETS
from neft.evaluate import Session, evaluate
from neft.fetch import fetch
from neft.trainer import train

RUNS = {"noise": dict(method="noise"), "irs": dict(method="irs", sigma_d=0.2), "wide": dict(width=0.25)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three trained runs (two widths; one with IRS heads), on a part of the training set: evaluation needs
    models, not good ones."""
    root = tmp_path_factory.mktemp("trained")
    for name, options in RUNS.items():
        train(tiny(train_subset=512, **options), root / name)
    return root


def test_several_models_in_one_session_get_what_each_gets_alone(trained, tmp_path):
    cfg = EvalConfig(sigmas=[0, 0.2], runs=3, device="cpu", data_dir=str(tmp_path), test_subset=200)
    session = Session(cfg)
    together = [evaluate(trained / n / "model.pt", cfg, tmp_path / f"{n}-1.json", None, session) for n in RUNS]
    alone = [evaluate(trained / n / "model.pt", cfg, tmp_path / f"{n}-2.json") for n in RUNS]
    assert len(session.models) == 2 and len(session.test_sets) == 1  # two widths, one data set
    for a, b in zip(together, alone):
        assert a["results"] == b["results"] and a["n_test"] == b["n_test"] == 200


def test_models_train_and_are_evaluated_in_channels_last_on_the_cpu(trained, tmp_path):
    """oneDNN's fast layout (BENCHMARKS.md, CPU): the trained weights are stored in it, the evaluated ones use it."""
    path = trained / "noise" / "model.pt"
    meta = read_model_file(path)
    model, _ = Session(EvalConfig(device="cpu", data_dir=str(tmp_path))).model(meta, path)
    for weights in (meta["state_dict"], model.state_dict()):
        conv = weights["stages.1.0.weight"]  # 8 -> 16 channels: the two layouts differ
        assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()


def test_cached_test_split_is_the_transformed_one_and_needs_no_torchvision(trained, tmp_path):
    fetched = fetch("synthetic", tmp_path, False, tmp_path / "fetch.json")
    assert fetched["test_cache"] == str(cache_file(DATASETS.get("synthetic"), tmp_path))
    cached = evaluation_data("synthetic", str(tmp_path), False, subset=100, num_workers=0)
    plain = evaluation_data("synthetic", str(tmp_path / "empty"), False, subset=100, num_workers=0)
    assert torch.equal(cached[0], plain[0]) and torch.equal(cached[1], plain[1]) and len(cached[1]) == 100
    script = (
        "import sys, neft.cli; neft.cli.main(sys.argv[1:]); "
        "print('torchvision' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "evaluate",
            "--model",
            str(trained / "noise" / "model.pt"),
            "--out",
            str(tmp_path / "r.json"),
            "--runs",
            "2",
            "--device",
            "cpu",
            "--data-dir",
            str(tmp_path),
            "--no-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and out.stdout.splitlines()[-1] == "False False", out.stdout + out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["n_test"] == 512


def test_a_cache_file_of_something_else_is_not_used(tmp_path, caplog):
    spec = DATASETS.get("synthetic")
    path = cache_file(spec, tmp_path)
    path.parent.mkdir()
    x, y, _ = evaluation_data("synthetic", str(tmp_path), False, num_workers=0)
    for bad in (
        {"format": "neft.test-split/1", "dataset": "synthetic", "images": x[:, :1] + 1, "labels": y},
        {"format": "neft.test-split/1", "dataset": "cifar10", "images": x + 1, "labels": y},
        {"format": "neft.test-split/0", "dataset": "synthetic", "images": x + 1, "labels": y},
        {"format": "neft.test-split/1", "dataset": "synthetic", "images": x + 1, "labels": y[:-1]},
    ):
        caplog.clear()
        torch.save(bad, path)
        again = evaluation_data("synthetic", str(tmp_path), False, num_workers=0)
        assert torch.equal(again[0], x) and "not the cached test split" in caplog.text
    path.write_bytes(b"PK\x03\x04 truncated")
    assert torch.equal(evaluation_data("synthetic", str(tmp_path), False, num_workers=0)[0], x)
