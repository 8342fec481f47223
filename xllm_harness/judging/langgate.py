"""The MI-Eval language gate: an answer identified as another language than the expected one loses
without a judge call; an answer too short to identify (a number, a name) goes to the judge. Identification is :mod:`xllm_harness.langid` (lid.176 behind script-aware rules), the
same one the ``off_target`` metric uses; see docs/language-id.md for its rules and measured rates.
"""

from __future__ import annotations

from xllm_harness import langid


def detect(text: str) -> str:
    """The language code of ``text`` (``""`` for empty text or text that cannot be identified)."""
    return langid.identify(text)


def passes(text: str, lang: str) -> bool:
    """False only when ``text`` is identified as another language than ``lang``; text that cannot be
    identified (too short, digits, names), or no expected language (``""``), passes to the judge."""
    return not lang or langid.is_language(text, lang) is not False
