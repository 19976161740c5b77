"""runs.csv, the per-seed rows every analysis step reads: its columns, its checked reader and the one filter
the figures, tables and report select rows with."""

from pathlib import Path

import pandas as pd

from ..errors import NeftError
from ..formats import Number, read_table

ROW = ["model", "dataset", "variant", "sigma_d", "seed", "eval_sigma"]  # what one row of runs.csv is of
COLUMNS = [
    "model",
    "dataset",
    "variant",
    "method",
    "sigma_d",
    "seed",
    "status",
    "eval_sigma",
    "runs",
    "accuracy",
    "mc_std",
    "mc_ci95",
    "ekl",
    "mc_ekl_ci95",
    "diverged_epoch",
    "heads_anti_aligned",
    "beta",
    "n_feedback",
    "epochs",
    "width",
    "train_subset",
    "val_accuracy",
    "init",
    "selection",
    "n_test",
    "train_seconds",
    "eval_seconds",
    "device",
    "git_commit",
    "date",
    "file",
]
TEXT = {
    "model",
    "dataset",
    "variant",
    "method",
    "status",
    "init",
    "selection",
    "device",
    "git_commit",
    "date",
    "file",
}  # the other columns hold numbers
DIGITS = 6  # sigmas are compared after rounding: 0.1 + 0.2 must find 0.3
SIGMAS = ("sigma_d", "eval_sigma")
# the numbers of runs.csv a step would misread (empty: a run without weights, or a statistic of one value)
RANGES = dict(
    sigma_d=Number(0, 1),
    eval_sigma=Number(0, 1, nan=True),
    runs=Number(2, nan=True),
    accuracy=Number(0, 100, nan=True),
    mc_std=Number(0, nan=True),
    mc_ci95=Number(0, nan=True),
    ekl=Number(0, nan=True),
)


def read_runs(path: Path) -> pd.DataFrame:
    """runs.csv as written by `aggregate`, checked for its columns and their kinds (sigmas rounded, so equality
    tests are safe)."""
    runs = read_table(path, "runs table", COLUMNS, TEXT, "rerun the aggregate step", ranges=RANGES)
    runs["sigma_d"] = runs["sigma_d"].round(DIGITS)
    for bad, what in [
        (runs.duplicated(ROW), "repeats the run and sigma of an earlier line"),
        (runs.eval_sigma.notna() & runs.accuracy.isna(), "has no accuracy at its sigma"),
    ]:
        if bad.any():
            raise NeftError(f"{path}: line {bad.idxmax() + 2} {what}; rerun the aggregate step")  # + the header
    return runs


def select(runs: pd.DataFrame, **where) -> pd.DataFrame:
    """The rows whose columns hold the given values: select(runs, model='vgg8', sigma_d=0.3, seed=[0, 1]).
    A list, tuple or set is any of its values; sigmas are compared rounded to DIGITS."""
    keep = pd.Series(True, index=runs.index)
    for column, value in where.items():
        if isinstance(value, (list, tuple, set)):
            values = [round(v, DIGITS) for v in value] if column in SIGMAS else list(value)
            keep &= runs[column].isin(values)
        else:
            keep &= runs[column] == (round(value, DIGITS) if column in SIGMAS else value)
    return runs[keep]


def by_seed(rows: pd.DataFrame, column: str = "accuracy") -> pd.Series:
    """One value per seed (those that have one), in seed order."""
    return rows.set_index("seed")[column].dropna().sort_index()
