"""The replication report (Markdown): the setting actually run, every regenerated number beside the
paper's (claims.yaml), and a verdict per claim computed by the rules in RULES, which the report prints.

Comparisons pair the two methods by seed (same seed = same initialisation, data split and order) and
test the mean difference with a Student-t CI95 over seeds; with a single seed the sign alone decides.
"""
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from tabulate import tabulate

from .aggregate import DIGITS, t_ci95
from .formats import read_table
from .io import save_text
from .tables import NAMES, Setting, cell, convergence, table1, table2

REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not run"
RULES = {
    "Figure 3": "reproduced if, at some sigma_d of the grid, the method's accuracy minus W/ Noise's (paired by "
                "seed, eval sigma = sigma_d) is above 0 together with its 95% CI; the number shown is the largest "
                "mean improvement over the grid.",
    "Figure 4": "reproduced if the method's mean EKL is below W/ Noise's at more than half of the sigma_d values "
                "where both ran.",
    "Convergence": "reproduced if the method has fewer non-converged runs than W/ Noise (non-converged: diverged, "
                   "or more than the threshold below the mean of the runs that finished).",
    "Table 1": "reproduced if the method with the paper's N beats it with N = 1 (paired difference and its 95% CI "
               "above 0).",
    "Ablations": "reproduced if the NFT run beats its ablated version (paired difference and its 95% CI above 0).",
    "Table 2": "reproduced if training from scratch beats the pretrained model + k epochs for every k run "
               "(each paired difference and its 95% CI above 0).",
}
RULE_COMMON = ("not run: a run the comparison needs is missing. With one seed there is no CI and the sign of "
               "the difference alone decides.")


def load_claims() -> dict:
    return yaml.safe_load((Path(__file__).with_name("claims.yaml")).read_text())


