"""The 95% confidence interval of a mean: Student t with n-1 degrees of freedom (for R Monte-Carlo
runs, or for the seeds of a grid point)."""

import math


def ci95_halfwidth(std: float, n: int) -> float:
    """t_{0.975, n-1} * std / sqrt(n); nan below two values."""
    if n < 2:
        return math.nan
    from scipy import stats  # imported here: it costs ~1 s and most commands never need it

    return float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n))
