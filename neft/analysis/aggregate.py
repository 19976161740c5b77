"""Tidy tables of Monte-Carlo result files: one row per (run, evaluated sigma), and means over seeds.

The pipeline names every run by its place under the MC results folder (layout.py):
    <root>/<model>/<dataset>/<variant>/sd<sigma_d>/seed<seed>.json
A variant is a method name (vanilla, noise, ovf, irs: the main runs) or a method with a tag (variants.py).
The path gives the variant; model, dataset, sigma_d and seed are checked against the file's config.
"""

import math
from pathlib import Path

import pandas as pd

from ..errors import NeftError
from ..layout import RUN, Run, parse_run
from ..stats import ci95_halfwidth
from ..variants import parse_variant
from .results import read_result
from .runs import COLUMNS, DIGITS, ROW

KEYS = ["model", "dataset", "variant", "method", "sigma_d"]  # a group of seeds


def t_ci95(values) -> float:
    """Half-width of the 95% CI of the mean over seeds (Student t, n-1 dof); nan below two values."""
    v = pd.Series(values, dtype=float).dropna()
    return ci95_halfwidth(v.std(), len(v))


def result_rows(path: Path, root: Path) -> list[dict]:
    """The rows of one MC result file (one per sigma; one empty row for a run without weights)."""
    result = read_result(path)
    real, real_root = path.resolve(), root.resolve()  # whatever the spelling: ./, .., links
    place = real.relative_to(real_root) if real.is_relative_to(real_root) else None
    named = place is not None and place.suffix == ".json" and parse_run(place.with_suffix("").as_posix())
    if not named:
        raise NeftError(f"{path}: not at {RUN.replace('{', '<').replace('}', '>')}.json under {root}")
    train = result["train"]
    cfg, hp = train["config"], train["method_hparams"]
    for key in ("model", "dataset", "sigma_d", "seed"):
        if cfg[key] != getattr(named, key):
            raise NeftError(
                f"{path}: its path says {key} {getattr(named, key)!r} but the run has {cfg[key]!r}; move or rerun it"
            )
    try:
        method = parse_variant(named.variant)[0]
    except NeftError as e:
        raise NeftError(f"{path}: {e}") from None
    if method != cfg["method"]:
        raise NeftError(f"{path}: variant {named.variant!r} is not a {cfg['method']!r} run")
    run = dict(
        named._asdict(),
        method=method,
        status=result["status"],
        diverged_epoch=train["diverged_epoch"],
        heads_anti_aligned=len(train["flags"].get("irs_heads_anti_aligned", [])),
        beta=hp.get("beta", math.nan),
        n_feedback=hp.get("n_feedback", math.nan),
        epochs=cfg["epochs"],
        width=cfg["width"],
        train_subset=cfg["train_subset"],
        val_accuracy=train["selected_val_accuracy"],
        init=cfg.get("init", "unrecorded"),
        selection=train.get("selection"),
        n_test=result.get("n_test"),
        train_seconds=train["seconds"],
        eval_seconds=result["seconds"],
        device=result["provenance"]["device"],
        git_commit=result["provenance"].get("git_commit", "unknown"),
        date=result["provenance"].get("time", "")[:10],
        file=path.as_posix(),
    )
    per_sigma = [
        dict(
            eval_sigma=round(r["sigma"], DIGITS),
            runs=r["runs"],
            accuracy=r["mean"],
            mc_std=r["std"],
            mc_ci95=r["ci95"],
            ekl=r["ekl"],
            mc_ekl_ci95=t_ci95(r["ekl_runs"]),
        )
        for r in result["results"]
    ]
    return [{**run, **r} for r in per_sigma or [{}]]


def collect(paths: list[Path], root: Path) -> pd.DataFrame:
    """Per-seed rows of every result file, in a stable order; a run and evaluated sigma given twice (the same
    file twice, however spelt) is one line."""
    rows, seen = [], {}
    for path in paths:
        for row in result_rows(Path(path), Path(root)):
            key = tuple(row.get(k) for k in ROW)
            if key in seen:
                raise NeftError(
                    f"{path}: run {Run(*key[:5]).id} at sigma {row.get('eval_sigma', '-')} is already given by "
                    f"{seen[key]}; give each run's result once"
                )
            seen[key] = path
            rows.append(row)
    runs = pd.DataFrame(rows, columns=COLUMNS)
    return runs.sort_values(["model", "dataset", "variant", "sigma_d", "seed", "eval_sigma"], ignore_index=True)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof 1) and Student-t CI95 over seeds for each model/dataset/variant/sigma_d/eval sigma,
    with the number of seeds averaged, of diverged seeds, and of IRS runs with anti-aligned heads."""
    seeds = runs.drop_duplicates(KEYS + ["seed"])
    health = seeds.groupby(KEYS).agg(
        n_diverged=("status", lambda s: int((s == "diverged").sum())),
        n_anti_aligned=("heads_anti_aligned", lambda h: int((h > 0).sum())),
        beta=("beta", "first"),
    )
    evaluated = runs.dropna(subset=["eval_sigma"])
    stats = evaluated.groupby(KEYS + ["eval_sigma"]).agg(
        n_seeds=("accuracy", "count"),
        mean=("accuracy", "mean"),
        std=("accuracy", "std"),
        ci95=("accuracy", t_ci95),
        ekl=("ekl", "mean"),
        runs=("runs", "max"),
        seeds=("seed", lambda s: " ".join(map(str, sorted(s)))),
    )
    summary = stats.reset_index().merge(health.reset_index(), on=KEYS, how="outer")
    summary["n_seeds"] = summary["n_seeds"].fillna(0).astype(int)  # groups whose every seed diverged
    return summary.sort_values(KEYS + ["eval_sigma"], ignore_index=True)


def aggregate(paths: list[Path], root: Path, runs_csv: Path, summary_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from ..io import save_text

    runs = collect(paths, root)
    summary = summarize(runs)
    save_text(runs_csv, runs.to_csv(index=False))
    save_text(summary_csv, summary.to_csv(index=False))
    return runs, summary
