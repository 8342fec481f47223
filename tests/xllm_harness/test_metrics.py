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


# --- the facts a metric owns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored",
    [
        "nrefs:1|case:mixed|eff:yes|tok:flores101|smooth:exp|version:2.5.1",  # sacrebleu's own form
        "match|lowercase-containment|x-llm:answers[0].strip()",
        "model:Unbabel/wmt22-comet-da|nrefs:1|precision:fp32|scale:100|version:xllm-comet-1|outside-model-languages:sw",
        "",
    ],
)
def test_a_stored_signature_reads_back_field_by_field_and_renders_unchanged(stored):
    from xllm_harness.metrics import Signature

    signature = Signature.parse(stored)
    assert signature.render() == stored and signature == stored
    assert Signature.parse(signature.render()) == signature


def test_signature_fields_scale_and_coverage():
    from xllm_harness.metrics import COVERAGE_FIELD, Signature

    signature = Signature.of("comet", ("model", "m"), ("scale", 100))
    assert signature.render() == "comet|model:m|scale:100"
    assert signature.get("model") == "m" and signature.get("comet") is None
    assert signature.scale() == pytest.approx(100.0, abs=1e-12)  # parsed from "scale:100"
    assert Signature.parse("model:m|scale:0").scale() is None  # a scale must be positive
    assert Signature.parse("model:m|scale:x").scale() is None
    covered = signature.with_field(COVERAGE_FIELD, "sw").with_field(COVERAGE_FIELD, "sw,yo")
    assert covered.render() == f"comet|model:m|scale:100|{COVERAGE_FIELD}:sw,yo"


def test_a_subclass_that_returns_a_string_signature_still_gives_a_structured_result():
    result = LengthRatio().corpus_score(["ab"], [["abc"]])
    assert result.signature.fields == (("length_ratio", None), ("v1", None))


def test_metrics_declare_their_facts():
    """The facts the leaderboard, compare and the tasks read from the metric (no table elsewhere)."""
    from xllm_harness.metrics import get_metrics

    metrics = get_metrics()
    loads = {name for name, cls in metrics.items() if cls.loads_model}
    assert {"comet", "bleurt", "metricx", "metricx_qe", "cometkiwi", "xcomet"} <= loads
    assert not loads & {"spbleu", "chrf", "off_target", "match", "exact_match", "f1"}
    assert metrics["comet"].table_scale == pytest.approx(100.0, abs=1e-12)
    assert metrics["bleurt"].table_scale == pytest.approx(100.0, abs=1e-12)
    assert metrics["chrf"].table_scale is None
    assert metrics["chrf"].display_title() == "chrF++" and metrics["comet"].display_title() == "COMET (x100)"
    assert not metrics["off_target"].higher_is_better and not metrics["metricx"].higher_is_better


def test_the_model_variable_is_read_by_the_metric(monkeypatch):
    from xllm_harness.metrics import get_metrics

    comet, bleurt = get_metrics()["comet"], get_metrics()["bleurt"]
    monkeypatch.setenv("XLLM_COMET_MODEL", "/models/comet")
    monkeypatch.delenv("XLLM_BLEURT_MODEL", raising=False)
    assert comet.configured_model() == "/models/comet" and comet().model == "/models/comet"
    assert comet.configured_model("/given") == "/given"
    assert bleurt.configured_model() is None and bleurt().model == "lucadiliello/BLEURT-20"


def test_require_finite_names_the_documents_without_a_number():
    from xllm_harness.metrics import NotComputable, require_finite

    require_finite("m", 1.5, np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(NotComputable, match="m gave nan, not a finite number"):
        require_finite("m", float("nan"))
    with pytest.raises(NotComputable, match="for 2 document"):
        require_finite("m", 1.0, np.array([[1.0, np.inf], [np.nan, 2.0], [1.0, 2.0]]))
