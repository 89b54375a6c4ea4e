"""Small-sample statistics for evaluation reports, in pure Python (no numpy/scipy import).

Evaluation sets are often a few dozen items, and most metrics are 0/1 (exact match), so the
interval has to behave at n=5 and at 0% or 100%:

- 0/1 data gets a **Wilson score interval**. The textbook normal ("Wald") interval collapses
  to zero width at 0% and 100% and leaves [0, 1] for small n; Wilson does neither.
- Anything else gets a **Student t interval** around the mean, optionally clipped to the
  range the score can take. It needs n >= 2; with one value the interval is unknown (None).

Everything here is deterministic: no resampling, so the same scores give the same report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["Summary", "mean", "percentile", "summarize", "t_quantile", "wilson_interval"]


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean and confidence interval of the graded values; ``n_ungraded`` counts the Nones."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_ungraded: int
    method: str  # "wilson" | "t" | "none": which interval the bounds come from


def mean(values: Iterable[float]) -> float | None:
    """The arithmetic mean, or None for no values (a report prints "n/a", not a crash)."""
    data = list(values)
    return math.fsum(data) / len(data) if data else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks.

    This is Hyndman & Fan's type 7, the default of numpy and of spreadsheets: sort, find
    rank ``h = (n - 1) * q / 100``, interpolate between the values at ``floor(h)`` and
    ``ceil(h)``. So p50 of [100, 200] is 150, and p95 of one value is that value.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def summarize(
    values: Sequence[float | None],
    *,
    confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> Summary:
    """Mean and ``confidence`` interval of ``values``, ignoring (and counting) Nones.

    ``bounds`` clips a t interval to the range the score can take (a ROUGE mean of 0.9 over
    three items would otherwise claim an upper bound above 1). Wilson never needs clipping.
    """
    graded = [float(v) for v in values if v is not None]
    n_ungraded = len(values) - len(graded)
    centre = mean(graded)
    if centre is None:
        return Summary(None, None, None, 0, n_ungraded, "none")
    if all(v in (0.0, 1.0) for v in graded):
        low, high = wilson_interval(sum(graded), len(graded), confidence=confidence)
        return Summary(centre, low, high, len(graded), n_ungraded, "wilson")
    if len(graded) < 2:
        return Summary(centre, None, None, 1, n_ungraded, "none")
    low, high = _t_interval(graded, centre, confidence)
    if bounds is not None:
        low, high = max(low, float(bounds[0])), min(high, float(bounds[1]))
    return Summary(centre, low, high, len(graded), n_ungraded, "t")


def wilson_interval(successes: float, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n`` (n >= 1)."""
    if n < 1:
        raise ValueError("wilson_interval needs n >= 1")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At p = 0 or 1 the bound is exactly 0 or 1; floating point would miss it by ~1e-17.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def _t_interval(graded: list[float], centre: float, confidence: float) -> tuple[float, float]:
    n = len(graded)
    variance = math.fsum((v - centre) ** 2 for v in graded) / (n - 1)
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * math.sqrt(variance / n)
    return centre - half, centre + half


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (e.g. 0.975, 4 -> 2.776).

    Found by bisection on the exact CDF, so it needs no table and no scipy; 200 halvings of a
    bracket pin it far below the precision a report prints.
    """
    if not 0 < p < 1 or df < 1:
        raise ValueError("t_quantile needs 0 < p < 1 and df >= 1")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    high = 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    low = 0.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


def _t_cdf(t: float, df: int) -> float:
    """CDF of Student's t at ``t >= 0``, via the regularized incomplete beta function."""
    return 1 - 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    # The fraction converges fast only below the mean of the distribution; use symmetry above.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the incomplete beta continued fraction."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result
