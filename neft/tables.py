"""Table 1 (number of feedbacks), Table 2 (pretrained + k epochs), the other ablations, the convergence
count and the beta search, computed from the per-seed rows of runs.csv (see aggregate.py).

Every accuracy is the MC mean of a run at the ablation's sigma_d, averaged over the setting's seeds
(Student-t CI95 over seeds). Each table is written as a tidy CSV, and as Markdown and LaTeX with one
"mean ± CI95" cell per method and column.
"""
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from .aggregate import DIGITS, parse_variant, t_ci95
from .errors import NeftError
from .formats import read_table
from .io import save_text

NAMES = {"vanilla": "W/O Noise", "noise": "W/ Noise", "ovf": "OVF", "irs": "IRS"}


@dataclass(frozen=True)
class Setting:
    """Where an ablation or the convergence count runs: one model/dataset/sigma_d, some seeds."""
    model: str
    dataset: str
    sigma_d: float
    seeds: tuple[int, ...]

    def rows(self, runs: pd.DataFrame, variant: str, sigma_d: float | None = None) -> pd.DataFrame:
        """The per-seed rows of `variant` trained at sigma_d (default: the setting's), any eval sigma."""
        sd = self.sigma_d if sigma_d is None else sigma_d
        return runs[(runs.model == self.model) & (runs.dataset == self.dataset) & (runs.variant == variant)
                    & (runs.sigma_d == round(sd, DIGITS)) & runs.seed.isin(self.seeds)]

    def accuracy(self, runs: pd.DataFrame, variant: str, sigma_d: float | None = None) -> pd.Series:
        """MC mean accuracy at the setting's sigma_d, by seed (diverged seeds are absent)."""
        rows = self.rows(runs, variant, sigma_d)
        rows = rows[rows.eval_sigma == round(self.sigma_d, DIGITS)]
        return rows.set_index("seed")["accuracy"].dropna().sort_index()

    def describe(self) -> str:
        return f"{self.model}, {self.dataset}, sigma_d = {self.sigma_d:g}, seeds {' '.join(map(str, self.seeds))}"


def stats(acc: pd.Series) -> dict:
    return dict(n_seeds=len(acc), mean=acc.mean(), std=acc.std(), ci95=t_ci95(acc),
                seeds=" ".join(str(s) for s in acc.index))


def cell(mean: float, ci95: float) -> str:
    if pd.isna(mean):
        return "–"
    return f"{mean:.2f}" if pd.isna(ci95) else f"{mean:.2f} ± {ci95:.2f}"


def variants(runs: pd.DataFrame, setting: Setting, method: str, tag: str) -> list[tuple[float, str]]:
    """(value, variant) of the `method-<tag><value>` runs present at the setting, by value."""
    here = runs[(runs.model == setting.model) & (runs.dataset == setting.dataset)
                & (runs.sigma_d == round(setting.sigma_d, DIGITS))]
    found = {(parse_variant(v)[2], v) for v in here.variant.unique() if parse_variant(v)[:2] == (method, tag)}
    return sorted(found)


def feedback_label(n: int) -> str:
    return {1: "1", 2: "1+2"}.get(n, f"1~{n}")  # the paper's column heads


