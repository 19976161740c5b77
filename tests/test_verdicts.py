"""The report's verdict statistics: paired t-test, Holm's adjustment, and the three outcomes (reproduced, not
reproduced, inconclusive), indicative short of the paper's evidence, never 'against' without significance."""

import math

import pandas as pd
import pytest
from scipy import stats

from neft.analysis.verdicts import (
    BETTER,
    INCONCLUSIVE,
    INDICATIVE,
    NOT_JUDGED,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    UNCLEAR,
    WORSE,
    holm,
    outcome_word,
    outcomes,
    paired,
    seeds_needed,
    verdict,
)


def series(*values):
    return pd.Series(values, dtype=float)


WIN = paired(series(10.0, 11.0, 12.0), series(0.0, 0.5, 1.0))  # +10.5, significant
LOSS = paired(series(0.0, 0.0, 0.0), series(9.0, 10.0, 11.5))  # -10.2, significant
TIE = paired(series(1.0, 2.0, 3.0), series(1.5, 1.0, 3.2))  # +0.1 +- 2.0, not significant


def test_paired_matches_scipy_and_pairs_by_seed():
    a = pd.Series({0: 60.0, 1: 64.0, 2: 61.0, 3: 70.0})
    b = pd.Series({0: 55.0, 1: 60.0, 2: 59.0, 5: 10.0})  # seeds 3 and 5 have no partner
    c = paired(a, b)
    assert (c.n, c.diff) == (3, pytest.approx(11 / 3))
    assert c.p == pytest.approx(stats.ttest_rel(a[[0, 1, 2]], b[[0, 1, 2]]).pvalue)
    assert c.ci95 == pytest.approx(stats.t.ppf(0.975, 2) * pd.Series([5.0, 4.0, 2.0]).std() / math.sqrt(3))
    assert c.std == pytest.approx(pd.Series([5.0, 4.0, 2.0]).std())
    assert paired(a, pd.Series(dtype=float)).n == 0
    assert math.isnan(paired(a[[0]], b[[0]]).p)  # one seed: no test


def test_identical_seeds_say_so_instead_of_a_zero_interval():
    same = paired(series(5.0, 6.0), series(4.0, 5.0))
    assert same.text() == "+1.00 (identical seeds) (n=2)"
    assert TIE.text() == f"+0.10 ± {TIE.ci95:.2f} (n=3)"


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04, 0.30 -> x4, x3, x2, x1 = 0.04, 0.06, 0.08, 0.30, made monotone
    assert holm([0.04, 0.01, 0.30, 0.02]) == pytest.approx([0.08, 0.04, 0.30, 0.06])
    assert holm([0.5, math.nan, 0.6]) == pytest.approx([1.0, math.nan, 1.0], nan_ok=True)


def test_outcomes_follow_the_direction_and_the_correction():
    assert outcomes([WIN, LOSS]) == [BETTER, WORSE]
    assert outcomes([WIN, LOSS], lower_is_better=True) == [WORSE, BETTER]
    single = paired(series(5.0), series(1.0))
    assert outcomes([single]) == [UNCLEAR]  # one seed: no test, whatever the sign
    assert [outcome_word(single, UNCLEAR), outcome_word(single, UNCLEAR, lower_is_better=True)] == ["ahead", "behind"]
    assert outcome_word(paired(series(1.0), series(1.0)), UNCLEAR) == "tied"


def test_reproduced_needs_significant_wins_at_a_majority_and_no_loss():
    assert verdict([WIN, WIN], []).word == REPRODUCED
    assert verdict([WIN, WIN, TIE], []).word == REPRODUCED
    assert verdict([WIN, WIN, LOSS], []).word == NOT_REPRODUCED  # a majority, but a significant loss
    assert verdict([WIN, TIE, TIE, WIN], []).word == INCONCLUSIVE  # 2 of 4 is a tie, not a majority
    assert verdict([WIN, TIE], [], need="all").word == INCONCLUSIVE


