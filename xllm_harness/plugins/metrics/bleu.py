"""String-overlap translation metrics from sacrebleu: spBLEU and chrF++.

- ``spbleu``: ``sacrebleu.BLEU(tokenize="flores101", effective_order=True)`` (x-LLM's setting, the
  FLORES-101 paper's SentencePiece model). ``tokenize=`` picks another of sacrebleu 2.6's SentencePiece
  tokenizers (:data:`SPM_TOKENIZERS`), and two names fix it: ``spbleu200`` (``flores200``, NLLB's
  FLORES-200 model) and ``spbleu1k`` (``spBLEU-1K``, the 1,000-language model). The signature names
  the tokenizer (``tok:flores101``, ``tok:flores200``, ``tok:spBLEU-1K``). Each model is sacrebleu's
  own download, into ``$SACREBLEU/models/<file>`` (``~/.sacrebleu`` when ``SACREBLEU`` is unset);
  offline, provision that file (:func:`~xllm_harness.models.metric_models.spm_model_path`, docs/offline-models.md).
- ``chrf``: chrF++ (``sacrebleu.CHRF(word_order=2)``).

Corpus scores and signatures are sacrebleu's own (0–100). For resampling, the per-segment sufficient
statistics are sacrebleu's (``_extract_corpus_statistics``) and :meth:`score_from_statistics`
recomputes sacrebleu's corpus formula from their sums, vectorised over resamples.
"""

from __future__ import annotations

import functools

import numpy as np

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric, MetricResult, Signature
from xllm_harness.models.metric_models import MissingMetricModelError, offline, spm_model_path, spm_url

SPM_TOKENIZERS = ("flores101", "flores200", "spBLEU-1K")
"""sacrebleu's SentencePiece tokenizers (its ``spm`` is an old alias of ``flores101``)."""


def bleu_tokenizers() -> list[str]:
    """Every ``tokenize=`` sacrebleu's BLEU knows (``13a``, ``intl``... and the SentencePiece ones)."""
    from sacrebleu.metrics.bleu import _TOKENIZERS

    return list(_TOKENIZERS)


MAX_NGRAM_ORDER = 4
SPM_DIR = "${SACREBLEU:-$HOME/.sacrebleu}/models"
"""The folder of spm_model_path() as a shell expression (for the one-line fix)."""


def _missing_spm(tokenize: str, reason: str) -> MissingMetricModelError:
    path = spm_model_path(tokenize)
    return MissingMetricModelError(
        f"spBLEU (tokenize={tokenize}) needs sacrebleu's SentencePiece model at {path} ({reason}). "
        f"Download {spm_url(tokenize)} on a machine with internet and copy it to exactly that path "
        "(the folder is $SACREBLEU/models, ~/.sacrebleu/models when SACREBLEU is unset); "
        "see docs/offline-models.md.",
        fix=f'curl --create-dirs -Lo "{SPM_DIR}/{spm_model_path(tokenize).name}" {spm_url(tokenize)}',
    )


def _streams(references: list[list[str]]) -> list[list[str | None]]:
    """sacrebleu's layout: one stream per reference position (``None`` where a segment has fewer)."""
    width = max(len(refs) for refs in references)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]


def _ordered_sum(columns: np.ndarray) -> np.ndarray:
    """Sum over the last axis left to right, as sacrebleu's Python loops add (bit-identical)."""
    total = np.zeros(columns.shape[:-1])
    for k in range(columns.shape[-1]):
        total = total + columns[..., k]
    return total


def _make_bleu(tokenize: str, effective_order: bool, spm_state: tuple | None = None):
    from sacrebleu.metrics import BLEU

    spm = tokenize in SPM_TOKENIZERS or tokenize == "spm"
    if spm and not spm_model_path(tokenize).exists() and offline():
        raise _missing_spm(tokenize, "file absent and offline mode is on")
    try:
        return BLEU(tokenize=tokenize, effective_order=effective_order)
    except (OSError, SystemExit) as err:  # sacrebleu's download failed
        raise _missing_spm(tokenize, f"download failed: {err}") from None


