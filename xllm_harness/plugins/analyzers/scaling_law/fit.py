"""Fitting the scaling law to one language's points: α, β by bounded least squares, goodness of fit,
bootstrap intervals, inverse prediction, and the judgement whether the fit is usable.

``S(X) = 100 − α·(γ·X)^β`` with γ given and α > 0, β ∈ (−1, 0) fitted by bounded least squares in
score space, started from several points (the log-linear fit of ``log(100 − S) = log α + β·log(γX)``,
a variable-projection fit and a grid over β with the best α for each).

Intervals come from a studentized (bootstrap-t) residual bootstrap by default: residuals are
resampled at the observed data sizes, each resample is refitted and its
``t* = (θ* − θ̂) / se(θ*)`` computed with the standard errors of that refit (Gauss–Newton covariance,
``n − 2`` degrees of freedom; ``log α`` and ``β``); the interval is ``θ̂ − t*_(1∓a) · se(θ̂)``,
widened where needed to contain the t interval from the same covariance. The percentile residual
bootstrap (``residual``) covers the true α and β of known laws only about 87 % of the time at 95 %
with 7 points (``benchmarks/bench_law_coverage.py``); bootstrap-t and t intervals alone about 93 %
each, missing on different samples; together they hold the level (see docs/analyzers/scaling_law.md). The draws handed on (``draws`` in laws.json, for the allocator) are the
pivots ``θ̂ − t*·se(θ̂)``, so their percentiles are the studentized interval. ``pairs`` resamples
points instead. Each law also gets its leave-one-point-out error (``loo_rmse``): refit without each
point in turn and predict it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from xllm_harness.analysis.scaling import CEILING, PowerLaw
from xllm_harness.errors import InputError

BETA_BOUNDS = (-1.0 + 1e-6, -1e-6)
LOG_ALPHA_BOUNDS = (-30.0, 60.0)
MIN_POINTS = 3
"""Fewer points than this fit α and β exactly (no residual left): a warning, and no intervals."""


def _residuals(params, x, s, gamma):
    import numpy as np

    log_alpha, beta = params
    return s - (CEILING - np.exp(log_alpha + beta * np.log(gamma * x)))


def _starts(x, s, gamma):
    """Initial (log α, β): the log-linear fit, and a β grid each with its least-squares α."""
    import numpy as np

    z = np.log(gamma * x)
    deficit = CEILING - s
    starts = []
    if np.all(deficit > 0) and np.ptp(z) > 0:
        beta, log_alpha = np.polyfit(z, np.log(deficit), 1)
        starts.append((log_alpha, beta))
    for beta in np.linspace(-0.95, -0.05, 7):
        basis = np.exp(beta * z)
        alpha = max(float(deficit @ basis / (basis @ basis)), 1e-6)
        starts.append((math.log(alpha), beta))
    lo = np.array([LOG_ALPHA_BOUNDS[0], BETA_BOUNDS[0]])
    hi = np.array([LOG_ALPHA_BOUNDS[1], BETA_BOUNDS[1]])
    return [np.clip(np.array(p, dtype=float), lo, hi) for p in starts]


def fit_law(x, s, gamma: float, starts=None) -> tuple[float, float, float]:
    """Best (α, β, cost) over the starts; bounded ``scipy.optimize.least_squares``."""
    import numpy as np
    from scipy.optimize import least_squares

    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    bounds = ([LOG_ALPHA_BOUNDS[0], BETA_BOUNDS[0]], [LOG_ALPHA_BOUNDS[1], BETA_BOUNDS[1]])
    if starts is None:
        alpha0, beta0 = profile_fit(x, s, gamma)
        starts = [np.array([math.log(alpha0[0]), beta0[0]]), *_starts(x, s, gamma)]
    best = None
    for start in starts:
        result = least_squares(
            _residuals, start, bounds=bounds, args=(x, s, gamma), method="trf", x_scale="jac"
        )
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    return float(math.exp(best.x[0])), float(best.x[1]), float(best.cost)


def goodness(law: PowerLaw, x, s) -> dict[str, float]:
    import numpy as np

    s = np.asarray(s, dtype=float)
    residual = s - law.score(x)
    ss_res = float(residual @ residual)
    ss_tot = float(((s - s.mean()) ** 2).sum())
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "rmse": math.sqrt(ss_res / len(s)),
    }


def profile_fit(x, s, gamma: float, grid: int = 200, refine: int = 60):
    """Vectorised fit of many point sets at once (rows of ``x`` and ``s``): (α, β) arrays.

    For fixed β the best α is linear least squares (``α = Σ d·z / Σ z²`` with ``d = 100 − S`` and
    ``z = (γX)^β``, kept > 0), so the fit is a 1-D search over β: a grid, then golden-section
    refinement around the best grid point. Used for the bootstrap (thousands of refits).
    """
    import numpy as np

    x = np.atleast_2d(np.asarray(x, dtype=float))
    s = np.atleast_2d(np.asarray(s, dtype=float))
    x = np.broadcast_to(x, s.shape)
    log_z = np.log(gamma * x)
    deficit = CEILING - s

    def sse(beta):  # beta: (B, K) → (sse, alpha), each (B, K)
        z = np.exp(beta[..., None] * log_z[:, None, :])
        alpha = np.maximum(np.einsum("bn,bkn->bk", deficit, z) / np.einsum("bkn,bkn->bk", z, z), 1e-12)
        resid = deficit[:, None, :] - alpha[..., None] * z
        return np.einsum("bkn,bkn->bk", resid, resid), alpha

    lo_b, hi_b = BETA_BOUNDS
    betas = np.linspace(lo_b, hi_b, grid)
    values, _ = sse(np.broadcast_to(betas, (len(s), grid)))
    best = values.argmin(1)
    step = betas[1] - betas[0]
    lo = np.clip(betas[best] - step, lo_b, hi_b)
    hi = np.clip(betas[best] + step, lo_b, hi_b)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(refine):
        b1 = hi - ratio * (hi - lo)
        b2 = lo + ratio * (hi - lo)
        f, _ = sse(np.stack([b1, b2], 1))
        left = f[:, 0] < f[:, 1]
        hi = np.where(left, b2, hi)
        lo = np.where(left, lo, b1)
    beta = (lo + hi) / 2
    _, alpha = sse(beta[:, None])
    return alpha[:, 0], beta


BOOTSTRAP_METHODS = ("studentized", "residual", "pairs")


def standard_errors(alpha, beta, x, s, gamma):
    """Gauss–Newton standard errors of ``(log α, β)`` for fits (rows) of ``s`` at sizes ``x``:
    ``s² (JᵀJ)⁻¹`` with ``s² = SSE / (n − 2)``. Arrays of shape (B,); NaN where singular."""
    import numpy as np

    x = np.broadcast_to(np.atleast_2d(np.asarray(x, dtype=float)), np.shape(np.atleast_2d(s)))
    s = np.atleast_2d(np.asarray(s, dtype=float))
    alpha, beta = np.atleast_1d(alpha)[:, None], np.atleast_1d(beta)[:, None]
    log_z = np.log(gamma * x)
    term = alpha * np.exp(beta * log_z)  # −∂S/∂log α; −∂S/∂β = term · log z
    resid = s - (CEILING - term)
    n = s.shape[1]
    var = (resid * resid).sum(1) / max(n - 2, 1)
    a, b, c = (term * term).sum(1), (term * term * log_z).sum(1), (term * term * log_z * log_z).sum(1)
    det = a * c - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var * c / det), np.sqrt(var * a / det)


def bootstrap(law: PowerLaw, x, s, samples: int, method: str, seed: int):
    """(α, β) draws from ``samples`` bootstrap resamples: an array of shape (k, 2).

    ``studentized`` (default): the bootstrap-t pivots ``θ̂ − t*·se(θ̂)`` of residual resamples (see the
    module docstring; β kept inside its bounds). ``residual``: fitted values plus resampled residuals
    (inflated by √(n/(n−2)) for the two fitted parameters), at the observed data sizes, refitted.
    ``pairs``: resample (X, S) points; resamples with a single distinct X cannot be fitted and are dropped.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    n = len(s)
    fitted = law.score(x)
    if method == "studentized":
        return _studentized(law, x, s, fitted, samples, rng)
    if method == "residual":
        residual = s - fitted
        residual = (residual - residual.mean()) * math.sqrt(n / max(n - 2, 1))
        xb = np.broadcast_to(x, (samples, n))
        sb = fitted + residual[rng.integers(0, n, size=(samples, n))]
    elif method == "pairs":
        idx = rng.integers(0, n, size=(samples, n))
        xb, sb = x[idx], s[idx]
        ok = np.ptp(xb, axis=1) > 0
        xb, sb = xb[ok], sb[ok]
    else:
        raise InputError(f"--bootstrap-method must be one of {', '.join(BOOTSTRAP_METHODS)}, got {method!r}")
    if len(sb) == 0:
        return np.zeros((0, 2))
    alpha, beta = profile_fit(xb, sb, law.gamma)
    return np.stack([alpha, beta], 1)


