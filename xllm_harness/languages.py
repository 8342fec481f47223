"""The language table: what a language needs for the paper's task families.

Languages come from plugins (``xllm_languages`` hook); the paper's seven are the built-in
``paper_languages`` plugin. A :class:`Language` that names a dataset location gets the matching task
family: ``xquad`` → ``xquad_xllm_<code>``, ``mlqa`` → ``mlqa_xllm_<code>``, ``flores`` →
``flores_xllm_en-<code>`` and ``flores_xllm_<code>-en``, ``mi_eval`` → ``mi_eval_xllm_<code>``.

A dataset location is a path relative to the data directory (``XLLM_DATA_DIR``) whose first
component names the data source that ``xllm data fetch`` downloads (``xquad/xquad.ar.json``), or an
absolute path to a file the user provides.
"""

from __future__ import annotations

from dataclasses import dataclass

from xllm_harness.errors import InputError, UnknownNameError
from xllm_harness.registry import get_registry


@dataclass(frozen=True)
class Language:
    """One language and everything the task families need to know about it."""

    code: str
    """Short code used in task names (``ar``)."""
    name: str
    """English name used in translation prompts (``Arabic``)."""
    qa_instruction: str | None = None
    """The QA instruction in this language (x-LLM's data loaders)."""
    qa_template: str | None = None
    """The QA input template with ``{context}`` and ``{question}``; ends with one space after the cue."""
    qa_normalization: str = "squad"
    """``mlqa`` (official MLQA normalization, for the languages it knows) or ``squad`` (SQuAD v1.1)."""
    xquad: str | None = None
    mlqa: str | None = None
    flores: str | None = None
    """Location of the FLORES-101 files without split suffix, e.g. ``flores101/{split}/ara.{split}``."""
    mi_eval: str | None = None
    iso639_name: str | None = None
    """The ``iso-639`` package's name, which x-LLM used in translation prompts (exact reproduction)."""

    def __post_init__(self) -> None:
        if not self.code or not self.code.replace("_", "").isalnum() or self.code != self.code.lower():
            raise InputError(f"Language code {self.code!r}: use lowercase letters/digits (e.g. 'sw')")
        if self.qa_template is not None and not (
            "{context}" in self.qa_template and "{question}" in self.qa_template
        ):
            raise InputError(f"Language {self.code!r}: qa_template must contain {{context}} and {{question}}")
        if (self.xquad or self.mlqa) and not (self.qa_instruction and self.qa_template):
            raise InputError(f"Language {self.code!r}: QA data needs qa_instruction and qa_template")


def get_languages() -> dict[str, Language]:
    """All registered languages by code; two plugins defining one code differently is an error."""
    return get_registry().named(
        "xllm_languages", "language", lambda x: isinstance(x, Language), "a Language", lambda x: x.code
    )


def get_language(code: str) -> Language:
    """Look a language up by code, with a helpful error."""
    table = get_languages()
    try:
        return table[code]
    except KeyError:
        raise UnknownNameError(
            f"Unknown language {code!r}; registered: {', '.join(sorted(table))}. "
            "A plugin can add one through the xllm_languages hook (see docs/plugins.md)."
        ) from None