def table1(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Accuracy vs the number of feedbacks N; the main run fills the column of its own N."""
    rows = []
    for method in ("ovf", "irs"):
        main = setting.rows(runs, method)
        candidates = [(main.n_feedback.dropna().iloc[0], method)] if main.n_feedback.notna().any() else []
        for n, variant in sorted(candidates + variants(runs, setting, method, "n")):
            rows.append(dict(method=method, n_feedback=int(n), column=feedback_label(int(n)), variant=variant,
                             main=variant == method, **stats(setting.accuracy(runs, variant))))
    return pd.DataFrame(rows, columns=["method", "n_feedback", "column", "variant", "main", "n_seeds", "mean",
                                       "std", "ci95", "seeds"])


def table2(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """The W/O Noise model (pre+0), it + k epochs of OVF/IRS (pre+k), and OVF/IRS from scratch."""
    rows = []
    pretrained = stats(setting.accuracy(runs, "vanilla", sigma_d=0.0))
    for method in ("ovf", "irs"):
        rows.append(dict(method=method, column="pre+0", epochs=0, variant="vanilla", **pretrained))
        for k, variant in variants(runs, setting, method, "pre"):
            rows.append(dict(method=method, column=f"pre+{k:g}", epochs=int(k), variant=variant,
                             **stats(setting.accuracy(runs, variant))))
        scratch = setting.rows(runs, method)
        epochs = int(scratch.epochs.iloc[0]) if len(scratch) else None
        rows.append(dict(method=method, column=f"scratch+{epochs}" if epochs else "scratch", epochs=epochs,
                         variant=method, **stats(setting.accuracy(runs, method))))
    return pd.DataFrame(rows, columns=["method", "column", "epochs", "variant", "n_seeds", "mean", "std", "ci95", "seeds"])


ABLATIONS = [("ovf", "revdecay", "reversed decay"), ("irs", "revdecay", "reversed decay"),
             ("ovf", "revsigma", "reversed delta sigma"), ("irs", "noheadnoise", "no head noise")]


def ablations(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Each ablated NFT run beside the NFT run it changes (same seeds); change = ablated - NFT."""
    rows = []
    for method, tag, name in ABLATIONS:
        variant = f"{method}-{tag}"
        ablated, nft = stats(setting.accuracy(runs, variant)), stats(setting.accuracy(runs, method))
        if ablated["n_seeds"]:
            rows.append(dict(method=method, ablation=name, variant=variant, **ablated, nft_mean=nft["mean"],
                             nft_ci95=nft["ci95"], change=ablated["mean"] - nft["mean"]))
    return pd.DataFrame(rows, columns=["method", "ablation", "variant", "n_seeds", "mean", "std", "ci95", "seeds",
                                       "nft_mean", "nft_ci95", "change"])


def convergence(runs: pd.DataFrame, setting: Setting, methods: list[str], threshold: float) -> pd.DataFrame:
    """Non-converged runs: diverged, or more than `threshold` points below the mean of the runs that
    finished (paper Sec. 4.4)."""
    rows = []
    for method in methods:
        status = setting.rows(runs, method).drop_duplicates("seed")
        acc = setting.accuracy(runs, method)
        diverged = int((status.status == "diverged").sum())
        low = int((acc < acc.mean() - threshold).sum())
        rows.append(dict(method=method, runs=len(status), diverged=diverged, below_threshold=low,
                         non_converged=diverged + low, threshold=threshold, mean=acc.mean(),
                         accuracies=" ".join(f"{a:.2f}" for a in acc)))
    return pd.DataFrame(rows, columns=["method", "runs", "diverged", "below_threshold", "non_converged", "threshold",
                                       "mean", "accuracies"])


BETA_COLUMNS = ["model", "dataset", "method", "sigma_d", "beta", "n_seeds", "val_accuracy", "chosen"]  # its CSV


def beta_search(paths: list[Path]) -> pd.DataFrame:
    """The beta-search tables of every searched model/dataset/method, stacked."""
    frames = [read_table(p, "beta search table", BETA_COLUMNS, {"model", "dataset", "method"}, "rerun its beta search")
              for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BETA_COLUMNS)


def wide(long: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """One 'mean ± CI95' cell per (index, column), columns in the order they first appear."""
    if long.empty:
        return pd.DataFrame()
    marks = long["main"].map({True: " *", False: ""}) if "main" in long else ""
    cells = long.assign(cell=pd.Series([cell(m, c) for m, c in zip(long["mean"], long["ci95"])], long.index) + marks)
    table = cells.pivot_table(index=index, columns=columns, values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=list(dict.fromkeys(long[columns]))).fillna("–")
    table.index = [NAMES.get(i, i) for i in table.index]
    return table.reset_index(names=index)


WIDE = {  # table name -> how to lay it out for a reader
    "table1": lambda t: wide(t, "method", "column"),
    "table2": lambda t: wide(t, "method", "column"),
    "ablations": lambda t: t.assign(NFT=[cell(m, c) for m, c in zip(t.nft_mean, t.nft_ci95)],
                                    ablated=[cell(m, c) for m, c in zip(t["mean"], t.ci95)],
                                    change=t.change.map("{:+.2f}".format))[["method", "ablation", "NFT", "ablated", "change"]],
    "convergence": lambda t: t[["method", "runs", "diverged", "below_threshold", "non_converged", "mean"]].round(2),
    "beta": lambda t: t.assign(val_accuracy=t.val_accuracy.round(2)),
}


def write(name: str, long: pd.DataFrame, outs: list[Path], title: str) -> None:
    """CSV (tidy), Markdown and LaTeX (wide), chosen by each output's suffix."""
    table = WIDE[name](long) if not long.empty else pd.DataFrame()

    def grid(fmt: str, empty: str) -> str:
        return tabulate(table, headers="keys", tablefmt=fmt, showindex=False, disable_numparse=True) if len(table) else empty

    for out in map(Path, outs):
        if out.suffix == ".csv":
            save_text(out, long.to_csv(index=False))
        elif out.suffix == ".md":
            note = "\n\n\\* the main runs' setting" if name == "table1" and len(table) else ""
            save_text(out, f"**{title}**\n\n{grid('pipe', 'not run')}{note}\n")
        elif out.suffix == ".tex":
            save_text(out, f"% {title}\n{grid('latex_booktabs', '% not run')}\n")
        else:
            raise NeftError(f"{out}: unknown table format {out.suffix!r}; use .csv, .md or .tex")
