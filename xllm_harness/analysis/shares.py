"""Shares of items (judge YES verdicts, MI-Eval wins...) as a metric, for resampling 0/1 outcomes."""

from __future__ import annotations

from xllm_harness.metrics import Metric


class Share(Metric):
    """The share of items with a 1: each item's statistic is its 0/1 outcome (paired tests: McNemar)."""

    binary = True

    def __init__(self, name: str = "share") -> None:
        self.name = name

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Each item's outcome (hypothesis) counts when it equals the outcome counted (its reference)."""
        return [float(h == refs[0]) for h, refs in zip(hypotheses, references, strict=True)]

    def signature(self) -> str:
        return self.name if self.name != "share" else "share of items"
