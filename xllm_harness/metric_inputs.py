"""The one adapter from an lm-eval document (and the model's answer) to a metric's inputs.

The tasks' ``process_results`` (inside lm-eval) and every route that rescores saved samples (``xllm
score``, ``xllm compare``, the leaderboard's intervals, ``xllm consistency``, the judges) build the
hypothesis, the references, the source and the languages here, so they score the same inputs:

- **translation** documents (``source`` and ``target``: FLORES): the answer with its surrounding
  whitespace removed, against ``target``; sources for COMET-like metrics; the language is ``tgt_lang``;
- **qa** documents (``answers``: XQuAD, MLQA): the answer as generated, against every gold answer;
  ``answers`` is a list of strings or SQuAD's ``{"text": [...], "answer_start": [...]}`` (lm-eval's own
  xquad); the language is ``lang``;
- **instruction** documents (``instruction``: MI-Eval): the answer as generated, against ``output``; ``lang``;
- anything else: the answer against lm-eval's ``target``.

Fields of the wrong type are errors naming the place, the document and the field (never scored: a
string of answers would otherwise be scored character by character). The metric options a task ran
with (``metric_options``, stored in every document) and lm-eval's filter (one per samples line) are read
here too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xllm_harness.errors import InputError

KINDS = ("translation", "qa", "instruction", "generic")


@dataclass(frozen=True)
class Segment:
    """What a metric scores for one document."""

    hypothesis: str
    references: list[str]
    source: str | None = None
    lang: str | None = None
    """The language the hypothesis should be in."""
    src_lang: str | None = None
    kind: str = "generic"


def document_kind(doc: dict[str, Any]) -> str:
    """``translation``, ``qa``, ``instruction`` or ``generic`` (see the module docstring)."""
    if "source" in doc and "target" in doc:
        return "translation"
    if "answers" in doc:
        return "qa"
    if "instruction" in doc:
        return "instruction"
    return "generic"


def _text(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: field {field!r} is {type(value).__name__}, expected a string")
    return value


def _optional_text(doc: dict[str, Any], field: str, where: str) -> str | None:
    value = doc.get(field)
    return None if value is None else _text(value, where, field)


def answer_texts(value: Any, where: str) -> list[str]:
    """The gold answers: a non-empty list of strings, or SQuAD's ``{"text": [...], ...}``."""
    if isinstance(value, dict) and "text" in value:
        return answer_texts(value["text"], where)
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        shape = "a string" if isinstance(value, str) else type(value).__name__
        raise InputError(
            f"{where}: field 'answers' is {shape}; expected a list of answer strings "
            '(or {"text": [...], "answer_start": [...]})'
        )
    if not value or not all(isinstance(a, str) for a in value):
        raise InputError(f"{where}: field 'answers' must be a non-empty list of strings")
    return list(value)


def _target(value: Any, where: str) -> list[str]:
    if isinstance(value, list):
        if not value or not all(isinstance(t, (str, int, float)) and not isinstance(t, bool) for t in value):
            raise InputError(f"{where}: field 'target' must be a string or a non-empty list of strings")
        return [str(t) for t in value]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    raise InputError(f"{where}: field 'target' is {type(value).__name__}, expected a string")


def document_segment(doc: dict[str, Any], results: Sequence[Any], where: str, target: Any = None) -> Segment:
    """The metric inputs of ``doc`` and the model's answer ``results[0]`` (lm-eval's ``process_results``
    arguments; ``target``: lm-eval's ``doc_to_target``, used for generic documents)."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: field 'doc' is {type(doc).__name__}, expected an object")
    if isinstance(results, str) or not isinstance(results, Sequence) or not results:
        raise InputError(f"{where}: no model answer (expected a list of responses)")
    answer = _text(results[0], where, "response")
    kind = document_kind(doc)
    if kind == "translation":
        return Segment(
            answer.strip(),
            [_text(doc["target"], where, "target")],
            _text(doc["source"], where, "source"),
            _optional_text(doc, "tgt_lang", where),
            _optional_text(doc, "src_lang", where),
            kind,
        )
    lang = _optional_text(doc, "lang", where) or _optional_text(doc, "tgt_lang", where)
    if kind == "qa":
        return Segment(answer, answer_texts(doc["answers"], where), None, lang, None, kind)
    if kind == "instruction":
        reference = doc.get("output")
        refs = [_text(reference, where, "output")] if reference is not None else [""]
        return Segment(answer, refs, None, lang, None, kind)
    return Segment(answer, _target(target, where), None, lang, None, kind)


def sample_response(row: dict[str, Any], where: str) -> str:
    """The model's answer in one ``--log_samples`` line: its first filtered response (else ``resps``),
    which must be a string (a string in place of the list would be scored by its first character)."""
    for field in ("filtered_resps", "resps"):
        value = row.get(field)
        if value is None or (isinstance(value, list) and not value):
            continue
        if not isinstance(value, list):
            raise InputError(
                f"{where}: field {field!r} is {type(value).__name__}; expected lm-eval's list of responses"
            )
        first = value[0]
        if isinstance(first, list):  # resps: one list of generations per request
            if not first:
                continue
            first = first[0]
        if not isinstance(first, str):
            raise InputError(
                f"{where}: field {field!r} holds {type(first).__name__}, expected a string response"
            )
        return first
    return ""


def sample_segment(row: dict[str, Any], where: str) -> Segment:
    """The metric inputs of one ``--log_samples`` line (its document, response and target)."""
    return document_segment(row.get("doc"), [sample_response(row, where)], where, row.get("target"))


def metric_options(doc: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """The metric options the task stored in ``doc`` (``metric_options``, JSON): metric → options."""
    raw = doc.get("metric_options") or "{}"
    try:
        options = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as err:
        raise InputError(f"{where}: field 'metric_options' is not JSON ({err})") from None
    if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
        raise InputError(f"{where}: field 'metric_options' must map metric names to option objects")
    return options


def filter_rows(rows: list[dict[str, Any]], filter_name: str | None, where: str) -> list[dict[str, Any]]:
    """The lines of one lm-eval filter: ``filter_name``, else ``none``, else the first one present."""
    filters = list(dict.fromkeys(r.get("filter", "none") for r in rows))
    chosen = filter_name or ("none" if "none" in filters else filters[0])
    if chosen not in filters:
        raise InputError(
            f"{where}: no samples for filter {chosen!r}; present: {', '.join(map(str, filters))}"
        )
    return [r for r in rows if r.get("filter", "none") == chosen]
