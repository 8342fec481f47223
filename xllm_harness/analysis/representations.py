"""Sentence representations per layer from any Hugging Face causal LM, on multi-way parallel text.

Used by the ``similarity`` and ``alignment`` analyzers. :func:`load_multiway` reads the same
sentences in several languages from FLORES-101 (each language's ``flores`` location in the language
table; line *i* of every file is the same sentence). :func:`encode` runs the model once with
``output_hidden_states=True`` and mean-pools each layer over the sentence's tokens (special tokens
such as ``<s>`` excluded: a decoder's first position carries an outsized "attention sink"
activation that would dominate the mean), giving an array ``[layers + 1, sentences, hidden]``
(index 0 is the embedding layer).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xllm_harness.analyzers import AnalyzerOptions, option
from xllm_harness.data import resolve
from xllm_harness.errors import InputError, MissingFileError, unknown_name
from xllm_harness.languages import get_languages
from xllm_harness.models.hf import check_pretrained
from xllm_harness.results.jsonio import read_text


@dataclass(kw_only=True)
class ModelOptions(AnalyzerOptions):
    """The options shared by the representation analyzers (an analyzer sets ``sentences``' default)."""

    model: str = option("HF model id or local folder (any causal LM)")
    languages: str | None = option(
        "comma-separated language codes (default: every language with FLORES data)", default=None
    )
    pivot: str = option("reference language", default="en")
    split: str = option("FLORES-101 split", default="dev", choices=["dev", "devtest"])
    data_dir: str | None = option(
        "data folder holding flores101/ (default: $XLLM_DATA_DIR or the data directory)", default=None
    )
    sentences: int = option("first N multi-way sentences", default=100)
    batch_size: int = option("sentences per forward pass", default=16)
    max_length: int = option("truncate sentences to this many tokens", default=256)
    pooling: str = option("token pooling per layer", default="mean", choices=["mean", "last"])
    device: str | None = option("cpu, cuda, cuda:0 (default: cuda if available)", default=None)
    dtype: str = option("float32, bfloat16, float16 or auto", default="auto")
    trust_remote_code: bool = option("allow the model's own code from the Hub", default=False)


def model_label(name: str) -> str:
    """A model's name for a figure: a Hub id as given, a local folder by its own name (no paths)."""
    path = Path(name).expanduser()
    return path.name if path.is_absolute() or path.exists() or name.startswith(".") else name


def load_multiway(
    languages: Sequence[str] | None,
    split: str = "dev",
    limit: int | None = None,
    data_dir: str | Path | None = None,
) -> dict[str, list[str]]:
    """``{code: sentences}``: the first ``limit`` lines of each language's FLORES-101 ``split`` file."""
    table = get_languages()
    codes = list(languages) if languages else [c for c, lang in table.items() if lang.flores]
    for code in codes:  # every name first: a typo is named before any file is read
        if code not in table:
            raise unknown_name("language", code, table, "A plugin adds one through the xllm_languages hook.")
    texts: dict[str, list[str]] = {}
    for code in codes:
        location = table[code].flores
        if not location:
            raise InputError(f"language {code!r} has no FLORES-101 location (Language.flores) in its plugin")
        location = location.format(split=split)
        path = Path(data_dir) / location if data_dir and not Path(location).is_absolute() else None
        if path is not None and not path.is_file():
            raise MissingFileError(f"FLORES file {path} not found (--data-dir {data_dir})")
        path = path or resolve(location)
        lines = read_text(path, "FLORES file").splitlines()
        texts[code] = lines[:limit] if limit else lines
    lengths = {code: len(lines) for code, lines in texts.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"FLORES {split} files are not multi-way parallel here (line counts {lengths})")
    if limit and min(lengths.values()) < limit:
        print(
            f"warning: only {min(lengths.values())} sentences available (asked for {limit})", file=sys.stderr
        )
    if len(texts) < 2:
        raise InputError("need at least two languages to compare representations")
    return texts


def load_model(name: str, device: str | None = None, dtype: str = "auto", trust_remote_code: bool = False):
    """(model, tokenizer, device) in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype == "auto":
        torch_dtype = (
            torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
        )
    else:
        try:
            torch_dtype = getattr(torch, dtype)
        except AttributeError:
            raise InputError(f"--dtype {dtype!r}: use float32, bfloat16, float16 or auto") from None
    tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model = AutoModelForCausalLM.from_pretrained(name, dtype=torch_dtype, trust_remote_code=trust_remote_code)
    model.to(device).eval()
    return model, tokenizer, device


def encode(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    device: str = "cpu",
    batch_size: int = 16,
    max_length: int = 256,
    pooling: str = "mean",
    desc: str = "encode",
):
    """Pooled hidden states of every layer: a float32 numpy array ``[layers + 1, len(texts), hidden]``."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    if pooling not in ("mean", "last"):
        raise InputError(f"pooling must be 'mean' or 'last', got {pooling!r}")
    chunks = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
    for start in tqdm(range(0, len(order), batch_size), desc=desc, file=sys.stderr, disable=None):
        idx = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in idx],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
            return_special_tokens_mask=True,
        )
        special = batch.pop("special_tokens_mask")
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.no_grad():  # the base model: hidden states without computing the LM head's logits
            hidden = getattr(model, "base_model", model)(**batch, output_hidden_states=True).hidden_states
        keep = batch["attention_mask"].bool() & ~special.to(device).bool()
        # a sentence made only of special tokens (empty line) falls back to all its real positions
        empty = keep.sum(1) == 0
        keep[empty] = batch["attention_mask"].bool()[empty]
        states = torch.stack(hidden).float()  # [layers + 1, batch, tokens, hidden]
        if pooling == "mean":
            weights = keep.float().unsqueeze(0).unsqueeze(-1)
            pooled = (states * weights).sum(2) / weights.sum(2)
        else:
            positions = torch.arange(keep.shape[1], device=keep.device)
            last = torch.where(keep, positions, -1).max(1).values
            pooled = states[:, torch.arange(len(idx), device=keep.device), last]
        chunks.append((idx, pooled.cpu().numpy()))
    out = np.zeros((chunks[0][1].shape[0], len(texts), chunks[0][1].shape[-1]), dtype=np.float32)
    for idx, pooled in chunks:
        out[:, idx] = pooled
    return out


