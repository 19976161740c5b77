"""Verdict statistics of the replication report: two methods paired by seed, a paired t-test per
sigma_d, Holm's correction over the sigma_d of one claim, and a verdict whose word scales with the
evidence.

Sign convention, everywhere in neft's outputs: a difference is the method (NFT) minus what it is
compared with (W/ Noise, its ablated version, pretrained + k epochs). For accuracy above 0 is better,
for EKL below 0.

A claim is "reproduced" only with the paper's evidence: at least MIN_SEEDS seeds, the paper's data,
epochs and full-size model; and the method must win (Holm-adjusted p < ALPHA, difference on the better
side) where the claim needs it: at a majority of its sigma_d (Figure 3, Figure 4) or at every
comparison (Table 2), and lose significantly nowhere. With less evidence the same rule gives
"indicative (in favour)" or "indicative (against)", with the shortfall named. With one seed there is no
test: the sign of each difference stands in for it, and nothing can lose significantly.
"""

import math
from dataclasses import dataclass

import pandas as pd

from ..stats import ci95_halfwidth

ALPHA = 0.05
MIN_SEEDS = 3
REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not run"
INDICATIVE_FOR, INDICATIVE_AGAINST = "indicative (in favour)", "indicative (against)"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INDICATIVE_FOR, INDICATIVE_AGAINST, NOT_RUN)
BETTER, WORSE, UNCLEAR = "better", "worse", "no significant difference"


@dataclass(frozen=True)
class Paired:
    """a - b over the seeds both have: mean, Student-t CI95 half-width, n, two-sided paired t-test p."""

    diff: float
    ci95: float
    n: int
    p: float

    def text(self) -> str:
        if self.n == 0:
            return "–"
        return f"{self.diff:+.2f}" + ("" if math.isnan(self.ci95) else f" ± {self.ci95:.2f}") + f" (n={self.n})"


def paired(a: pd.Series, b: pd.Series) -> Paired:
    """a and b indexed by seed; seeds missing on either side are left out."""
    d = (a - b).dropna()
    n = len(d)
    if n == 0:
        return Paired(math.nan, math.nan, 0, math.nan)
    mean, std = float(d.mean()), float(d.std()) if n > 1 else math.nan
    return Paired(mean, ci95_halfwidth(std, n), n, t_test_p(mean, std, n))


def t_test_p(mean: float, std: float, n: int) -> float:
    """Two-sided p of H0: mean difference 0 (nan below two seeds; 0 or 1 when the seeds agree exactly)."""
    if n < 2:
        return math.nan
    if std == 0:
        return 1.0 if mean == 0 else 0.0
    from scipy import stats

    return float(2 * stats.t.sf(abs(mean) / (std / math.sqrt(n)), n - 1))


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment of m p-values (nan stays nan and does not count in m)."""
    order = sorted((v, i) for i, v in enumerate(p) if not math.isnan(v))
    m, out, running = len(order), [math.nan] * len(p), 0.0
    for rank, (value, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * value))
        out[i] = running
    return out


def outcomes(comparisons: list[Paired], lower_is_better: bool = False) -> list[str]:
    """BETTER / WORSE / UNCLEAR per comparison, Holm-adjusted over the list; one seed: by sign."""
    adjusted = holm([c.p for c in comparisons])
    sign = -1 if lower_is_better else 1
    out = []
    for c, p in zip(comparisons, adjusted):
        if c.n == 1:
            out.append(BETTER if sign * c.diff > 0 else UNCLEAR)
        elif not math.isnan(p) and p < ALPHA:
            out.append(BETTER if sign * c.diff > 0 else WORSE)
        else:
            out.append(UNCLEAR)
    return out


def outcome_word(c: Paired, outcome: str | None) -> str:
    """How a comparison came out, in a word: 'better', 'worse' or 'n.s.'; one seed: 'ahead' or 'behind' (the
    sign alone, untested)."""
    if c.n == 1:
        return "ahead" if outcome == BETTER else "behind"
    return {BETTER: "better", WORSE: "worse"}.get(outcome, "n.s.")


@dataclass(frozen=True)
class Verdict:
    word: str
    wins: int  # comparisons the method wins
    losses: int  # comparisons it loses significantly
    tested: int  # comparisons with at least one seed on both sides
    shortfall: str  # why the evidence is below the paper's ("" if it is not)

    def count(self, unit: str = "σ_d") -> str:
        """'k of n σ_d', with the losses when there are any."""
        if not self.tested:
            return "–"
        lost = f", worse at {self.losses}" if self.losses else ""
        return f"better at {self.wins} of {self.tested} {unit}{lost}"


def verdict(
    comparisons: list[Paired], shortfalls: list[str], need: str = "majority", lower_is_better: bool = False
) -> Verdict:
    """The claim "the method beats the comparison" over `comparisons` (one per sigma_d or per k).
    need: 'majority' of the comparisons won, or 'all' of them; none may be lost significantly."""
    tested = [c for c in comparisons if c.n]
    if not tested:
        return Verdict(NOT_RUN, 0, 0, 0, "")
    found = outcomes(tested, lower_is_better)
    wins, losses = found.count(BETTER), found.count(WORSE)
    holds = losses == 0 and (wins > len(tested) / 2 if need == "majority" else wins == len(tested))
    n = min(c.n for c in tested)
    shortfall = [f"n = {n} seed{'s' if n > 1 else ''}"] if n < MIN_SEEDS else []
    shortfall = shortfall + list(shortfalls)
    return Verdict(judge(holds, shortfall), wins, losses, len(tested), "; ".join(shortfall))


def judge(holds: bool, shortfall: list[str]) -> str:
    """The verdict's word: whether the claim holds, and whether the evidence is the paper's."""
    if shortfall:
        return INDICATIVE_FOR if holds else INDICATIVE_AGAINST
    return REPRODUCED if holds else NOT_REPRODUCED
