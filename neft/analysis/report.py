"""The replication report (Markdown): the setting run beside the paper's, every regenerated number beside
the paper's (claims.yaml), and a verdict per claim by the rules of verdicts.py. Differences are the
method minus what it is compared with, everywhere."""

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from .. import yamlfile
from ..config import OVF_FEEDBACKS
from ..io import save_text
from ..variants import VARIANTS, compute_matched, of_table, parse_variant
from .aggregate import DIGITS, t_ci95
from .compute import own_clocks, per_rule
from .names import MODEL_NAMES, dataset_name, model_name, variant_name
from .tables import (
    ACCURACY,
    NAMES,
    Setting,
    ablations,
    as_markdown,
    cell,
    convergence,
    feedback,
    init_sensitivity,
    table1,
    table2,
    title,
)
from .verdicts import (
    ALPHA,
    BETTER,
    INCONCLUSIVE,
    MIN_SEEDS,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    VERDICTS,
    WORSE,
    Paired,
    Verdict,
    judge,
    outcome_word,
    outcomes,
    paired,
    verdict,
)

RULES = {
    "Figure 3": "the method minus W/ Noise at eval σ = σ_d, paired by seed, one paired t-test per "
    "σ_d, Holm-corrected over the grid: the claim holds if the method is better at a majority "
    "of σ_d and significantly worse at none.",
    "Figure 4": "the same on the EKL of the correct predictions, lower being better.",
    "Convergence": "holds if the method has fewer non-converged runs than W/ Noise (diverged, or more than the "
    "threshold below the mean of the runs that finished; each run counted once). Fisher's exact "
    "test is shown beside it.",
    "Table 1": "holds if the method with the paper's N is significantly better than with N = 1 (paired t-test).",
    "Ablations": "holds if the NFT run is significantly better than its ablated version (paired t-test).",
    "Table 2": "holds if training from scratch is significantly better than the pretrained model + k epochs for "
    "every k run (paired t-tests, Holm-corrected over k).",
    "Is it the feedback?": "beyond the paper. OVF minus W/ Noise ×(N+1) (W/ Noise with as many noise draws per "
    "step as OVF has forwards) by the rule of Figure 3; OVF and IRS minus their positive-feedback (+β) runs at the "
    "ablations' setting, one paired t-test each. The seeds needed are sized on the paper's OVF improvement.",
}
EVIDENCE = (
    "Three outcomes. **reproduced**: the method is significantly better where the claim needs it (the rule "
    "above) and significantly worse nowhere. **not reproduced**: the evidence excludes the claim: a "
    "significant difference the other way, or, in the paper's setting, the CI95 of the improvement below "
    "the paper's size at every σ_d. **inconclusive**: neither; the note says how many seeds would detect the "
    f"paper's effect at this grid's spread (paired t-test, power {80}%, α = {ALPHA} at Holm's first step). "
    f"These words need the paper's evidence: at least {MIN_SEEDS} seeds, the paper's dataset, epochs and "
    "full-size model (and for the convergence count, at least as many runs). Short of it the same rule "
    "gives **indicative (in favour / against / no difference)**, and the shortfall is named. A difference "
    "that is not significant (a tie, a sign from one seed) is never evidence against. On synthetic data "
    "nothing is judged. **not run**: a run the comparison needs is missing."
)
SYNTHETIC_LINE = (
    "**Synthetic data: the numbers of this grid check the installation and mean nothing about the paper. "
    "No claim is judged.**"
)


@dataclass
class Grid:
    """What the config asked for: the report's frame (from the pipeline's flags)."""

    name: str
    sigma_d: list[float]
    seeds: list[int]
    ablation: Setting | None = None
    convergence: Setting | None = None
    convergence_methods: list[str] = field(default_factory=lambda: ["noise", "ovf", "irs"])
    threshold: float = 5.0
    stand_ins: dict[str, str] = field(default_factory=dict)  # paper dataset -> dataset run instead
    beta: dict[str, str] = field(default_factory=dict)  # NFT method -> how its beta was set
    synthetic: bool = False  # every run on synthetic data: nothing is judged (set by `report` from the runs)


@dataclass(frozen=True)
class Panel:
    model: str
    paper_dataset: str  # '' when the paper has no such panel
    dataset: str  # the dataset run

    @property
    def title(self) -> str:
        stand_in = {self.paper_dataset: self.dataset} if self.paper_dataset not in ("", self.dataset) else {}
        return f"{model_name(self.model)} / {dataset_name(self.dataset, stand_in)}"


@dataclass
class Section:
    title: str
    setting: str
    rows: list[dict] = field(default_factory=list)
    extra: str = ""

    def add(self, claim: str, paper: str, ours: str, v: Verdict | None, unit: str = "σ_d", note: str = "") -> None:
        """A claim's row; `v` None: a number without a verdict (the paper has no such claim here)."""
        notes = [note, f"{v.word}: {v.needed}" if v and v.needed else ""]
        self.rows.append(
            {
                "claim": claim,
                "paper": paper,
                "ours": ours,
                "k of n": v.count(unit) if v else "–",
                "verdict": v.word if v else "–",
                "evidence short of the paper's": (v.shortfall if v else "") or "–",
                "note": "; ".join(filter(None, notes)) or "–",
            }
        )

    def markdown(self) -> str:
        rule = RULES.get(self.title)
        return "\n\n".join(
            filter(
                None,
                [
                    f"## {self.title}",
                    self.setting,
                    f"Rule: {rule}" if rule else "",
                    md_table(self.rows, "not run"),
                    self.extra,
                ],
            )
        )


