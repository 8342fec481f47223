"""``off_target``: the share of outputs not in the language they should be in.

Each output is identified with :mod:`xllm_harness.text.langid` (the same identifier as the judge's
language gate): ``is_language(output, lang)``. An output it cannot measure (``None``; rule 3 of
docs/language-id.md) is left out of the rate, for every task alike; the result's ``extra`` gives how
many were measurable. If none is, there is no rate: :class:`NotMeasurable` (an
:class:`~xllm_harness.errors.InputError`) says so, and the caller records the score as missing.

Per-segment statistics for resampling: ``[off_target (0/1), measurable (0/1)]``; the score is
``sum(off_target) / sum(measurable)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric, MetricResult, NotComputable, Signature
from xllm_harness.text import langid


class NotMeasurable(NotComputable):
    """No output (of a corpus or of a resample) could be identified: the off-target rate is missing."""


class OffTarget(Metric):
    """Share of the measurable outputs that are not in ``lang`` (lower is better)."""

    name = "off_target"
    title = "off-target rate"
    higher_is_better = False
    statistic = "corpus"
    proportion = True
    """The score is ``sum(off_target) / sum(measurable)`` of 0/1 items (Wilson intervals)."""
    needs_lang = True

    def signature(self) -> Signature:
        return Signature.parse(f"off_target|{langid.signature()}")

    def segment_statistics(
        self,
        hypotheses: list[str],
        references: list[list[str]],
        sources: Sequence[str] | None,
        lang: str | None,
    ) -> np.ndarray:
        """``[off_target, measurable]`` per output."""
        assert lang is not None  # checked by the base class
        if not langid.supports(lang):
            raise InputError(
                f"off_target: the language identifier cannot recognise {lang!r}; it knows lid.176's "
                "codes (see docs/language-id.md)"
            )
        stats = np.zeros((len(hypotheses), 2))
        for i, hypothesis in enumerate(hypotheses):
            verdict = langid.is_language(hypothesis, lang)
            if verdict is not None:
                stats[i] = (0.0 if verdict else 1.0, 1.0)
        return stats

    def score_from_statistics(self, totals: np.ndarray, n: int) -> np.ndarray:
        totals = np.asarray(totals, dtype=np.float64)
        measurable = totals[..., 1]
        empty = int(np.count_nonzero(measurable == 0))
        if empty:
            raise NotMeasurable(
                f"off_target: {empty} of {measurable.size} sets of outputs hold no identifiable output "
                f"(all under {langid.MIN_LETTERS} letters, names or numbers); the rate is missing"
            )
        return totals[..., 0] / measurable

    def _result_from_statistics(self, stats: np.ndarray, lang: str | None) -> MetricResult:
        totals = stats.sum(axis=0)
        score = float(self.score_from_statistics(totals, len(stats)))
        extra = {"measurable": int(totals[1]), "segments": len(stats), "off_target": int(totals[0])}
        return MetricResult(self.name, score, self.signature(), extra)


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [OffTarget]
