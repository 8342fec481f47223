"""The paper's scaling law (eq. 2) ``S(X) = 100 − α·(γ·X)^β`` and the laws file that carries it.

``α > 0``, ``β ∈ (−1, 0)``, ``γ ∈ (0, 1)`` (the language's similarity to English). S is increasing
and concave in X, tends to 100 as X grows and to −∞ as X → 0 (``S'(0)`` is infinite). α and γ are
not separately identifiable from (X, S) points: only ``α·γ^β`` is, so γ is given, not fitted.

A laws file is the JSON written by ``xllm analyze scaling_law`` (``laws.json``) or written by hand::

    {"laws": {"ar": {"alpha": 400.0, "beta": -0.3, "gamma": 0.6}, ...}}

(a bare ``{"ar": {...}}`` mapping is accepted too; extra keys such as ``r2`` are ignored).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from xllm_harness.errors import InputError
from xllm_harness.jsonio import read_json

FORM = "S(X) = 100 - alpha * (gamma * X) ** beta"
CEILING = 100.0


@dataclass(frozen=True)
class PowerLaw:
    """One language's law; validated on construction."""

    alpha: float
    beta: float
    gamma: float = 0.5
    language: str = ""

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

    def label(self) -> str:
        return f"S=100-{self.alpha:.4g}·({self.gamma:.3g}X)^{self.beta:.3f}"

    def to_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma}


def laws_from_mapping(mapping: dict, source: str = "laws") -> dict[str, PowerLaw]:
    """``{lang: {"alpha", "beta", "gamma"}}`` (or ``{"laws": {...}}``) → validated laws."""
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
        try:
            laws[lang] = PowerLaw(float(spec["alpha"]), float(spec["beta"]), float(spec["gamma"]), lang)
        except (TypeError, ValueError) as err:
            raise InputError(f"{source}: {err}") from None
    return laws


def read_laws(path: str | Path) -> dict[str, PowerLaw]:
    """Read and validate a laws file (see the module docstring)."""
    data = read_json(path, "laws file", "write one with `xllm analyze scaling_law`")
    return laws_from_mapping(data, source=f"laws file {path}")