def load_claims() -> dict:
    return yamlfile.read(Path(__file__).parent.parent / "claims.yaml")  # neft/claims.yaml


def md_table(rows: list[dict] | pd.DataFrame, empty: str) -> str:
    """A Markdown table, cells as written (no number reformatting)."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return empty
    return tabulate(frame, headers="keys", tablefmt="pipe", showindex=False, disable_numparse=True)


def fmt_list(values) -> str:
    return " ".join(f"{v:g}" for v in values)


def seeds_text(seeds) -> str:
    seeds = list(seeds)
    return f"seed{'s' if len(seeds) != 1 else ''} {fmt_list(seeds)} (n = {len(seeds)})" if seeds else "no seeds"


def by_seed(
    runs: pd.DataFrame,
    model: str,
    dataset: str,
    variant: str,
    sigma_d: float,
    eval_sigma: float,
    seeds,
    column: str = "accuracy",
) -> pd.Series:
    """One value per seed of a run (model/dataset/variant trained at σ_d) evaluated at eval_sigma."""
    rows = runs[
        (runs.model == model)
        & (runs.dataset == dataset)
        & (runs.variant == variant)
        & (runs.sigma_d == round(sigma_d, DIGITS))
        & (runs.eval_sigma == round(eval_sigma, DIGITS))
        & runs.seed.isin(list(seeds))
    ]
    return rows.set_index("seed")[column].dropna().sort_index()


def point(runs, panel: Panel, method: str, s: float, seeds, column: str = "accuracy") -> pd.Series:
    """Figure 3/4's point of `method` at σ_d = s: W/O Noise is the σ_d = 0 model evaluated at s."""
    return by_seed(runs, panel.model, panel.dataset, method, 0.0 if method == "vanilla" else s, s, seeds, column)


def panels(runs: pd.DataFrame, claims: dict, stand_ins: dict) -> list[Panel]:
    """Each Figure 3 panel of the paper (on its stand-in where one is configured), then the main runs'
    panels that no claim covers."""
    out = []
    for key in claims["figure3_max_improvement_over_noise_injection"]:
        model, dataset = key.split("/")
        ran = ((runs.model == model) & (runs.dataset == dataset)).any()
        out.append(Panel(model, dataset, dataset if ran or dataset not in stand_ins else stand_ins[dataset]))
    main = runs[runs.variant == "noise"]
    covered = {(p.model, p.dataset) for p in out}
    return out + [Panel(m, "", d) for m, d in sorted(set(zip(main.model, main.dataset)) - covered)]


def shortfalls(rows: pd.DataFrame, claims: dict, paper_where: str = "", used_where: str = "") -> list[str]:
    """How the runs behind a claim fall short of the paper's setting (the number of seeds aside)."""
    out = [f"{used_where} stands in for {paper_where}"] if paper_where != used_where else []
    if rows.empty:
        return out
    paper_epochs = claims["setup"]["epochs"]
    if rows.epochs.max() < paper_epochs:
        out.append(f"{fmt_list(sorted(rows.epochs.unique()))} of {paper_epochs} epochs")
    if (rows.width < 1).any():
        out.append(f"width {fmt_list(sorted(rows.width.unique()))}")
    if rows.train_subset.notna().any():
        out.append("a subset of the training set")
    return out


def panel_rows(runs, panel: Panel) -> pd.DataFrame:
    return runs[(runs.model == panel.model) & (runs.dataset == panel.dataset) & runs.variant.isin(list(NAMES))]


def main_series(runs) -> list[str]:
    """The main grid's variants shown in the per-σ_d tables: the methods, and W/ Noise ×(N+1) where it ran."""
    return [*NAMES, *([compute_matched()] if (runs.variant == compute_matched()).any() else [])]


def panel_shortfalls(runs, claims, panel: Panel) -> list[str]:
    if not panel.paper_dataset:
        return []
    return shortfalls(panel_rows(runs, panel), claims, dataset_name(panel.paper_dataset), dataset_name(panel.dataset))


def comparisons(runs, panel: Panel, method: str, grid: Grid, column: str, versus="noise") -> dict[float, Paired]:
    """`method` minus `versus` (a main variant) at each sigma_d of the grid, paired by seed."""
    return {
        s: paired(point(runs, panel, method, s, grid.seeds, column), point(runs, panel, versus, s, grid.seeds, column))
        for s in grid.sigma_d
    }


