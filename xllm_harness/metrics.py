"""The metric contract shared by tasks, ``xllm score``, ``xllm compare`` and the leaderboard.

A metric is a small class in the spirit of sacrebleu's ``metrics/``: :meth:`Metric.corpus_score`
takes hypotheses and references (one list of gold strings per hypothesis) and returns a
:class:`MetricResult` whose :class:`Signature` records everything needed to reproduce the number;
:meth:`Metric.sentence_score` scores one segment where that exists. Argument checks live here, in
the base class, so every metric refuses the same bad input with the same message.

A metric owns its facts, so no table of them exists elsewhere: its ``title`` in tables, the
``table_scale`` tables show it on, its direction (``higher_is_better``) and whether it ``loads_model``
(such metrics are opt-in inside lm-eval and recomputed by ``xllm compare`` only when asked for).

For resampling (paired bootstrap in ``xllm compare``, intervals in the leaderboard) a metric also
exposes per-segment *statistics* and the score computed from their column sums:

- ``statistic = "mean"`` (QA metrics, COMET, BLEURT): one column per segment, the segment score;
  the corpus score is their mean;
- ``statistic = "corpus"`` (spBLEU, chrF++, ``off_target``): sufficient statistics (n-gram matches and totals...)
  whose sums give the corpus score, as sacrebleu's own ``--paired-bs`` recomputes it.

Plugins contribute metric classes through the ``xllm_metrics`` hook.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from xllm_harness.errors import InputError, unknown_name
from xllm_harness.registry import get_registry

COVERAGE_FIELD = "outside-model-languages"
"""Signature field naming the hypotheses' language when the metric's model was not trained on it."""


class NotComputable(InputError):
    """The metric gives no number for these outputs (e.g. none of them can be identified); callers
    record the metric as missing with this reason, never as a number."""


SCALE_FIELD = "scale"
"""Signature field giving the scale of the recorded value (``scale:100``: COMET ×100)."""


@dataclass(frozen=True, eq=False)
class Signature:
    """How a score was computed, as key/value fields (a field without a value is a flag, e.g.
    ``max-over-golds``). :meth:`render` gives sacrebleu's string form ``key:value|key:value``, which is
    what files store; :meth:`parse` reads that form back (also from files written before this class).

    A signature equals its rendered string, and ``text in signature`` looks in the rendered string."""

    fields: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def of(cls, *fields: str | tuple[str, Any]) -> Signature:
        """``Signature.of("off_target", ("lang", "en"))``: bare flags and (key, value) pairs, in order."""
        return cls(
            tuple(
                (f, None) if isinstance(f, str) else (str(f[0]), None if f[1] is None else str(f[1]))
                for f in fields
            )
        )

    @classmethod
    def parse(cls, text: str | Signature | None) -> Signature:
        """The fields of a stored signature string (the inverse of :meth:`render`)."""
        if isinstance(text, Signature):
            return text
        if not text:
            return cls()
        fields = []
        for part in str(text).split("|"):
            key, sep, value = part.partition(":")
            fields.append((key, value if sep else None))
        return cls(tuple(fields))

    def render(self) -> str:
        return "|".join(key if value is None else f"{key}:{value}" for key, value in self.fields)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of field ``key`` (the last one if repeated), else ``default``."""
        found = [value for k, value in self.fields if k == key and value is not None]
        return found[-1] if found else default

    def with_field(self, key: str, value: Any) -> Signature:
        """This signature with ``key:value`` appended (replacing an earlier value of ``key``)."""
        return Signature((*(f for f in self.fields if f[0] != key), (key, str(value))))

    def scale(self) -> float | None:
        """The declared scale of the recorded value (``scale:N``, positive), or ``None``."""
        try:
            value = float(self.get(SCALE_FIELD) or "nan")
        except ValueError:
            return None
        return value if value > 0 and value < float("inf") else None

    def __str__(self) -> str:
        return self.render()

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Signature):
            return self.fields == other.fields
        if isinstance(other, str):
            return self.render() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.render())

    def __contains__(self, text: str) -> bool:
        return text in self.render()


