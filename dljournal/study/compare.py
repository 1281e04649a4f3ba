"""Comparisons over seeds, said the way a careful reviewer would: difference, its spread, n, and a
Welch t-test; softened to "within seed noise" when the evidence is thin.

Experiment trackers leave this sentence to the reader; here a narrative writes
``{{ f | versus(b, "test_acc") }}`` and gets "+13.8 ± 0.4 pt (n = 3 seeds each, Welch p < 0.001)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

ALPHA = 0.05  # below this p-value (and with n ≥ MIN_SEEDS each), a difference is called beyond noise
MIN_SEEDS = 3


@dataclass(frozen=True)
class Comparison:
    diff: float  # mean of a minus mean of b
    se: float  # standard error of the difference, sqrt(s_a²/n_a + s_b²/n_b)
    n_a: int
    n_b: int
    p: float  # two-sided Welch t-test; NaN when it cannot be computed (n < 2 or no spread)
    beyond_noise: bool

    def phrase(self, scale: float = 100.0, unit: str = "pt", digits: int = 1) -> str:
        """ "+13.8 ± 0.4 pt (n = 3 seeds each, Welch p < 0.001)", or "..., within seed noise"."""
        diff = f"{self.diff * scale:+.{digits}f} ± {self.se * scale:.{digits}f} {unit}"
        n = f"n = {self.n_a} seeds each" if self.n_a == self.n_b else f"n = {self.n_a} vs {self.n_b} seeds"
        if math.isnan(self.p):
            return f"{diff} ({n}; too few seeds for a test: within seed noise)"
        p = "p < 0.001" if self.p < 0.001 else f"p = {self.p:.2g}"
        return f"{diff} ({n}, Welch {p}" + (")" if self.beyond_noise else "; within seed noise)")


def compare_stats(mean_a: float, std_a: float, n_a: int, mean_b: float, std_b: float, n_b: int) -> Comparison:
    """Compare two groups of seeds from their means, sample standard deviations and sizes."""
    se = math.sqrt((std_a**2) / max(n_a, 1) + (std_b**2) / max(n_b, 1))
    if n_a < 2 or n_b < 2 or se == 0:
        p = float("nan")
    else:
        p = float(stats.ttest_ind_from_stats(mean_a, std_a, n_a, mean_b, std_b, n_b, equal_var=False).pvalue)
    beyond = not math.isnan(p) and p < ALPHA and min(n_a, n_b) >= MIN_SEEDS
    return Comparison(mean_a - mean_b, se, n_a, n_b, p, beyond)


def compare_seeds(a: list[float], b: list[float]) -> Comparison:
    """Compare two lists of per-seed values (mean, sample std, n of each)."""

    def ms(v: list[float]) -> tuple[float, float]:
        mean = sum(v) / len(v)
        return mean, (math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0)

    (ma, sa), (mb, sb) = ms(a), ms(b)
    return compare_stats(ma, sa, len(a), mb, sb, len(b))