# --- Figure 3 and Figure 4 ----------------------------------------------------------------------------
def figure_section(runs, claims, grid: Grid, irs_notes: dict, figure: str) -> Section:
    ekl = figure == "Figure 4"
    column = "ekl" if ekl else "accuracy"
    what = "EKL of the correct predictions (lower = more confident)" if ekl else "Top-1 accuracy (%)"
    section = Section(
        figure, f"{what}, the method minus W/ Noise at eval σ = σ_d {fmt_list(grid.sigma_d)}; {seeds_text(grid.seeds)}."
    )
    for panel in panels(runs, claims, grid.stand_ins):
        short = panel_shortfalls(runs, claims, panel)
        for method in ("ovf", "irs"):
            found = comparisons(runs, panel, method, grid, column)
            claimed = None if ekl else paper_improvement(claims, panel, method)
            v = verdict(list(found.values()), short, lower_is_better=ekl, claimed=claimed, synthetic=grid.synthetic)
            if ekl:
                claim, paper_text = f"{NAMES[method]} EKL below W/ Noise, {panel.title}", "lower"
            else:
                claim = f"{NAMES[method]} beats W/ Noise, {panel.title}"
                paper_text = "–" if claimed is None else f"+{claimed:.2f}"
            note = irs_notes.get(panel, "") if method == "irs" else ""
            section.add(
                claim,
                paper_text if panel.paper_dataset else "–",
                best_text(found, ekl),
                v if panel.paper_dataset else None,
                "σ_d (lower EKL)" if ekl else "σ_d",
                note,
            )
    return section


def paper_improvement(claims, panel: Panel, method: str) -> float | None:
    """The paper's largest improvement of `method` over W/ Noise on the panel (Figure 3), if it has the panel."""
    table = claims["figure3_max_improvement_over_noise_injection"]
    return table[f"{panel.model}/{panel.paper_dataset}"][method] if panel.paper_dataset else None


def best_text(found: dict[float, Paired], lower_is_better: bool = False) -> str:
    """'+1.23 ± 0.45 (n=3) at σ_d 0.3': the comparison most in the method's favour."""
    tested = {s: c for s, c in found.items() if c.n}
    best = (min if lower_is_better else max)(tested, key=lambda s: tested[s].diff, default=None)
    return "–" if best is None else f"{tested[best].text()} at σ_d {best:g}"


def per_sigma(runs, claims, grid: Grid, column: str) -> tuple[str, list[str]]:
    """Figure 3 (accuracy) or Figure 4 (EKL) as numbers, per panel: each method's mean ± CI95 over seeds at
    eval sigma = sigma_d, and OVF's and IRS's paired difference from W/ Noise with its Holm-corrected
    outcome; and the same in words."""
    ekl = column == "ekl"
    parts, words = [], []
    for panel in panels(runs, claims, grid.stand_ins):
        if panel_rows(runs, panel).empty:
            continue
        found = {m: comparisons(runs, panel, m, grid, column) for m in ("ovf", "irs")}
        judged = {
            m: dict(
                zip(
                    found[m],
                    outcomes(list(found[m].values()), ekl)
                    if any(c.n for c in found[m].values())
                    else [None] * len(found[m]),
                )
            )
            for m in found
        }
        rows = []
        for s in grid.sigma_d:
            values = {m: point(runs, panel, m, s, grid.seeds, column) for m in main_series(runs)}
            digits = 4 if ekl else 2
            rows.append(
                {
                    "σ_d": f"{s:g}",
                    **{variant_name(m): cell_n(v, digits, EKL if ekl else ACCURACY) for m, v in values.items()},
                    **{f"{NAMES[m]} − W/ Noise": diff_cell(found[m][s], judged[m][s], digits, ekl) for m in found},
                }
            )
        parts.append(f"**{panel.title}**\n\n" + md_table(rows, "no runs"))
        if not ekl:
            words += [w for m in found if (w := sentence(panel, m, found[m], judged[m]))]
    what = "EKL of the correct predictions" if ekl else "Accuracy (%)"
    intro = (
        f"{what} at eval σ = σ_d, mean ± CI95 over {seeds_text(grid.seeds)}; W/O Noise is the model "
        f"trained at σ_d = 0. Last columns: the paired difference from W/ Noise ± CI95 (n seeds) and its "
        f"outcome (paired t-tests, Holm-corrected over σ_d; one seed: the sign only)."
    )
    title = "## Figure 4 per σ_d" if ekl else "## Figure 3 per σ_d"
    return ("\n\n".join([title, intro, *parts]) if parts else ""), words


EKL = (0.0, math.inf)  # what a mean EKL can be


def cell_n(values: pd.Series, digits: int = 2, bounds=ACCURACY) -> str:
    """Mean ± CI95 over seeds (clipped at `bounds`), or '–'."""
    return "–" if values.empty else cell(values.mean(), t_ci95(values), bounds=bounds, digits=digits)


def diff_cell(c: Paired, outcome: str | None, digits: int = 2, lower_is_better: bool = False) -> str:
    """'+1.23 ± 0.45 (n=3) better'; one seed: 'ahead' or 'behind' by the sign alone."""
    if c.n == 0:
        return "–"
    return f"{cell(c.diff, c.ci95, sign=True, digits=digits)} (n={c.n}) {outcome_word(c, outcome, lower_is_better)}"


def sentence(panel: Panel, method: str, found: dict[float, Paired], judged: dict) -> str:
    """Where the method is better, worse or not significantly different (one seed: ahead or behind)."""
    tested = [s for s, c in found.items() if c.n]
    if not tested:
        return ""
    n = min(found[s].n for s in tested)
    if n == 1:
        groups = {
            "ahead": [s for s in tested if found[s].diff > 0],
            "behind": [s for s in tested if found[s].diff <= 0],
        }
        how = "one seed: signs only, no test"
    else:
        groups = {
            "better": [s for s in tested if judged[s] == BETTER],
            "worse": [s for s in tested if judged[s] == WORSE],
            "no significant difference": [s for s in tested if judged[s] not in (BETTER, WORSE)],
        }
        how = f"paired t-tests over n = {n} seeds, Holm-corrected"
    said = "; ".join(f"{word} at σ_d {fmt_list(where)}" for word, where in groups.items() if where)
    return f"{panel.title}, {NAMES[method]} − W/ Noise: {said} ({how})."


