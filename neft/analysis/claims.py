"""The paper's claims (claims.yaml), each checked by the rule written beside it: a section of the report
with the paper's number, ours, and a verdict (verdicts.py) per claim."""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import yamlfile
from ..catalogue import METHODS, nft_methods
from ..variants import VARIANTS, compute_matched, of_table, parse_variant
from .comparisons import (
    Panel,
    best_text,
    comparisons,
    panel_shortfalls,
    panels,
    paper_improvement,
    setting_shortfalls,
    where,
)
from .grid import Grid
from .names import METHOD_NAMES as NAMES
from .names import variant_name
from .render import fmt_list, md_table, seeds_text
from .tables import ablations, convergence, feedback, table1, table2, table_markdown
from .verdicts import (
    ALPHA,
    INCONCLUSIVE,
    MIN_SEEDS,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    Verdict,
    judge,
    paired,
    verdict,
)

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


@dataclass
class Section:
    """A claim's part of the report: its rule, the setting it was checked in, a row per claim, the table behind it."""

    title: str
    rule: str
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
        return "\n\n".join(
            filter(
                None,
                [
                    f"## {self.title}",
                    self.setting,
                    f"Rule: {self.rule}",
                    md_table(self.rows, "not run"),
                    self.extra,
                ],
            )
        )


def load_claims() -> dict:
    return yamlfile.read(Path(__file__).parent.parent / "claims.yaml")  # neft/claims.yaml


FIGURE3_RULE = (
    "the method minus W/ Noise at eval σ = σ_d, paired by seed, one paired t-test per σ_d, Holm-corrected over "
    "the grid: the claim holds if the method is better at a majority of σ_d and significantly worse at none."
)
FIGURE4_RULE = "the same on the EKL of the correct predictions, lower being better."


def figure_section(runs, claims, grid: Grid, irs_notes: dict, figure: str) -> Section:
    ekl = figure == "Figure 4"
    column = "ekl" if ekl else "accuracy"
    what = "EKL of the correct predictions (lower = more confident)" if ekl else "Top-1 accuracy (%)"
    section = Section(
        figure,
        FIGURE4_RULE if ekl else FIGURE3_RULE,
        f"{what}, the method minus W/ Noise at eval σ = σ_d {fmt_list(grid.sigma_d)}; {seeds_text(grid.seeds)}.",
    )
    for panel in panels(runs, claims, grid.stand_ins):
        short = panel_shortfalls(runs, claims, panel)
        for method in nft_methods():
            judged = panel.paper_dataset and paper_improvement(claims, panel, method) is not None  # the paper's claim
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
                paper_text if judged else "–",
                best_text(found, ekl),
                v if judged else None,
                "σ_d (lower EKL)" if ekl else "σ_d",
                note,
            )
    return section


CONVERGENCE_RULE = (
    "holds if the method has fewer non-converged runs than W/ Noise (diverged, or more than the threshold below "
    "the mean of the runs that finished; each run counted once). Fisher's exact test is shown beside it."
)


def convergence_section(runs, claims, grid: Grid) -> Section:
    paper, setting = claims["convergence"], grid.convergence
    section = Section(
        "Convergence",
        CONVERGENCE_RULE,
        f"Paper: {where(paper)}, σ_d = {paper['sigma_d']}, {paper['runs']} runs. "
        f"Ours: {setting.describe(runs, grid.stand_ins) if setting else 'not run'}; threshold "
        f"{grid.threshold:g} points.",
    )
    if setting is None:
        return section
    long = convergence(runs, setting, grid.convergence_methods, grid.threshold)
    section.extra = table_markdown("convergence", long, runs, grid.stand_ins, setting)
    counts = long.set_index("method")
    papers = {"noise": paper["non_converged"]["noise_injection"], **paper["non_converged"]}
    short = setting_shortfalls(runs, claims, setting, claims["convergence"])
    ran = {m: m in counts.index and counts.runs[m] > 0 for m in ("noise", *nft_methods())}
    for method in ran:
        ours = f"{counts.non_converged[method]} of {counts.runs[method]}" if ran[method] else "not run"
        said = f"{papers[method]} of {paper['runs']}" if method in papers else "–"
        if method == "noise" or method not in papers:  # the paper's baseline, or a method it has no count of
            section.add(f"{NAMES[method]} non-converged runs", said, ours, None)
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
            said,
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
        f"Paper: {where(paper)}, σ_d = {paper['sigma_d']}. "
        f"Ours: {setting.describe(runs, grid.stand_ins) if setting else 'not run'}."
    )