def paired(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    """Mean of a - b over the seeds both have, its CI95 half-width, and the number of seeds."""
    d = (a - b).dropna()
    return (d.mean() if len(d) else math.nan), t_ci95(d), len(d)


def compare(a: pd.Series, b: pd.Series) -> str | None:
    """a - b paired by seed: 'above 0' or 'below 0' together with its CI95 (one seed: by its sign), else
    'CI95 spans 0'; None if no seed has both."""
    diff, ci, n = paired(a, b)
    if n == 0:
        return None
    margin = 0.0 if n < 2 else ci
    return "above 0" if diff - margin > 0 else "below 0" if diff + margin < 0 else "CI95 spans 0"


def beats(a: pd.Series, b: pd.Series) -> str:
    outcome = compare(a, b)
    return NOT_RUN if outcome is None else REPRODUCED if outcome == "above 0" else NOT_REPRODUCED


def diff_text(a: pd.Series, b: pd.Series) -> str:
    diff, ci, n = paired(a, b)
    return "–" if n == 0 else f"{diff:+.2f}" + ("" if math.isnan(ci) else f" ± {ci:.2f}") + f" (n={n})"


@dataclass
class Section:
    title: str
    setting: str
    rows: list[dict] = field(default_factory=list)

    def add(self, claim: str, paper, ours, verdict: str | None, note: str = "") -> None:
        self.rows.append({"claim": claim, "paper": paper, "ours": ours, "verdict": verdict or "–", "note": note})

    def markdown(self) -> str:
        rule = RULES.get(self.title)
        body = md_table(self.rows, "not run")
        return "\n\n".join(filter(None, [f"## {self.title}", self.setting, f"Rule: {rule}" if rule else "", body]))


def md_table(rows: list[dict], empty: str) -> str:
    """A Markdown table, cells as written (no number reformatting)."""
    return tabulate(pd.DataFrame(rows), headers="keys", tablefmt="pipe", showindex=False,
                    disable_numparse=True) if rows else empty


def has_runs(runs: pd.DataFrame, model: str, dataset: str) -> bool:
    return bool(((runs.model == model) & (runs.dataset == dataset)).any())


def panels(runs: pd.DataFrame, claims: dict, stand_ins: dict) -> list[tuple[str, str, str, str]]:
    """(model, paper dataset, dataset run, note) for each Figure 3 panel of the paper, then the main runs'
    panels that no claim covers (paper dataset '')."""
    out = []
    for key in claims["figure3_max_improvement_over_noise_injection"]:
        model, dataset = key.split("/")
        used = dataset if has_runs(runs, model, dataset) or dataset not in stand_ins else stand_ins[dataset]
        out.append((model, dataset, used, f"stand-in: {used}" if used != dataset else ""))
    main = runs[runs.variant == "noise"]
    covered = {(m, used) for m, _, used, _ in out}
    extra = sorted(set(zip(main.model, main.dataset)) - covered)
    return out + [(m, "", d, "no paper counterpart") for m, d in extra]


def figure3_section(runs, claims, grid, seeds, stand_ins) -> Section:
    section = Section("Figure 3", f"Largest improvement over W/ Noise, in points, over sigma_d {fmt_list(grid)}; "
                                  f"seeds {fmt_list(seeds)}.")
    paper = claims["figure3_max_improvement_over_noise_injection"]
    for model, dataset, used, note in panels(runs, claims, stand_ins):
        for method in ("ovf", "irs"):
            pairs = {s: (Setting(model, used, s, seeds).accuracy(runs, method),
                         Setting(model, used, s, seeds).accuracy(runs, "noise")) for s in grid}
            diffs = {s: paired(*ab) for s, ab in pairs.items() if paired(*ab)[2]}
            best = max(diffs, key=lambda s: diffs[s][0], default=None)
            ours = "–" if best is None else f"{diffs[best][0]:+.2f} at sigma_d {best:g} (n={diffs[best][2]})"
            verdict = (NOT_RUN if not diffs else REPRODUCED if any(beats(*pairs[s]) == REPRODUCED for s in diffs)
                       else NOT_REPRODUCED)
            claim = f"{NAMES[method]} beats W/ Noise, {model}/{dataset or used}"
            if dataset:
                section.add(claim, f"+{paper[f'{model}/{dataset}'][method]:.2f}", ours, verdict, note)
            else:
                section.add(claim, "–", ours, None, note)
    return section


def per_sigma(runs, claims, grid, seeds, stand_ins) -> tuple[str, list[str]]:
    """Figure 3 as numbers: each method's accuracy at eval sigma = sigma_d (mean ± CI95 over seeds), and
    OVF's and IRS's paired difference from W/ Noise; and the same in words, one line per panel and method."""
    parts, words = [], []
    for model, dataset, used, _ in panels(runs, claims, stand_ins):
        if not has_runs(runs, model, used):
            continue
        rows, where = [], {m: {} for m in ("ovf", "irs")}
        for s in grid:
            at = Setting(model, used, s, seeds)
            acc = {m: at.accuracy(runs, m, 0.0 if m == "vanilla" else None) for m in NAMES}
            for m in where:
                if (outcome := compare(acc[m], acc["noise"])) is not None:
                    where[m].setdefault(outcome, []).append(f"{s:g}")
            rows.append({"sigma_d": f"{s:g}", **{NAMES[m]: cell(a.mean(), t_ci95(a)) for m, a in acc.items()},
                         **{f"{NAMES[m]} - W/ Noise": diff_text(acc[m], acc["noise"]) for m in where}})
        parts.append(f"**{model} / {used}**\n\n" + md_table(rows, "no runs"))
        for m, outcomes in where.items():
            if outcomes:
                said = "; ".join(f"{o} at sigma_d {', '.join(outcomes[o])}" for o in ("above 0", "below 0", "CI95 spans 0")
                                 if o in outcomes)
                words.append(f"{model} / {used}, {NAMES[m]} minus W/ Noise: {said}.")
    intro = (f"Accuracy (%) at eval sigma = sigma_d, mean ± CI95 over seeds {fmt_list(seeds)}; the last two "
             "columns: paired difference from W/ Noise ± CI95 (n seeds).")
    table = "## Figure 3 per sigma_d\n\n" + "\n\n".join([intro, *parts]) if parts else ""
    return table, words


def figure4_section(runs, claims, grid, seeds, stand_ins) -> Section:
    section = Section("Figure 4", "Mean EKL of the correct predictions (lower = more confident), at eval sigma = "
                                  "sigma_d; count of sigma_d where the method is below W/ Noise.")
    for model, dataset, used, note in panels(runs, claims, stand_ins):
        def ekl(variant, s):
            rows = Setting(model, used, s, seeds).rows(runs, variant)
            return rows[rows.eval_sigma == round(s, DIGITS)].ekl.mean()
        for method in ("ovf", "irs"):
            pairs = [(ekl(method, s), ekl("noise", s)) for s in grid]
            pairs = [(a, b) for a, b in pairs if not (math.isnan(a) or math.isnan(b))]
            lower = sum(a < b for a, b in pairs)
            verdict = NOT_RUN if not pairs else REPRODUCED if lower > len(pairs) / 2 else NOT_REPRODUCED
            section.add(f"{NAMES[method]} EKL below W/ Noise, {model}/{dataset or used}", "lower" if dataset else "–",
                        f"lower at {lower} of {len(pairs)} sigma_d", verdict if dataset else None, note)
    return section


def convergence_section(runs, claims, setting: Setting | None, methods, threshold) -> Section:
    paper = claims["convergence"]
    section = Section("Convergence", f"Paper: vgg8, mnist, sigma_d = {paper['sigma_d']}, {paper['runs']} runs. "
                                     f"Ours: {setting.describe() if setting else 'not run'}; threshold {threshold:g} points.")
    table = convergence(runs, setting, methods, threshold) if setting else pd.DataFrame(columns=["method"])
    counts = table.set_index("method")
    papers = {"noise": paper["non_converged"]["noise_injection"], **paper["non_converged"]}
    for method in ("noise", "ovf", "irs"):
        ran = method in counts.index and counts.runs.get(method, 0) > 0
        ours = f"{counts.non_converged[method]} of {counts.runs[method]}" if ran else "–"
        verdict = None
        if method != "noise":
            noise_ran = "noise" in counts.index and counts.runs.get("noise", 0) > 0
            verdict = (NOT_RUN if not (ran and noise_ran) else
                       REPRODUCED if counts.non_converged[method] < counts.non_converged["noise"] else NOT_REPRODUCED)
        section.add(f"{NAMES[method]} non-converged runs" + (" fewer than W/ Noise" if verdict else ""),
                    f"{papers[method]} of {paper['runs']}", ours, verdict)
    return section


def ablation_sections(runs, claims, setting: Setting | None) -> list[Section]:
    """Table 1, the other ablations and Table 2, at the ablation setting."""
    paper = claims["ablations"]
    where = (f"Paper: resnet18, cifar10, sigma_d = {paper['sigma_d']}. "
             f"Ours: {setting.describe() if setting else 'not run'}.")
    sections = [Section(t, where) for t in ("Table 1", "Ablations", "Table 2")]
    if setting is not None:
        for section, fill in zip(sections, (table1_rows, ablation_rows, table2_rows)):
            fill(section, runs, claims, setting)
    return sections


def table1_rows(section: Section, runs, claims, setting: Setting) -> None:
    setup = claims["setup"]
    n_main = {"ovf": setup["ovf"]["n_feedback"], "irs": setup["irs"]["n_feedback"][setting.model]}
    table, empty = table1(runs, setting), pd.Series(dtype=float)
    for method in ("ovf", "irs"):
        mine = table[table.method == method].set_index("n_feedback")
        acc = {n: setting.accuracy(runs, r.variant) for n, r in mine.iterrows()}
        main, one = acc.get(n_main[method], empty), acc.get(1, empty)
        paper = claims["ablations"]["table1_number_of_feedbacks"][method]
        section.add(f"{NAMES[method]}: N = {n_main[method]} beats N = 1",
                    ", ".join(f"N={i + 1}: {v:.2f}" for i, v in enumerate(paper) if v is not None),
                    ", ".join(f"N={n}: {cell(r['mean'], r.ci95)}" for n, r in mine.iterrows()) or "–",
                    beats(main, one), f"difference {diff_text(main, one)}")


def ablation_rows(section: Section, runs, claims, setting: Setting) -> None:
    paper, setup = claims["ablations"], claims["setup"]
    n_paper = {"ovf": setup["ovf"]["n_feedback"], "irs": setup["irs"]["n_feedback"]["resnet18"]}
    nft = {m: paper["table1_number_of_feedbacks"][m][n_paper[m] - 1] for m in n_paper}  # the paper's own NFT runs
    for method, tag, name, paper_text in [
            ("ovf", "revdecay", "reversed decay", f"{paper['reversed_decay']['ovf']:.2f} vs {nft['ovf']:.2f}"),
            ("irs", "revdecay", "reversed decay", f"{paper['reversed_decay']['irs']:.2f} vs {nft['irs']:.2f}"),
            ("ovf", "revsigma", "reversed delta sigma", f"drop {paper['reversed_oriented_sigma']['ovf_drop_points']:.2f}"),
            ("irs", "noheadnoise", "no head noise", f"{paper['irs_without_head_noise']:.2f} vs {nft['irs']:.2f}")]:
        main, ablated = setting.accuracy(runs, method), setting.accuracy(runs, f"{method}-{tag}")
        section.add(f"{NAMES[method]} beats its {name} version", paper_text,
                    f"{cell(ablated.mean(), t_ci95(ablated))} vs {cell(main.mean(), t_ci95(main))}", beats(main, ablated),
                    f"NFT - ablated {diff_text(main, ablated)}")


def table2_rows(section: Section, runs, claims, setting: Setting) -> None:
    paper, table = claims["ablations"]["table2_pretrained"], table2(runs, setting)
    for method in ("ovf", "irs"):
        mine = table[table.method == method]
        scratch = setting.accuracy(runs, method)
        verdicts = [beats(scratch, setting.accuracy(runs, v)) for v in mine[mine.epochs > 0].variant if v != method]
        verdict = (NOT_RUN if not verdicts or NOT_RUN in verdicts else
                   REPRODUCED if all(v == REPRODUCED for v in verdicts) else NOT_REPRODUCED)
        section.add(f"{NAMES[method]} from scratch beats pretrained + k epochs",
                    ", ".join(f"{c}: {v:.2f}" for c, v in zip(paper["columns"], paper[method])),
                    ", ".join(f"{r.column}: {cell(r['mean'], r.ci95)}" for _, r in mine.iterrows()), verdict)


def fmt_list(values) -> str:
    return " ".join(f"{v:g}" for v in values)


def setting_table(runs: pd.DataFrame) -> str:
    """What was actually run, per model/dataset, from the result files themselves."""
    per_run = runs.drop_duplicates("file")
    rows = []
    for (model, dataset), g in per_run.groupby(["model", "dataset"]):
        main = g[g.variant.isin(list(NAMES))]
        rows.append({"model": model, "dataset": dataset, "runs": len(g),
                     "epochs": fmt_list(sorted(main.epochs.unique())), "seeds": fmt_list(sorted(g.seed.unique())),
                     "R (MC runs)": fmt_list(sorted(runs[runs.file.isin(g.file)].runs.dropna().unique())),
                     "test images": fmt_list(sorted(g.n_test.dropna().unique())),
                     "width": fmt_list(sorted(g.width.unique())),
                     "train subset": ", ".join(sorted({"all" if pd.isna(v) else f"{v:g}" for v in g.train_subset})),
                     "device": ", ".join(sorted(g.device.unique()))})
    return md_table(rows, "no runs")


def in_words(runs: pd.DataFrame, figure3: list[str], seeds) -> str:
    """The report's findings in sentences, each from a table below."""
    per_run = runs.drop_duplicates("file")
    irs = per_run[per_run.method == "irs"]
    lines = [f"Seeds {fmt_list(seeds)}; differences paired by seed, with the Student-t CI95 over seeds.",
             *(f"- {w}" for w in figure3),
             f"- IRS heads: flagged as collapsed (below half of chance while the loss fell) in "
             f"{int(irs.head_collapse.astype(bool).sum())} of {len(irs)} IRS runs.",
             f"- Diverged trainings: {int((per_run.status == 'diverged').sum())} of {len(per_run)}."]
    return "## In plain words\n\n" + "\n".join(lines)


def health(runs: pd.DataFrame) -> str:
    per_run = runs.drop_duplicates("file")
    diverged = per_run[per_run.status == "diverged"]
    collapsed = per_run[per_run.head_collapse.astype(bool)]
    lines = [f"- {len(per_run)} trained models evaluated; {len(diverged)} diverged (no weights; counted as "
             f"non-converged)" + "".join(f"\n  - {f}" for f in diverged.file),
             f"- {len(collapsed)} IRS runs flagged for head collapse (heads below chance while the loss fell)"
             + "".join(f"\n  - {f}" for f in collapsed.file)]
    return "\n".join(lines)


def compute(runs: pd.DataFrame, benchmarks: list[Path]) -> str:
    """Time per rule from Snakemake's benchmark files, and the seconds neft itself measured."""
    frames = [read_table(p, "benchmark file", ["s", "cpu_time"], {"cpu_time"}, "rerun its job", sep="\t")
              .assign(rule=rule_of(p)) for p in benchmarks]
    bench = pd.concat(frames) if frames else pd.DataFrame(columns=["rule", "s", "cpu_time"])
    groups = [*bench.groupby("rule"), ("total", bench)] if frames else []
    rows = [{"rule": rule, "jobs": str(len(g)), "wall h": f"{g.s.sum() / 3600:.3f}",
             "CPU h": f"{pd.to_numeric(g.cpu_time, errors='coerce').sum() / 3600:.3f}"} for rule, g in groups]
    per_run = runs.drop_duplicates("file")
    devices = ", ".join(sorted(per_run.device.unique())) or "–"
    return (md_table(rows, "no benchmark files") + f"\n\nneft's own clocks: training {per_run.train_seconds.sum() / 3600:.3f} h, "
            f"MC evaluation {per_run.eval_seconds.sum() / 3600:.3f} h, on {devices}.")


def rule_of(benchmark: Path) -> str:
    """results/<name>/benchmarks/<rule>/... -> <rule>."""
    parts = Path(benchmark).parts
    return parts[parts.index("benchmarks") + 1] if "benchmarks" in parts[:-1] else "?"


def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def report(runs: pd.DataFrame, out: Path, name: str, grid: list[float], seeds: list[int],
           ablation: Setting | None, conv: Setting | None, conv_methods: list[str], threshold: float,
           stand_ins: dict[str, str], figures: list[Path], tables: list[Path], benchmarks: list[Path]) -> list[Section]:
    claims = load_claims()
    figure3_table, figure3_words = per_sigma(runs, claims, grid, seeds, stand_ins)
    sections = [figure3_section(runs, claims, grid, seeds, stand_ins),
                figure4_section(runs, claims, grid, seeds, stand_ins),
                convergence_section(runs, claims, conv, conv_methods, threshold),
                *ablation_sections(runs, claims, ablation)]
    verdicts = pd.Series([r["verdict"] for s in sections for r in s.rows if r["verdict"] != "–"], dtype=str)
    counts = ", ".join(f"{(verdicts == v).sum()} {v}" for v in (REPRODUCED, NOT_REPRODUCED, NOT_RUN))
    here = Path(out).parent
    parts = [
        f"# NeFT replication report: {name}",
        f"Generated by `python -m neft report` from {runs.file.nunique()} Monte-Carlo result files; every number "
        f"below is recomputed from them (do not edit: rerun the pipeline). Paper numbers: `neft/claims.yaml`.",
        f"**Verdicts: {counts}** (of {len(verdicts)} claims).",
        in_words(runs, figure3_words, seeds),
        "## Setting used\n\n" + setting_table(runs),
        "## Verdict rules\n\n" + "\n".join(f"- {t}: {r}" for t, r in RULES.items()) + f"\n- Everywhere: {RULE_COMMON}",
        "\n\n".join(f"![{Path(f).stem}]({relative(f, here)})" for f in figures if Path(f).suffix == ".png"),
        sections[0].markdown(),
        figure3_table,
        *(s.markdown() for s in sections[1:]),
        "## Runs\n\n" + health(runs),
        "## Compute\n\n" + compute(runs, benchmarks),
        "## Tables\n\n" + "\n".join(f"- [{Path(t).name}]({relative(t, here)})" for t in tables) if tables else "",
    ]
    save_text(out, "\n\n".join(p for p in parts if p) + "\n")
    return sections
