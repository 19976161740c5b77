"""Verdict statistics of the replication report: two methods paired by seed, a paired t-test per
sigma_d, Holm's correction over the sigma_d of one claim, and a verdict that says what the evidence says.

Sign convention, everywhere in neft's outputs: a difference is the method (NFT) minus what it is
compared with (W/ Noise, its ablated version, pretrained + k epochs). For accuracy above 0 is better,
for EKL below 0.

Three outcomes (`outcome`):
- reproduced: the method wins (Holm-adjusted p < ALPHA, difference on the better side) where the claim
  needs it, at a majority of its sigma_d (Figure 3, Figure 4) or at every comparison (Table 2), and loses
  significantly nowhere;
- not reproduced: the evidence excludes the claim: a significant difference the other way somewhere,
  or, where the paper gives a size, the CI95 of the improvement entirely below it at every comparison
  (held against the paper's size only in the paper's setting: a smaller model or fewer epochs may well
  gain less);
- inconclusive: neither. It says how many seeds would detect the paper's effect at this grid's spread.
A verdict carries that word only with the paper's evidence (at least MIN_SEEDS seeds, the paper's data,
epochs and full-size model); otherwise it is "indicative (in favour / against / no difference)", with the
shortfall named. A difference that is not significant (a tie, one seed, a sign alone) is never evidence
against. On synthetic data nothing is judged.
"""

import math
from dataclasses import dataclass

import pandas as pd

from ..stats import ci95_halfwidth

ALPHA = 0.05
POWER = 0.8  # of the seeds-needed estimate
MIN_SEEDS = 3
MAX_SEEDS = 1000  # the seeds-needed search stops here
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
INDICATIVE = {
    REPRODUCED: "indicative (in favour)",
    NOT_REPRODUCED: "indicative (against)",
    INCONCLUSIVE: "indicative (no difference)",
}
NOT_RUN, NOT_JUDGED = "not run", "not judged (synthetic data)"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, *INDICATIVE.values(), NOT_JUDGED, NOT_RUN)
BETTER, WORSE, UNCLEAR = "better", "worse", "no significant difference"


@dataclass(frozen=True)
class Paired:
    """a - b over the seeds both have: mean, Student-t CI95 half-width, n, two-sided paired t-test p, std."""

    diff: float
    ci95: float
    n: int
    p: float
    std: float = math.nan

    def text(self) -> str:
        if self.n == 0:
            return "–"
        return f"{self.diff:+.2f}{spread(self.ci95, self.n, self.std)} (n={self.n})"


def spread(ci95: float, n: int, std: float, digits: int = 2) -> str:
    """' ± 1.23'; ' (identical seeds)' where n >= 2 seeds gave the same value; '' without a CI."""
    if n >= 2 and std == 0:
        return " (identical seeds)"
    return "" if math.isnan(ci95) else f" ± {ci95:.{digits}f}"


def paired(a: pd.Series, b: pd.Series) -> Paired:
    """a and b indexed by seed; seeds missing on either side are left out."""
    d = (a - b).dropna()
    n = len(d)
    if n == 0:
        return Paired(math.nan, math.nan, 0, math.nan)
    mean, std = float(d.mean()), float(d.std()) if n > 1 else math.nan
    return Paired(mean, ci95_halfwidth(std, n), n, t_test_p(mean, std, n), std)


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
    """BETTER / WORSE / UNCLEAR per comparison, Holm-adjusted over the list (one seed: no test, UNCLEAR)."""
    adjusted = holm([c.p for c in comparisons])
    sign = -1 if lower_is_better else 1
    return [
        (BETTER if sign * c.diff > 0 else WORSE) if not math.isnan(p) and p < ALPHA else UNCLEAR
        for c, p in zip(comparisons, adjusted, strict=True)
    ]


def outcome_word(c: Paired, outcome: str | None, lower_is_better: bool = False) -> str:
    """How a comparison came out, in a word: 'better', 'worse' or 'n.s.'; one seed: 'ahead' or 'behind' (the
    sign alone, untested)."""
    if c.n == 1:
        better = -c.diff if lower_is_better else c.diff
        return "ahead" if better > 0 else "behind" if better < 0 else "tied"
    return {BETTER: "better", WORSE: "worse"}.get(outcome, "n.s.")