TABLE1_RULE = "holds if the method with the paper's N is significantly better than with N = 1 (paired t-test)."


def table1_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Table 1", TABLE1_RULE, ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    long = table1(runs, setting)
    short = setting_shortfalls(runs, claims, setting, claims["ablations"])
    for method in nft_methods():
        main = long[(long.method == method) & long.main]
        if main.empty:  # the main run (the paper's N) did not run here
            continue
        n_main = {method: int(main.n_feedback.iloc[0])}
        mine = long[long.method == method].set_index("n_feedback")
        acc = {n: setting.accuracy(runs, r.variant) for n, r in mine.iterrows()}
        empty = pd.Series(dtype=float)
        c = paired(acc.get(n_main[method], empty), acc.get(1, empty))
        paper = claims["ablations"][of_table("table1")[0].claim].get(method, [])  # none: the paper has no claim
        known = n_main[method] <= len(paper) and paper[n_main[method] - 1] is not None
        claimed = paper[n_main[method] - 1] - paper[0] if known else None
        v = verdict([c], short, claimed=claimed, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[method]}: N = {n_main[method]} beats N = 1",
            ", ".join(f"N={i + 1}: {x:.2f}" for i, x in enumerate(paper) if x is not None) or "–",
            f"N = {n_main[method]} − N = 1: {c.text()}",
            v if paper else None,
            "comparison",
        )
    section.extra = table_markdown("table1", long, runs, grid.stand_ins, setting)
    return section


ABLATIONS_RULE = "holds if the NFT run is significantly better than its ablated version (paired t-test)."


def ablations_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Ablations", ABLATIONS_RULE, ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    paper, setup = claims["ablations"], claims["setup"]
    short = setting_shortfalls(runs, claims, setting, claims["ablations"])
    feedbacks = paper[of_table("table1")[0].claim]  # the paper's accuracy at each N, the paper's own N among them
    nft = {m: feedbacks[m][paper_feedbacks(setup, m, paper["model"]) - 1] for m in feedbacks}
    long = ablations(runs, setting)
    for r in long.itertuples():
        c = paired(setting.accuracy(runs, r.method), setting.accuracy(runs, r.variant))
        claim = VARIANTS[parse_variant(r.variant)[1]].claim if r.method in nft else None  # the paper's number
        drop = paper_drop(paper[claim], r.method, nft[r.method]) if claim else None
        v = verdict([c], short, claimed=drop, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[r.method]} beats its {r.ablation} version",
            paper_ablation(paper[claim], r.method, nft[r.method]) if claim else "–",
            f"NFT − ablated: {c.text()}",
            v if r.method in nft else None,
            "comparison",
        )
    section.extra = table_markdown("ablations", long, runs, grid.stand_ins, setting)
    return section


def paper_feedbacks(setup: dict, method: str, model: str) -> int:
    """The paper's number of feedbacks N of `method` on `model` (claims.yaml: one N, or one per model)."""
    n = setup[method]["n_feedback"]
    return n[model] if isinstance(n, dict) else n


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


TABLE2_RULE = (
    "holds if training from scratch is significantly better than the pretrained model + k epochs for every k run "
    "(paired t-tests, Holm-corrected over k)."
)