def _make_chrf(word_order: int):
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=word_order)


MAKERS = {"bleu": _make_bleu, "chrf": _make_chrf}


@functools.lru_cache(maxsize=8)
def _with_references(kind: str, options: tuple, streams: tuple[tuple[str | None, ...], ...]):
    """A sacrebleu metric object (``MAKERS[kind](*options)``) with ``streams`` preprocessed once: the
    references' n-grams are shared by every system scored against them (``xllm compare`` scores two).
    Bounded and keyed by content, so no result depends on what was scored before."""
    metric = MAKERS[kind](*options)
    metric._ref_cache = metric._cache_references(streams)
    return metric


def _stats(kind: str, options: tuple, hypotheses: list[str], references: list[list[str]]):
    """``(sacrebleu object, per-segment statistics)`` of ``hypotheses`` against ``references``."""
    metric = _with_references(kind, options, tuple(tuple(s) for s in _streams(references)))
    return metric, metric._extract_corpus_statistics(hypotheses, None)


class SpBLEU(Metric):
    """Corpus spBLEU: BLEU over SentencePiece pieces (FLORES-101 by default), effective order (as x-LLM)."""

    name = "spbleu"
    title = "spBLEU"
    statistic = "corpus"
    default_tokenize = "flores101"

    def __init__(self, tokenize: str | None = None, effective_order: bool = True) -> None:
        tokenize = tokenize or self.default_tokenize
        if tokenize not in bleu_tokenizers():
            raise InputError(
                f"{self.name}: unknown tokenize={tokenize!r}; supported: {', '.join(bleu_tokenizers())} "
                f"(spBLEU's SentencePiece ones: {', '.join(SPM_TOKENIZERS)})"
            )
        self.tokenize = tokenize
        self.effective_order = effective_order

    def check_available(self) -> None:
        self._bleu()

    def _bleu(self):
        return _make_bleu(*self._options())

    def _options(self) -> tuple:
        """What the sacrebleu object depends on, the SentencePiece file's state included (a cached
        object never outlives the model file it tokenizes with)."""
        if self.tokenize not in SPM_TOKENIZERS and self.tokenize != "spm":
            return self.tokenize, self.effective_order, None
        path = spm_model_path(self.tokenize)
        state = (str(path), path.stat().st_mtime_ns) if path.exists() else None
        return self.tokenize, self.effective_order, state

    def signature(self) -> Signature:
        return Signature.parse(str(self._bleu().get_signature()))

    def segment_statistics(self, hypotheses, references, sources, lang) -> np.ndarray:
        """Per segment: ``[hyp_len, ref_len, correct_1..4, total_1..4]`` (sacrebleu's layout)."""
        return np.asarray(_stats("bleu", self._options(), hypotheses, references)[1])

    def score_from_statistics(self, totals: np.ndarray, n: int) -> np.ndarray:
        """sacrebleu's ``BLEU.compute_bleu`` (``exp`` smoothing) on summed statistics, per row."""
        totals = np.asarray(totals, dtype=np.float64)
        rows = np.atleast_2d(totals)
        sys_len, ref_len = rows[:, 0], rows[:, 1]
        correct = rows[:, 2 : 2 + MAX_NGRAM_ORDER]
        total = rows[:, 2 + MAX_NGRAM_ORDER : 2 + 2 * MAX_NGRAM_ORDER]
        with np.errstate(divide="ignore", invalid="ignore"):
            bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
            alive = np.ones(len(rows), dtype=bool)  # no order with zero n-grams seen yet
            smooth = np.ones(len(rows))
            order = np.full(len(rows), MAX_NGRAM_ORDER)
            logs = np.zeros_like(correct)
            for k in range(MAX_NGRAM_ORDER):
                alive &= total[:, k] > 0
                if self.effective_order:
                    order = np.where(alive, k + 1, order)
                unmatched = correct[:, k] == 0
                smooth = np.where(alive & unmatched, smooth * 2, smooth)
                precision = np.where(
                    unmatched, 100.0 / (smooth * total[:, k]), 100.0 * correct[:, k] / total[:, k]
                )
                precision = np.where(alive, precision, 0.0)
                logs[:, k] = np.where(precision == 0.0, -9999999999.0, np.log(precision))
            used = np.arange(MAX_NGRAM_ORDER)[None, :] < order[:, None]
            score = bp * np.exp(_ordered_sum(np.where(used, logs, 0.0)) / order)
        score = np.where(correct.any(axis=1), score, 0.0)
        return score if totals.ndim == 2 else score[0]

    def _score_and_statistics(self, hypotheses, references, sources, lang):
        """One sacrebleu object extracts the statistics and scores their sums: sacrebleu's own number."""
        bleu, stats = _stats("bleu", self._options(), hypotheses, references)
        result = bleu._aggregate_and_compute(stats)
        extra = {
            "bp": result.bp,
            "precisions": result.precisions,
            "sys_len": result.sys_len,
            "ref_len": result.ref_len,
        }
        score = MetricResult(self.name, float(result.score), str(bleu.get_signature()), extra)
        return score, np.asarray(stats, dtype=np.float64)


