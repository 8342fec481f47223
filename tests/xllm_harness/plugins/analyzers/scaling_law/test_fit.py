"""The scaling-law fit: exact recovery, the vectorised refit used by the bootstrap, bad-fit judgement."""

from __future__ import annotations

import numpy as np
import pytest

from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.plugins.analyzers.scaling_law.fit import FitSettings, fit_language, fit_law, profile_fit

SIZES = [5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]


@pytest.mark.parametrize(
    ("alpha", "beta", "gamma"), [(300, -0.32, 0.55), (5000, -0.85, 0.2), (40, -0.05, 0.9)]
)
def test_exact_points_give_exact_parameters(alpha, beta, gamma):
    x = np.array(SIZES)
    s = PowerLaw(alpha, beta, gamma).score(x)
    a, b, _ = fit_law(x, s, gamma)
    assert a == pytest.approx(alpha, rel=1e-5)
    assert b == pytest.approx(beta, abs=1e-6)


def test_vectorised_profile_fit_matches_least_squares():
    rng = np.random.default_rng(3)
    x = np.array(SIZES)
    law = PowerLaw(300.0, -0.32, 0.55)
    sets = law.score(x) + rng.normal(0, 1.0, size=(20, len(x)))
    alphas, betas = profile_fit(x, sets, law.gamma)
    for s, a, b in zip(sets, alphas, betas, strict=True):
        a_ls, b_ls, _ = fit_law(x, s, law.gamma)
        assert b == pytest.approx(b_ls, abs=1e-5)
        assert a == pytest.approx(a_ls, rel=1e-4)


def test_a_good_fit_is_not_flagged():
    law = PowerLaw(300.0, -0.32, 0.55)
    entry = fit_language("ar", SIZES, law.score(np.array(SIZES)), 0.55, FitSettings(bootstrap=50))
    assert entry["bad_fit"] is False and entry["warnings"] == []
    assert entry["r2"] == pytest.approx(1.0) and "beta_ci" in entry


def test_falling_scores_are_a_bad_fit():
    """No increasing law beats the mean of falling scores: R² < 0, and β runs into its bound."""
    entry = fit_language("ar", [1e4, 1e5, 1e6], [90.0, 85.0, 80.0], 0.5, FitSettings(bootstrap=0))
    assert entry["r2"] < 0 and entry["bad_fit"] is True
    assert any("R2=" in w and "< 0" in w for w in entry["warnings"])
    assert any("ended on a bound" in w for w in entry["warnings"])


def test_two_points_fit_exactly_with_a_warning_and_no_interval():
    law = PowerLaw(300.0, -0.32, 0.55)
    x = [1e4, 1e6]
    entry = fit_language("ar", x, law.score(np.array(x)), 0.55, FitSettings(bootstrap=100))
    assert entry["bad_fit"] is False
    assert entry["beta"] == pytest.approx(-0.32, abs=1e-6)
    assert "alpha_ci" not in entry and "bootstrap" not in entry
    assert any("only 2 points" in w for w in entry["warnings"])
