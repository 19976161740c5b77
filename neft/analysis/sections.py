"""The report's sections that carry no verdict: the paper's setting beside this grid's, Figure 3 and 4 as
numbers per sigma_d, the clean accuracy, the IRS diagnostics, the initialisation sensitivity and the runs'
health."""

import math

import pandas as pd

from ..catalogue import nft_methods
from ..variants import of_table
from .comparisons import Panel, comparisons, main_series, panel_rows, panels, point
from .grid import Grid
from .names import METHOD_NAMES as NAMES
from .names import MODEL_NAMES, dataset_name, model_name, variant_name
from .render import ACCURACY, EKL, cell_n, diff_cell, fmt_list, md_table, seeds_text
from .runs import by_seed, select
from .tables import init_sensitivity, table_markdown
from .verdicts import BETTER, WORSE, Paired, outcomes


def per_sigma(runs, claims, grid: Grid, column: str) -> tuple[str, list[str]]:
    """Figure 3 (accuracy) or Figure 4 (EKL) as numbers, per panel: each method's mean ± CI95 over seeds at
    eval sigma = sigma_d, and each NFT method's paired difference from W/ Noise with its Holm-corrected
    outcome; and the same in words."""
    ekl = column == "ekl"
    parts, words = [], []
    for panel in panels(runs, claims, grid.stand_ins):
        if panel_rows(runs, panel).empty:
            continue
        found = {m: comparisons(runs, panel, m, grid, column) for m in nft_methods()}
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
                here = dict(
                    model=panel.model, dataset=panel.dataset, variant=m, sigma_d=s, eval_sigma=0.0, seed=grid.seeds
                )
                values = by_seed(select(runs, **here)) if trained_here else None
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


def irs_diagnostics(runs, claims, grid: Grid) -> tuple[str, dict, str]:
    """Per IRS run of the main grid: how many heads are anti-aligned (expected: -beta * head in the
    objective rewards heads that point away from the label) and whether the backbone failed: its noisy
    validation accuracy more than `threshold` points below the W/ Noise run of the same seed and sigma_d.
    Returns the section, a note per panel for the IRS verdicts, and a sentence."""
    per_run = runs.drop_duplicates("file")
    rows, notes, failed, total = [], {}, [], 0
    for panel in panels(runs, claims, grid.stand_ins):
        here = select(per_run, model=panel.model, dataset=panel.dataset)
        irs = select(here, variant="irs", sigma_d=grid.sigma_d, seed=grid.seeds)
        noise = select(here, variant="noise").set_index(["sigma_d", "seed"]).val_accuracy
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
            table_markdown("init", long, runs, grid.stand_ins, setting),
        ]
    )
    ref = long[long.init == "reference"].set_index("method")
    pt = long[long.init == "pytorch"].set_index("method")
    changes = ", ".join(f"{NAMES[m]} {pt.change[m]:+.2f}" for m in NAMES if not math.isnan(pt.change[m]))
    beats = "; ".join(
        f"{NAMES[m]} − W/ Noise: {ref.minus_noise[m]:+.2f} ({ref.minus_noise_outcome[m]}) with the "
        f"reference init, {pt.minus_noise[m]:+.2f} ({pt.minus_noise_outcome[m]}) with PyTorch's"
        for m in nft_methods()
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


def setting_table(runs: pd.DataFrame, claims: dict, grid: Grid) -> str:
    """The paper's setting beside this grid's, read from the result files themselves."""
    setup, per_run = claims["setup"], runs.drop_duplicates("file")
    main = per_run[per_run.variant.isin(list(NAMES))]
    paper_panels = [k.split("/") for k in claims["figure3_max_improvement_over_noise_injection"]]
    data = ", ".join(dataset_name(d, grid.stand_ins) for d in sorted(set(main.dataset)))
    betas = []
    for method in nft_methods():
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
            ", ".join(map(model_name, setup["models"])),
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
        ("test images", setup["test_images"], fmt_list(sorted(per_run.n_test.dropna().unique().astype(int))) or "–"),
        ("width", f"{setup['width']:g}", fmt_list(sorted(per_run.width.unique()))),
        (
            "training subset",
            setup["train_subset"],
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
        ("date", setup["published"], " to ".join(dict.fromkeys([dates[0], dates[-1]])) if dates else "–"),
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
