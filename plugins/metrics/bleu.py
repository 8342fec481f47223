"""String-overlap translation metrics from sacrebleu: spBLEU (FLORES-101) and chrF++.

- ``spbleu``: ``sacrebleu.BLEU(tokenize="flores101", effective_order=True)`` (x-LLM's setting). The
  SentencePiece model is sacrebleu's own: it downloads it on first use into
  ``$SACREBLEU/models/sacrebleu_tokenizer_spm.model`` (``~/.sacrebleu`` when ``SACREBLEU`` is unset);
  offline, provision that file (docs/offline-models.md).
- ``chrf``: chrF++ (``sacrebleu.CHRF(word_order=2)``).

Scores are sacrebleu's (0–100); the signature is sacrebleu's own signature string.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metric_models import MissingMetricModelError, offline
from xllm_harness.metrics import Metric, MetricResult

SPM_URL = "https://dl.fbaipublicfiles.com/fairseq/models/flores/sacrebleu_tokenizer_spm.model"


def spm_model_path() -> Path:
    """Where sacrebleu looks for the FLORES-101 SentencePiece model (its own location logic)."""
    from sacrebleu.tokenizers import tokenizer_spm

    return Path(tokenizer_spm.SACREBLEU_DIR) / "models" / os.path.basename(SPM_URL)


def _missing_spm(reason: str) -> MissingMetricModelError:
    path = spm_model_path()
    return MissingMetricModelError(
        f"spbleu needs sacrebleu's FLORES-101 SentencePiece model at {path} ({reason}). "
        f"Download {SPM_URL} on a machine with internet and copy it to exactly that path "
        "(the folder is $SACREBLEU/models, ~/.sacrebleu/models when SACREBLEU is unset); "
        "see docs/offline-models.md."
    )


def _check(hypotheses: Sequence[str], references: Sequence[Sequence[str]], name: str) -> list[list[str]]:
    if not hypotheses:
        raise InputError(f"{name}: no hypotheses to score")
    if len(hypotheses) != len(references):
        raise InputError(f"{name}: {len(hypotheses)} hypotheses but {len(references)} references")
    counts = {len(r) for r in references}
    if len(counts) != 1:
        raise InputError(
            f"{name}: every hypothesis needs the same number of references, got {sorted(counts)}"
        )
    # sacrebleu wants one stream per reference position
    return [[refs[k] for refs in references] for k in range(counts.pop())]


class SpBLEU(Metric):
    """Corpus spBLEU: BLEU over FLORES-101 SentencePiece pieces, effective order (as x-LLM)."""

    name = "spbleu"

    def __init__(self, tokenize: str = "flores101", effective_order: bool = True) -> None:
        self.tokenize = tokenize
        self.effective_order = effective_order

    def _bleu(self):
        from sacrebleu.metrics import BLEU

        if self.tokenize in ("flores101", "spm") and not spm_model_path().exists() and offline():
            raise _missing_spm("file absent and offline mode is on")
        try:
            return BLEU(tokenize=self.tokenize, effective_order=self.effective_order)
        except (OSError, SystemExit) as err:  # sacrebleu's download failed
            raise _missing_spm(f"download failed: {err}") from None

    def signature(self) -> str:
        return str(self._bleu().get_signature())

    def corpus_score(self, hypotheses, references, sources=None, lang=None) -> MetricResult:
        streams = _check(hypotheses, references, self.name)
        bleu = self._bleu()
        result = bleu.corpus_score(list(hypotheses), streams)
        return MetricResult(
            self.name,
            float(result.score),
            str(bleu.get_signature()),
            {
                "bp": result.bp,
                "precisions": result.precisions,
                "sys_len": result.sys_len,
                "ref_len": result.ref_len,
            },
        )


class ChrFPlusPlus(Metric):
    """Corpus chrF++: character 6-grams plus word bigrams (sacrebleu ``CHRF(word_order=2)``)."""

    name = "chrf"

    def __init__(self, word_order: int = 2) -> None:
        self.word_order = word_order

    def signature(self) -> str:
        from sacrebleu.metrics import CHRF

        return str(CHRF(word_order=self.word_order).get_signature())

    def corpus_score(self, hypotheses, references, sources=None, lang=None) -> MetricResult:
        from sacrebleu.metrics import CHRF

        streams = _check(hypotheses, references, self.name)
        chrf = CHRF(word_order=self.word_order)
        result = chrf.corpus_score(list(hypotheses), streams)
        return MetricResult(self.name, float(result.score), str(chrf.get_signature()))


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [SpBLEU, ChrFPlusPlus]