def clean_accuracy(runs, claims, grid: Grid) -> str:
    """Accuracy without device variation (eval σ = 0) of every model of the main grid."""
    parts = []
    for panel in panels(runs, claims, grid.stand_ins):
        if panel_rows(runs, panel).empty:
            continue
        rows = []
        for s in [0.0, *grid.sigma_d]:
            row = {"trained at σ_d": f"{s:g}"}
            for m in main_series(runs):
                trained_here = (m == "vanilla") == (s == 0)
                values = by_seed(runs, panel.model, panel.dataset, m, s, 0.0, grid.seeds) if trained_here else None
                row[variant_name(m)] = cell_n(values) if values is not None else ""
            rows.append(row)
        parts.append(f"**{panel.title}**\n\n" + md_table(rows, "no runs"))
    if not parts:
        return ""
    return "\n\n".join(
        [
            "## Clean accuracy (σ = 0)",
            f"Accuracy (%) of each trained model without device "
            f"variation, mean ± CI95 over {seeds_text(grid.seeds)}; – where the model was not evaluated "
            f"at σ = 0.",
            *parts,
        ]
    )


# --- IRS --------------------------------------------------------------------------------------------
def irs_diagnostics(runs, claims, grid: Grid) -> tuple[str, dict, str]:
    """Per IRS run of the main grid: how many heads are anti-aligned (expected: -beta * head in the
    objective rewards heads that point away from the label) and whether the backbone failed: its noisy
    validation accuracy more than `threshold` points below the W/ Noise run of the same seed and sigma_d.
    Returns the section, a note per panel for the IRS verdicts, and a sentence."""
    per_run = runs.drop_duplicates("file")
    rows, notes, failed, total = [], {}, [], 0
    for panel in panels(runs, claims, grid.stand_ins):
        here = per_run[(per_run.model == panel.model) & (per_run.dataset == panel.dataset)]
        irs = here[
            (here.variant == "irs")
            & here.sigma_d.isin([round(s, DIGITS) for s in grid.sigma_d])
            & here.seed.isin(grid.seeds)
        ]
        noise = here[here.variant == "noise"].set_index(["sigma_d", "seed"]).val_accuracy
        panel_failed = 0
        for r in irs.itertuples():
            total += 1
            ref = noise.get((r.sigma_d, r.seed), math.nan)
            gap = r.val_accuracy - ref
            bad = gap < -grid.threshold
            panel_failed += bool(bad)
            if bad:
                failed.append(f"{panel.title} σ_d {r.sigma_d:g} seed {r.seed}")
            rows.append(
                {
                    "panel": panel.title,
                    "σ_d": f"{r.sigma_d:g}",
                    "seed": str(r.seed),
                    "heads anti-aligned": f"{r.heads_anti_aligned:g}"
                    + ("" if math.isnan(r.n_feedback) else f" of {r.n_feedback:g}"),
                    "IRS backbone (noisy val %)": f"{r.val_accuracy:.2f}",
                    "W/ Noise (noisy val %)": "–" if math.isnan(ref) else f"{ref:.2f}",
                    "IRS − W/ Noise": "–" if math.isnan(gap) else f"{gap:+.2f}",
                    "backbone": "no W/ Noise run" if math.isnan(gap) else "failed" if bad else "did not fail",
                }
            )
        if len(irs):
            notes[panel] = f"backbone failed in {panel_failed} of {len(irs)} IRS runs"
    if not rows:
        return "", notes, ""
    anti = int((per_run[per_run.variant == "irs"].heads_anti_aligned > 0).sum())
    said = (
        f"IRS: heads anti-aligned (expected, see below) in {anti} of {total} runs; backbone failed (noisy "
        f"validation accuracy more than {grid.threshold:g} points below W/ Noise of the same seed and σ_d) in "
        f"{len(failed)} of {total}" + (f": {'; '.join(failed)}." if failed else ".")
    )
    text = "\n\n".join(
        [
            "## IRS diagnostics",
            "The objective subtracts beta·head from the backbone's logits, so it rewards heads whose logits point away "
            "from the label: heads scoring near 0 % (below half of chance, 'anti-aligned') are what it asks for, not a "
            "failure. What would be a failure is a backbone that learns less than plain noise injection: its noisy "
            "validation accuracy (the selected epoch, validation split of the training set) more than "
            f"{grid.threshold:g} points below the W/ Noise run of the same seed and σ_d.",
            md_table(rows, "no IRS runs"),
        ]
    )
    return text, notes, said


# --- convergence, Table 1, ablations, Table 2, initialisation -------------------------------------------
def setting_shortfalls(runs, claims, setting: Setting, paper_model: str, paper_dataset: str) -> list[str]:
    rows = runs[
        (runs.model == setting.model)
        & (runs.dataset == setting.dataset)
        & (runs.sigma_d == round(setting.sigma_d, DIGITS))
        & runs.seed.isin(setting.seeds)
    ]
    paper = f"{model_name(paper_model)} / {dataset_name(paper_dataset)}"
    used = f"{model_name(setting.model)} / {dataset_name(setting.dataset)}"
    return shortfalls(rows, claims, paper, used)


