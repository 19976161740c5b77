"""Compare two runs of one grid (e.g. the smoke grid before and after a refactor) on everything that is
computed, leaving out what is measured or recorded about the run itself (seconds, provenance, dates,
git commit, the report's Compute section).

    python tools/compare_grids.py BEFORE AFTER [--name smoke] [--ignore KEY ...]

BEFORE and AFTER are working directories the workflow ran in (each holding results/<name>/ and
figures/<name>/). Prints one line per kind of file and exits 1 if any file differs or is missing."""

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

TIMING = {"seconds", "provenance", "time", "host", "git_commit", "elapsed_s"}  # keys measured, not computed
RUN_COLUMNS = ["train_seconds", "eval_seconds", "device", "git_commit", "date"]  # runs.csv's
REPORT_LINES = re.compile(r"^\| (git commit|date) ")  # the report's setting rows that record the run


def without_timing(value, ignored=frozenset()):
    """A JSON value without the keys in TIMING or `ignored`, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v, ignored) for k, v in value.items() if k not in TIMING | ignored}
    if isinstance(value, list):
        return [without_timing(v, ignored) for v in value]
    return value


def report_text(path: Path) -> list[str]:
    """report.md without the Compute section and the git commit and date rows."""
    kept, skipping = [], False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            skipping = line == "## Compute"
        if not skipping and not REPORT_LINES.match(line):
            kept.append(line)
    return kept


def html_report_text(path: Path) -> list[str]:
    """report.html: its table rows span several lines; the rows naming the commit or the date are left out."""
    text = re.sub(r"<tr>\s*<td[^>]*>(git commit|date)</td>.*?</tr>", "", path.read_text(), flags=re.S)
    text = re.sub(r"<h2>Compute</h2>.*?(?=<h2>)", "", text, flags=re.S)
    return text.splitlines()


def same(kind: str, a: Path, b: Path, ignored: frozenset) -> bool:
    if kind == "json":
        return without_timing(json.loads(a.read_text()), ignored) == without_timing(json.loads(b.read_text()), ignored)
    if kind == "runs":
        frames = [pd.read_csv(p).drop(columns=RUN_COLUMNS, errors="ignore") for p in (a, b)]
        return frames[0].equals(frames[1])
    if kind == "report":
        return report_text(a) == report_text(b)
    if kind == "report-html":
        return html_report_text(a) == html_report_text(b)
    return a.read_bytes() == b.read_bytes()


def kinds(name: str) -> dict[str, tuple[str, str]]:
    """What is compared: label -> (glob under the working directory, how)."""
    r = f"results/{name}"
    return {
        "MC results (JSON)": (f"{r}/mc/**/*.json", "json"),
        "MC results (CSV)": (f"{r}/mc/**/*.csv", "bytes"),
        "train.json": (f"{r}/runs/**/train.json", "json"),
        "beta search": (f"{r}/beta/**/*", "bytes"),
        "fetched datasets": (f"{r}/datasets/*.json", "json"),
        "runs.csv, summary.csv": (f"{r}/aggregate/*.csv", "runs"),
        "tables": (f"{r}/tables/*", "bytes"),
        "figures": (f"figures/{name}/*", "bytes"),
        "report.md": (f"{r}/report.md", "report"),
        "report.html": (f"{r}/report.html", "report-html"),
    }


def compare(before: Path, after: Path, name: str, ignored: frozenset = frozenset()) -> bool:
    ok = True
    for label, (pattern, kind) in kinds(name).items():
        files = sorted({p.relative_to(root) for root in (before, after) for p in root.glob(pattern) if p.is_file()})
        missing = [f for f in files if not ((before / f).is_file() and (after / f).is_file())]
        differ = [f for f in files if f not in missing and not same(kind, before / f, after / f, ignored)]
        print(
            f"{label}: {len(files)} files, {len(differ)} differ, {len(missing)} in one only"
            + "".join(f"\n  differs: {f}" for f in differ)
            + "".join(f"\n  in one only: {f}" for f in missing)
        )
        ok &= bool(files) and not differ and not missing
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--name", default="smoke", help="the grid's name (results/<name>/)")
    parser.add_argument(
        "--ignore",
        nargs="+",
        default=[],
        metavar="KEY",
        help="JSON keys left out too: an option the change adds, recorded with its default",
    )
    args = parser.parse_args()
    ok = compare(args.before, args.after, args.name, frozenset(args.ignore))
    print("identical" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
