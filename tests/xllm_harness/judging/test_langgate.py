"""The judge's language gate uses the one language identifier (``xllm_harness/text/langid.py``)."""

from __future__ import annotations

from xllm_harness.judging import langgate
from xllm_harness.text import langid


def test_detect_is_langid():
    texts = [
        "州长办公室表示，伤者中有十九人是警察。",  # lid.176-lite alone: ja
        "पुनर्निर्माण की कोशिश की",  # lid.176-lite alone: mr
        "The weather is lovely today",
        "Ο Δρ Έχουντ Ουρ,",
    ]
    assert [langgate.detect(t) for t in texts] == ["zh", "hi", "en", "el"]
    assert [langgate.detect(t) for t in texts] == [langid.identify(t) for t in texts]


def test_empty_or_unmeasurable_text_has_no_language():
    assert langgate.detect("") == ""
    assert langgate.detect("  42 ") == ""


def test_only_an_answer_in_another_language_fails_the_gate():
    assert langgate.passes("你好，我的朋友们今天都很好。", "zh")
    assert not langgate.passes("The weather is lovely today, my friend.", "zh")
    # a number or a name cannot be identified: the judge decides, the gate does not
    assert langgate.passes("42", "zh") and langgate.passes("Barack Obama", "zh")
    assert langgate.passes("anything at all here", "")  # no expected language (question unidentified)


def test_pairwise_gate_sends_unidentifiable_answers_to_the_judge():
    from xllm_harness.judging.pairwise import PairItem, gate

    pair = PairItem("mi_eval_xllm_zh", "zh", 0, "一加一等于几？", "2", "The answer is two, my friend.")
    decision = gate(pair, "task")
    assert decision.ok_a and not decision.ok_b and not decision.passed and decision.outcome == "win"
