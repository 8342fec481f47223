"""The metric contract: argument checks in the base class, one computation of score and statistics,
and lookups by name with a "did you mean"."""

from __future__ import annotations

import numpy as np
import pytest

from xllm_harness.errors import InputError, UnknownNameError
from xllm_harness.metrics import Metric, get_metric


class LengthRatio(Metric):
    """A corpus metric for the test: total hypothesis characters over total reference characters."""

    name = "length_ratio"
    statistic = "corpus"
    calls = 0

    def segment_statistics(self, hypotheses, references, sources, lang):
        LengthRatio.calls += 1
        return [[len(h), len(r[0])] for h, r in zip(hypotheses, references, strict=True)]

    def score_from_statistics(self, totals, n):
        totals = np.asarray(totals)
        return totals[..., 0] / totals[..., 1]

    def signature(self) -> str:
        return "length_ratio|v1"


class NeedsEverything(LengthRatio):
    name = "needs_everything"
    needs_lang = True
    needs_sources = True


def test_score_and_statistics_come_from_one_computation():
    metric = LengthRatio()
    LengthRatio.calls = 0
    result, stats = metric.score_with_statistics(["ab", "abcd"], [["abc"], ["abc"]])
    assert LengthRatio.calls == 1
    assert stats.shape == (2, 2) and stats.dtype == np.float64
    assert result.score == pytest.approx(6 / 6) and result.signature == "length_ratio|v1"
    assert metric.corpus_score(["ab", "abcd"], [["abc"], ["abc"]]).score == result.score
    # a resample that draws the first segment twice
    assert metric.score_from_statistics(stats[[0, 0]].sum(axis=0), 2) == pytest.approx(4 / 6)


@pytest.mark.parametrize(
    ("hyps", "refs", "message"),
    [
        ([], [], "no hypotheses"),
        (["a"], [["a"], ["b"]], "1 hypotheses but 2 reference lists"),
        (["a"], [[]], "segment 0 needs a non-empty list"),
        (["a"], ["a"], "segment 0 needs a non-empty list"),
    ],
)
def test_bad_arguments_are_refused_by_the_base_class(hyps, refs, message):
    for call in (LengthRatio().corpus_score, LengthRatio().statistics, LengthRatio().score_with_statistics):
        with pytest.raises(InputError, match=message):
            call(hyps, refs)


def test_declared_needs_are_checked():
    metric = NeedsEverything()
    with pytest.raises(InputError, match="source segment"):
        metric.corpus_score(["a"], [["a"]], lang="zh")
    with pytest.raises(InputError, match="language"):
        metric.corpus_score(["a"], [["a"]], sources=["x"])
    assert metric.corpus_score(["a"], [["a"]], sources=["x"], lang="zh").score == 1.0


def test_a_metric_without_statistics_cannot_be_defined():
    class Incomplete(Metric):
        name = "incomplete"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_unknown_metric_names_the_closest():
    with pytest.raises(UnknownNameError, match=r"did you mean 'chrf'"):
        get_metric("chrff")
