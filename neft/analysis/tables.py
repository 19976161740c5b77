"""Table 1 (number of feedbacks), Table 2 (pretrained + k epochs), the other ablations, the initialisation
sensitivity, the convergence count and the beta search, computed from the per-seed rows of runs.csv (see aggregate.py).
Each is registered in TABLES with its builder, title, layout for a reader (layouts.py) and notes; the
variants each shows are those variants.py assigns to it.

Every accuracy is the MC mean of a run at the ablation's sigma_d, averaged over the setting's seeds
(Student-t CI95 over seeds). Each table is written as a tidy CSV, and for a reader as Markdown, HTML
and LaTeX (render.py). Differences are always NFT minus the other run (positive: NFT better).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..catalogue import nft_methods
from ..formats import read_table
from ..variants import compute_matched, of_table, parse_variant
from .aggregate import t_ci95
from .grid import Grid, Setting
from .layouts import ablations_wide, beta_wide, by_column, convergence_wide, feedback_wide, init_wide
from .names import method_name, variant_name
from .render import as_markdown
from .runs import by_seed, select


def stats(acc: pd.Series) -> dict:
    return dict(
        n_seeds=len(acc), mean=acc.mean(), std=acc.std(), ci95=t_ci95(acc), seeds=" ".join(str(s) for s in acc.index)
    )


def tagged(runs: pd.DataFrame, setting: Setting, method: str, tag: str) -> list[tuple[float, str]]:
    """(value, variant) of the `method-<tag><value>` runs present at the setting, by value."""
    here = select(runs, model=setting.model, dataset=setting.dataset, sigma_d=setting.sigma_d)
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
            vs = paired(acc[method, init], acc["noise", init]) if method in nft_methods() else None
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
    return by_seed(
        select(runs, model=model, dataset=dataset, variant=variant, sigma_d=sigma_d, eval_sigma=sigma_d, seed=seeds)
    )


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


def no_notes(long: pd.DataFrame) -> list[str]:
    return []


@dataclass(frozen=True)
class Table:
    """A table: how it is computed (the tidy CSV), titled, laid out for a reader and annotated."""

    name: str  # its files' name (and LaTeX label)
    title: str
    label: str  # its name in the Snakemake report
    build: Callable[[pd.DataFrame, Grid], pd.DataFrame] | None  # (runs, grid); None: from the beta search's CSVs
    layout: Callable[[pd.DataFrame], pd.DataFrame]  # for a reader: Markdown, HTML, LaTeX
    notes: Callable[[pd.DataFrame], list[str]] = no_notes  # what its cells need said, beyond the generic notes
    setting: str | None = "ablations"  # the setting it is computed at: "ablations", "convergence"; None: no runs
    grid: bool = False  # it also reads the main grid's sigma_d and seeds (and is built without a setting)

    def where(self, grid: Grid) -> Setting | None:
        """Its setting in `grid` (None: disabled, the table says 'not run')."""
        return {"ablations": grid.ablation, "convergence": grid.convergence}[self.setting]


TABLES = {
    t.name: t
    for t in [
        Table(
            "table1",
            "Table 1. Mean noisy Top-1 accuracy (%) vs the number of negative feedbacks N",
            "Table 1",
            lambda runs, grid: table1(runs, grid.ablation),
            by_column,
            lambda t: ["* the main runs' number of feedbacks"],
        ),
        Table(
            "table2",
            "Table 2. Mean noisy Top-1 accuracy (%) of NFT from the W/O Noise model (pretrained + k epochs) "
            "and from scratch",
            "Table 2",
            lambda runs, grid: table2(runs, grid.ablation),
            by_column,
        ),
        Table(
            "ablations",
            "Ablations. Mean noisy Top-1 accuracy (%) of NFT and its ablated versions",
            "Ablations",
            lambda runs, grid: ablations(runs, grid.ablation),
            ablations_wide,
            lambda t: ["NFT − ablated: paired by seed; above 0 the NFT run is better"],
        ),
        Table(
            "init",
            "Initialisation sensitivity (beyond the paper). Mean noisy Top-1 accuracy (%) with the public "
            "code's initialisation and with PyTorch's default",
            "Initialisation",
            lambda runs, grid: init_sensitivity(runs, grid.ablation),
            init_wide,
            lambda t: ["PyTorch − reference and − W/ Noise: paired by seed, with the paired t-test's outcome"],
        ),
        Table(
            "feedback",
            "Is it the feedback? (beyond the paper) OVF against W/ Noise with as many noise draws per step, and "
            "OVF/IRS against positive feedback (+β): mean noisy Top-1 accuracy differences (points)",
            "Is it the feedback?",
            lambda runs, grid: feedback(runs, grid.ablation, tuple(grid.sigma_d), tuple(grid.seeds)),
            feedback_wide,
            lambda t: [
                "difference: the first minus the second, paired by seed, at eval σ = σ_d; outcome: paired t-test, "
                "Holm-corrected over a comparison's σ_d (one seed: the sign only); above 0 the first is better",
                "W/ Noise ×(N+1): W/ Noise with N + 1 noise draws per step (mean of their losses), as many as OVF's "
                "forwards; +β: the feedback term's sign flipped",
            ],
            grid=True,
        ),
        Table(
            "convergence",
            "Convergence. Non-converged runs of each method",
            "Convergence",
            lambda runs, grid: convergence(runs, grid.convergence, grid.convergence_methods, grid.threshold),
            convergence_wide,
            lambda t: [
                f"non-converged: diverged, or more than {t.threshold.iloc[0]:g} points below the "
                f"mean accuracy of the runs that finished"
            ],
            setting="convergence",
        ),
        Table(
            "beta",
            "β search. Mean noisy validation accuracy (%) of each candidate β",
            "β search",
            None,
            beta_wide,
            lambda t: ["mean noisy validation accuracy (%) of each candidate's selected epoch; the highest is chosen"],
            setting=None,
        ),
    ]
}


def title(name: str, setting: Setting | None, runs: pd.DataFrame | None, stand_ins: dict) -> str:
    """The table's title with its setting (model, dataset, sigma_d, seeds, epochs, R) where it has one."""
    where = "positive feedback at " if TABLES[name].grid else ""  # the rest: the main grid (its seeds are a column)
    return TABLES[name].title + (f" — {where}{setting.describe(runs, stand_ins)}" if setting else "")


def table_markdown(name: str, long: pd.DataFrame, runs, stand_ins: dict, setting: Setting | None) -> str:
    """The table as the tables step writes it (same builder, title, layout and notes): for the report."""
    return as_markdown(TABLES[name], long, title(name, setting, runs, stand_ins))
