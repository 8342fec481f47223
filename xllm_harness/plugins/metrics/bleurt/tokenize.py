"""BLEURT's pair encoding, ``[CLS] reference [SEP] candidate [SEP]``, as bleurt-pytorch 0.0.1 tokenizes.

bleurt-pytorch reads a SentencePiece ``spm.model`` with transformers 4's *slow* ``DebertaV2Tokenizer``
and WordPiece files with ``BertTokenizerFast``. transformers 5 builds SentencePiece tokenizers
differently at the edges (empty and whitespace-only text, ``▁``, special tokens), so we do not go through
it: SentencePiece is driven directly with the slow tokenizer's rules (split out special-token strings,
encode each piece of text, truncate ``longest_first`` by its arithmetic), and WordPiece through the
``tokenizers`` library exactly as ``BertTokenizerFast`` configures it. Equality of the token ids is
tested against bleurt-pytorch's own on FLORES lines and edge texts (tests/fixtures/bleurt/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

Encoded = tuple[list[int], list[int]]
"""(input ids, token type ids) of one pair."""

DEFAULT_SPECIALS = {
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "mask_token": "[MASK]",
}


class PairEncoder(Protocol):
    pad_id: int

    def encode_pairs(self, references: list[str], candidates: list[str], max_length: int) -> list[Encoded]:
        """Token ids and token type ids of each (reference, candidate) pair, truncated to ``max_length``."""


def _token_content(value: Any) -> str | None:
    return value.get("content") if isinstance(value, dict) else value


def _specials(config: dict[str, Any]) -> dict[str, str]:
    return {k: _token_content(config.get(k)) or v for k, v in DEFAULT_SPECIALS.items()}


def longest_first(first: list[int], second: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Truncate a pair to ``budget`` tokens as transformers 4's slow tokenizers do (``longest_first``):
    the longer side loses tokens until both are equal, then the first loses half the rest (rounded
    down) and the second the other half, all from the right."""
    remove = len(first) + len(second) - budget
    if remove <= 0:
        return first, second
    unequal = min(abs(len(first) - len(second)), remove)
    even = remove - unequal
    if len(first) > len(second):
        cut_first, cut_second = unequal + even // 2, even - even // 2
    else:
        cut_first, cut_second = even // 2, unequal + even - even // 2
    return first[: len(first) - cut_first], second[: len(second) - cut_second]


