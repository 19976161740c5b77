"""Table 1 (number of feedbacks), Table 2 (pretrained + k epochs), the other ablations, the initialisation
sensitivity, the convergence count and the beta search, computed from the per-seed rows of runs.csv (see aggregate.py).
Each is registered in TABLES with its builder, title, layout for a reader and notes; the variants each
shows are those variants.py assigns to it.

Every accuracy is the MC mean of a run at the ablation's sigma_d, averaged over the setting's seeds
(Student-t CI95 over seeds). Each table is written as a tidy CSV, and for a reader as Markdown, HTML
and LaTeX: the setting in the title, one "mean ± CI95" cell per method and column (the mean alone with
one seed, and a note saying so), numbers right-aligned. Differences are always NFT minus the other run
(positive: NFT better).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from ..errors import NeftError
from ..formats import read_table
from ..io import save_text
from ..variants import compute_matched, of_table, parse_variant
from .aggregate import DIGITS, t_ci95
from .names import METHOD_NAMES as NAMES  # report.py imports it from here too
from .names import dataset_name, method_name, model_name, variant_name


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
        return runs[
            (runs.model == self.model)
            & (runs.dataset == self.dataset)
            & (runs.variant == variant)
            & (runs.sigma_d == round(sd, DIGITS))
            & runs.seed.isin(self.seeds)
        ]

    def accuracy(self, runs: pd.DataFrame, variant: str, sigma_d: float | None = None) -> pd.Series:
        """MC mean accuracy at the setting's sigma_d, by seed (a run that diverged before any kept epoch has
        none; one that diverged later has its kept epoch's)."""
        rows = self.rows(runs, variant, sigma_d)
        rows = rows[rows.eval_sigma == round(self.sigma_d, DIGITS)]
        return rows.set_index("seed")["accuracy"].dropna().sort_index()

    def describe(self, runs: pd.DataFrame | None = None, stand_ins: dict | None = None) -> str:
        """'ResNet-18, Fashion-MNIST (for MNIST), σ_d = 0.3, seeds 0 1 (n = 2), 3 epochs, R = 200': epochs and
        R (MC runs) of the setting's main runs, where `runs` has them."""
        text = (
            f"{model_name(self.model)}, {dataset_name(self.dataset, stand_ins)}, σ_d = {self.sigma_d:g}, "
            f"seeds {' '.join(map(str, self.seeds))} (n = {len(self.seeds)})"
        )
        main = pd.concat([self.rows(runs, m) for m in NAMES]) if runs is not None else pd.DataFrame()
        if len(main):
            text += f", {counted(main.epochs, 'epoch')}" if main.epochs.notna().any() else ""
            text += f", R = {span(main.runs)}" if main.runs.notna().any() else ""
        return text