def convergence_section(runs, claims, grid: Grid) -> Section:
    paper, setting = claims["convergence"], grid.convergence
    section = Section(
        "Convergence",
        f"Paper: VGG-8 / MNIST, σ_d = {paper['sigma_d']}, {paper['runs']} runs. "
        f"Ours: {setting.describe(runs, grid.stand_ins) if setting else 'not run'}; threshold "
        f"{grid.threshold:g} points.",
    )
    if setting is None:
        return section
    long = convergence(runs, setting, grid.convergence_methods, grid.threshold)
    section.extra = table_markdown("convergence", long, runs, grid, setting)
    counts = long.set_index("method")
    papers = {"noise": paper["non_converged"]["noise_injection"], **paper["non_converged"]}
    short = setting_shortfalls(runs, claims, setting, "vgg8", "mnist")
    ran = {m: m in counts.index and counts.runs[m] > 0 for m in ("noise", "ovf", "irs")}
    for method in ("noise", "ovf", "irs"):
        ours = f"{counts.non_converged[method]} of {counts.runs[method]}" if ran[method] else "not run"
        if method == "noise":
            section.add("W/ Noise non-converged runs", f"{papers[method]} of {paper['runs']}", ours, None)
            continue
        v, note = Verdict(NOT_RUN, 0, 0, 0, ""), ""
        if ran[method] and ran["noise"]:
            n = min(counts.runs[method], counts.runs["noise"])
            shortfall = "; ".join(short + ([f"{n} of {paper['runs']} runs"] if n < paper["runs"] else []))
            fewer, more = fisher(counts, method, "less"), fisher(counts, method, "greater")
            outcome = REPRODUCED if fewer < ALPHA else NOT_REPRODUCED if more < ALPHA else INCONCLUSIVE
            v = Verdict(judge(outcome, shortfall, grid.synthetic), 0, 0, 0, shortfall)  # no k of n: one count
            note = f"Fisher's exact test, one-sided: p = {fewer:.3f} (fewer), {more:.3f} (more)"
        section.add(
            f"{NAMES[method]} has fewer non-converged runs than W/ Noise",
            f"{papers[method]} of {paper['runs']}",
            ours,
            v,
            note=note,
        )
    return section


def fisher(counts: pd.DataFrame, method: str, alternative: str) -> float:
    """One-sided p of Fisher's exact test: `method` has fewer ('less') or more ('greater') non-converged runs
    than W/ Noise."""
    from scipy import stats

    table = [[counts.non_converged[m], counts.runs[m] - counts.non_converged[m]] for m in (method, "noise")]
    return float(stats.fisher_exact(table, alternative=alternative)[1])


def ablation_setting_text(runs, claims, grid: Grid) -> str:
    paper, setting = claims["ablations"], grid.ablation
    return (
        f"Paper: ResNet-18 / CIFAR-10, σ_d = {paper['sigma_d']}. "
        f"Ours: {setting.describe(runs, grid.stand_ins) if setting else 'not run'}."
    )


def table_markdown(name: str, long: pd.DataFrame, runs, grid: Grid, setting: Setting | None) -> str:
    """The table as the tables step writes it: same builder, title, layout and notes."""
    return as_markdown(name, long, title(name, setting, runs, grid.stand_ins))


def table1_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Table 1", ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    long = table1(runs, setting)
    short = setting_shortfalls(runs, claims, setting, "resnet18", "cifar10")
    for method in ("ovf", "irs"):
        main = long[(long.method == method) & long.main]
        if main.empty:  # the main run (the paper's N) did not run here
            continue
        n_main = {method: int(main.n_feedback.iloc[0])}
        mine = long[long.method == method].set_index("n_feedback")
        acc = {n: setting.accuracy(runs, r.variant) for n, r in mine.iterrows()}
        empty = pd.Series(dtype=float)
        c = paired(acc.get(n_main[method], empty), acc.get(1, empty))
        paper = claims["ablations"][of_table("table1")[0].claim][method]
        known = n_main[method] <= len(paper) and paper[n_main[method] - 1] is not None
        claimed = paper[n_main[method] - 1] - paper[0] if known else None
        v = verdict([c], short, claimed=claimed, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[method]}: N = {n_main[method]} beats N = 1",
            ", ".join(f"N={i + 1}: {x:.2f}" for i, x in enumerate(paper) if x is not None),
            f"N = {n_main[method]} − N = 1: {c.text()}",
            v,
            "comparison",
        )
    section.extra = table_markdown("table1", long, runs, grid, setting)
    return section