def table2_section(runs, claims, grid: Grid) -> Section:
    setting = grid.ablation
    section = Section("Table 2", TABLE2_RULE, ablation_setting_text(runs, claims, grid))
    if setting is None:
        return section
    paper, long = claims["ablations"][of_table("table2")[0].claim], table2(runs, setting)
    short = setting_shortfalls(runs, claims, setting, claims["ablations"])
    for method in nft_methods():
        mine = long[long.method == method]
        scratch = setting.accuracy(runs, method)
        found = [
            paired(scratch, setting.accuracy(runs, r.variant))
            for r in mine.itertuples()
            if r.epochs and r.variant != method
        ]
        # the paper's smallest gain of scratch over pre+k (k > 0), as the size a comparison must reach
        columns = dict(zip(paper["columns"], paper.get(method, []), strict=False))  # none: the paper has no claim
        scratch_paper = columns.pop(paper["columns"][-1], None)
        claimed = min(scratch_paper - x for c, x in columns.items() if c != "pre+0") if columns else None
        v = verdict(found, short, need="all", claimed=claimed, synthetic=grid.synthetic)
        section.add(
            f"{NAMES[method]} from scratch beats pretrained + k epochs",
            ", ".join(f"{c}: {x:.2f}" for c, x in zip(paper["columns"], paper.get(method, []))) or "–",
            "; ".join(
                f"scratch − {r.column}: {c.text()}"
                for r, c in zip([r for r in mine.itertuples() if r.epochs and r.variant != method], found)
            )
            or "–",
            v if method in paper else None,
            "k",
        )
    section.extra = table_markdown("table2", long, runs, grid.stand_ins, setting)
    return section


FEEDBACK_RULE = (
    "beyond the paper. OVF minus W/ Noise ×(N+1) (W/ Noise with as many noise draws per step as OVF has forwards) "
    "by the rule of Figure 3; OVF and IRS minus their positive-feedback (+β) runs at the ablations' setting, one "
    "paired t-test each. The seeds needed are sized on the paper's OVF improvement."
)


def feedback_section(runs, claims, grid: Grid) -> tuple[Section, list[str]]:
    """OVF against W/ Noise ×(N+1) per panel (does OVF's gain survive when W/ Noise sees as many noise samples
    per step?), and OVF/IRS against positive feedback at the ablations' setting; the numbers are the feedback
    table's, and a sentence per panel."""
    matched = compute_matched()
    long = feedback(runs, grid.ablation, tuple(grid.sigma_d), tuple(grid.seeds))
    section = Section(
        "Is it the feedback?",
        FEEDBACK_RULE,
        f"Beyond the paper and its public code. OVF trains on N + 1 noisy forwards per step, W/ Noise on one, so "
        f"'OVF beats W/ Noise' mixes the feedback with {METHODS['ovf'].feedbacks + 1} times as many noise samples. "
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
        short = setting_shortfalls(runs, claims, grid.ablation, claims["ablations"])
        for r in long[long.versus.str.endswith("-posfb")].itertuples():
            c = paired(grid.ablation.accuracy(runs, r.variant), grid.ablation.accuracy(runs, r.versus))
            v = verdict([c], short, synthetic=grid.synthetic)
            claim = f"{NAMES[r.variant]} beats {variant_name(r.versus)}"
            section.add(claim, "–", c.text(), v, "comparison")
            words.append(f"{claim} at the ablations' setting: {c.text()} ({v.word}).")
    section.extra = table_markdown("feedback", long, runs, grid.stand_ins, grid.ablation)
    return section, words


def feedback_sentence(panel: Panel, matched: str, v: dict[str, Verdict]) -> str:
    """Whether OVF's gain over W/ Noise survives the compute-matched baseline, in plain words."""
    gain = {REPRODUCED: "OVF beats W/ Noise"}.get(v["noise"].word, f"OVF against W/ Noise: {v['noise'].word}")
    survives = v[matched].word
    return (
        f"{panel.title}: {gain} ({v['noise'].count()}); against {variant_name(matched)}, which sees as many noise "
        f"samples per step: {survives} ({v[matched].count()})."
    )


RULES = {  # the report's list of rules, in this order
    "Figure 3": FIGURE3_RULE,
    "Figure 4": FIGURE4_RULE,
    "Convergence": CONVERGENCE_RULE,
    "Table 1": TABLE1_RULE,
    "Ablations": ABLATIONS_RULE,
    "Table 2": TABLE2_RULE,
    "Is it the feedback?": FEEDBACK_RULE,
}
