"""MetricX-24 inputs as Google's ``metricx24/predict.py`` builds them, and length-bucketed batches.

- text: ``"source: {src} candidate: {hyp} reference: {ref}"`` (reference-based) or
  ``"source: {src} candidate: {hyp}"`` (QE); fields are used verbatim (no stripping);
- tokens: the mT5 tokenizer with truncation to ``max_input_length`` (1536, the length the models
  were trained with); the tokenizer's final token (EOS) is then dropped, as Google's code does.
  The tokenizer is the fast one Google's environment builds from ``spiece.model`` (transformers
  4.x's converter): runs of spaces collapse to one, and whitespace is kept as ``▁`` pieces, so an
  input ending in a space ends in a ``▁`` token. transformers 5 builds it with a whitespace split
  that drops such spaces; :func:`match_reference_tokenizer` restores the reference pipeline;
- batches: segments sorted by token count so a batch pads to a similar length, scores returned in
  input order. Padding is masked, so a segment's score does not depend on its batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from xllm_harness.errors import InputError

MAX_INPUT_LENGTH = 1536
"""The input length MetricX-24 was trained with (Google's README: longer may behave unpredictably)."""


def input_text(source: str, hypothesis: str, reference: str | None) -> str:
    """One model input; ``reference=None`` gives the QE form."""
    text = "source: " + source + " candidate: " + hypothesis
    return text if reference is None else text + " reference: " + reference


def match_reference_tokenizer(tokenizer) -> None:
    """Give ``tokenizer`` (transformers 5, mT5) the normalizer and pre-tokenizer of Google's reference
    environment: SentencePiece's precompiled normalization, then ``" {2,}"`` → ``" "``; Metaspace
    with a prefix ``▁`` and no whitespace split. The vocabulary and the Unigram model are unchanged."""
    from tokenizers import Regex, normalizers, pre_tokenizers

    backend = tokenizer.backend_tokenizer
    state = json.loads(backend.to_str())
    found = state["normalizer"] or {}
    steps = found.get("normalizers", [found])
    charsmap = next((n["precompiled_charsmap"] for n in steps if n.get("type") == "Precompiled"), None)
    if charsmap is None:
        raise InputError(
            f"MetricX tokenizer {getattr(tokenizer, 'name_or_path', '')}: no SentencePiece normalization "
            "in it; supported: the mT5 SentencePiece tokenizer (google/mt5-<size>)"
        )
    backend.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(base64.b64decode(charsmap)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    backend.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always", split=True
    )


def token_ids(tokenizer, texts: Sequence[str], max_input_length: int = MAX_INPUT_LENGTH) -> list[list[int]]:
    """Token ids per text: truncated to ``max_input_length`` with EOS, then the last token dropped."""
    encoded = tokenizer(list(texts), max_length=max_input_length, truncation=True, padding=False)
    return [ids[:-1] for ids in encoded["input_ids"]]


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most ``batch_size``, longest first (memory peaks early)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