def ablations_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Ablations", ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    paper, setup = claims["ablations"], claims["setup"]
    short = setting_shortfalls(runs, claims, setting, "resnet18", "cifar10")
    n_paper = {"ovf": setup["ovf"]["n_feedback"], "irs": setup["irs"]["n_feedback"]["resnet18"]}
    nft = {m: paper[of_table("table1")[0].claim][m][n_paper[m] - 1] for m in n_paper}
    long = ablations(runs, setting)
    for r in long.itertuples():
        c = paired(setting.accuracy(runs, r.method), setting.accuracy(runs, r.variant))
        claim = VARIANTS[parse_variant(r.variant)[1]].claim
        drop = paper_drop(paper[claim], r.method, nft[r.method]) if claim else None
        v = verdict([c], short, claimed=drop, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[r.method]} beats its {r.ablation} version",
            paper_ablation(paper[claim], r.method, nft[r.method]) if claim else "–",
            f"NFT − ablated: {c.text()}",
            v,
            "comparison",
        )
    section.extra = table_markdown("ablations", long, runs, grid, setting)
    return section


def paper_drop(claim, method: str, nft: float) -> float:
    """The points the paper's NFT run is above its ablated version (claims.yaml as in paper_ablation)."""
    claim = claim.get(method, claim) if isinstance(claim, dict) else claim
    return claim[f"{method}_drop_points"] if isinstance(claim, dict) else nft - claim


def paper_ablation(claim, method: str, nft: float) -> str:
    """The paper's number for an ablation of `method` (claims.yaml: one accuracy, one per method, or the
    points it drops) beside its NFT run's: '46.01 vs 63.50', 'drop 14.14'."""
    claim = claim.get(method, claim) if isinstance(claim, dict) else claim
    if isinstance(claim, dict):
        return f"drop {claim[f'{method}_drop_points']:.2f}"
    return f"{claim:.2f} vs {nft:.2f}"


def table2_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Table 2", ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    paper, long = claims["ablations"][of_table("table2")[0].claim], table2(runs, setting)
    short = setting_shortfalls(runs, claims, setting, "resnet18", "cifar10")
    for method in ("ovf", "irs"):
        mine = long[long.method == method]
        scratch = setting.accuracy(runs, method)
        found = [
            paired(scratch, setting.accuracy(runs, r.variant))
            for r in mine.itertuples()
            if r.epochs and r.variant != method
        ]
        # the paper's smallest gain of scratch over pre+k (k > 0), as the size a comparison must reach
        columns = dict(zip(paper["columns"], paper[method], strict=True))
        scratch_paper = columns.pop(paper["columns"][-1])
        claimed = min(scratch_paper - x for c, x in columns.items() if c != "pre+0")
        v = verdict(found, short, need="all", claimed=claimed, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[method]} from scratch beats pretrained + k epochs",
            ", ".join(f"{c}: {x:.2f}" for c, x in zip(paper["columns"], paper[method])),
            "; ".join(
                f"scratch − {r.column}: {c.text()}"
                for r, c in zip([r for r in mine.itertuples() if r.epochs and r.variant != method], found)
            )
            or "–",
            v,
            "k",
        )
    section.extra = table_markdown("table2", long, runs, grid, setting)
    return section


def init_section(runs, grid: Grid) -> tuple[str, str]:
    """Initialisation sensitivity (beyond the paper): every method with PyTorch's default init beside the
    public code's, and whether OVF and IRS still beat W/ Noise under each."""
    setting = grid.ablation
    [pytorch] = of_table("init")
    if setting is None or not (runs.variant.str.endswith(f"-{pytorch.tag}")).any():
        return "", ""
    where = setting.describe(runs, grid.stand_ins)
    long = init_sensitivity(runs, setting)
    text = "\n\n".join(
        [
            "## Initialisation sensitivity (beyond the paper)",
            f"{where}. The public code initialises every conv and linear weight kaiming-normal (fan_out); "
            "PyTorch's default is kaiming-uniform. Eq. 5 scales the noise by each layer's max|W|, so the "
            "initialisation changes how much noise the same σ_d is. Neither the paper nor the public code reports "
            "this. Each difference is paired by seed (± CI95); its outcome is a paired t-test "
            "(one seed: the sign only).",
            table_markdown("init", long, runs, grid, setting),
        ]
    )
    ref = long[long.init == "reference"].set_index("method")
    pt = long[long.init == "pytorch"].set_index("method")
    changes = ", ".join(f"{NAMES[m]} {pt.change[m]:+.2f}" for m in NAMES if not math.isnan(pt.change[m]))
    beats = "; ".join(
        f"{NAMES[m]} − W/ Noise: {ref.minus_noise[m]:+.2f} ({ref.minus_noise_outcome[m]}) with the "
        f"reference init, {pt.minus_noise[m]:+.2f} ({pt.minus_noise_outcome[m]}) with PyTorch's"
        for m in ("ovf", "irs")
        if not (pd.isna(ref.minus_noise[m]) or pd.isna(pt.minus_noise[m]))
    )
    other = (
        f" These use the ablations' seeds; Figure 3's comparisons use the main grid's {seeds_text(grid.seeds)}."
        if tuple(setting.seeds) != tuple(grid.seeds)
        else ""
    )
    said = (
        f"Initialisation (beyond the paper; {where}): PyTorch's default init instead of the public "
        f"code's changes accuracy by {changes or '–'} points; {beats or 'no OVF/IRS comparison ran'}.{other}"
    )
    return text, said


