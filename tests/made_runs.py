"""Hand-made Monte-Carlo result files and the runs.csv rows aggregation makes of them, for the analysis tests."""

import json
from pathlib import Path

import pandas as pd

from neft import schema
from neft.analysis.aggregate import collect
from neft.variants import parse_variant

SCHEMA = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def checked_config(**values) -> dict:
    """A config as the workflow checks it and writes it (results/<name>/config.json): every default filled in,
    `values` on top of them."""
    return schema.validate({"name": "unit", **values}, schema.load(SCHEMA))


def result(
    model,
    dataset,
    method,
    sigma_d,
    seed,
    accuracy: dict,
    status="completed",
    beta=None,
    n_feedback=None,
    ekl=1.0,
    epochs=3,
    val=50.0,
    anti_aligned=(),
    init="reference",
):
    """A neft.mc/1 result: `accuracy` maps eval sigma -> per-run accuracies. A diverged run with accuracies
    diverged after a kept epoch (that epoch was evaluated); without, before any."""
    hp = {k: v for k, v in dict(beta=beta, n_feedback=n_feedback).items() if v is not None}
    rows = [
        dict(
            sigma=s,
            runs=len(a),
            accuracy=a,
            ekl_runs=[ekl] * len(a),
            mean=sum(a) / len(a),
            std=pd.Series(a).std(),
            ci95=0.0,
            ekl=ekl,
        )
        for s, a in accuracy.items()
    ]
    config = dict(
        model=model,
        dataset=dataset,
        method=method,
        sigma_d=sigma_d,
        seed=seed,
        epochs=epochs,
        width=1.0,
        train_subset=None,
        init=init,
    )
    return {
        "format": "neft.mc/1",
        "status": status,
        "n_test": 100,
        "seconds": 2.0,
        "provenance": {"device": "cpu", "git_commit": "abc123", "time": "2026-11-25T10:00:00+00:00"},
        "train": {
            "status": status,
            "diverged_epoch": 2 if status == "diverged" else None,
            "config": config,
            "method_hparams": hp,
            "flags": {"irs_heads_anti_aligned": list(anti_aligned)},
            "selected_val_accuracy": val,
            "selection": "val",
            "seconds": 10.0,
        },
        "results": rows,
    }


def write_runs(root, specs):
    """specs: (variant, sigma_d, seed, {eval sigma: [accuracies]}, extra) on vgg8/mnist -> paths."""
    paths = []
    for variant, sigma_d, seed, accuracy, extra in specs:
        path = root / "vgg8" / "mnist" / variant / f"sd{sigma_d:g}" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(result("vgg8", "mnist", parse_variant(variant)[0], sigma_d, seed, accuracy, **extra))
        )
        paths.append(path)
    return paths


def runs_of(tmp_path, specs):
    return collect(write_runs(tmp_path / "mc", specs), tmp_path / "mc")


def figure_runs(tmp_path) -> pd.DataFrame:
    """Four methods at sigma_d 0.1 and 0.3, three seeds with skewed accuracies (mean != median), except IRS at
    0.3 (one seed: its bar is the MC CI95); distinct MC CI95s; on Fashion-MNIST (MNIST's stand-in)."""
    acc = {"vanilla": 30.0, "noise": 50.0, "ovf": 60.0, "irs": 55.0}
    specs = [
        (
            m,
            sd,
            s,
            {sd: [acc[m] + 10 * sd + [0, 1, 9][s]] * 2},
            dict(beta=0.01 if m != "noise" else None, ekl=[0.1, 0.2, 0.6][s] + sd),
        )
        for m in ("noise", "ovf", "irs")
        for sd in (0.1, 0.3)
        for s in range(3)
        if (m, sd) != ("irs", 0.3) or s == 0
    ]
    specs += [
        (
            "vanilla",
            0.0,
            s,
            {x: [acc["vanilla"] + [0, 1, 9][s] - 50 * x] * 2 for x in (0.0, 0.1, 0.3)},
            dict(ekl=[0.2, 0.3, 0.9][s]),
        )
        for s in range(3)
    ]
    runs = runs_of(tmp_path, specs).assign(dataset="fashion_mnist")
    return runs.assign(mc_ci95=0.5 + runs.accuracy / 100, mc_ekl_ci95=0.01 + runs.ekl / 10)


def feedback_runs(tmp_path, matched_gain: float, seeds=(0, 1, 2), dataset="mnist"):
    """W/ Noise, W/ Noise ×4 and OVF at sigma_d 0.2 and 0.4 (OVF 5 points above W/ Noise, W/ Noise ×4
    `matched_gain` above it; seed spreads 0, 0.4, 0.8), and at the ablations' setting (0.3) OVF and IRS with
    their +beta runs (positive feedback 2 points below)."""
    specs = []
    for sd in (0.2, 0.4):
        for s in seeds:
            base = 50.0 + 0.4 * s
            for variant, gain in (("noise", 0.0), ("noise-draws4", matched_gain), ("ovf", 5.0 + 0.1 * s)):
                specs.append((variant, sd, s, {sd: [base + gain] * 2}, dict(epochs=200)))
    for s in seeds:
        for variant, acc in (("ovf", 60.0), ("ovf-posfb", 58.0 - 0.3 * s), ("irs", 61.0), ("irs-posfb", 61.0)):
            specs.append((variant, 0.3, s, {0.3: [acc] * 2}, dict(epochs=200)))
    return runs_of(tmp_path, specs).assign(dataset=dataset)
