"""The paper's scaling law (eq. 2) ``S(X) = 100 − α·(γ·X)^β`` and the laws file that carries it.

``α > 0``, ``β ∈ (−1, 0)``, ``γ ∈ (0, 1)`` (the language's similarity to English). S is increasing
and concave in X, tends to 100 as X grows and to −∞ as X → 0 (``S'(0)`` is infinite). α and γ are
not separately identifiable from (X, S) points: only ``α·γ^β`` is, so γ is given, not fitted.
Scores live in ``SCORE_RANGE`` = [0, 100]: a measured score outside it cannot be on the law's scale.

A laws file is the JSON written by ``xllm analyze scaling_law`` (``laws.json``, :func:`write_laws`)
or written by hand::

    {"form": "...", "laws": {"ar": {"alpha": 400.0, "beta": -0.3, "gamma": 0.6,
                                    "bad_fit": false, "warnings": []}, ...}}

(a bare ``{"ar": {...}}`` mapping is accepted too). ``alpha``, ``beta``, ``gamma`` are required;
``bad_fit: true`` marks a law the fit itself found unusable (R² < 0, β on a bound), with the reasons
in ``warnings``: :func:`read_laws` refuses such laws unless asked to keep them. ``draws`` (optional,
``[[alpha, beta], ...]``) are the fit's bootstrap draws, which :func:`read_law_draws` hands to the
allocator to carry the laws' uncertainty through the optimisation. Other keys (``r2``, ``loo_rmse``,
intervals, targets...) are provenance and ignored by readers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.analyzers import finite_number, write_json
from xllm_harness.errors import InputError
from xllm_harness.results.jsonio import read_json

FORM = "S(X) = 100 - alpha * (gamma * X) ** beta"
CEILING = 100.0
SCORE_RANGE = (0.0, CEILING)


@dataclass(frozen=True)
class PowerLaw:
    """One language's law; validated on construction. ``bad_fit`` says why its fit is unusable ("" if it is not)."""

    alpha: float
    beta: float
    gamma: float = 0.5
    language: str = ""
    bad_fit: str = ""

    def __post_init__(self) -> None:
        where = f"law for {self.language!r}" if self.language else "scaling law"
        for field in ("alpha", "beta", "gamma"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{where}: {field} must be a finite number, got {value!r}")
        if not self.alpha > 0:
            raise InputError(f"{where}: alpha must be > 0, got {self.alpha}")
        if not -1 < self.beta < 0:
            raise InputError(f"{where}: beta must lie in (-1, 0), got {self.beta}")
        if not 0 < self.gamma < 1:
            raise InputError(f"{where}: gamma must lie in (0, 1), got {self.gamma}")

    @property
    def scale(self) -> float:
        """``k = α·|β|·γ^β``: ``S'(X) = k·X^(β−1)``."""
        return self.alpha * -self.beta * self.gamma**self.beta

    def score(self, x):
        """S(X); works on floats and numpy arrays (−inf at X = 0)."""
        import numpy as np

        with np.errstate(divide="ignore"):
            return CEILING - self.alpha * np.power(self.gamma * np.asarray(x, dtype=float), self.beta)

    def derivative(self, x):
        """S'(X) = α·|β|·γ^β·X^(β−1) (inf at X = 0)."""
        import numpy as np

        with np.errstate(divide="ignore"):
            return self.scale * np.power(np.asarray(x, dtype=float), self.beta - 1)

    def data_for(self, target: float) -> float:
        """The data size X with S(X) = target (inverse prediction); needs target < 100."""
        if not target < CEILING:
            raise InputError(f"target score {target} is unreachable: S(X) < {CEILING:g} for every X")
        return ((CEILING - target) / self.alpha) ** (1.0 / self.beta) / self.gamma

    def mathtext(self) -> str:
        """The fitted law as matplotlib mathtext, e.g. ``$S = 100 - 92.5\\,(0.5X)^{-0.147}$``."""
        return f"$S = 100 - {self.alpha:.4g}\\,({self.gamma:.3g}X)^{{{self.beta:.3f}}}$"

    def to_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma}