# --- Is it the feedback? (beyond the paper) -----------------------------------------------------------
def feedback_section(runs, claims, grid: Grid) -> tuple[Section, list[str]]:
    """OVF against W/ Noise ×(N+1) per panel (does OVF's gain survive when W/ Noise sees as many noise samples
    per step?), and OVF/IRS against positive feedback at the ablations' setting; the numbers are the feedback
    table's, and a sentence per panel."""
    matched = compute_matched()
    long = feedback(runs, grid.ablation, tuple(grid.sigma_d), tuple(grid.seeds))
    section = Section(
        "Is it the feedback?",
        f"Beyond the paper and its public code. OVF trains on N + 1 noisy forwards per step, W/ Noise on one, so "
        f"'OVF beats W/ Noise' mixes the feedback with {OVF_FEEDBACKS + 1} times as many noise samples. "
        f"{variant_name(matched)} is W/ Noise with as many noise draws per step (the mean of their losses); +β "
        f"flips the feedback's sign. Accuracy at eval σ = σ_d, {seeds_text(grid.seeds)}; positive feedback at "
        f"the ablations' setting.",
    )
    words = []
    for panel in panels(runs, claims, grid.stand_ins):
        against = {v: comparisons(runs, panel, "ovf", grid, "accuracy", v) for v in (matched, "noise")}
        if not any(c.n for c in against[matched].values()):
            continue
        short = panel_shortfalls(runs, claims, panel)
        claimed = paper_improvement(claims, panel, "ovf")
        v = {
            k: verdict(list(found.values()), short, claimed=claimed, synthetic=grid.synthetic)
            for k, found in against.items()
        }
        section.add(
            f"OVF beats {variant_name(matched)}, {panel.title}",
            "–",
            best_text(against[matched]),
            v[matched],
            note=f"OVF − W/ Noise: {best_text(against['noise'])}, {v['noise'].count()}",
        )
        words.append(feedback_sentence(panel, matched, v))
    if grid.ablation is not None:
        short = setting_shortfalls(runs, claims, grid.ablation, "resnet18", "cifar10")
        for r in long[long.versus.str.endswith("-posfb")].itertuples():
            c = paired(grid.ablation.accuracy(runs, r.variant), grid.ablation.accuracy(runs, r.versus))
            v = verdict([c], short, synthetic=grid.synthetic)
            claim = f"{NAMES[r.variant]} beats {variant_name(r.versus)}"
            section.add(claim, "–", c.text(), v, "comparison")
            words.append(f"{claim} at the ablations' setting: {c.text()} ({v.word}).")
    section.extra = as_markdown("feedback", long, title("feedback", grid.ablation, runs, grid.stand_ins))
    return section, words


def feedback_sentence(panel: Panel, matched: str, v: dict[str, Verdict]) -> str:
    """Whether OVF's gain over W/ Noise survives the compute-matched baseline, in plain words."""
    gain = {REPRODUCED: "OVF beats W/ Noise"}.get(v["noise"].word, f"OVF against W/ Noise: {v['noise'].word}")
    survives = v[matched].word
    return (
        f"{panel.title}: {gain} ({v['noise'].count()}); against {variant_name(matched)}, which sees as many noise "
        f"samples per step: {survives} ({v[matched].count()})."
    )


# --- the setting, health, assembly ---------------------------------------------------------------------
def setting_table(runs: pd.DataFrame, claims: dict, grid: Grid) -> str:
    """The paper's setting beside this grid's, read from the result files themselves."""
    setup, per_run = claims["setup"], runs.drop_duplicates("file")
    main = per_run[per_run.variant.isin(list(NAMES))]
    paper_panels = [k.split("/") for k in claims["figure3_max_improvement_over_noise_injection"]]
    data = ", ".join(dataset_name(d, grid.stand_ins) for d in sorted(set(main.dataset)))
    betas = []
    for method in ("ovf", "irs"):
        values = main[main.method == method].groupby("model").beta.first()
        if len(values):
            source = {"default": "the public code's value", "search": "searched on the validation split"}.get(
                str(grid.beta.get(method, "default")), "set in the config"
            )
            betas.append(
                f"{NAMES[method]}: {source} ({', '.join(f'{model_name(m)} {b:g}' for m, b in values.items())})"
            )
    dates = sorted(d for d in per_run.date.dropna().unique() if d)
    rows = [
        ("data", ", ".join(sorted({dataset_name(d) for _, d in paper_panels})), data or "–"),
        (
            "models",
            "VGG-8, ResNet-18",
            ", ".join(model_name(m) for m in sorted(set(main.model), key=paper_order)) or "–",
        ),
        ("epochs", str(setup["epochs"]), fmt_list(sorted(main.epochs.unique())) or "–"),
        ("independent runs (seeds)", f"≥ {setup['independent_runs']}", seeds_text(sorted(main.seed.unique()))),
        ("σ_d", f"0 to {setup['sigma_d_max']:g}", fmt_list(grid.sigma_d)),
        (
            "MC runs R per point",
            str(setup["mc_runs"]),
            fmt_list(sorted(runs.runs.dropna().unique().astype(int))) or "–",
        ),
        ("test images", "the full test set", fmt_list(sorted(per_run.n_test.dropna().unique().astype(int))) or "–"),
        ("width", "1", fmt_list(sorted(per_run.width.unique()))),
        (
            "training subset",
            "all",
            ", ".join(sorted({"all" if pd.isna(v) else f"{v:g}" for v in per_run.train_subset})),
        ),
        ("beta", setup["beta_source"], "; ".join(betas) or "–"),
        ("initialisation", setup["init"], ", ".join(sorted(main.init.dropna().unique())) or "–"),
        (
            "model selection",
            setup["selection"],
            ", ".join(
                sorted(
                    {
                        "noisy validation accuracy" if s == "val" else "last epoch" if s == "last" else str(s)
                        for s in main.selection.dropna()
                    }
                )
            )
            or "–",
        ),
        ("device", setup["device"], ", ".join(sorted(per_run.device.dropna().unique())) or "–"),
        ("git commit", "–", ", ".join(sorted(per_run.git_commit.dropna().unique())) or "–"),
        ("date", "2023 (arXiv 2305.14561)", " to ".join(dict.fromkeys([dates[0], dates[-1]])) if dates else "–"),
    ]
    return md_table([{"": a, "paper": p, f"this grid ({grid.name})": o} for a, p, o in rows], "no runs")


