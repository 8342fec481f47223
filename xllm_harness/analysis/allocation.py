"""Budgeted data allocation (paper §3.3) and the allocation file the trainer reads.

Problem: maximise ``(1/n)·Σ S_i(X_i)`` subject to ``Σ X_i = C`` and ``0 ≤ X_i ≤ Xmax_i``, with
``S_i`` the paper's concave, increasing laws (:mod:`xllm_harness.analysis.scaling`).

Solution (:func:`water_fill`): the KKT conditions say every language whose share is not capped has
the same marginal gain ``S_i'(X_i) = λ``. With ``S_i'(X) = k_i·X^(β_i−1)`` that gives the closed form
``X_i(λ) = (λ/k_i)^(1/(β_i−1))`` clipped to ``[0, Xmax_i]``; ``Σ X_i(λ)`` is decreasing in λ, so a
bisection on ``log λ`` (then two Newton steps) finds the λ that spends exactly C. ``S_i'(0)`` is
infinite for β < 0, so every language gets a positive share and the lower clip never binds; a
language with no data available (``Xmax_i = 0``) would score −∞ and is rejected.

The allocation file (JSON) is the contract with the trainer's data builder::

    {"budget": 300000,
     "allocation": {"ar": 41842, "el": 44953, ...},      # whole examples, sums to budget
     "laws": {"ar": {"alpha": ..., "beta": ..., "gamma": ...}, ...},
     "availability": {"ar": 1097200, ...},                 # Xmax used (null = unlimited)
     "predicted": {"ar": 81.2, ...}, "predicted_mean": 82.4,
     "strategy": "optimized"}

Only ``budget`` and ``allocation`` are required by a reader (:func:`read_allocation`).

Uncertainty (:func:`uncertainty`): with the laws' bootstrap draws (``draws`` in laws.json), draw
``k`` of every language forms one plausible set of laws; the optimisation is solved again under each
and the chosen allocation scored under each. The file then also holds percentile intervals:
``allocation_ci`` (the optimal allocation under the draws), ``predicted_ci`` and
``predicted_mean_ci`` (the chosen allocation's predicted scores), and ``gain_over_uniform`` (the
predicted mean of the chosen allocation minus the uniform one's, paper Table 4's question, with its
interval and the share of draws in which it is positive).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from xllm_harness.analysis.scaling import CEILING, PowerLaw
from xllm_harness.errors import InputError
from xllm_harness.results.files import write_text
from xllm_harness.results.jsonio import read_json

# Paper Table 1 (WikiMatrix + NewsCommentary parallel sentences with English), in examples.
PAPER_AVAILABILITY = {
    "ar": 1_097_200,
    "el": 620_800,
    "hi": 234_300,
    "tr": 477_700,
    "vi": 1_073_800,
    "zh": 912_500,
}


def parse_count(text: str | float | int) -> float:
    """``300000``, ``300k``, ``1.2M``, ``inf`` → a number of examples."""
    if isinstance(text, (int, float)):
        return float(text)
    raw = str(text).strip().replace("_", "").replace(",", "")
    factor = 1.0
    if raw and raw[-1] in "kKmMgG":
        factor = {"k": 1e3, "m": 1e6, "g": 1e9}[raw[-1].lower()]
        raw = raw[:-1]
    try:
        value = float(raw) * factor
    except ValueError:
        raise InputError(f"{text!r} is not a count (examples: 300000, 300k, 1.2M, inf)") from None
    if math.isnan(value):
        raise InputError(f"{text!r} is not a count")
    return value


def _check(laws: Mapping[str, PowerLaw], budget: float, caps: Mapping[str, float]):
    import numpy as np

    if not laws:
        raise InputError("no scaling laws given: nothing to allocate")
    langs = list(laws)
    missing = [lang for lang in langs if lang not in caps]
    if missing:
        raise InputError(
            f"no availability (Xmax) for {', '.join(missing)}: give --availability {missing[0]}=N "
            "(or 'inf' for unlimited)"
        )
    cap = np.array([float(caps[lang]) for lang in langs])
    bad = [lang for lang, c in zip(langs, cap, strict=True) if not c > 0]
    if bad:
        raise InputError(
            f"availability of {', '.join(bad)} is not positive: a language with no data scores -inf "
            "under the power law; drop it from the laws"
        )
    if not (math.isfinite(budget) and budget > 0):
        raise InputError(f"budget must be a positive number of examples, got {budget}")
    total = float(cap.sum())
    if budget > total * (1 + 1e-12):
        raise InputError(
            f"infeasible budget {budget:,.0f}: only {total:,.0f} examples are available in total "
            f"({', '.join(f'{lang}={c:,.0f}' for lang, c in zip(langs, cap, strict=True))}); "
            "lower the budget or raise the availability"
        )
    return langs, cap


def water_fill(laws: Mapping[str, PowerLaw], budget: float, caps: Mapping[str, float]) -> dict[str, float]:
    """The exact optimum of the allocation problem (real-valued shares), see the module docstring."""
    import numpy as np

    langs, cap = _check(laws, budget, caps)
    if budget >= cap.sum():
        return dict(zip(langs, cap.tolist(), strict=True))
    log_k = np.log([laws[lang].scale for lang in langs])
    expo = 1.0 / (np.array([laws[lang].beta for lang in langs]) - 1.0)  # in (-1, -1/2)
    log_cap = np.log(cap)  # +inf where unlimited

    def shares(t: float):
        return np.minimum(np.exp(expo * (t - log_k)), cap)

    # At t_lo every share reaches its cap (or the whole budget); at t_hi every share is ≤ C/n.
    reach = np.where(np.isfinite(log_cap), log_cap, math.log(budget))
    lo = float(np.min(log_k + reach / expo))
    hi = float(np.max(log_k + math.log(budget / len(langs)) / expo))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if shares(mid).sum() > budget:
            lo = mid
        else:
            hi = mid
    t = 0.5 * (lo + hi)
    for _ in range(3):  # Newton polish on the uncapped languages: d X_i / d t = expo_i · X_i
        x = shares(t)
        free = x < cap
        slope = float(np.sum(expo[free] * x[free]))
        if slope == 0.0:
            break
        t += (budget - x.sum()) / slope
    x = shares(t)
    return dict(zip(langs, x.tolist(), strict=True))


def uniform(laws: Mapping[str, PowerLaw], budget: float, caps: Mapping[str, float]) -> dict[str, float]:
    """Equal shares; a language capped below its share gives the rest to the others equally."""
    langs, _ = _check(laws, budget, caps)
    shares = dict.fromkeys(langs, 0.0)
    open_langs = sorted(langs, key=lambda lang: caps[lang])
    left = float(budget)
    while open_langs:
        each = left / len(open_langs)
        lang = open_langs[0]
        if caps[lang] <= each:
            shares[lang] = float(caps[lang])
            left -= shares[lang]
            open_langs.pop(0)
            continue
        for lang in open_langs:
            shares[lang] = each
        break
    return shares


def scipy_reference(
    laws: Mapping[str, PowerLaw], budget: float, caps: Mapping[str, float]
) -> dict[str, float]:
    """The same problem through a general solver, SLSQP (validation and benchmarks only).

    Variables are log-shares ``u_i = log(X_i / C)`` (the laws are smooth there and S_i(0) = −inf
    never gets evaluated); the budget is the equality constraint ``Σ exp(u_i) = 1``.
    """
    import numpy as np
    from scipy.optimize import minimize

    langs, cap = _check(laws, budget, caps)
    n = len(langs)
    beta = np.array([laws[lang].beta for lang in langs])
    # deficit_i = 100 - S_i = alpha * gamma^beta * (C * exp(u))^beta = coef_i * exp(beta_i * u_i)
    coef = np.array([laws[lang].alpha * (laws[lang].gamma * budget) ** laws[lang].beta for lang in langs])

    def mean_deficit(u):
        deficit = coef * np.exp(beta * u)
        return deficit.mean(), beta * deficit / n

    upper = np.log(np.minimum(cap, budget) / budget)
    start = np.minimum(np.full(n, -math.log(n)), upper)
    result = minimize(
        mean_deficit,
        start,
        jac=True,
        method="SLSQP",
        bounds=list(zip(np.full(n, -60.0), upper, strict=True)),
        constraints=[{"type": "eq", "fun": lambda u: np.exp(u).sum() - 1.0, "jac": np.exp}],
        options={"ftol": 1e-16, "maxiter": 5000},
    )
    if not result.success and "directional derivative" not in str(result.message):
        raise RuntimeError(f"SLSQP did not converge: {result.message}")
    return dict(zip(langs, (np.exp(result.x) * budget).tolist(), strict=True))


def random_instance(n: int, seed: int = 0, fill: float = 0.4):
    """Plausible random laws (S(100k) between 60 and 95), availabilities in [10k, 1M] and a budget of
    ``fill`` times the total availability: ``(laws, caps, budget)``, for tests and benchmarks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    laws, caps = {}, {}
    for i in range(n):
        beta, gamma = rng.uniform(-0.9, -0.1), rng.uniform(0.1, 0.9)
        alpha = rng.uniform(5, 40) / (gamma * 1e5) ** beta
        laws[f"l{i}"] = PowerLaw(float(alpha), float(beta), float(gamma), f"l{i}")
        caps[f"l{i}"] = float(rng.uniform(1e4, 1e6))
    return laws, caps, fill * sum(caps.values())


