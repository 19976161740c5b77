"""The report's verdict statistics: paired t-test, Holm's adjustment, and the evidence-scaled verdict words."""

import math

import pandas as pd
import pytest
from scipy import stats

from neft.analysis.verdicts import (
    BETTER,
    INDICATIVE_AGAINST,
    INDICATIVE_FOR,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    UNCLEAR,
    WORSE,
    holm,
    outcomes,
    paired,
    verdict,
)


def test_paired_matches_scipy_and_pairs_by_seed():
    a = pd.Series({0: 60.0, 1: 64.0, 2: 61.0, 3: 70.0})
    b = pd.Series({0: 55.0, 1: 60.0, 2: 59.0, 5: 10.0})  # seeds 3 and 5 have no partner
    c = paired(a, b)
    assert (c.n, c.diff) == (3, pytest.approx(11 / 3))
    assert c.p == pytest.approx(stats.ttest_rel(a[[0, 1, 2]], b[[0, 1, 2]]).pvalue)
    assert c.ci95 == pytest.approx(stats.t.ppf(0.975, 2) * pd.Series([5.0, 4.0, 2.0]).std() / math.sqrt(3))
    assert paired(a, pd.Series(dtype=float)).n == 0
    assert math.isnan(paired(a[[0]], b[[0]]).p)  # one seed: no test


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04, 0.30 -> x4, x3, x2, x1 = 0.04, 0.06, 0.08, 0.30, made monotone
    assert holm([0.04, 0.01, 0.30, 0.02]) == pytest.approx([0.08, 0.04, 0.30, 0.06])
    assert holm([0.5, math.nan, 0.6]) == pytest.approx([1.0, math.nan, 1.0], nan_ok=True)


def test_outcomes_follow_the_direction_and_the_correction():
    win, loss = (
        paired(pd.Series([10.0, 11.0, 12.0]), pd.Series([0.0, 0.5, 1.0])),
        paired(pd.Series([0.0] * 3), pd.Series([9.0, 10.0, 11.5])),
    )
    assert outcomes([win, loss]) == [BETTER, WORSE]
    assert outcomes([win, loss], lower_is_better=True) == [WORSE, BETTER]
    single = paired(pd.Series([5.0]), pd.Series([1.0]))
    assert outcomes([single]) == [BETTER] and outcomes([single], lower_is_better=True) == [UNCLEAR]


def test_verdict_words_scale_with_the_evidence():
    win = paired(pd.Series([10.0, 11.0, 12.0]), pd.Series([0.0, 0.5, 1.0]))
    loss = paired(pd.Series([0.0] * 3), pd.Series([9.0, 10.0, 11.5]))
    assert verdict([win, win], []).word == REPRODUCED
    assert verdict([win, win, loss], []).word == NOT_REPRODUCED  # a majority, but a significant loss
    assert verdict([win, win], ["3 of 200 epochs"]).word == INDICATIVE_FOR
    assert verdict([win, loss, loss], ["stand-in"]).word == INDICATIVE_AGAINST
    two = paired(pd.Series([10.0, 11.0]), pd.Series([0.0, 0.5]))
    assert (verdict([two], []).word, verdict([two], []).shortfall) == (INDICATIVE_FOR, "n = 2 seeds")
    assert verdict([paired(pd.Series(dtype=float), pd.Series(dtype=float))], []).word == NOT_RUN
    assert verdict([win, win, UNRUN := paired(pd.Series([1.0]), pd.Series(dtype=float))], []).tested == 2
    assert UNRUN.n == 0
    assert (
        verdict([win, paired(pd.Series([1.0, 1.0, 1.0]), pd.Series([1.0, 1.0, 1.0]))], [], need="all").word
        == NOT_REPRODUCED
    )


def test_a_tie_of_wins_is_no_majority():
    """Better at 2 of 4 sigma_d (no loss) is half, not a majority; 3 of 4 is."""
    win = paired(pd.Series([10.0, 11.0, 12.0]), pd.Series([0.0, 0.5, 1.0]))
    even = paired(pd.Series([1.0, 2.0, 3.0]), pd.Series([1.0, 2.0, 3.0]))
    tie = verdict([win, win, even, even], [])
    assert (tie.wins, tie.losses, tie.tested, tie.word) == (2, 0, 4, NOT_REPRODUCED)
    assert verdict([win, win, win, even], []).word == REPRODUCED