def runs_health(runs: pd.DataFrame) -> tuple[str, str]:
    per_run = runs.drop_duplicates("file")
    diverged = per_run[per_run.status == "diverged"]
    late = diverged[diverged.accuracy.notna()] if "accuracy" in diverged else diverged.iloc[:0]
    lines = [
        f"- {len(per_run)} trained models evaluated; {len(diverged)} diverged "
        f"({len(late)} after a kept epoch: that epoch was evaluated and enters the means, as the public code "
        f"would keep its best checkpoint; {len(diverged) - len(late)} before any: no weights, absent from the "
        f"means). Every diverged run counts once as non-converged."
    ]
    lines += [f"  - {r.file} (epoch {r.diverged_epoch:g})" for r in diverged.itertuples()]
    said = f"Diverged trainings: {len(diverged)} of {len(per_run)} ({len(late)} after a kept epoch)."
    return "\n".join(lines), said


def paper_order(model: str) -> tuple:
    order = list(MODEL_NAMES)
    return (order.index(model) if model in order else len(order), model)


def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def report(
    runs: pd.DataFrame,
    out: Path,
    grid: Grid,
    figures: list[Path] = (),
    tables: list[Path] = (),
    benchmarks: list[Path] = (),
) -> list[Section]:
    claims = load_claims()
    grid = dataclasses.replace(grid, synthetic=bool(len(runs)) and set(runs.dataset) == {"synthetic"})
    irs_text, irs_notes, irs_said = irs_diagnostics(runs, claims, grid)
    figure3_numbers, figure3_words = per_sigma(runs, claims, grid, "accuracy")
    figure4_numbers, _ = per_sigma(runs, claims, grid, "ekl")
    init_text, init_said = init_section(runs, grid)
    health_text, health_said = runs_health(runs)
    feedback_part, feedback_words = feedback_section(runs, claims, grid)
    sections = [
        figure_section(runs, claims, grid, irs_notes, "Figure 3"),
        figure_section(runs, claims, grid, irs_notes, "Figure 4"),
        feedback_part,
        convergence_section(runs, claims, grid),
        table1_section(runs, claims, grid),
        ablations_section(runs, claims, grid),
        table2_section(runs, claims, grid),
    ]
    verdicts = [r["verdict"] for s in sections for r in s.rows if r["verdict"] != "–"]
    counts = "; ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS if verdicts.count(v))
    short = sorted(
        {item for s in sections for r in s.rows for item in r["evidence short of the paper's"].split("; ")} - {"–", ""}
    )
    here = Path(out).parent
    words = [f"Verdicts over {len(verdicts)} claims: {counts or 'none'}."]
    if short:
        words.append(
            f"Evidence short of the paper's, in one claim or more: {'; '.join(short)}. Where it falls short a "
            f"verdict is 'indicative': it says which way this grid points, not that the paper's number is "
            f"reproduced."
        )
    words += [*figure3_words, *feedback_words, irs_said, init_said, health_said]
    parts = [
        f"# NeFT replication report: {grid.name}",
        SYNTHETIC_LINE if grid.synthetic else "",
        f"Generated by `python -m neft report` from {runs.file.nunique()} Monte-Carlo result files; every number "
        f"below is recomputed from them (do not edit: rerun the pipeline). Paper numbers: `neft/claims.yaml`. "
        f"Differences are the method minus what it is compared with.",
        "## Setting: the paper's and this grid's\n\n" + setting_table(runs, claims, grid),
        "## In plain words\n\n" + "\n".join(f"- {w}" for w in words if w),
        "\n\n".join(f"![{Path(f).stem}]({relative(f, here)})" for f in figures if Path(f).suffix == ".png"),
        sections[0].markdown(),
        figure3_numbers,
        feedback_part.markdown(),
        clean_accuracy(runs, claims, grid),
        irs_text,
        sections[1].markdown(),
        figure4_numbers,
        *(s.markdown() for s in sections[3:]),
        init_text,
        "## Runs\n\n" + health_text,
        "## Compute\n\n" + md_table(per_rule(list(benchmarks)), "no benchmark files") + "\n\n" + own_clocks(runs),
        "## Tables\n\n" + "\n".join(f"- [{Path(t).name}]({relative(t, here)})" for t in tables) if tables else "",
        "## Verdict rules\n\n" + EVIDENCE + "\n\n" + "\n".join(f"- {t}: {r}" for t, r in RULES.items()),
    ]
    save_text(out, "\n\n".join(p for p in parts if p) + "\n")
    return sections