class SpBLEU200(SpBLEU):
    """spBLEU with the FLORES-200 SentencePiece model (``tok:flores200``)."""

    name = "spbleu200"
    default_tokenize = "flores200"


class SpBLEU1K(SpBLEU):
    """spBLEU with the 1,000-language SentencePiece model of sacrebleu 2.6 (``tok:spBLEU-1K``)."""

    name = "spbleu1k"
    default_tokenize = "spBLEU-1K"


class ChrFPlusPlus(Metric):
    """Corpus chrF++: character 6-grams plus word bigrams (sacrebleu ``CHRF(word_order=2)``)."""

    name = "chrf"
    title = "chrF++"
    statistic = "corpus"

    def __init__(self, word_order: int = 2) -> None:
        self.word_order = word_order

    def _chrf(self):
        return _make_chrf(self.word_order)

    def signature(self) -> Signature:
        return Signature.parse(str(self._chrf().get_signature()))

    def segment_statistics(self, hypotheses, references, sources, lang) -> np.ndarray:
        """Per segment and n-gram order: ``[hyp count, ref count, matches]`` (sacrebleu's layout)."""
        return np.asarray(_stats("chrf", (self.word_order,), hypotheses, references)[1])

    def score_from_statistics(self, totals: np.ndarray, n: int) -> np.ndarray:
        """sacrebleu's ``CHRF._compute_f_score`` (no eps smoothing, beta 2) on summed statistics."""
        chrf = self._chrf()
        totals = np.asarray(totals, dtype=np.float64)
        rows = np.atleast_2d(totals)
        eps, factor = 1e-16, chrf.beta**2
        hyp, ref, match = rows[:, 0::3], rows[:, 1::3], rows[:, 2::3]
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(hyp > 0, match / hyp, eps)
            rec = np.where(ref > 0, match / ref, eps)
            counted = (hyp > 0) & (ref > 0)
            order = counted.sum(axis=1)
            avg_prec = np.where(order > 0, _ordered_sum(np.where(counted, prec, 0.0)) / order, 0.0)
            avg_rec = np.where(order > 0, _ordered_sum(np.where(counted, rec, 0.0)) / order, 0.0)
            score = (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
        score = np.where(avg_prec + avg_rec != 0, 100 * score, 0.0)
        return score if totals.ndim == 2 else score[0]

    def _score_and_statistics(self, hypotheses, references, sources, lang):
        """One sacrebleu object extracts the statistics and scores their sums: sacrebleu's own number."""
        chrf, stats = _stats("chrf", (self.word_order,), hypotheses, references)
        result = chrf._aggregate_and_compute(stats)
        score = MetricResult(self.name, float(result.score), str(chrf.get_signature()))
        return score, np.asarray(stats, dtype=np.float64)


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [SpBLEU, SpBLEU200, SpBLEU1K, ChrFPlusPlus]