def _scores(draws: Sequence[PowerLaw], x: float):
    """S(x) under each of ``draws`` (one language): an array."""
    import numpy as np

    alpha = np.array([law.alpha for law in draws])
    beta = np.array([law.beta for law in draws])
    return CEILING - alpha * np.power(draws[0].gamma * float(x), beta)


def uncertainty(
    draws: Mapping[str, Sequence[PowerLaw]],
    budget: float,
    caps: Mapping[str, float],
    chosen: Mapping[str, float],
    baseline: Mapping[str, float],
    level: float = 0.95,
) -> dict:
    """Percentile intervals over the laws' draws (see the module docstring): the optimal allocation,
    the predicted scores of ``chosen`` and its gain over ``baseline`` (the uniform allocation)."""
    import numpy as np

    if not 0 < level < 1:
        raise InputError(f"interval level must lie in (0, 1), got {level}")
    langs = list(chosen)
    count = min(len(draws[lang]) for lang in langs)
    tails = [(1 - level) / 2, (1 + level) / 2]
    optimal = np.array(
        [
            list(water_fill({lang: draws[lang][k] for lang in langs}, budget, caps).values())
            for k in range(count)
        ]
    )
    predicted = {lang: _scores(draws[lang][:count], chosen[lang]) for lang in langs}
    mean = np.mean([predicted[lang] for lang in langs], axis=0)
    base = np.mean([_scores(draws[lang][:count], baseline[lang]) for lang in langs], axis=0)
    gain = mean - base
    interval = lambda values: np.quantile(values, tails).tolist()  # noqa: E731
    return {
        "draws": count,
        "level": level,
        "allocation_ci": {lang: interval(optimal[:, i]) for i, lang in enumerate(langs)},
        "predicted_ci": {lang: interval(predicted[lang]) for lang in langs},
        "predicted_mean_ci": interval(mean),
        "gain_over_uniform": {"ci": interval(gain), "positive_share": float(np.mean(gain > 0))},
    }


