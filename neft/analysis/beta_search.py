"""The four-step beta search (paper Sec. 4.2): candidates of one model/dataset/method trained at one
sigma_d; the beta with the best mean noisy validation accuracy (of each run's selected epoch, on the
validation split carved from the training set, never the test set) wins. Diverged candidates lose.

Writes the winner as a one-key YAML (`beta: ...`) that `python -m neft train --config` reads, and the
table of candidates as CSV."""

from pathlib import Path

import pandas as pd

from ..errors import NeftError
from ..formats import read_json
from ..io import save_text
from .aggregate import t_ci95


def candidates(train_jsons: list[Path]) -> pd.DataFrame:
    rows, seen = [], {}
    for path in train_jsons:
        run = read_json(path, "train.json")
        cfg, beta = run["config"], run["method_hparams"].get("beta")
        if beta is None:
            raise NeftError(
                f"{path}: a {cfg['method']} run has no beta, so not a beta search candidate; give the "
                f"train.json files of the candidates"
            )
        if (beta, cfg["seed"]) in seen:
            raise NeftError(
                f"{path}: the candidate beta {beta:g}, seed {cfg['seed']} is already given by "
                f"{seen[beta, cfg['seed']]}; give each candidate run once"
            )
        seen[beta, cfg["seed"]] = path
        rows.append(
            dict(
                model=cfg["model"],
                dataset=cfg["dataset"],
                method=cfg["method"],
                sigma_d=cfg["sigma_d"],
                beta=beta,
                seed=cfg["seed"],
                status=run["status"],
                val_accuracy=run["selected_val_accuracy"],
            )
        )
    table = pd.DataFrame(rows)
    if table.empty or len(table.drop_duplicates(["model", "dataset", "method", "sigma_d"])) != 1:
        raise NeftError("beta search: give the train.json files of one model/dataset/method/sigma_d")
    return table


def search(train_jsons: list[Path], out_yaml: Path, out_csv: Path) -> float:
    table = candidates(train_jsons)
    keys = ["model", "dataset", "method", "sigma_d", "beta"]
    done = table[table.status == "completed"]
    scores = (
        table.groupby(keys, sort=False)
        .agg(n_seeds=("seed", "count"))
        .join(done.groupby(keys).agg(val_accuracy=("val_accuracy", "mean"), val_ci95=("val_accuracy", t_ci95)))
        .reset_index()
    )
    if scores.val_accuracy.isna().all():
        raise NeftError(
            f"beta search: every candidate of {table.method[0]} on {table.model[0]}/{table.dataset[0]} "
            f"diverged; widen the grid"
        )
    best = scores.beta[scores.val_accuracy.idxmax()]
    scores["chosen"] = scores.beta == best
    save_text(out_csv, scores.to_csv(index=False))
    save_text(out_yaml, f"beta: {float(best)!r}\n")
    return float(best)
