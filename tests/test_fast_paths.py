"""The fast paths compute what the plain ones do: GPU-resident augmentation has the distribution of
the torchvision transforms; bf16 Monte-Carlo agrees with fp32 (accuracy and EKL, noise-free and within
the MC standard error when noisy)."""

import math
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import marker_image, offsets_and_flip, tiny
from scipy import stats

from neft.data import SeededAugment, crop_flip, evaluation_data
from neft.datasets import DATASETS
from neft.mc import mc_evaluate
from neft.models import build_model
from neft.noise import NoiseLaw
from neft.trainer import train

N = 12000
ROOT = Path(__file__).resolve().parent.parent


def test_resident_crop_flip_has_the_torchvision_distribution():
    spec = DATASETS.get("synthetic")
    image = marker_image().expand(3, 32, 32).clone()
    dataset = SeededAugment([(image, 0)], torch.zeros(N, dtype=torch.long), spec.transform(train=True), seed=0)
    tv = offsets_and_flip(torch.stack([dataset[(0, i)][0] for i in range(N)]))
    res = offsets_and_flip(crop_flip(image.float().div(255).expand(N, 3, 32, 32), torch.Generator().manual_seed(0)))
    cells = sorted({*tv, *res})
    assert all(0 <= dy <= 8 and 0 <= dx <= 8 for dy, dx, _ in cells) and len(cells) == 9 * 9 * 2
    table = [[tv.count(c) for c in cells], [res.count(c) for c in cells]]
    assert stats.chi2_contingency(table).pvalue > 1e-3
    assert stats.chisquare(table[1]).pvalue > 1e-3  # uniform over the 162 (dy, dx, flip) cells


def test_bf16_mc_agrees_with_fp32_within_the_mc_standard_error(tmp_path):
    train(tiny(epochs=2, train_subset=1024), tmp_path)
    model = build_model("vgg8", 3, 10, 32, width=0.125)
    model.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True)["state_dict"])
    x, y, _ = evaluation_data("synthetic", str(tmp_path), False, num_workers=0)
    (clean32, fp32), (clean16, bf16) = (
        mc_evaluate(model, NoiseLaw(), x, y, [0.0, 0.1], runs=10, seed=0, precision=p) for p in ("fp32", "bf16")
    )
    # noise-free: rounding flips at most 1 % of the predictions (near-ties) and moves the EKL by < 10 %
    assert abs(clean16.mean - clean32.mean) <= 1.0 and abs(clean16.ekl - clean32.ekl) <= 0.1 * clean32.ekl
    # noisy: within the Monte-Carlo standard error of the mean accuracy and of the EKL
    assert fp32.mean > 20
    assert abs(bf16.mean - fp32.mean) <= fp32.std / math.sqrt(fp32.runs)
    assert abs(bf16.ekl - fp32.ekl) <= statistics.stdev(fp32.ekl_runs) / math.sqrt(fp32.runs)


@pytest.mark.slow
def test_the_device_check_passes_on_the_cpu():
    """benchmarks/device_check.py runs these checks where the fast paths run (CUDA); here it must at
    least run, and pass, on the CPU."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "device_check.py"), "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and "4 of 4 checks passed" in out.stdout, out.stdout + out.stderr
