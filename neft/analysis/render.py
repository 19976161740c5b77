"""Numbers as a reader sees them: the text of a cell ('85.12 ± 1.30'), lists of values and seeds, and a table
as Markdown, LaTeX or an HTML page. The figures, the table files and the report all write their text here."""

import math
import re
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from ..errors import NeftError
from ..io import save_text
from .aggregate import t_ci95
from .verdicts import Paired, outcome_word

ACCURACY = (0.0, 100.0)  # what a mean accuracy (%) can be: its intervals are clipped there
EKL = (0.0, math.inf)  # what a mean EKL can be


# --- cells
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


def cell_n(values: pd.Series, digits: int = 2, bounds=ACCURACY) -> str:
    """Mean ± CI95 over seeds (clipped at `bounds`), or '–'."""
    return "–" if values.empty else cell(values.mean(), t_ci95(values), bounds=bounds, digits=digits)


def diff_cell(c: Paired, outcome: str | None, digits: int = 2, lower_is_better: bool = False) -> str:
    """'+1.23 ± 0.45 (n=3) better'; one seed: 'ahead' or 'behind' by the sign alone."""
    if c.n == 0:
        return "–"
    return f"{cell(c.diff, c.ci95, sign=True, digits=digits)} (n={c.n}) {outcome_word(c, outcome, lower_is_better)}"


def fmt_list(values) -> str:
    return " ".join(f"{v:g}" for v in values)


def seeds_text(seeds) -> str:
    seeds = list(seeds)
    return f"seed{'s' if len(seeds) != 1 else ''} {fmt_list(seeds)} (n = {len(seeds)})" if seeds else "no seeds"


def span(values: pd.Series) -> str:
    """'3' or '1–3'."""
    lo, hi = int(values.min()), int(values.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def counted(values: pd.Series, unit: str) -> str:
    """'1 epoch', '2–3 epochs'."""
    return f"{span(values)} {unit}{'' if values.max() == 1 else 's'}"


# --- Markdown
def md_table(rows: list[dict] | pd.DataFrame, empty: str) -> str:
    """A Markdown table, cells as written (no number reformatting)."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return empty
    return tabulate(frame, headers="keys", tablefmt="pipe", showindex=False, disable_numparse=True)


NUMBER = re.compile(r"^[+−-]?\d")
NO_CI = re.compile(r"^[+−-]?\d+\.\d+( \(n = \d+\))?( \*)?$")  # a mean shown without its CI95


def alignment(table: pd.DataFrame) -> list[str]:
    """'right' for a column of numbers (placeholders aside), else 'left'."""

    def numeric(column) -> bool:
        values = [v for v in column if v not in ("–", "not run", "")]
        return bool(values) and all(NUMBER.match(v) for v in values)

    return ["right" if numeric(table[c]) else "left" for c in table.columns]


def markdown(table: pd.DataFrame, title: str, said: list[str]) -> str:
    grid = (
        tabulate(
            table, headers="keys", tablefmt="pipe", showindex=False, disable_numparse=True, colalign=alignment(table)
        )
        if len(table)
        else "not run"
    )
    return "\n\n".join([f"**{title}**", grid, *(n.replace("*", "\\*") for n in said)]) + "\n"


# --- LaTeX
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


# --- a table of tables.TABLES for a reader
def for_reader(spec, long: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table as a reader sees it (its layout) and the notes its cells need (`spec`: a tables.Table)."""
    if long.empty:
        return pd.DataFrame(), []
    table = spec.layout(long)
    if not len(table):
        return table, []
    cells = table.drop(columns=["σ_d", "seeds"], errors="ignore").to_numpy().ravel().tolist()  # the values
    said = ["mean ± CI95 over seeds (Student t)"] if any(" ± " in c for c in cells) else []
    said += spec.notes(long)
    said += ["n = 1: the mean alone, no CI95"] if any(NO_CI.match(c) for c in cells) else []
    said += ["–: not run, or every seed diverged"] if "–" in cells else []
    return table, said


def as_markdown(spec, long: pd.DataFrame, title: str) -> str:
    """The Markdown of a table: written as the table's .md file and shown in the report."""
    table, said = for_reader(spec, long)
    return markdown(table, title, said)


def write(spec, long: pd.DataFrame, outs: list[Path], title: str) -> None:
    """CSV (tidy), Markdown, HTML and LaTeX (for a reader), chosen by each output's suffix."""
    from .html import page

    for out in map(Path, outs):  # before writing anything
        if out.suffix not in (".csv", ".md", ".html", ".tex"):
            raise NeftError(f"{out}: unknown table format {out.suffix!r}; use .csv, .md, .html or .tex")
    table, said = for_reader(spec, long)
    text = {
        ".csv": lambda: long.to_csv(index=False),
        ".md": lambda: markdown(table, title, said),
        ".html": lambda: page(markdown(table, title, said), title),
        ".tex": lambda: latex_table(spec.name, table, title, said),
    }
    for out in map(Path, outs):
        save_text(out, text[out.suffix]())