def seeds_needed(effect: float, std: float, comparisons: int = 1) -> int | None:
    """Seeds a paired t-test needs to detect `effect` with POWER when the paired differences spread by `std`,
    at Holm's first step over `comparisons` (ALPHA / comparisons); None above MAX_SEEDS or without a spread."""
    if not (std > 0 and effect > 0):
        return None
    from scipy import stats

    alpha = ALPHA / max(comparisons, 1)
    for n in range(2, MAX_SEEDS + 1):
        t = stats.t.ppf(1 - alpha / 2, n - 1)
        if stats.nct.sf(t, n - 1, effect / (std / math.sqrt(n))) >= POWER:
            return n
    return None


@dataclass(frozen=True)
class Verdict:
    word: str
    wins: int  # comparisons the method wins significantly
    losses: int  # comparisons it loses significantly
    tested: int  # comparisons with at least one seed on both sides
    shortfall: str  # why the evidence is below the paper's ("" if it is not)
    n: int = 0  # the fewest seeds of a tested comparison
    ahead: int = 0  # comparisons where the method is ahead by the sign alone
    needed: str = ""  # inconclusive: the seeds that would detect the paper's effect at this spread

    def count(self, unit: str = "σ_d") -> str:
        """'better at k of n σ_d', with the losses; one seed: 'ahead at k of n σ_d (sign only)'."""
        if not self.tested:
            return "–"
        if self.n == 1:
            return f"ahead at {self.ahead} of {self.tested} {unit} (sign only)"
        lost = f", worse at {self.losses}" if self.losses else ""
        return f"better at {self.wins} of {self.tested} {unit}{lost}"


def verdict(
    comparisons: list[Paired],
    shortfalls: list[str],
    need: str = "majority",
    lower_is_better: bool = False,
    claimed: float | None = None,
    synthetic: bool = False,
) -> Verdict:
    """The claim "the method beats the comparison" over `comparisons` (one per sigma_d or per k).
    need: 'majority' of the comparisons won, or 'all' of them; none may be lost significantly.
    claimed: the paper's improvement (points, the better direction positive), if it gives one.
    shortfalls: how the setting falls short of the paper's (the seeds are counted here)."""
    tested = [c for c in comparisons if c.n]
    if not tested:
        return Verdict(NOT_RUN, 0, 0, 0, "")
    found = outcomes(tested, lower_is_better)
    wins, losses = found.count(BETTER), found.count(WORSE)
    sign = -1 if lower_is_better else 1
    ahead = sum(sign * c.diff > 0 for c in tested)
    n = min(c.n for c in tested)
    seeds = [f"n = {n} seed{'s' if n > 1 else ''}"] if n < MIN_SEEDS else []
    holds = losses == 0 and (wins > len(tested) / 2 if need == "majority" else wins == len(tested))
    below_paper = (
        claimed is not None and not shortfalls and all(c.n >= 2 and sign * c.diff + c.ci95 < claimed for c in tested)
    )
    outcome = REPRODUCED if holds else NOT_REPRODUCED if losses or below_paper else INCONCLUSIVE
    shortfall = "; ".join(seeds + list(shortfalls))
    needed = needed_text(tested, claimed) if outcome == INCONCLUSIVE and not synthetic else ""
    return Verdict(judge(outcome, shortfall, synthetic), wins, losses, len(tested), shortfall, n, ahead, needed)


def judge(outcome: str, shortfall: str, synthetic: bool = False) -> str:
    """The verdict's word for an outcome: as it is with the paper's evidence, 'indicative (...)' short of it."""
    return NOT_JUDGED if synthetic else INDICATIVE[outcome] if shortfall else outcome


def needed_text(tested: list[Paired], claimed: float | None) -> str:
    """How many seeds would detect the paper's effect at this spread, or why it can't be said; where the seeds
    here would already have detected it, that the effect here is smaller than the paper's."""
    spreads = [c.std for c in tested if c.n >= 2 and not math.isnan(c.std)]
    if claimed is None:
        return "the paper gives no size to detect"
    if not spreads:
        return "one seed: no spread to size it from"
    std = math.sqrt(sum(s * s for s in spreads) / len(spreads))  # pooled over the comparisons
    n, have = seeds_needed(claimed, std, len(tested)), min(c.n for c in tested)
    at = f"the paper's {claimed:+.2f} at this spread (paired SD {std:.2f})"
    if n is not None and n <= have:
        return f"{have} seeds would detect {at}: the effect here is smaller than the paper's"
    return f"{f'about {n} seeds' if n else f'more than {MAX_SEEDS} seeds'} would detect {at}"
