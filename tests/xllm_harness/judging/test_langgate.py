"""The judge's language gate uses the one language identifier (``xllm_harness/langid.py``)."""

from __future__ import annotations

from xllm_harness import langid
from xllm_harness.judging import langgate


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