class SentencePieceEncoder:
    """The BLEURT-20 family's ``spm.model``, tokenized as transformers 4's slow ``DebertaV2Tokenizer``."""

    def __init__(self, spm_file: Path, tokenizer_config: dict[str, Any]) -> None:
        import sentencepiece

        from .checkpoint import BadCheckpointError

        self.spm = sentencepiece.SentencePieceProcessor(model_file=str(spm_file))
        if tokenizer_config.get("split_by_punct"):
            raise BadCheckpointError(
                f"{spm_file.with_name('tokenizer_config.json')}: split_by_punct=true is not supported "
                "(no BLEURT checkpoint uses it)"
            )
        self.lower = bool(tokenizer_config.get("do_lower_case", False))
        specials = _specials(tokenizer_config)
        ids = {}
        for name, piece in specials.items():
            ids[name] = self.spm.piece_to_id(piece)
            if self.spm.id_to_piece(ids[name]) != piece:
                raise BadCheckpointError(
                    f"{spm_file}: the special token {piece!r} ({name}) is not a piece of this SentencePiece "
                    "model; a BLEURT spm.model holds [PAD], [UNK], [CLS], [SEP] and [MASK]"
                )
        self.cls_id, self.sep_id, self.pad_id = ids["cls_token"], ids["sep_token"], ids["pad_token"]
        strip = {}
        for entry in (tokenizer_config.get("added_tokens_decoder") or {}).values():
            strip[entry["content"]] = (bool(entry.get("lstrip")), bool(entry.get("rstrip")))
        self.special_ids = {piece: ids[name] for name, piece in specials.items()}
        self.strip = {piece: strip.get(piece, (False, False)) for piece in self.special_ids}
        pattern = "|".join(re.escape(p) for p in sorted(self.special_ids, key=len, reverse=True))
        self.splitter = re.compile(f"({pattern})")

    def _chunks(self, text: str) -> list[str | int]:
        """Text pieces and special-token ids, as the slow tokenizer splits on its added tokens."""
        parts = self.splitter.split(text)
        for i in range(1, len(parts), 2):
            lstrip, rstrip = self.strip[parts[i]]
            if lstrip:
                parts[i - 1] = parts[i - 1].rstrip()
            if rstrip:
                parts[i + 1] = parts[i + 1].lstrip()
        out: list[str | int] = []
        for i, part in enumerate(parts):
            if i % 2:
                out.append(self.special_ids[part])
            elif part:
                out.append(part.lower() if self.lower else part)
        return out

    def encode_texts(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens around it."""
        chunked = [self._chunks(t) for t in texts]
        pieces = [c for chunks in chunked for c in chunks if isinstance(c, str)]
        encoded = iter(self.spm.encode(pieces, out_type=int)) if pieces else iter(())
        result = []
        for chunks in chunked:
            ids: list[int] = []
            for c in chunks:
                ids.extend(next(encoded) if isinstance(c, str) else [c])
            result.append(ids)
        return result

    def encode_pairs(self, references: list[str], candidates: list[str], max_length: int) -> list[Encoded]:
        refs = self.encode_texts(references)
        cands = self.encode_texts(candidates)
        out = []
        for ref, cand in zip(refs, cands, strict=True):
            ref, cand = longest_first(ref, cand, max_length - 3)
            ids = [self.cls_id, *ref, self.sep_id, *cand, self.sep_id]
            out.append((ids, [0] * (len(ref) + 2) + [1] * (len(cand) + 1)))
        return out


class WordPieceEncoder:
    """Older BLEURT checkpoints' WordPiece tokenizer, configured as transformers 4's ``BertTokenizerFast``."""

    def __init__(self, file: Path, tokenizer_config: dict[str, Any]) -> None:
        from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
        from tokenizers.models import WordPiece

        lower = tokenizer_config.get("do_lower_case", True)
        strip_accents = tokenizer_config.get("strip_accents")
        chinese = tokenizer_config.get("tokenize_chinese_chars", True)
        specials = _specials(tokenizer_config)
        if file.name == "tokenizer.json":
            tok = Tokenizer.from_file(str(file))
            state = json.loads(tok.normalizer.__getstate__()) if tok.normalizer else {}
            if (
                state.get("lowercase", lower) != lower
                or state.get("strip_accents", strip_accents) != strip_accents
                or state.get("handle_chinese_chars", chinese) != chinese
            ):
                kind = getattr(normalizers, state.pop("type"))
                state.update(lowercase=lower, strip_accents=strip_accents, handle_chinese_chars=chinese)
                tok.normalizer = kind(**state)
        else:  # vocab.txt: the tokenizer transformers 4 converts it into
            vocab = {
                line.rstrip("\n"): i for i, line in enumerate(file.read_text(encoding="utf-8").splitlines())
            }
            tok = Tokenizer(WordPiece(vocab, unk_token=specials["unk_token"], max_input_chars_per_word=100))
            tok.normalizer = normalizers.BertNormalizer(
                clean_text=True, handle_chinese_chars=chinese, strip_accents=strip_accents, lowercase=lower
            )
            tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            cls, sep = specials["cls_token"], specials["sep_token"]
            tok.post_processor = processors.TemplateProcessing(
                single=f"{cls}:0 $A:0 {sep}:0",
                pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
                special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
            )
        present = {t.content for t in tok.get_added_tokens_decoder().values()}
        tok.add_special_tokens(
            [AddedToken(t, special=True, normalized=False) for t in specials.values() if t not in present]
        )
        tok.no_padding()
        self.tokenizer = tok
        self.pad_id = tok.token_to_id(specials["pad_token"])
        self._max_length = -1

    def encode_pairs(self, references: list[str], candidates: list[str], max_length: int) -> list[Encoded]:
        if self._max_length != max_length:
            self.tokenizer.enable_truncation(max_length, strategy="longest_first")
            self._max_length = max_length
        encodings = self.tokenizer.encode_batch(list(zip(references, candidates, strict=True)))
        return [(e.ids, e.type_ids) for e in encodings]


def pair_encoder(checkpoint: Checkpoint) -> PairEncoder:
    """The encoder of a checkpoint's tokenizer files."""
    if checkpoint.tokenizer.name == "spm.model":
        return SentencePieceEncoder(checkpoint.tokenizer, checkpoint.tokenizer_config)
    return WordPieceEncoder(checkpoint.tokenizer, checkpoint.tokenizer_config)
