"""The MI-Eval language gate: an answer whose language differs from the expected one loses without
a judge call. Identification is :mod:`xllm_harness.langid` (lid.176 behind script-aware rules), the
same one the ``off_target`` metric uses; see docs/language-id.md for its rules and measured rates.
"""

from __future__ import annotations

from xllm_harness import langid


def detect(text: str) -> str:
    """The language code of ``text`` (``""`` for empty text or text that cannot be identified)."""
    return langid.identify(text)
