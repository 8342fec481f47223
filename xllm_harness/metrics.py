"""The metric contract shared by tasks, ``xllm score`` and the leaderboard.

A metric is a small class (in the spirit of sacrebleu's): ``corpus_score`` takes hypotheses and
references (one list of gold strings per hypothesis) and returns a :class:`MetricResult` whose
``signature`` records everything needed to reproduce the number. Plugins contribute metric classes
through the ``xllm_metrics`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from xllm_harness.registry import collect


@dataclass
class MetricResult:
    name: str
    score: float
    signature: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Base class: subclasses set ``name`` and implement ``corpus_score``."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True

    def corpus_score(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> MetricResult:
        raise NotImplementedError


def get_metrics() -> dict[str, type[Metric]]:
    """Registered metric classes by name."""
    return {cls.name: cls for cls in collect("xllm_metrics")}
