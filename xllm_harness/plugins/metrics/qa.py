"""Question-answering metrics: x-LLM's ``match`` and exact match / F1 with per-language normalization.

- ``match`` (the paper's Table 6): a gold answer, lowercased, occurs in the lowercased output.
- ``exact_match`` / ``f1``: the normalization the answer language declares
  (``Language.qa_normalization``, looked up in the registry by ``lang=``): ``mlqa`` is the official
  MLQA normalization (``mlqa_evaluation_v1.py``) for the languages that script knows and SQuAD v1.1
  for the others (el, tr); ``squad`` is SQuAD v1.1. ``normalization="squad"`` overrides it for every
  language, which is how XTREME scores all of XQuAD.

The official MLQA Arabic rule replaces *every* ``ال`` with a space, mid-word too (its regex
``'\\sال^|ال'``: the first branch can never match). lm-eval's port only strips it at word start, so
its Arabic scores differ; we reproduce the official behaviour. All scores are the max over gold answers.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from abc import abstractmethod
from collections import Counter
from collections.abc import Callable

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import get_language
from xllm_harness.metrics import Metric, MetricResult, Signature

ASCII_PUNCT = frozenset(string.punctuation)


def _is_punct(ch: str) -> bool:
    """Unicode category P* or ASCII punctuation (the official MLQA script's set), without building a
    table of all code points at import time."""
    return ch in ASCII_PUNCT or unicodedata.category(ch).startswith("P")


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
        if _CJK.match(ch) or _is_punct(ch):
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
    text = "".join(ch for ch in text.lower() if not _is_punct(ch))
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


QA_NORMALIZATIONS = ("mlqa", "squad")
"""``mlqa``: the official MLQA rules for the languages the script knows, SQuAD v1.1 for the others;
``squad``: SQuAD v1.1 for every language (how XTREME scores XQuAD)."""
MATCH_GOLDS = ("all", "first")
"""``all``: any gold answer counts (ours); ``first``: ``answers[0].strip()`` only (x-LLM's script)."""


def normalizer_for(lang: str, scheme: str) -> tuple[str, Callable[[str], str]]:
    """(the normalization's name in signatures, the function) for a language under ``scheme``."""
    if scheme not in QA_NORMALIZATIONS:
        raise InputError(f"QA normalization {scheme!r}: use one of {', '.join(QA_NORMALIZATIONS)}")
    if scheme == "mlqa" and lang in MLQA_LANGUAGES:
        return "mlqa", functools.partial(normalize_mlqa, lang=lang)
    return "squad-v1.1", normalize_squad


def _f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


class _NormalizedQAMetric(Metric):
    """Exact match / F1 after the answer language's normalization, max over gold answers."""

    needs_lang = True

    def __init__(self, normalization: str | None = None) -> None:
        if normalization is not None and normalization not in QA_NORMALIZATIONS:
            raise InputError(
                f"{self.name}: normalization={normalization!r}; use one of {', '.join(QA_NORMALIZATIONS)} "
                "(or none: the language's own, Language.qa_normalization)"
            )
        self.normalization = normalization

    def _normalizer(self, lang: str) -> tuple[str, Callable[[str], str]]:
        scheme = self.normalization or get_language(lang).qa_normalization
        return normalizer_for(lang, scheme)

    @abstractmethod
    def _pair(self, prediction: str, gold: str) -> float:
        """The score of one normalized prediction against one normalized gold answer."""

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        _, normalize = self._normalizer(lang)
        scores = []
        for prediction, golds in zip(hypotheses, references, strict=True):
            pred = normalize(prediction)
            scores.append(max(self._pair(pred, normalize(gold)) for gold in golds))
        return scores

    def signature(self) -> Signature:
        return Signature.of(self.name, ("norm", self.normalization or "language"), "max-over-golds")

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.signature = Signature.of(
            self.name, ("lang", lang), ("norm", self._normalizer(lang)[0]), "max-over-golds"
        )
        return result


class ExactMatch(_NormalizedQAMetric):
    """The normalized prediction equals a normalized gold answer."""

    name = "exact_match"
    title = "exact match"
    binary = True
    """Every item scores 0 or 1 (xllm_harness.analysis.significance: McNemar, Wilson intervals)."""

    def _pair(self, prediction: str, gold: str) -> float:
        return float(prediction == gold)


class F1(_NormalizedQAMetric):
    """Token F1 between the normalized prediction and a normalized gold answer."""

    name = "f1"
    title = "F1"

    def _pair(self, prediction: str, gold: str) -> float:
        return _f1(prediction.split(), gold.split())


class Match(Metric):
    """x-LLM's containment check: a lowercased gold answer occurs in the lowercased output.

    ``golds="all"`` (default) takes any gold answer; ``golds="first"`` is x-LLM's exact rule,
    ``answers[0].strip().lower() in prediction.lower()``.
    """

    name = "match"
    title = "match (x-LLM)"
    binary = True
    """Every item scores 0 or 1 (xllm_harness.analysis.significance: McNemar, Wilson intervals)."""

    def __init__(self, golds: str = "all") -> None:
        if golds not in MATCH_GOLDS:
            raise InputError(f"match: golds={golds!r}; use one of {', '.join(MATCH_GOLDS)}")
        self.golds = golds

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        if self.golds == "first":
            return [
                float(refs[0].strip().lower() in h.lower())
                for h, refs in zip(hypotheses, references, strict=True)
            ]
        return [
            float(any(g.lower() in h.lower() for g in refs))
            for h, refs in zip(hypotheses, references, strict=True)
        ]

    def signature(self) -> Signature:
        rule = ("x-llm", "answers[0].strip()") if self.golds == "first" else "max-over-golds"
        return Signature.of(self.name, "lowercase-containment", rule)


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Match, ExactMatch, F1]
