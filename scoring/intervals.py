"""95% intervals for the three scores, each on the score's own scale.

Every function returns (low, high) that contains its point estimate, including the edge
cases (all promoters, a single respondent, no spread) where textbook formulas collapse.
"""

from __future__ import annotations

import math

from statistics import NormalDist

CONFIDENCE = 0.95
Z95 = float(NormalDist().inv_cdf(0.5 + CONFIDENCE / 2))  # 1.959963984540054


def wilson_interval(successes: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927; Newcombe 1998 method 3), as fractions.

    Preferred over the Wald interval because it stays inside [0, 1] and keeps its coverage
    for small n and proportions near 0 or 1 — exactly the CES situation of a small step.
    """
    if n <= 0:
        raise ValueError("A proportion needs at least one respondent.")
    if not 0 <= successes <= n:
        raise ValueError("Successes must lie between 0 and n.")
    z = float(NormalDist().inv_cdf(0.5 + confidence / 2))
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def t_interval(mean: float, std: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval of a mean from its sample standard deviation (n − 1 denominator)."""
    if n < 2:
        raise ValueError("A t-interval needs at least two observations.")
    # Imported here: scipy costs ~100 MB, and only CSAT intervals need Student's t. The quantile function
    # itself, which scipy.stats.t.ppf calls: scipy.stats would build its hundred distributions first (~1 s).
    from scipy.special import stdtrit

    q = float(stdtrit(n - 1, 0.5 + confidence / 2))
    half = q * std / math.sqrt(n)
    return mean - half, mean + half


def nps_interval(promoters: float, detractors: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Normal-approximation interval of NPS (in points, clipped to [-100, 100]).

    Each respondent scores +1, 0 or −1, so Var(NPS) = (p⁺ + p⁻ − (p⁺ − p⁻)²) / n — the
    trinomial variance of the difference of two dependent proportions.
    """
    if n <= 0:
        raise ValueError("NPS needs at least one respondent.")
    z = float(NormalDist().inv_cdf(0.5 + confidence / 2))
    nps = (promoters - detractors) / n
    half = z * math.sqrt(nps_variance(promoters, detractors, n))
    return max(-100.0, (nps - half) * 100), min(100.0, (nps + half) * 100)


def nps_variance(promoters: float, detractors: float, n: float) -> float:
    """Variance of NPS as a fraction (not points), for intervals and the change test."""
    p_pos, p_neg = promoters / n, detractors / n
    return max(0.0, p_pos + p_neg - (p_pos - p_neg) ** 2) / n
