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


def build_wordpiece_vocab(
    texts: Iterable[str], vocab_size: int = 800, limit_alphabet: int | None = None
) -> list[str]:
    """A BERT-style WordPiece vocabulary trained with ``tokenizers`` (special tokens first).

    ``limit_alphabet`` caps the characters kept (the rest become ``[UNK]``), which keeps the vocabulary
    small on texts with thousands of CJK characters.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    options = {"limit_alphabet": limit_alphabet} if limit_alphabet else {}
    tok.train_from_iterator(
        list(texts),
        trainer=trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=specials, show_progress=False, **options
        ),
    )
    vocab = tok.get_vocab()
    return sorted(vocab, key=vocab.__getitem__)


def build_tiny_bleurt(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    hidden_size: int = 32,
    seed: int = 0,
    tokenizer: str = "wordpiece",
    embedding_size: int | None = None,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 2,
    intermediate_size: int | None = None,
    vocab_size: int = 800,
) -> Path:
    """A random BLEURT checkpoint in the layout bleurt-pytorch reads and writes, built without it.

    ``tokenizer="wordpiece"`` writes ``vocab.txt`` (older BLEURT checkpoints); ``"sentencepiece"`` writes
    ``spm.model`` with BLEURT-20's special pieces ([PAD] 0, [UNK] 1, [CLS], [SEP], [MASK]). With
    ``embedding_size`` the embeddings are that narrow and projected to ``hidden_size`` (BLEURT-20's shape).
    ``config.json`` + ``model.safetensors`` hold ``BleurtForSequenceClassification``'s weights under its
    key names; weights are drawn wide enough that scores vary with the input. Returns ``out_dir``.
    """
    import io
    import json

    import torch
    from safetensors.torch import save_file

    texts = list(texts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
    specials["mask_token"] = "[MASK]"
    if tokenizer == "wordpiece":
        vocab = build_wordpiece_vocab(texts, vocab_size)
        (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        n_vocab = len(vocab)
        tok_config = {"tokenizer_class": "BleurtTokenizer", "do_lower_case": True, "model_max_length": 512}
    elif tokenizer == "sentencepiece":
        import sentencepiece as spm

        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=buffer,
            vocab_size=max(
                vocab_size, len({ch for t in texts for ch in t}) + 110
            ),  # room for every character
            character_coverage=0.9995,
            model_type="unigram",
            pad_id=0,
            pad_piece="[PAD]",
            unk_id=1,
            unk_piece="[UNK]",
            bos_id=-1,
            eos_id=-1,
            user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"],
            hard_vocab_limit=False,
            minloglevel=2,
        )
        (out / "spm.model").write_bytes(buffer.getvalue())
        n_vocab = spm.SentencePieceProcessor(model_proto=buffer.getvalue()).get_piece_size()
        tok_config = {"tokenizer_class": "BleurtSPTokenizer", "do_lower_case": False, "split_by_punct": False}
    else:
        raise ValueError(f"tokenizer={tokenizer!r}: use 'wordpiece' or 'sentencepiece'")
    (out / "tokenizer_config.json").write_text(
        json.dumps({**tok_config, **specials}, indent=2), encoding="utf-8"
    )
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2), encoding="utf-8")
    inner = intermediate_size or 2 * hidden_size
    width = embedding_size or hidden_size
    config = {
        "architectures": ["BleurtForSequenceClassification"],
        "model_type": "bleurt",
        "vocab_size": n_vocab,
        "embedding_size": embedding_size,
        "hidden_size": hidden_size,
        "num_hidden_layers": num_hidden_layers,
        "num_attention_heads": num_attention_heads,
        "intermediate_size": inner,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "num_labels": 1,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    shapes: dict[str, tuple[int, ...]] = {
        "bleurt.embeddings.word_embeddings.weight": (n_vocab, width),
        "bleurt.embeddings.position_embeddings.weight": (512, width),
        "bleurt.embeddings.token_type_embeddings.weight": (2, width),
        "bleurt.embeddings.LayerNorm.weight": (width,),
        "bleurt.embeddings.LayerNorm.bias": (width,),
    }
    if embedding_size:
        shapes["bleurt.encoder.embedding_projection.weight"] = (hidden_size, width)
        shapes["bleurt.encoder.embedding_projection.bias"] = (hidden_size,)
    for i in range(num_hidden_layers):
        layer = f"bleurt.encoder.layer.{i}."
        for name, (n_out, n_in) in {
            "attention.self.query": (hidden_size, hidden_size),
            "attention.self.key": (hidden_size, hidden_size),
            "attention.self.value": (hidden_size, hidden_size),
            "attention.output.dense": (hidden_size, hidden_size),
            "intermediate.dense": (inner, hidden_size),
            "output.dense": (hidden_size, inner),
        }.items():
            shapes[f"{layer}{name}.weight"] = (n_out, n_in)
            shapes[f"{layer}{name}.bias"] = (n_out,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{layer}{norm}.weight"] = (hidden_size,)
            shapes[f"{layer}{norm}.bias"] = (hidden_size,)
    shapes.update(
        {
            "bleurt.pooler.dense.weight": (hidden_size, hidden_size),
            "bleurt.pooler.dense.bias": (hidden_size,),
            "classifier.weight": (1, hidden_size),
            "classifier.bias": (1,),
        }
    )
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        noise = torch.randn(shape, generator=gen)
        if "LayerNorm" in key:
            state[key] = (1.0 if key.endswith("weight") else 0.0) + 0.2 * noise
        elif "embeddings" in key:
            state[key] = noise
        elif len(shape) == 2:
            state[key] = noise / shape[1] ** 0.5
        else:
            state[key] = 0.1 * noise
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
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