def laws_from_mapping(
    mapping: dict, source: str = "laws", allow_bad_fits: bool = False
) -> dict[str, PowerLaw]:
    """``{lang: {"alpha", "beta", "gamma"}}`` (or ``{"laws": {...}}``) → validated laws.

    A law marked ``bad_fit`` is an error unless ``allow_bad_fits`` (then it keeps the reason in
    :attr:`PowerLaw.bad_fit`).
    """
    if isinstance(mapping, dict) and isinstance(mapping.get("laws"), dict):
        mapping = mapping["laws"]
    if not isinstance(mapping, dict) or not mapping:
        raise InputError(
            f"{source}: expected {{'laws': {{language: {{alpha, beta, gamma}}}}}}, found no laws"
        )
    laws: dict[str, PowerLaw] = {}
    for lang, spec in mapping.items():
        if not isinstance(spec, dict):
            raise InputError(f"{source}: law for {lang!r} must be an object with alpha, beta, gamma")
        missing = [k for k in ("alpha", "beta", "gamma") if spec.get(k) is None]
        if missing:
            raise InputError(f"{source}: law for {lang!r} lacks {', '.join(missing)}")
        reason = _bad_fit_reason(spec)
        alpha, beta, gamma = (
            finite_number(spec[k], f"{source}: law for {lang!r}: {k}") for k in ("alpha", "beta", "gamma")
        )
        try:
            laws[lang] = PowerLaw(alpha, beta, gamma, lang, reason)
        except (TypeError, ValueError) as err:
            raise InputError(f"{source}: {err}") from None
    if not allow_bad_fits:
        refuse_bad_fits(laws, source)
    return laws


def refuse_bad_fits(laws: dict[str, PowerLaw], source: str = "laws") -> None:
    """An error naming every law whose fit was marked as bad (and why), if there is one."""
    bad = {lang: law.bad_fit for lang, law in laws.items() if law.bad_fit}
    if bad:
        listing = "; ".join(f"{lang}: {reason}" for lang, reason in bad.items())
        raise InputError(
            f"{source}: the fit marked the law of {', '.join(bad)} as bad ({listing}); its predictions "
            "cannot be trusted. Check the points and refit, drop the language (--languages), "
            "or pass --allow-bad-fits to use it anyway"
        )


def _bad_fit_reason(spec: dict[str, Any]) -> str:
    if not spec.get("bad_fit"):
        return ""
    warnings = spec.get("warnings") or []
    return "; ".join(str(w) for w in warnings) if isinstance(warnings, list) and warnings else "bad fit"


def read_laws(path: str | Path, allow_bad_fits: bool = False) -> dict[str, PowerLaw]:
    """Read and validate a laws file (see the module docstring and :func:`laws_from_mapping`)."""
    data = read_json(path, "laws file", "write one with `xllm analyze scaling_law`")
    return laws_from_mapping(data, source=f"laws file {path}", allow_bad_fits=allow_bad_fits)


def read_law_draws(path: str | Path, languages: list[str]) -> dict[str, list[PowerLaw]] | None:
    """The bootstrap draws of every law in ``languages`` as laws (the same number for each: the
    smallest recorded), or ``None`` when some law has none (a hand-written or ``--bootstrap 0`` file)."""
    data = read_json(path, "laws file", "write one with `xllm analyze scaling_law`")
    mapping = data["laws"] if isinstance(data, dict) and isinstance(data.get("laws"), dict) else data
    found: dict[str, list] = {}
    for lang in languages:
        draws = (mapping.get(lang) or {}).get("draws")
        if not isinstance(draws, list) or not draws:
            return None
        found[lang] = draws
    count = min(len(d) for d in found.values())
    out: dict[str, list[PowerLaw]] = {}
    for lang, draws in found.items():
        gamma = finite_number(mapping[lang].get("gamma"), f"laws file {path}: law for {lang!r}: gamma")
        try:
            out[lang] = [
                PowerLaw(finite_number(a, "alpha"), finite_number(b, "beta"), gamma, lang)
                for a, b in draws[:count]
            ]
        except (TypeError, ValueError, InputError) as err:
            raise InputError(
                f"laws file {path}: draws of {lang!r}: expected [[alpha, beta], ...] ({err})"
            ) from None
    return out


def write_laws(path: Path, laws: dict[str, dict[str, Any]], **provenance: Any) -> Path:
    """Write a laws file ``{"form", **provenance, "laws": {lang: entry}}``; each entry holds at least
    ``alpha``, ``beta``, ``gamma``, ``bad_fit`` and ``warnings``."""
    return write_json(path, {"form": FORM, **provenance, "laws": laws})