def _studentized(law: PowerLaw, x, s, fitted, samples: int, rng):
    import numpy as np

    n = len(s)
    residual = s - fitted
    residual = (residual - residual.mean()) * math.sqrt(n / max(n - 2, 1))
    sb = fitted + residual[rng.integers(0, n, size=(samples, n))]
    alpha, beta = profile_fit(x, sb, law.gamma)
    se_a, se_b = standard_errors(alpha, beta, x, sb, law.gamma)
    se0_a, se0_b = (float(v[0]) for v in standard_errors(law.alpha, law.beta, x, s, law.gamma))
    if not (se0_a > 0 and se0_b > 0):  # the points lie on the law: no spread to study
        return np.tile([law.alpha, law.beta], (samples, 1))
    ok = (se_a > 0) & (se_b > 0) & np.isfinite(se_a) & np.isfinite(se_b)
    t_a = (np.log(alpha[ok]) - math.log(law.alpha)) / se_a[ok]
    t_b = (beta[ok] - law.beta) / se_b[ok]
    draw_alpha = np.exp(np.clip(math.log(law.alpha) - t_a * se0_a, *LOG_ALPHA_BOUNDS))
    draw_beta = np.clip(law.beta - t_b * se0_b, *BETA_BOUNDS)
    return np.stack([draw_alpha, draw_beta], 1)


