"""Question-answering metrics: x-LLM's ``match`` and exact match / F1 with per-language normalization.

- ``match`` (the paper's Table 6): a gold answer, lowercased, occurs in the lowercased output.
- ``exact_match`` / ``f1``: the official MLQA normalization (``mlqa_evaluation_v1.py``) for the
  languages it knows, SQuAD v1.1 normalization otherwise (as XTREME does for el/tr).

The official MLQA Arabic rule replaces *every* ``ال`` with a space, mid-word too (its regex
``'\\sال^|ال'``: the first branch can never match). lm-eval's port only strips it at word start, so
its Arabic scores differ; we reproduce the official behaviour. All scores are the max over gold answers.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric, MetricResult

ASCII_PUNCT = frozenset(string.punctuation)
UNICODE_PUNCT = (
    frozenset(chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)).startswith("P"))
    | ASCII_PUNCT
)

# Articles removed by the official MLQA script, per language (None: the language has none).
MLQA_ARTICLES: dict[str, str | None] = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "ar": r"ال",
    "hi": None,
    "zh": None,
}
MLQA_LANGUAGES = frozenset(MLQA_ARTICLES)
_CJK = re.compile(r"[\u4e00-\u9fa5]")


def _mixed_segmentation(text: str) -> list[str]:
    """Each CJK ideograph (U+4E00–U+9FA5) is a token; other runs split on whitespace."""
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        if _CJK.match(ch) or ch in UNICODE_PUNCT:
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens


def normalize_mlqa(text: str, lang: str) -> str:
    """The official MLQA normalization: lower, drop punctuation, drop articles, re-tokenize."""
    if lang not in MLQA_LANGUAGES:
        raise InputError(f"Unknown Language {lang!r} for MLQA normalization; known: {sorted(MLQA_LANGUAGES)}")
    text = "".join(ch for ch in text.lower() if ch not in UNICODE_PUNCT)
    articles = MLQA_ARTICLES[lang]
    if articles is not None:
        text = re.sub(articles, " ", text)
    tokens = _mixed_segmentation(text) if lang == "zh" else text.split()
    return " ".join(t for t in tokens if t.strip())


def normalize_squad(text: str) -> str:
    """SQuAD v1.1 normalization: lower, drop ASCII punctuation, drop a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in ASCII_PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def normalizer_for(lang: str, scheme: str = "mlqa"):
    """The normalization function for a language under ``scheme`` (``mlqa`` falls back to SQuAD)."""
    if scheme == "mlqa" and lang in MLQA_LANGUAGES:
        return lambda text: normalize_mlqa(text, lang)
    return normalize_squad


def _f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def score_answer(prediction: str, golds: Sequence[str], lang: str, scheme: str = "mlqa") -> dict[str, float]:
    """``match``, ``exact_match`` and ``f1`` of one prediction, each the max over gold answers."""
    if not golds:
        raise InputError("score_answer needs at least one gold answer")
    normalize = normalizer_for(lang, scheme)
    pred_norm = normalize(prediction)
    pred_tokens = pred_norm.split()
    lowered = prediction.lower()
    match = em = f1 = 0.0
    for gold in golds:
        gold_norm = normalize(gold)
        match = max(match, float(gold.lower() in lowered))
        em = max(em, float(pred_norm == gold_norm))
        f1 = max(f1, _f1(pred_tokens, gold_norm.split()))
    return {"match": match, "exact_match": em, "f1": f1}


class _QAMetric(Metric):
    key: str

    def corpus_score(self, hypotheses, references, sources=None, lang=None) -> MetricResult:
        if lang is None:
            raise InputError(f"{self.name} needs the answer language (lang=...)")
        if not hypotheses:
            raise InputError(f"{self.name}: no hypotheses to score")
        scores = [
            score_answer(h, refs, lang)[self.key] for h, refs in zip(hypotheses, references, strict=True)
        ]
        norm = "mlqa" if lang in MLQA_LANGUAGES else "squad-v1.1"
        return MetricResult(
            self.name, sum(scores) / len(scores), f"{self.name}|lang:{lang}|norm:{norm}|max-over-golds"
        )


class Match(_QAMetric):
    """x-LLM's containment check: a lowercased gold answer occurs in the lowercased output."""

    name = key = "match"


class ExactMatch(_QAMetric):
    name = key = "exact_match"


class F1(_QAMetric):
    name = key = "f1"


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Match, ExactMatch, F1]
