"""The seed-comparison sentence: right numbers, and softened exactly when the evidence is thin."""

import math

import pytest
from scipy import stats

from dljournal.study.compare import compare_seeds, compare_stats


def test_a_clear_difference_is_stated_with_its_test():
    a, b = [0.68, 0.69, 0.675], [0.54, 0.545, 0.548]
    c = compare_seeds(a, b)
    assert c.diff == pytest.approx(sum(a) / 3 - sum(b) / 3)
    assert c.p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert c.beyond_noise and c.phrase().startswith("+13.7 ± 0.5 pt") and "n = 3 seeds each, Welch p" in c.phrase()
    assert "noise" not in c.phrase()


def test_overlapping_seeds_are_called_noise():
    c = compare_seeds([0.60, 0.64, 0.58], [0.61, 0.59, 0.62])
    assert not c.beyond_noise and c.p > 0.05 and c.phrase().endswith("within seed noise)")


def test_too_few_seeds_never_claim_a_difference():
    c = compare_stats(0.9, 0.0, 1, 0.5, 0.0, 1)
    assert math.isnan(c.p) and not c.beyond_noise and "too few seeds" in c.phrase()
    two = compare_seeds([0.90, 0.91], [0.50, 0.51])  # p is tiny, but two seeds are not enough to call it
    assert two.p < 0.01 and not two.beyond_noise and two.phrase().endswith("within seed noise)")


def test_template_filter(tmp_path):
    from test_report import journal

    from dljournal.core.result import StoredResult
    from dljournal.report.render import Journal  # noqa: F401  (the filter is registered with the journal)

    res = StoredResult(
        "EXP02",
        "t",
        "T",
        "Q",
        "quick",
        {
            "final": {"test_acc": 0.682, "test_acc_std": 0.006, "seeds": 3},
            "base": {"test_acc": 0.544, "test_acc_std": 0.004, "seeds": 3},
        },
        {},
        {},
        {},
        [],
        {},
        {"seconds": 1.0},
        "k",
        {},
    )
    m = "this.metrics"
    html = journal(
        tmp_path,
        f"{{{{ {m}.final | versus({m}.base, 'test_acc') }}}} "
        f"{{{{ {m}.final | beats({m}.base, 'test_acc') }}}} {{{{ {m}.base | beats({m}.final, 'test_acc') }}}}",
        {"EXP02": res},
    )
    assert "+13.8 ± 0.4 pt (n = 3 seeds each, Welch p &lt; 0.001) True False" in html  # markdown escapes "<"