def mean_score(laws: Mapping[str, PowerLaw], allocation: Mapping[str, float]) -> float:
    """The objective: mean predicted score over the languages."""
    return sum(float(laws[lang].score(x)) for lang, x in allocation.items()) / len(allocation)


def to_counts(allocation: Mapping[str, float], budget: int, caps: Mapping[str, float]) -> dict[str, int]:
    """Whole examples summing to ``budget`` (largest remainder), never above a cap."""
    floors = {lang: math.floor(x + 1e-9) for lang, x in allocation.items()}
    left = int(budget) - sum(floors.values())
    order = sorted(allocation, key=lambda lang: allocation[lang] - floors[lang], reverse=True)
    for lang in order * 2:
        if left <= 0:
            break
        if floors[lang] + 1 <= caps[lang]:
            floors[lang] += 1
            left -= 1
    if left:
        raise InputError(f"cannot place {left} remaining examples under the availability caps")
    return floors


def write_allocation(path: str | Path, document: Mapping) -> Path:
    """Write an allocation file (validated by :func:`validate_allocation` first)."""
    validate_allocation(document, str(path))
    return write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def validate_allocation(document: Mapping, source: str = "allocation") -> dict[str, int]:
    if not isinstance(document, Mapping) or "budget" not in document or "allocation" not in document:
        raise InputError(f"{source}: an allocation file needs 'budget' and 'allocation' keys")
    allocation = document["allocation"]
    if not isinstance(allocation, Mapping) or not allocation:
        raise InputError(f"{source}: 'allocation' must map language codes to example counts")
    counts: dict[str, int] = {}
    for lang, n in allocation.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(f"{source}: allocation[{lang!r}] must be a non-negative integer, got {n!r}")
        counts[lang] = n
    if sum(counts.values()) != document["budget"]:
        raise InputError(
            f"{source}: allocation sums to {sum(counts.values())}, not the budget {document['budget']}"
        )
    return counts


def read_allocation(path: str | Path) -> dict[str, int]:
    """The trainer's entry point: ``{language: number of translation examples}`` from an allocation file."""
    document = read_json(path, "allocation file", "write one with `xllm analyze allocator`")
    return validate_allocation(document, f"allocation file {path}")
