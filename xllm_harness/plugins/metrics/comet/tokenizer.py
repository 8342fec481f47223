"""The encoder's tokenizer exactly as unbabel-comet's ``XLMRobertaTokenizerFast`` (transformers 4) ran it.

transformers 5's ``XLMRobertaTokenizer`` rebuilds its pipeline from the vocabulary alone (no
normalizer from ``tokenizer.json``, a different pre-tokenizer), which changes the ids of some text.
So the pipeline is taken from the files themselves: ``tokenizer.json`` as serialised, or, for encoders
that ship only ``sentencepiece.bpe.model`` (``facebook/xlm-roberta-xl``, ``microsoft/infoxlm-large``),
the conversion transformers 4 applied to it (Unigram with XLM-R's id layout; the model's precompiled
normaliser, right strip and runs of spaces as one ``▁``; Metaspace; ``<s> A </s></s> B </s>``).
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


def tokenizer_from_files(tokenizer_json: Path | None, spm_model: Path | None):
    """A fast tokenizer from ``tokenizer.json`` (preferred) or a SentencePiece model."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_file(str(tokenizer_json)) if tokenizer_json else _from_sentencepiece(spm_model)
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=512, **SPECIAL)


def _from_sentencepiece(path: Path | None):
    from sentencepiece import sentencepiece_model_pb2
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(Path(path).read_bytes())
    if proto.trainer_spec.model_type != 1:
        raise ValueError(f"{path}: not a Unigram SentencePiece model (XLM-R's kind)")
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(piece.piece, piece.score) for piece in proto.pieces[3:]]
    vocab.append(("<mask>", 0.0))
    tok = Tokenizer(Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.add_tokens(
        [
            AddedToken(p.piece, normalized=False, special=p.type == 3 or p.piece in SPECIAL.values())
            for p in proto.pieces
            if p.type in (3, 4)
        ]
    )
    steps = [normalizers.Strip(left=False, right=True), normalizers.Replace(Regex(" {2,}"), "▁")]
    charsmap = proto.normalizer_spec.precompiled_charsmap
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap), *steps] if charsmap else steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    return tok