def t_intervals(law: PowerLaw, x, s, confidence: float) -> tuple[list[float], list[float]]:
    """t intervals (``n − 2`` degrees of freedom) of α (through ``log α``) and β from the fit's
    Gauss–Newton covariance; the point itself where the points lie on the law."""
    from scipy.stats import t as student

    se_a, se_b = (float(v[0]) for v in standard_errors(law.alpha, law.beta, x, s, law.gamma))
    q = float(student.ppf((1 + confidence) / 2, max(len(s) - 2, 1)))
    if not (math.isfinite(se_a) and math.isfinite(se_b)):
        return [law.alpha, law.alpha], [law.beta, law.beta]
    alpha = [law.alpha * math.exp(-q * se_a), law.alpha * math.exp(q * se_a)]
    beta = [max(law.beta - q * se_b, BETA_BOUNDS[0]), min(law.beta + q * se_b, BETA_BOUNDS[1])]
    return alpha, beta


def loo_rmse(x, s, gamma: float) -> float | None:
    """Leave-one-point-out error: refit without each point, predict it; root mean square of the
    prediction errors (``None`` with fewer than ``MIN_POINTS + 1`` points or two sizes left)."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    n = len(s)
    if n < MIN_POINTS + 1:
        return None
    keep = ~np.eye(n, dtype=bool)
    xs = np.stack([x[k] for k in keep])
    if np.any(np.ptp(xs, axis=1) == 0):
        return None
    alpha, beta = profile_fit(xs, np.stack([s[k] for k in keep]), gamma)
    predicted = CEILING - alpha * np.power(gamma * x, beta)
    return float(np.sqrt(np.mean((s - predicted) ** 2)))


def inverse(law: PowerLaw, target: float, draws, tail: float) -> dict[str, Any]:
    """The data size that reaches ``target``, with a bootstrap interval when ``draws`` are given."""
    import numpy as np

    result: dict[str, Any] = {"score": target, "data_size": law.data_for(target)}
    if draws is not None and len(draws):
        sizes = ((CEILING - target) / draws[:, 0]) ** (1.0 / draws[:, 1]) / law.gamma
        result["data_size_ci"] = np.quantile(sizes, [tail, 1 - tail]).tolist()
    return result


@dataclass(frozen=True)
class FitSettings:
    """How to fit every language (from the command line)."""

    bootstrap: int = 1000
    method: str = "studentized"
    confidence: float = 0.95
    seed: int = 0


def problems(entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``(bad-fit reasons, other warnings)`` for one fitted entry (``r2``, ``beta``, ``n_points``)."""
    bad = []
    if math.isfinite(entry["r2"]) and entry["r2"] < 0:
        bad.append(f"R2={entry['r2']:.4g} < 0: the law fits the points worse than their mean")
    if entry["at_bound"]:
        bad.append(
            f"beta={entry['beta']:.6f} ended on a bound of (-1, 0): the law does not describe these "
            "points (check the scores, their scale and the data sizes)"
        )
    notes = []
    if entry["n_points"] < MIN_POINTS:
        notes.append(
            f"only {entry['n_points']} points: alpha and beta pass through them exactly, so R2 says "
            f"nothing and no interval is computed; give at least {MIN_POINTS}"
        )
    return bad, notes