def span(values: pd.Series) -> str:
    """'3' or '1–3'."""
    lo, hi = int(values.min()), int(values.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def counted(values: pd.Series, unit: str) -> str:
    """'1 epoch', '2–3 epochs'."""
    return f"{span(values)} {unit}{'' if values.max() == 1 else 's'}"


def stats(acc: pd.Series) -> dict:
    return dict(
        n_seeds=len(acc), mean=acc.mean(), std=acc.std(), ci95=t_ci95(acc), seeds=" ".join(str(s) for s in acc.index)
    )


ACCURACY = (0.0, 100.0)  # what a mean accuracy (%) can be: its intervals are clipped there


def cell(mean: float, ci95: float, sign: bool = False, bounds: tuple[float, float] | None = ACCURACY, digits=2) -> str:
    """'85.12 ± 1.30'; '99.10 [97.20, 100.00]' where the interval is clipped at `bounds` (none for a difference,
    `sign`); '85.12 (identical seeds)' for a CI95 of 0 (seeds that agree exactly); the mean alone without a CI (one
    seed); '–' without a mean."""
    if pd.isna(mean):
        return "–"
    text = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    if pd.isna(ci95):
        return text
    if ci95 == 0:
        return f"{text} (identical seeds)"
    low, high = mean - ci95, mean + ci95
    if bounds and not sign and (low < bounds[0] or high > bounds[1]):
        return f"{text} [{max(low, bounds[0]):.{digits}f}, {min(high, bounds[1]):.{digits}f}]"
    return f"{text} ± {ci95:.{digits}f}"


def tagged(runs: pd.DataFrame, setting: Setting, method: str, tag: str) -> list[tuple[float, str]]:
    """(value, variant) of the `method-<tag><value>` runs present at the setting, by value."""
    here = runs[
        (runs.model == setting.model)
        & (runs.dataset == setting.dataset)
        & (runs.sigma_d == round(setting.sigma_d, DIGITS))
    ]
    found = {(parse_variant(v)[2], v) for v in here.variant.unique() if parse_variant(v)[:2] == (method, tag)}
    return sorted(found)


def feedback_label(n: int) -> str:
    return {1: "1", 2: "1+2"}.get(n, f"1~{n}")  # the paper's column heads


def table1(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Accuracy vs the number of feedbacks N; the main run fills the column of its own N."""
    [feedbacks] = of_table("table1")
    rows = []
    for method in feedbacks.methods:
        main = setting.rows(runs, method)
        candidates = [(main.n_feedback.dropna().iloc[0], method)] if main.n_feedback.notna().any() else []
        for n, variant in sorted(candidates + tagged(runs, setting, method, feedbacks.tag)):
            rows.append(
                dict(
                    method=method,
                    n_feedback=int(n),
                    column=feedback_label(int(n)),
                    variant=variant,
                    main=variant == method,
                    **stats(setting.accuracy(runs, variant)),
                )
            )
    return pd.DataFrame(
        rows, columns=["method", "n_feedback", "column", "variant", "main", "n_seeds", "mean", "std", "ci95", "seeds"]
    )


def table2(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """The W/O Noise model (pre+0), it + k epochs of OVF/IRS (pre+k), and OVF/IRS from scratch."""
    [pre] = of_table("table2")
    rows = []
    pretrained = stats(setting.accuracy(runs, "vanilla", sigma_d=0.0))
    for method in pre.methods:
        rows.append(dict(method=method, column="pre+0", epochs=0, variant="vanilla", **pretrained))
        for k, variant in tagged(runs, setting, method, pre.tag):
            rows.append(
                dict(
                    method=method,
                    column=f"pre+{k:g}",
                    epochs=int(k),
                    variant=variant,
                    **stats(setting.accuracy(runs, variant)),
                )
            )
        scratch = setting.rows(runs, method)
        epochs = int(scratch.epochs.iloc[0]) if len(scratch) else None
        rows.append(
            dict(
                method=method,
                column=f"scratch+{epochs}" if epochs else "scratch",
                epochs=epochs,
                variant=method,
                **stats(setting.accuracy(runs, method)),
            )
        )
    return pd.DataFrame(
        rows, columns=["method", "column", "epochs", "variant", "n_seeds", "mean", "std", "ci95", "seeds"]
    )


def ablations(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Each ablated NFT run beside the NFT run it changes, and NFT minus ablated paired by seed (CI95 over
    the seeds both have; positive: the ablation hurts)."""
    rows = []
    for method, ablation in [(m, v) for v in of_table("ablations") for m in v.methods]:
        variant = ablation.name(method)
        ablated, nft = setting.accuracy(runs, variant), setting.accuracy(runs, method)
        if len(ablated):
            diff = (nft - ablated).dropna()
            rows.append(
                dict(
                    method=method,
                    ablation=ablation.label,
                    variant=variant,
                    **stats(ablated),
                    nft_mean=nft.mean(),
                    nft_ci95=t_ci95(nft),
                    nft_minus_ablated=diff.mean(),
                    nft_minus_ablated_ci95=t_ci95(diff),
                    n_paired=len(diff),
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "method",
            "ablation",
            "variant",
            "n_seeds",
            "mean",
            "std",
            "ci95",
            "seeds",
            "nft_mean",
            "nft_ci95",
            "nft_minus_ablated",
            "nft_minus_ablated_ci95",
            "n_paired",
        ],
    )


def convergence(runs: pd.DataFrame, setting: Setting, methods: list[str], threshold: float) -> pd.DataFrame:
    """Non-converged runs (paper Sec. 4.4), each run counted once: it diverged (also when an epoch before
    the divergence was kept and evaluated), or it finished more than `threshold` points below the mean of
    the runs that finished. Only finished runs enter that mean."""
    rows = []
    for method in methods:
        status = setting.rows(runs, method).drop_duplicates("seed").set_index("seed").status
        acc = setting.accuracy(runs, method)
        finished = acc[status.reindex(acc.index) != "diverged"]
        diverged = int((status == "diverged").sum())
        low = int((finished < finished.mean() - threshold).sum())
        rows.append(
            dict(
                method=method,
                runs=len(status),
                diverged=diverged,
                below_threshold=low,
                non_converged=diverged + low,
                threshold=threshold,
                mean=finished.mean(),
                ci95=t_ci95(finished),
                accuracies=" ".join(f"{a:.2f}" for a in finished),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "method",
            "runs",
            "diverged",
            "below_threshold",
            "non_converged",
            "threshold",
            "mean",
            "ci95",
            "accuracies",
        ],
    )


def init_sensitivity(runs: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Each method under the public code's initialisation (its main run) and under PyTorch's default (the
    `-initpytorch` run) at the setting's sigma_d; the change (PyTorch - reference) and, for OVF and IRS,
    the difference from W/ Noise under the same initialisation, all paired by seed (verdicts.paired)."""
    from .verdicts import outcome_word, outcomes, paired

    [pytorch] = of_table("init")
    inits = {"reference": "", "pytorch": f"-{pytorch.tag}"}
    acc = {
        (m, i): setting.accuracy(runs, m + suffix, sigma_d=0.0 if m == "vanilla" else None)
        for m in pytorch.methods
        for i, suffix in inits.items()
    }
    rows = []
    for method in pytorch.methods:
        change = paired(acc[method, "pytorch"], acc[method, "reference"])
        for init in inits:
            vs = paired(acc[method, init], acc["noise", init]) if method in ("ovf", "irs") else None
            tested = vs is not None and vs.n > 0
            rows.append(
                dict(
                    method=method,
                    init=init,
                    variant=method + inits[init],
                    **stats(acc[method, init]),
                    change=change.diff,
                    change_ci95=change.ci95,
                    minus_noise=vs.diff if tested else None,
                    minus_noise_ci95=vs.ci95 if tested else None,
                    minus_noise_outcome=outcome_word(vs, outcomes([vs])[0]) if tested else None,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "method",
            "init",
            "variant",
            "n_seeds",
            "mean",
            "std",
            "ci95",
            "seeds",
            "change",
            "change_ci95",
            "minus_noise",
            "minus_noise_ci95",
            "minus_noise_outcome",
        ],
    )


FEEDBACK_COLUMNS = [
    "comparison",
    "model",
    "dataset",
    "sigma_d",
    "variant",
    "versus",
    "n_paired",
    "diff",
    "ci95",
    "std",
    "p",
    "outcome",
    "seeds",
]


def grid_accuracy(runs: pd.DataFrame, model: str, dataset: str, variant: str, sigma_d: float, seeds) -> pd.Series:
    """MC mean accuracy at eval sigma = sigma_d of `variant` trained at sigma_d, by seed."""
    sd = round(sigma_d, DIGITS)
    rows = runs[
        (runs.model == model)
        & (runs.dataset == dataset)
        & (runs.variant == variant)
        & (runs.sigma_d == sd)
        & (runs.eval_sigma == sd)
        & runs.seed.isin(list(seeds))
    ]
    return rows.set_index("seed")["accuracy"].dropna().sort_index()


def feedback(runs: pd.DataFrame, setting: Setting | None, sigma_d: tuple, seeds: tuple) -> pd.DataFrame:
    """Is it the feedback? (beyond the paper) Per panel of the main grid and sigma_d: OVF against W/ Noise ×(N+1)
    (as many noise draws per step as OVF's forwards) and against W/ Noise; at the ablations' setting: OVF and
    IRS against their positive-feedback (+beta) runs. Each paired by seed, Holm-corrected over a comparison's
    sigma_d (verdicts.outcomes)."""
    from .verdicts import outcome_word, outcomes, paired

    matched = compute_matched()
    groups = []  # (comparison, [(model, dataset, sigma_d, variant, versus, Paired, seeds)])
    for model, dataset in sorted(set(zip(runs.model, runs.dataset))):
        for versus in (matched, "noise"):
            found = []
            for sd in sigma_d:
                a, b = (grid_accuracy(runs, model, dataset, v, sd, seeds) for v in ("ovf", versus))
                if len(a) and len(b):
                    found.append((model, dataset, sd, "ovf", versus, paired(a, b), a.index.intersection(b.index)))
            if found:
                groups.append((f"OVF − {variant_name(versus)}", found))
    [positive] = [v for v in of_table("feedback") if not v.main]
    for method in positive.methods if setting else []:
        variant = positive.name(method)
        a, b = setting.accuracy(runs, method), setting.accuracy(runs, variant)
        if len(a) and len(b):
            found = [(setting.model, setting.dataset, setting.sigma_d, method, variant, paired(a, b), a.index)]
            groups.append((f"{method_name(method)} − {variant_name(variant)}", found))
    rows = []
    for comparison, found in groups:
        judged = outcomes([c for *_, c, _ in found])
        for (model, dataset, sd, variant, versus, c, both), outcome in zip(found, judged, strict=True):
            rows.append(
                dict(
                    comparison=comparison,
                    model=model,
                    dataset=dataset,
                    sigma_d=sd,
                    variant=variant,
                    versus=versus,
                    n_paired=c.n,
                    diff=c.diff,
                    ci95=c.ci95,
                    std=c.std,
                    p=c.p,
                    outcome=outcome_word(c, outcome),
                    seeds=" ".join(str(s) for s in sorted(both)),
                )
            )
    return pd.DataFrame(rows, columns=FEEDBACK_COLUMNS)


BETA_COLUMNS = ["model", "dataset", "method", "sigma_d", "beta", "n_seeds", "val_accuracy", "val_ci95", "chosen"]


def beta_search(paths: list[Path]) -> pd.DataFrame:
    """The beta-search tables of every searched model/dataset/method, stacked."""
    frames = [
        read_table(p, "beta search table", BETA_COLUMNS, {"model", "dataset", "method"}, "rerun its beta search")
        for p in paths
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BETA_COLUMNS)


# --- for a reader: Markdown, HTML, LaTeX
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


NUMBER = re.compile(r"^[+−-]?\d")
NO_CI = re.compile(r"^[+−-]?\d+\.\d+( \(n = \d+\))?( \*)?$")  # a mean shown without its CI95


def notes(name: str, long: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    cells = table.to_numpy().ravel().tolist()
    said = ["mean ± CI95 over seeds (Student t)"] if any(" ± " in c for c in cells) else []
    said += TABLES[name].notes(long)
    said += ["n = 1: the mean alone, no CI95"] if any(NO_CI.match(c) for c in cells) else []
    said += ["–: not run, or every seed diverged"] if "–" in cells else []
    return said


def alignment(table: pd.DataFrame) -> list[str]:
    """'right' for a column of numbers (placeholders aside), else 'left'."""

    def numeric(column) -> bool:
        values = [v for v in column if v not in ("–", "not run", "")]
        return bool(values) and all(NUMBER.match(v) for v in values)

    return ["right" if numeric(table[c]) else "left" for c in table.columns]


LATEX = {
    "σ_d": r"$\sigma_d$",
    "β": r"$\beta$",
    "±": r"$\pm$",
    "−": "$-$",
    "–": "--",
    "—": "---",
    "<": "$<$",
    ">": "$>$",
    "~": r"\textasciitilde{}",
    "\\": r"\textbackslash{}",
    "^": r"\^{}",
    **{c: "\\" + c for c in "&%$#_{}"},
}
LATEX_TOKENS = re.compile(
    r"(\d+)~(\d+)|(?<!\w)-(?=\d)|" + "|".join(map(re.escape, sorted(LATEX, key=len, reverse=True)))
)


def latex(text: str) -> str:
    """Plain text -> LaTeX text: specials escaped; σ_d, β, ± and a number's minus sign as math; '1~3' as
    $1{\\sim}3$."""

    def token(m: re.Match) -> str:
        return f"${m[1]}{{\\sim}}{m[2]}$" if m[1] else "$-$" if m[0] == "-" else LATEX[m[0]]

    return LATEX_TOKENS.sub(token, text)


def latex_table(name: str, table: pd.DataFrame, title: str, said: list[str]) -> str:
    caption = latex(re.sub(r"^Table \d+\. ", "", title))  # LaTeX numbers its tables itself
    if len(table):
        spec = "".join("r" if a == "right" else "l" for a in alignment(table))
        rows = [
            " & ".join(map(latex, table.columns)) + r" \\",
            r"\midrule",
            *(" & ".join(map(latex, row)) + r" \\" for row in table.itertuples(index=False)),
        ]
        body = [
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            *([rf"\par\smallskip{{\footnotesize {latex('; '.join(said))}.}}"] if said else []),
        ]
    else:
        body = ["Not run."]
    return "\n".join(
        [
            f"% {title}",
            r"% needs \usepackage{booktabs} in the preamble",
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption{{{caption}}}",
            rf"\label{{tab:{name}}}",
            *body,
            r"\end{table}",
            "",
        ]
    )


def markdown(table: pd.DataFrame, title: str, said: list[str]) -> str:
    grid = (
        tabulate(
            table, headers="keys", tablefmt="pipe", showindex=False, disable_numparse=True, colalign=alignment(table)
        )
        if len(table)
        else "not run"
    )
    return "\n\n".join([f"**{title}**", grid, *(n.replace("*", "\\*") for n in said)]) + "\n"


@dataclass(frozen=True)
class Inputs:
    """What a table's builder may read (the options of `neft tables`)."""

    runs: pd.DataFrame | None = None
    setting: Setting | None = None
    sigma_d: tuple[float, ...] = ()  # the main grid's (tables that read it: Table.grid)
    seeds: tuple[int, ...] = ()
    methods: tuple[str, ...] = ("noise", "ovf", "irs")
    threshold: float = 5.0
    search: tuple[Path, ...] = ()


def no_notes(long: pd.DataFrame) -> list[str]:
    return []


@dataclass(frozen=True)
class Table:
    """A table: how it is computed (the tidy CSV), titled, laid out for a reader and annotated."""

    title: str
    label: str  # its name in the Snakemake report
    build: Callable[[Inputs], pd.DataFrame]
    layout: Callable[[pd.DataFrame], pd.DataFrame]  # for a reader: Markdown, HTML, LaTeX
    notes: Callable[[pd.DataFrame], list[str]] = no_notes  # what its cells need said, beyond the generic notes
    setting: str | None = "ablations"  # the config section its setting (and runs.csv) comes from; None: no runs
    options: tuple[str, ...] = ()  # what else of that section it reads (`neft tables --<option>`)
    grid: bool = False  # it also reads the main grid's sigma_d and seeds (and is built without a setting)


TABLES = {
    "table1": Table(
        "Table 1. Mean noisy Top-1 accuracy (%) vs the number of negative feedbacks N",
        "Table 1",
        lambda i: table1(i.runs, i.setting),
        by_column,
        lambda t: ["* the main runs' number of feedbacks"],
    ),
    "table2": Table(
        "Table 2. Mean noisy Top-1 accuracy (%) of NFT from the W/O Noise model (pretrained + k epochs) "
        "and from scratch",
        "Table 2",
        lambda i: table2(i.runs, i.setting),
        by_column,
    ),
    "ablations": Table(
        "Ablations. Mean noisy Top-1 accuracy (%) of NFT and its ablated versions",
        "Ablations",
        lambda i: ablations(i.runs, i.setting),
        ablations_wide,
        lambda t: ["NFT − ablated: paired by seed; above 0 the NFT run is better"],
    ),
    "init": Table(
        "Initialisation sensitivity (beyond the paper). Mean noisy Top-1 accuracy (%) with the public "
        "code's initialisation and with PyTorch's default",
        "Initialisation",
        lambda i: init_sensitivity(i.runs, i.setting),
        init_wide,
        lambda t: ["PyTorch − reference and − W/ Noise: paired by seed, with the paired t-test's outcome"],
    ),
    "feedback": Table(
        "Is it the feedback? (beyond the paper) OVF against W/ Noise with as many noise draws per step, and "
        "OVF/IRS against positive feedback (+β): mean noisy Top-1 accuracy differences (points)",
        "Is it the feedback?",
        lambda i: feedback(i.runs, i.setting, i.sigma_d, i.seeds),
        feedback_wide,
        lambda t: [
            "difference: the first minus the second, paired by seed, at eval σ = σ_d; outcome: paired t-test, "
            "Holm-corrected over a comparison's σ_d (one seed: the sign only); above 0 the first is better",
            "W/ Noise ×(N+1): W/ Noise with N + 1 noise draws per step (mean of their losses), as many as OVF's "
            "forwards; +β: the feedback term's sign flipped",
        ],
        grid=True,
    ),
    "convergence": Table(
        "Convergence. Non-converged runs of each method",
        "Convergence",
        lambda i: convergence(i.runs, i.setting, list(i.methods), i.threshold),
        convergence_wide,
        lambda t: [
            f"non-converged: diverged, or more than {t.threshold.iloc[0]:g} points below the "
            f"mean accuracy of the runs that finished"
        ],
        setting="convergence",
        options=("methods", "threshold"),
    ),
    "beta": Table(
        "β search. Mean noisy validation accuracy (%) of each candidate β",
        "β search",
        lambda i: beta_search(list(i.search)),
        beta_wide,
        lambda t: ["mean noisy validation accuracy (%) of each candidate's selected epoch; the highest is chosen"],
        setting=None,
    ),
}


def title(name: str, setting: Setting | None, runs: pd.DataFrame | None, stand_ins: dict) -> str:
    """The table's title with its setting (model, dataset, sigma_d, seeds, epochs, R) where it has one."""
    where = "positive feedback at " if TABLES[name].grid else ""  # the rest: the main grid (its seeds are a column)
    return TABLES[name].title + (f" — {where}{setting.describe(runs, stand_ins)}" if setting else "")


def as_markdown(name: str, long: pd.DataFrame, title: str) -> str:
    """The Markdown of a table: written as the table's .md file and shown in the report."""
    table = TABLES[name].layout(long) if not long.empty else pd.DataFrame()
    return markdown(table, title, notes(name, long, table) if len(table) else [])


def write(name: str, long: pd.DataFrame, outs: list[Path], title: str) -> None:
    """CSV (tidy), Markdown, HTML and LaTeX (for a reader), chosen by each output's suffix."""
    from .html import page

    for out in map(Path, outs):  # before writing anything
        if out.suffix not in (".csv", ".md", ".html", ".tex"):
            raise NeftError(f"{out}: unknown table format {out.suffix!r}; use .csv, .md, .html or .tex")
    table = TABLES[name].layout(long) if not long.empty else pd.DataFrame()
    said = notes(name, long, table) if len(table) else []
    text = {
        ".csv": lambda: long.to_csv(index=False),
        ".md": lambda: as_markdown(name, long, title),
        ".html": lambda: page(as_markdown(name, long, title), title),
        ".tex": lambda: latex_table(name, table, title, said),
    }
    for out in map(Path, outs):
        save_text(out, text[out.suffix]())