def encode_multiway(texts: dict[str, list[str]], args: ModelOptions) -> dict:
    """Load ``args.model`` and encode every language: ``{code: [layers + 1, sentences, hidden]}``."""
    model, tokenizer, device = load_model(args.model, args.device, args.dtype, args.trust_remote_code)
    return {
        code: encode(
            model,
            tokenizer,
            lines,
            device=device,
            batch_size=args.batch_size,
            max_length=args.max_length,
            pooling=args.pooling,
            desc=f"encode {code}",
        )
        for code, lines in texts.items()
    }


def pivot_and_representations(args: ModelOptions) -> tuple[dict[str, list[str]], dict, int]:
    """The analyzers' common start: multi-way texts (pivot included), their per-layer representations, layer count."""
    for name in ("sentences", "batch_size", "max_length"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    check_pretrained(args.model, "--model")  # before reading any data: a wrong path is named at once
    languages = [c.strip() for c in args.languages.split(",")] if args.languages else None
    if languages and args.pivot not in languages:
        languages.append(args.pivot)
    texts = load_multiway(languages, args.split, args.sentences, args.data_dir)
    if args.pivot not in texts:
        raise InputError(f"--pivot {args.pivot!r} has no FLORES data among {', '.join(texts)}")
    reps = encode_multiway(texts, args)
    return texts, reps, next(iter(reps.values())).shape[0]


def cosine_matrix(a, b):
    """Cosine similarities between the rows of ``a`` and ``b``."""
    import numpy as np

    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return a @ b.T


def retrieval_accuracy(a, b) -> float:
    """How often sentence i of ``a``'s nearest neighbour (cosine) among ``b`` is sentence i."""
    import numpy as np

    sims = cosine_matrix(a, b)
    return float(np.mean(sims.argmax(1) == np.arange(len(a))))


def resolve_layer(spec: str | int, n_layers: int) -> int:
    """A layer index from ``0..n_layers-1``, ``-1``, ``middle``/``mid``, ``last`` or ``first``."""
    names = {"first": 0, "middle": n_layers // 2, "mid": n_layers // 2, "last": n_layers - 1}
    if isinstance(spec, str) and spec.strip().lower() in names:
        return names[spec.strip().lower()]
    try:
        index = int(spec)
    except (TypeError, ValueError):
        raise InputError(f"layer {spec!r}: use an index, 'first', 'middle' or 'last'") from None
    if not -n_layers <= index < n_layers:
        raise InputError(
            f"layer {index} out of range: this model has layers 0..{n_layers - 1} (0 = embeddings)"
        )
    return index % n_layers
