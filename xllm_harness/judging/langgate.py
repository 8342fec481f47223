"""The MI-Eval language gate: an answer identified as another language than the expected one loses
without a judge call. Identification is :mod:`xllm_harness.text.langid` (lid.176 behind script-aware rules),
the same one the ``off_target`` metric uses; what cannot be measured goes to the judge (rule 3 of
docs/language-id.md, which also gives the measured rates).
"""

from __future__ import annotations

from xllm_harness.text import langid


def detect(text: str) -> str:
    """The language code of ``text`` (``""`` for empty text or text that cannot be identified)."""
    return langid.identify(text)


def passes(text: str, lang: str) -> bool:
    """False only when ``text`` is identified as another language than ``lang``; text that cannot be
    measured (``langid.is_language`` is ``None``), or no expected language (``""``), passes to the judge."""
    return not lang or langid.is_language(text, lang) is not False
