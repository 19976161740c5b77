"""What a grid cost: time per rule from Snakemake's benchmark files, and the seconds neft measured itself."""

from pathlib import Path

import pandas as pd

from ..formats import read_table


def rule_of(benchmark: Path) -> str:
    """results/<name>/benchmarks/<rule>/... -> <rule>."""
    parts = Path(benchmark).parts
    return parts[parts.index("benchmarks") + 1] if "benchmarks" in parts[:-1] else "?"


def per_rule(benchmarks: list[Path]) -> list[dict]:
    """One row per rule and a total: jobs, wall hours, CPU hours."""
    frames = [
        read_table(p, "benchmark file", ["s", "cpu_time"], {"cpu_time"}, "rerun its job", sep="\t").assign(
            rule=rule_of(p)
        )
        for p in benchmarks
    ]
    if not frames:
        return []
    bench = pd.concat(frames)
    return [
        {
            "rule": rule,
            "jobs": str(len(g)),
            "wall h": f"{g.s.sum() / 3600:.3f}",
            "CPU h": f"{pd.to_numeric(g.cpu_time, errors='coerce').sum() / 3600:.3f}",
        }
        for rule, g in [*bench.groupby("rule"), ("total", bench)]
    ]


def own_clocks(runs: pd.DataFrame) -> str:
    per_run = runs.drop_duplicates("file")
    devices = ", ".join(sorted(per_run.device.dropna().unique())) or "–"
    return (
        f"neft's own clocks: training {per_run.train_seconds.sum() / 3600:.3f} h, MC evaluation "
        f"{per_run.eval_seconds.sum() / 3600:.3f} h, on {devices}."
    )
