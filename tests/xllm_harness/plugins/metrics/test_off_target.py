"""The ``off_target`` metric (``plugins/metrics/off_target.py``): references score ~0, copied sources ~1
on every FLORES direction (bundled samples always, full devtest with ``shared_data``)."""

from __future__ import annotations

import numpy as np
import pytest

from xllm_harness.errors import InputError
from xllm_harness.languages import get_language
from xllm_harness.metrics import get_metric, get_metrics
from xllm_harness.plugins.metrics.off_target import NotMeasurable, OffTarget
from xllm_harness.tasks.flores_docs import read_lines
from xllm_harness.text import langid

TARGETS = ["ar", "el", "hi", "tr", "vi", "zh"]


def devtest(root, code: str) -> list[str]:
    return read_lines(root / get_language(code).flores.format(split="devtest"))


def off_target(outputs: list[str], lang: str) -> float:
    return OffTarget().corpus_score(outputs, [[o] for o in outputs], lang=lang).score


def test_registered():
    assert get_metrics()["off_target"] is OffTarget
    assert get_metric("off_target").statistic == "corpus" and OffTarget.needs_lang


def check_directions(root, code: str) -> None:
    english, target = devtest(root, "en"), devtest(root, code)
    # en→X: the references are on target, a copied English source is not
    assert off_target(target, code) <= 0.005
    assert off_target(english, code) >= 0.99
    # X→en likewise
    assert off_target(english, "en") <= 0.005
    assert off_target(target, "en") >= 0.99


@pytest.mark.parametrize("code", TARGETS)
def test_references_and_copied_sources_on_samples(samples_dir, code):
    check_directions(samples_dir, code)


@pytest.mark.parametrize("code", TARGETS)
def test_references_and_copied_sources_on_full_devtest(shared_data, code):
    check_directions(shared_data, code)


def test_statistics_and_score():
    outputs = ["Das Wetter ist heute sehr schön", "The weather is lovely today", "1945", "Paris", "两年"]
    metric = OffTarget()
    stats = metric.statistics(outputs, [["x"]] * 5, lang="en")
    # German: off target; English: on; number and name: not measurable; Chinese: off target
    assert stats.tolist() == [[1, 1], [0, 1], [0, 0], [0, 0], [1, 1]]
    result = metric.corpus_score(outputs, [["x"]] * 5, lang="en")
    assert result.score == pytest.approx(2 / 3)
    assert result.extra == {"measurable": 3, "segments": 5, "off_target": 2}
    assert result.signature == f"off_target|{langid.signature()}"


def test_score_from_statistics_is_vectorised():
    totals = np.array([[[1, 4], [0, 2]], [[3, 3], [2, 8]]], dtype=float)
    scores = OffTarget().score_from_statistics(totals, 10)
    assert scores.shape == (2, 2)
    assert scores.tolist() == [[0.25, 0.0], [1.0, 0.25]]


def test_nothing_measurable_is_missing_not_a_number():
    metric = OffTarget()
    with pytest.raises(NotMeasurable, match="rate is missing"):
        metric.corpus_score(["42", "Obama", ""], [["x"]] * 3, lang="zh")
    with pytest.raises(NotMeasurable, match="1 of 2"):
        metric.score_from_statistics(np.array([[1.0, 2.0], [0.0, 0.0]]), 3)
    assert issubclass(NotMeasurable, InputError)


def test_needs_a_language_the_identifier_knows():
    with pytest.raises(InputError, match="lang"):
        OffTarget().corpus_score(["Hello there"], [["x"]])
    with pytest.raises(InputError, match="cannot recognise 'xx'"):
        OffTarget().corpus_score(["Hello there"], [["x"]], lang="xx")
