"""Each table of tables.TABLES as a reader sees it: one text cell per number (render.cell), display names,
the columns in the paper's order. The table files (Markdown, HTML, LaTeX) and the report show these."""

import pandas as pd

from .names import dataset_name, method_name, model_name
from .render import cell


def wide(long: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """One cell per (index, column), columns in the order they first appear: 'mean ± CI95', '(n = k)' where
    fewer seeds finished than elsewhere in the table, ' *' on the main runs' setting."""
    if long.empty:
        return pd.DataFrame()
    most = long.n_seeds.max()

    def text(row) -> str:
        fewer = f" (n = {int(row.n_seeds)})" if 0 < row.n_seeds < most else ""
        return cell(row["mean"], row.ci95) + fewer + (" *" if bool(row.get("main", False)) else "")

    cells = long.assign(cell=[text(row) for _, row in long.iterrows()])
    table = cells.pivot_table(index=index, columns=columns, values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=list(dict.fromkeys(long[columns]))).fillna("–")
    table.index = [method_name(i) for i in table.index]
    return table.reset_index(names=index)


def by_column(t: pd.DataFrame) -> pd.DataFrame:
    return wide(t, "method", "column")


def ablations_wide(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": t.method.map(method_name),
            "ablation": t.ablation,
            "NFT": [cell(m, c) for m, c in zip(t.nft_mean, t.nft_ci95)],
            "ablated": [cell(m, c) for m, c in zip(t["mean"], t.ci95)],
            "NFT − ablated": [cell(m, c, sign=True) for m, c in zip(t.nft_minus_ablated, t.nft_minus_ablated_ci95)],
        }
    )


def convergence_wide(t: pd.DataFrame) -> pd.DataFrame:
    ran = t.runs > 0
    counts = {
        c: t[c].where(ran).map(lambda v: "not run" if pd.isna(v) else f"{v:.0f}")
        for c in ("runs", "diverged", "below_threshold", "non_converged")
    }
    return pd.DataFrame(
        {
            "method": t.method.map(method_name),
            "runs": counts["runs"],
            "diverged": counts["diverged"],
            "below threshold": counts["below_threshold"],
            "non-converged": counts["non_converged"],
            "mean accuracy": [cell(m, c) if r else "not run" for m, c, r in zip(t["mean"], t.ci95, ran)],
        }
    )


def beta_wide(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": t.model.map(model_name),
            "dataset": t.dataset.map(dataset_name),
            "method": t.method.map(method_name),
            "σ_d": t.sigma_d.map("{:g}".format),
            "β": t.beta.map("{:g}".format),
            "n (seeds)": t.n_seeds.map(str),
            "validation accuracy": [cell(m, c) for m, c in zip(t.val_accuracy, t.val_ci95)],
            "chosen": t.chosen.map({True: "yes", False: ""}),
        }
    )


def feedback_wide(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comparison": t.comparison,
            "panel": [f"{model_name(m)} / {dataset_name(d)}" for m, d in zip(t.model, t.dataset)],
            "σ_d": t.sigma_d.map("{:g}".format),
            "difference": [f"{cell(d, c, sign=True)} (n={n})" for d, c, n in zip(t["diff"], t.ci95, t.n_paired)],
            "outcome": t.outcome,
            "seeds": t.seeds,
        }
    )


def init_wide(long: pd.DataFrame) -> pd.DataFrame:
    """One row per method: accuracy under each initialisation, the change, and the difference from W/ Noise."""
    by = long.set_index(["method", "init"])
    rows = []
    for method in dict.fromkeys(long.method):
        ref, pt = by.loc[(method, "reference")], by.loc[(method, "pytorch")]
        row = {
            "method": method_name(method),
            "reference init": cell(ref["mean"], ref.ci95),
            "PyTorch init": cell(pt["mean"], pt.ci95),
            "PyTorch − reference": cell(pt.change, pt.change_ci95, sign=True),
        }
        for name, r in (("reference", ref), ("PyTorch", pt)):
            row[f"− W/ Noise ({name})"] = (
                "–"
                if pd.isna(r.minus_noise)
                else f"{cell(r.minus_noise, r.minus_noise_ci95, sign=True)} ({r.minus_noise_outcome})"
            )
        rows.append(row)
    return pd.DataFrame(rows)