def test_not_reproduced_is_a_significant_loss_or_an_interval_below_the_papers_size():
    assert verdict([LOSS], []).word == NOT_REPRODUCED
    # TIE's CI95 reaches +2.07: it excludes a claimed +6.26 ...
    assert verdict([TIE, TIE], [], claimed=6.26).word == NOT_REPRODUCED
    # ... but not a claimed +1.5, and one comparison within reach is enough to keep it open
    assert verdict([TIE, TIE], [], claimed=1.5).word == INCONCLUSIVE
    wide = paired(series(1.0, 9.0, 3.0), series(0.0, 0.0, 0.0))
    assert verdict([TIE, wide], [], claimed=6.26).word == INCONCLUSIVE
    # the paper's size is held against the paper's setting only
    assert verdict([TIE, TIE], ["width 0.125"], claimed=6.26).word == INDICATIVE[INCONCLUSIVE]


def test_inconclusive_says_how_many_seeds_would_detect_the_papers_effect():
    v = verdict([TIE], [], claimed=2.0)
    assert v.word == INCONCLUSIVE
    n = seeds_needed(2.0, TIE.std)
    assert v.needed == f"about {n} seeds would detect the paper's +2.00 at this spread (paired SD {TIE.std:.2f})"
    # the power of a paired t-test with that many seeds reaches 80 %, one seed fewer does not
    power = [stats.nct.sf(stats.t.ppf(0.975, k - 1), k - 1, 2.0 / (TIE.std / math.sqrt(k))) for k in (n - 1, n)]
    assert power[0] < 0.8 <= power[1]
    assert seeds_needed(2.0, TIE.std, comparisons=4) > n  # Holm's first step over 4 sigma_d
    assert verdict([TIE], []).needed == "the paper gives no size to detect"
    # short of the paper's setting a +5 is not excluded, but three seeds would have detected it at TIE's spread:
    # the effect here is smaller than the paper's
    reduced = verdict([TIE], ["width 0.125"], claimed=5.0)
    assert reduced.word == INDICATIVE[INCONCLUSIVE] and seeds_needed(5.0, TIE.std) <= 3
    assert reduced.needed == (
        f"3 seeds would detect the paper's +5.00 at this spread (paired SD {TIE.std:.2f}): the effect here is "
        "smaller than the paper's"
    )
    assert "more than 1000 seeds" in verdict([TIE], [], claimed=0.01).needed


def test_short_of_the_papers_evidence_every_outcome_is_indicative():
    assert verdict([WIN, WIN], ["3 of 200 epochs"]).word == INDICATIVE[REPRODUCED]
    assert verdict([WIN, LOSS, LOSS], ["stand-in"]).word == INDICATIVE[NOT_REPRODUCED]
    assert verdict([TIE], ["stand-in"]).word == INDICATIVE[INCONCLUSIVE]
    two = paired(series(10.0, 11.0), series(0.0, 0.5))
    assert (verdict([two], []).word, verdict([two], []).shortfall) == (INDICATIVE[REPRODUCED], "n = 2 seeds")


def test_a_tie_or_a_sign_is_never_against():
    tie = paired(series(70.0, 71.0), series(70.0, 71.0))  # "+0.00" from two identical seeds
    assert verdict([tie], []).word == INDICATIVE[INCONCLUSIVE]
    behind = paired(series(60.0), series(65.0))  # one seed, 5 points behind: a sign, not a test
    v = verdict([behind, behind], [])
    assert (v.word, v.count()) == (INDICATIVE[INCONCLUSIVE], "ahead at 0 of 2 σ_d (sign only)")
    ahead = verdict([paired(series(65.0), series(60.0))] * 3, [])
    assert (ahead.word, ahead.count()) == (INDICATIVE[INCONCLUSIVE], "ahead at 3 of 3 σ_d (sign only)")
    assert verdict([TIE, TIE], ["epochs"]).word != INDICATIVE[NOT_REPRODUCED]


def test_synthetic_data_is_not_judged_and_nothing_runs_is_not_run():
    assert verdict([WIN, WIN], [], synthetic=True).word == NOT_JUDGED
    assert verdict([paired(series(), series())], []).word == NOT_RUN
    unrun = paired(series(1.0), series())
    assert verdict([WIN, WIN, unrun], []).tested == 2 and unrun.n == 0
