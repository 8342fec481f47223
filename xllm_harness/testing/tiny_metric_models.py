"""Tiny random COMET and BLEURT checkpoints and a small SentencePiece model, built locally.

For tests and benchmarks only: they exercise the real COMET / BLEURT / sacrebleu code paths offline
(no hub), in seconds on a CPU. Their scores mean nothing; the real models are in docs/offline-models.md.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

XLMR_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

SPM_NAME = "sacrebleu_tokenizer_spm.model"
"""The file name sacrebleu looks for in ``$SACREBLEU/models/`` (the FLORES-101 SentencePiece model)."""


def build_xlmr_tokenizer(texts: Iterable[str], vocab_size: int = 600):
    """An ``XLMRobertaTokenizerFast`` around a Unigram model trained with ``tokenizers`` on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import XLMRobertaTokenizerFast

    texts = list(texts)
    alphabet = {ch for text in texts for ch in unicodedata.normalize("NFKC", text)}
    vocab_size = max(vocab_size, len(alphabet) + len(XLMR_SPECIALS) + 100)  # Unigram keeps every character
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=XLMR_SPECIALS, unk_token="<unk>", show_progress=False
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )


def build_tiny_comet(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    hidden_size: int = 32,
    seed: int = 0,
    encoder_shape: dict[str, int] | None = None,
    estimator: list[int] | None = None,
    vocab_size: int | None = None,
) -> Path:
    """A random COMET regression model (``Unbabel/wmt22-comet-da``'s settings) in Unbabel's layout.

    Tiny by default; ``encoder_shape`` (``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
    ``intermediate_size``) and ``estimator`` (the feed-forward head's hidden sizes) give other shapes,
    e.g. XLM-R-large's for benchmarks. ``vocab_size`` sizes the locally trained tokenizer.

    Written from the format itself, without unbabel-comet: ``out_dir/encoder/`` holds the XLM-R config
    and tokenizer (``pretrained_model: encoder``, relative to the model folder), ``hparams.yaml`` the
    class and settings, ``checkpoints/model.ckpt`` a Lightning-style ``{"state_dict", "hyper_parameters"}``
    whose keys are COMET's (``encoder.model.*``, ``layerwise_attention.*``, ``estimator.ff.*``); unbabel-comet
    loads it too (run from ``out_dir``, where ``encoder`` resolves).
    Returns ``out_dir`` (pass it, or the ``.ckpt``, as the COMET model).
    """
    import torch
    import yaml
    from transformers import XLMRobertaConfig, XLMRobertaModel

    out = Path(out_dir)
    encoder = out / "encoder"
    tokenizer = build_xlmr_tokenizer(texts, **({"vocab_size": vocab_size} if vocab_size else {}))
    tokenizer.save_pretrained(encoder)
    shape = encoder_shape or {
        "hidden_size": hidden_size,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": hidden_size * 2,
    }
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **shape,
    )
    config.save_pretrained(encoder)
    hidden = estimator or [shape["hidden_size"]]
    hparams = {
        "class_identifier": "regression_metric",
        "encoder_model": "XLM-RoBERTa",
        "pretrained_model": "encoder",
        "pool": "avg",
        "layer": "mix",
        "layer_transformation": "sparsemax",
        "layer_norm": False,
        "hidden_sizes": hidden,
        "activations": "Tanh",
        "final_activation": None,
        "dropout": 0.1,
    }
    torch.manual_seed(seed)
    state = {
        f"encoder.model.{k}": v
        for k, v in XLMRobertaModel(config, add_pooling_layer=False).state_dict().items()
    }
    layers = shape["num_hidden_layers"] + 1
    weights = torch.randn(layers)  # a real spread, so that sparsemax drops some layers
    state.update({f"layerwise_attention.scalar_parameters.{i}": weights[i : i + 1] for i in range(layers)})
    state["layerwise_attention.gamma"] = torch.tensor([1.0])
    sizes = [6 * shape["hidden_size"], *hidden, 1]  # mt, ref, mt*ref, |mt-ref|, mt*src, |mt-src|
    for n, (size_in, size_out) in enumerate(pairwise(sizes)):
        linear = torch.nn.Linear(size_in, size_out)
        state[f"estimator.ff.{3 * n}.weight"] = linear.weight.detach()
        state[f"estimator.ff.{3 * n}.bias"] = linear.bias.detach()
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    # the Lightning checkpoint format version these keys follow (Lightning's loader requires the field)
    lightning = {"pytorch-lightning_version": "2.6.6"}
    torch.save(
        {"state_dict": state, "hyper_parameters": hparams, **lightning}, out / "checkpoints" / "model.ckpt"
    )
    (out / "hparams.yaml").write_text(yaml.safe_dump(hparams), encoding="utf-8")
    return out


def build_wordpiece_vocab(texts: Iterable[str], vocab_size: int = 800) -> list[str]:
    """A BERT-style WordPiece vocabulary trained with ``tokenizers`` (special tokens first)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        list(texts),
        trainer=trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=specials, show_progress=False
        ),
    )
    vocab = tok.get_vocab()
    return sorted(vocab, key=vocab.__getitem__)


def build_tiny_bleurt(
    out_dir: str | Path, texts: Iterable[str], *, hidden_size: int = 32, seed: int = 0
) -> Path:
    """A tiny random ``BleurtForSequenceClassification`` with a WordPiece tokenizer, saved to ``out_dir``."""
    import torch
    from bleurt_pytorch import BleurtConfig, BleurtForSequenceClassification, BleurtTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(build_wordpiece_vocab(texts)) + "\n", encoding="utf-8")
    tokenizer = BleurtTokenizer.from_pretrained(str(out), model_max_length=512)
    tokenizer.save_pretrained(out)
    config = BleurtConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=512,
        num_labels=1,
    )
    torch.manual_seed(seed)
    BleurtForSequenceClassification(config).save_pretrained(out)
    return out


def build_test_spm(out_file: str | Path, texts: Iterable[str], vocab_size: int = 400) -> Path:
    """A SentencePiece model trained on ``texts`` (stands in for sacrebleu's FLORES-101 model in tests)."""
    import io

    import sentencepiece as spm

    texts = list(texts)
    alphabet = {ch for text in texts for ch in text if not ch.isspace()}
    vocab_size = max(vocab_size, len(alphabet) + 100)  # full character coverage
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=buffer,
        vocab_size=vocab_size,
        character_coverage=1.0,
        model_type="unigram",
        hard_vocab_limit=False,
        minloglevel=2,
    )
    out.write_bytes(buffer.getvalue())
    return out