def fit_language(
    lang: str, x, s, gamma: float, settings: FitSettings, target: float | None = None
) -> dict[str, Any]:
    """One language's laws-file entry: parameters, R², RMSE, ``bad_fit``, ``warnings``, intervals, target."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    if np.unique(x).size < 2:
        raise InputError(
            f"{lang}: need points at 2 or more data sizes to fit alpha and beta "
            f"(got {len(x)} points at {np.unique(x).size} size)"
        )
    alpha, beta, _ = fit_law(x, s, gamma)
    law = PowerLaw(alpha, beta, gamma, lang)
    entry: dict[str, Any] = {**law.to_dict(), **goodness(law, x, s), "n_points": len(x)}
    entry["loo_rmse"] = loo_rmse(x, s, gamma)
    entry["at_bound"] = bool(min(beta - BETA_BOUNDS[0], BETA_BOUNDS[1] - beta) < 1e-4)
    bad, notes = problems(entry)
    entry["bad_fit"] = bool(bad)
    entry["warnings"] = bad + notes
    tail = (1 - settings.confidence) / 2
    draws = None
    if settings.bootstrap > 0 and len(x) >= MIN_POINTS:
        draws = bootstrap(law, x, s, settings.bootstrap, settings.method, settings.seed)
    if draws is not None and len(draws) == 0:
        entry["warnings"].append("no bootstrap resample had two data sizes: no intervals")
        draws = None
    if draws is not None:
        entry["alpha_ci"] = np.quantile(draws[:, 0], [tail, 1 - tail]).tolist()
        entry["beta_ci"] = np.quantile(draws[:, 1], [tail, 1 - tail]).tolist()
        if settings.method == "studentized":
            t_alpha, t_beta = t_intervals(law, x, s, settings.confidence)
            entry["alpha_ci"] = [min(entry["alpha_ci"][0], t_alpha[0]), max(entry["alpha_ci"][1], t_alpha[1])]
            entry["beta_ci"] = [min(entry["beta_ci"][0], t_beta[0]), max(entry["beta_ci"][1], t_beta[1])]
        entry["bootstrap"] = {"samples": len(draws), "method": settings.method}
        entry["draws"] = [[float(f"{a:.8g}"), float(f"{b:.8g}")] for a, b in draws]
    if target is not None:
        entry["target"] = inverse(law, target, draws, tail)
    return entry