@dataclass
class MetricResult:
    """One score and the signature that says how it was computed."""

    name: str
    score: float
    signature: Signature = field(default_factory=Signature)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signature = Signature.parse(self.signature)


class Metric(ABC):
    """Base class of every metric: subclasses set ``name`` and implement :meth:`segment_statistics`
    (and :meth:`score_from_statistics` when ``statistic == "corpus"``) and :meth:`signature`."""

    name: ClassVar[str]
    statistic: ClassVar[str] = "mean"
    """``mean`` (corpus score = mean of segment scores) or ``corpus`` (from summed statistics)."""
    needs_lang: ClassVar[bool] = False
    """The metric needs the language of the hypotheses (``lang=``)."""
    needs_sources: ClassVar[bool] = False
    """The metric needs the source segments (``sources=``), e.g. COMET."""
    higher_is_better: ClassVar[bool] = True
    """The direction of the score: False for error scores such as MetricX (0 best, 25 worst)."""
    languages: ClassVar[frozenset[str] | None] = None
    """Model-based metrics: the language codes their encoder was trained on (``None``: no model, any
    language); a language outside them is scored with a warning (:meth:`coverage_warning`)."""
    languages_source: ClassVar[str] = ""
    """Where ``languages`` comes from (a paper or model card), shown in the warning."""
    title: ClassVar[str] = ""
    """The metric's name in tables (``chrF++``); default: ``name``."""
    table_scale: ClassVar[float | None] = None
    """The scale tables show the metric on (COMET, BLEURT: 100). A recorded value must then declare
    its own scale in its signature (``scale:N``) and is shown as ``value × table_scale / N``; ``None``:
    shown as recorded."""
    loads_model: ClassVar[bool] = False
    """The metric runs a neural model (COMET, BLEURT, MetricX): opt-in inside lm-eval, next to the
    evaluated model; ``xllm compare`` reuses the statistics ``xllm score`` recorded unless asked."""
    model_env: ClassVar[str] = ""
    """The environment variable naming the metric's model (``XLLM_COMET_MODEL``), read only by
    :meth:`configured_model`."""
    families: ClassVar[tuple[str, ...]] = ()
    """Task families this metric joins beyond their own list (``("flores_xllm",)``): a plugin metric
    named here is computed by the family's tasks, ``xllm score``, ``xllm compare`` and the leaderboard's
    tables (:func:`xllm_harness.taskgen.family_metrics`)."""

    @classmethod
    def scored_per_document(cls) -> bool:
        """Inside lm-eval, scored in each document's ``process_results`` and averaged by lm-eval (a mean
        of segment scores that loads no model: QA ``match``); else the segments go to one corpus
        aggregation (spBLEU, chrF++, ``off_target``, COMET in batches)."""
        return cls.statistic == "mean" and not cls.loads_model

    @classmethod
    def configured_model(cls, given: str | None = None) -> str | None:
        """The model asked for: ``given`` (an option), else :attr:`model_env`'s value, else ``None``
        (the metric's default). The one reader of the metric model variables."""
        return given or (os.environ.get(cls.model_env) if cls.model_env else None) or None

    @classmethod
    def display_title(cls) -> str:
        """:attr:`title`, else :attr:`name`."""
        return cls.title or cls.name

    # --- the public API: argument checks, then the subclass's computation -------------------

    def corpus_score(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> MetricResult:
        """The corpus-level score of ``hypotheses`` against ``references``."""
        return self.score_with_statistics(hypotheses, references, sources, lang)[0]

    def score_with_statistics(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> tuple[MetricResult, np.ndarray]:
        """The corpus result and the ``(N, K)`` per-segment statistics behind it, computed once (what
        ``xllm score`` stores so that intervals and ``xllm compare`` never rerun a model)."""
        self._check(hypotheses, references, sources, lang)
        result, stats = self._score_and_statistics(
            list(hypotheses), [list(r) for r in references], sources, lang
        )
        outside = self.uncovered([lang])
        if outside:  # scored, and the signature says where the model was not trained
            result.signature = Signature.parse(result.signature).with_field(COVERAGE_FIELD, ",".join(outside))
        return result, stats

    def sentence_score(
        self,
        hypothesis: str,
        references: Sequence[str],
        source: str | None = None,
        lang: str | None = None,
    ) -> MetricResult:
        """The score of one segment (for ``statistic == "corpus"`` metrics: sacrebleu's sentence score)."""
        sources = None if source is None else [source]
        return self.corpus_score([hypothesis], [references], sources, lang)

    def statistics(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> np.ndarray:
        """Per-segment statistics, shape ``(N, K)``, for resampling; see the module docstring."""
        self._check(hypotheses, references, sources, lang)
        return self._statistics(list(hypotheses), [list(r) for r in references], sources, lang)

    # --- what subclasses implement -------------------------------------------------------------

    @abstractmethod
    def segment_statistics(
        self,
        hypotheses: list[str],
        references: list[list[str]],
        sources: Sequence[str] | None,
        lang: str | None,
    ) -> np.ndarray | Sequence[float] | Sequence[Sequence[float]]:
        """``(N, K)`` statistics (or ``N`` segment scores when ``statistic == "mean"``).

        Called with checked arguments: as many reference lists as hypotheses, each non-empty;
        ``sources`` and ``lang`` present when the metric declares it needs them.
        """

    def score_from_statistics(self, totals: np.ndarray, n: int) -> np.ndarray:
        """Scores from column sums ``totals`` (shape ``(B, K)`` or ``(K,)``) over ``n`` segments.

        Vectorised over the leading axis (one row per bootstrap resample). ``mean`` metrics divide
        their one column by ``n``; ``corpus`` metrics override this with their formula.
        """
        if self.statistic != "mean":
            raise NotImplementedError(f"{self.name}: corpus metrics implement score_from_statistics")
        return np.asarray(totals, dtype=np.float64)[..., 0] / n

    @classmethod
    def uncovered(cls, langs: Iterable[str | None]) -> list[str]:
        """The languages of ``langs`` outside :attr:`languages` (none for metrics without a model). A code
        matches by its primary subtag (``zh_hant`` → ``zh``)."""
        if cls.languages is None:
            return []
        return sorted({lang for lang in langs if lang and _primary(lang) not in cls.languages})

    @classmethod
    def coverage_warning(cls, langs: Iterable[str | None]) -> str | None:
        """A warning naming the languages of ``langs`` outside :attr:`languages`, or ``None``."""
        outside = cls.uncovered(langs)
        if not outside:
            return None
        return (
            f"{cls.name}: {', '.join(outside)} not among the {len(cls.languages or ())} languages its model "
            f"was trained on ({cls.languages_source}); the score is less reliable there"
        )

    def segment_details(self, result: MetricResult) -> list[dict[str, Any]] | None:
        """Per segment, what a metric reports beyond the score (XCOMET: error spans), from ``result`` of
        :meth:`score_with_statistics`; ``None`` when it reports nothing more."""
        return None

    def check_available(self) -> None:
        """Raise :class:`~xllm_harness.models.metric_models.MissingMetricModelError` when the backend or
        model is missing. Cheap (no model is loaded); tasks call it before generation starts."""
        return None

    @abstractmethod
    def signature(self) -> Signature | str:
        """Everything needed to reproduce a score: metric, version, tokenizer, model... (a
        :class:`Signature`; a string in its rendered form is read with :meth:`Signature.parse`)."""

    def signed(self) -> Signature:
        """:meth:`signature` as a :class:`Signature`, whatever the subclass returned."""
        return Signature.parse(self.signature())

    def _score_and_statistics(
        self,
        hypotheses: list[str],
        references: list[list[str]],
        sources: Sequence[str] | None,
        lang: str | None,
    ) -> tuple[MetricResult, np.ndarray]:
        """Statistics, then the result from them; a metric whose backend computes both at once (sacrebleu)
        overrides this so the corpus number is the backend's own."""
        stats = self._statistics(hypotheses, references, sources, lang)
        return self._result_from_statistics(stats, lang), stats

    def _result_from_statistics(self, stats: np.ndarray, lang: str | None) -> MetricResult:
        """The corpus result from per-segment statistics: the score of their column sums."""
        score = float(self.score_from_statistics(stats.sum(axis=0), len(stats)))
        return MetricResult(self.name, score, self.signed())

    def _statistics(
        self,
        hypotheses: list[str],
        references: list[list[str]],
        sources: Sequence[str] | None,
        lang: str | None,
    ) -> np.ndarray:
        stats = np.asarray(self.segment_statistics(hypotheses, references, sources, lang), dtype=np.float64)
        if stats.ndim == 1:
            stats = stats[:, None]
        if stats.ndim != 2 or stats.shape[0] != len(hypotheses):
            raise RuntimeError(
                f"{self.name}: statistics of shape {stats.shape} for {len(hypotheses)} segments"
            )
        return stats

    # --- argument checks ---------------------------------------------------------------------

    def _check(
        self,
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
        sources: Sequence[str] | None,
        lang: str | None,
    ) -> None:
        if isinstance(hypotheses, str) or isinstance(references, str):
            raise TypeError(f"{self.name}: hypotheses and references are sequences, not one string")
        if not hypotheses:
            raise InputError(f"{self.name}: no hypotheses to score")
        if len(hypotheses) != len(references):
            raise InputError(
                f"{self.name}: {len(hypotheses)} hypotheses but {len(references)} reference lists"
            )
        for i, (hyp, refs) in enumerate(zip(hypotheses, references, strict=True)):
            if not isinstance(hyp, str):
                raise TypeError(f"{self.name}: hypothesis {i} is {type(hyp).__name__}, not a string")
            if isinstance(refs, str) or not refs or not all(isinstance(r, str) for r in refs):
                raise InputError(f"{self.name}: segment {i} needs a non-empty list of reference strings")
        if self.needs_sources and sources is None:  # e.g. QA outputs: recorded as not scored, per task
            raise NotComputable(
                f"{self.name} needs the source segments; these outputs have no source segments"
            )
        if self.needs_sources and len(sources or ()) != len(hypotheses):
            raise InputError(f"{self.name} needs one source segment per hypothesis (sources=...)")
        if self.needs_lang and not lang:
            raise InputError(f"{self.name} needs the language of the hypotheses (lang=...)")


def require_finite(name: str, score: float, stats: np.ndarray | None = None) -> None:
    """A score (and its statistics) that is not a finite number is no number: :class:`NotComputable`,
    so it is recorded as missing with this reason, never written as ``NaN``."""
    if not isinstance(score, (int, float)) or not math.isfinite(score):
        raise NotComputable(f"{name} gave {score!r}, not a finite number; the score is missing")
    if stats is not None and not np.all(np.isfinite(stats)):
        values = np.asarray(stats, dtype=np.float64).reshape(len(stats), -1)
        bad = int(np.count_nonzero((~np.isfinite(values)).any(axis=1)))
        raise NotComputable(
            f"{name} gave statistics that are not finite numbers for {bad} document(s); the score is missing"
        )


def _primary(code: str) -> str:
    return code.lower().replace("-", "_").split("_")[0]


def get_metrics() -> dict[str, type[Metric]]:
    """Registered metric classes by name."""
    return get_registry().named(
        "xllm_metrics", "metric", lambda x: isinstance(x, type) and issubclass(x, Metric), "a Metric subclass"
    )


def get_metric(name: str) -> type[Metric]:
    """One registered metric class, or an error with a "did you mean"."""
    metrics = get_metrics()
    if name not in metrics:
        hint = "A plugin adds one through the xllm_metrics hook."
        off = [f"{p.name} ({p.error})" for p in get_registry().plugins if p.error]
        if off:
            hint += f" Plugins not loaded: {'; '.join(off)} (`xllm plugins` shows them)."
        raise unknown_name("metric", name, metrics, hint)
    return metrics[name]
