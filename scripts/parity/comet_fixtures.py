"""Build tiny COMET checkpoints WITH unbabel-comet and record its scores: the COMET parity fixtures.

Runs in the parity environment (unbabel-comet 2.2.7 on the 2025 stack), never in the project's:

    bash scripts/parity/setup.sh
    .venv-parity/bin/python scripts/parity/comet_fixtures.py [--flores DIR] [--out tests/fixtures/comet]

What it writes (small: random encoders with hidden size 16, 2 layers, a ~600-piece tokenizer):

- ``segments.jsonl``: the scored inputs, from FLORES-101 devtest (``--flores``, default
  ``$XLLM_SHARED_DATA/flores101``): English sources with Arabic, Greek, Hindi, Turkish, Vietnamese and
  Chinese references and "systems" (the reference, another line's reference, half a reference, the
  untranslated source), plus empty segments and segments far over the 512-token limit (truncated).
- ``encoder-xlmr/`` (XLM-R config + ``tokenizer.json``), ``encoder-xlmrxl/`` and ``encoder-infoxlm/``
  (XLM-R-XL / XLM-R config + only ``sentencepiece.bpe.model``, as ``facebook/xlm-roberta-xl`` and
  ``microsoft/infoxlm-large`` ship): what ``pretrained_model`` names, relative to each checkpoint folder.
- one folder per model, Unbabel's layout (``checkpoints/model.ckpt`` written by a Lightning
  ``Trainer.save_checkpoint``, ``hparams.yaml``): every class COMET scores with (regression,
  referenceless regression, unified with and without word-level tags, XCOMET), on both encoders.
- ``expected.json``: unbabel-comet's own ``model.predict`` (float32, CPU) per model: segment scores,
  with references and, for the models that can go without, without; XCOMET's error spans and MQM scores.
- ``VERSIONS.md``: the packages that produced them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # xllm_harness.testing.tiny_metric_models: the tokenizer builder only

LANGS = ("ara", "ell", "hin", "tur", "vie", "zho_simpl")
TOKENIZER_LINES = 40
"""Tokenizer training lines per language (from the dev split): devtest then also meets unknown pieces."""

ENCODER = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32}

# name -> (COMET class identifier, encoder folder, hyper-parameters beyond COMET's defaults)
MODELS: dict[str, tuple[str, str, dict]] = {
    # Unbabel/wmt22-comet-da's settings: sparsemax layer mix, no layer norm, average pooling
    "regression-xlmr": (
        "regression_metric",
        "encoder-xlmr",
        {"layer_transformation": "sparsemax", "layer_norm": False, "pool": "avg", "hidden_sizes": [48, 24]},
    ),
    # wmt20/21-style regression: softmax mix with layer norm, on the XL encoder, CLS pooling
    "regression-xlmrxl": (
        "regression_metric",
        "encoder-xlmrxl",
        {"layer_transformation": "softmax", "layer_norm": True, "pool": "cls", "hidden_sizes": [24]},
    ),
    # the wmt21 QE models: source and translation only
    "referenceless-xlmr": (
        "referenceless_regression_metric",
        "encoder-xlmr",
        {"layer_transformation": "softmax", "layer_norm": True, "pool": "avg", "hidden_sizes": [24]},
    ),
    # wmt22-cometkiwi-da: unified, [mt, src], sparsemax written as "sparsemax_patch" (read as softmax)
    "unified-kiwi-xlmr": (
        "unified_metric",
        "encoder-infoxlm",
        {
            "layer_transformation": "sparsemax_patch",
            "layer_norm": True,
            "input_segments": ["mt", "src"],
            "hidden_sizes": [48, 24],
            "word_layer": 2,
        },
    ),
    # wmt23-cometkiwi-da-xl: the same on the XL encoder, with plain sparsemax
    "unified-kiwi-xlmrxl": (
        "unified_metric",
        "encoder-xlmrxl",
        {
            "layer_transformation": "sparsemax",
            "layer_norm": False,
            "input_segments": ["mt", "src"],
            "hidden_sizes": [24],
            "word_layer": 2,
        },
    ),
    # a unified model with references and word-level tags (three inputs, error spans)
    "unified-spans-xlmr": (
        "unified_metric",
        "encoder-xlmr",
        {
            "layer_transformation": "softmax",
            "layer_norm": False,
            "input_segments": ["mt", "src", "ref"],
            "word_level_training": True,
            "hidden_sizes": [24],
            "word_layer": 1,
        },
    ),
    # Unbabel/XCOMET-XL / XXL
    "xcomet-xlmrxl": (
        "xcomet_metric",
        "encoder-xlmrxl",
        {"layer_transformation": "sparsemax", "layer_norm": False, "hidden_sizes": [48, 24], "word_layer": 2},
    ),
}


def read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def build_segments(flores: Path) -> list[dict[str, str]]:
    """~220 (src, mt, ref) triples from devtest, edge cases included; deterministic."""
    eng = read(flores / "devtest" / "eng.devtest")
    tgt = {lang: read(flores / "devtest" / f"{lang}.devtest") for lang in LANGS}
    segments = []
    for i in range(204):
        lang = LANGS[i % len(LANGS)]
        ref = tgt[lang][i]
        kind = (i // len(LANGS)) % 4
        if kind == 0:
            mt = ref
        elif kind == 1:
            mt = tgt[lang][i + 1]
        elif kind == 2:
            mt = ref[: len(ref) // 2]
        else:
            mt = eng[i]
        if i % 17 == 5:  # the other direction: X -> English
            segments.append({"src": ref, "mt": eng[i + 2] if kind == 1 else eng[i], "ref": eng[i]})
        else:
            segments.append({"src": eng[i], "mt": mt, "ref": ref})
    long_en = " ".join(eng[300:330])
    long_zh = "".join(tgt["zho_simpl"][300:330])
    long_hi = " ".join(tgt["hin"][300:330])
    segments += [
        {"src": eng[210], "mt": "", "ref": tgt["ara"][210]},
        {"src": eng[211], "mt": tgt["hin"][211], "ref": ""},
        {"src": "", "mt": tgt["zho_simpl"][212], "ref": tgt["zho_simpl"][212]},
        {"src": "", "mt": "", "ref": ""},
        {"src": long_en, "mt": long_zh, "ref": long_zh},
        {"src": long_en, "mt": long_hi, "ref": tgt["hin"][300]},
        {"src": eng[213], "mt": long_hi, "ref": long_hi},
        {"src": long_en, "mt": tgt["ell"][214], "ref": tgt["ell"][214]},
        {
            "src": eng[215] + " " + eng[216],
            "mt": tgt["tur"][215] + " " + tgt["tur"][216],
            "ref": tgt["tur"][215],
        },
        {"src": eng[217], "mt": tgt["vie"][217].upper(), "ref": tgt["vie"][217]},
        {"src": eng[218], "mt": "😀 " + tgt["ara"][218] + " ✓", "ref": tgt["ara"][218]},
        {"src": eng[219], "mt": "a", "ref": tgt["ell"][219]},
    ]
    return segments


def build_encoders(out: Path, flores: Path) -> None:
    """``encoder-xlmr``: XLM-R config + ``tokenizer.json`` (like ``xlm-roberta-large``);
    ``encoder-xlmrxl`` and ``encoder-infoxlm``: XLM-R-XL / XLM-R config + only ``sentencepiece.bpe.model``
    (like ``facebook/xlm-roberta-xl`` and ``microsoft/infoxlm-large``, converted at load time)."""
    import io

    import sentencepiece as spm
    from transformers import XLMRobertaConfig, XLMRobertaXLConfig

    from xllm_harness.testing.tiny_metric_models import build_xlmr_tokenizer

    texts = []
    for lang in ("eng", *LANGS):
        texts += read(flores / "dev" / f"{lang}.dev")[:TOKENIZER_LINES]
    tokenizer = build_xlmr_tokenizer(texts, vocab_size=600)
    tokenizer.save_pretrained(out / "encoder-xlmr")
    sizes = {"encoder-xlmr": len(tokenizer)}
    # xlm-roberta-xl's kind of file (NFKC's precompiled character map), and one without a character map
    for folder, rule in (("encoder-xlmrxl", "nmt_nfkc"), ("encoder-infoxlm", "identity")):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=model,
            vocab_size=600,
            model_type="unigram",
            character_coverage=0.98,  # rare characters stay unknown, as in the real models
            normalization_rule_name=rule,
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            hard_vocab_limit=False,
            minloglevel=2,
        )
        (out / folder).mkdir(parents=True, exist_ok=True)
        (out / folder / "sentencepiece.bpe.model").write_bytes(model.getvalue())
        sizes[folder] = spm.SentencePieceProcessor(model_proto=model.getvalue()).get_piece_size() + 2
    # XLM-R's 514 positions on the XL encoder; 130 elsewhere, so that truncation (of single segments at
    # 126 tokens, of concatenations at 128) happens on many ordinary lines, not only on the long ones
    for folder, config_class, positions in (
        ("encoder-xlmr", XLMRobertaConfig, 130),
        ("encoder-xlmrxl", XLMRobertaXLConfig, 514),
        ("encoder-infoxlm", XLMRobertaConfig, 130),
    ):
        config_class(
            vocab_size=sizes[folder],
            max_position_embeddings=positions,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            **ENCODER,
        ).save_pretrained(out / folder)


@contextlib.contextmanager
def cwd(path: Path):
    """COMET resolves ``pretrained_model`` against the working directory: run inside the model folder."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def randomize(model, seed: int) -> None:
    """Move every weight off its initial value (LayerNorm gains, biases, layer-mix weights included),
    so a parameter read into the wrong place or left at its default changes the scores."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if "scalar_parameters" in name:
                param.copy_(noise)  # a real spread: sparsemax then zeroes some layers
            elif name.endswith("gamma"):
                param.fill_(1.5)
            else:
                param.add_(0.05 * noise)
        if hasattr(model, "hidden2tag"):  # most subwords "O": a few spans per sentence, small fixtures
            model.hidden2tag.bias[0] += 2.0 if len(model.hidden2tag.bias) == 4 else 2.5


def build_model(out: Path, name: str, seed: int):
    import pytorch_lightning as pl
    import yaml
    from comet.models import str2model
    from pytorch_lightning.core.saving import save_hparams_to_yaml

    identifier, encoder, hparams = MODELS[name]
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    encoder_model = "XLM-RoBERTa-XL" if encoder == "encoder-xlmrxl" else "XLM-RoBERTa"
    import torch

    torch.manual_seed(seed)
    with cwd(folder):
        model = str2model[identifier](
            encoder_model=encoder_model,
            pretrained_model=f"../{encoder}",
            load_pretrained_weights=False,
            local_files_only=True,
            **hparams,
        )
    randomize(model, seed)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, accelerator="cpu", devices=1)
    trainer.strategy.connect(model)
    (folder / "checkpoints").mkdir(exist_ok=True)
    trainer.save_checkpoint(folder / "checkpoints" / "model.ckpt", weights_only=True)
    save_hparams_to_yaml(folder / "hparams.yaml", model.hparams)
    assert yaml.safe_load((folder / "hparams.yaml").read_text())["class_identifier"] == identifier
    return folder


def reference_scores(folder: Path, segments: list[dict[str, str]], with_ref: bool) -> dict:
    """unbabel-comet's own load and predict, float32 on the CPU."""
    from comet import load_from_checkpoint

    with cwd(folder):
        model = load_from_checkpoint("checkpoints/model.ckpt", local_files_only=True)
        samples = segments if with_ref else [{"src": s["src"], "mt": s["mt"]} for s in segments]
        out = model.predict(samples, batch_size=8, gpus=0, progress_bar=False)
    result = {"scores": [float(s) for s in out.scores]}
    metadata = out.get("metadata") or {}
    for key in ("error_spans", "mqm_scores"):
        if key in metadata:
            result[key] = metadata[key]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = os.environ.get("XLLM_SHARED_DATA", "/work/shared/data")
    parser.add_argument("--flores", type=Path, default=Path(shared) / "flores101")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "comet")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    segments = build_segments(args.flores)
    with (out / "segments.jsonl").open("w", encoding="utf-8") as fh:
        for seg in segments:
            fh.write(json.dumps(seg, ensure_ascii=False) + "\n")
    build_encoders(out, args.flores)
    expected: dict = {"segments": len(segments), "models": {}}
    for seed, name in enumerate(MODELS, start=1):
        folder = build_model(out, name, seed)
        identifier = MODELS[name][0]
        entry = {"class_identifier": identifier, "with_ref": reference_scores(folder, segments, True)}
        reference_free = identifier != "regression_metric" and MODELS[name][2].get("input_segments") != [
            "mt",
            "ref",
        ]
        if reference_free:
            entry["without_ref"] = reference_scores(folder, segments, False)
        expected["models"][name] = entry
        scores = entry["with_ref"]["scores"]
        print(f"{name}: {len(scores)} scores, range {min(scores):.4f}..{max(scores):.4f}")
    packages = (
        "unbabel-comet",
        "torch",
        "transformers",
        "tokenizers",
        "pytorch-lightning",
        "numpy",
        "entmax",
    )
    expected["versions"] = {p: version(p) for p in packages}
    (out / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    lines = [
        "# COMET parity fixtures",
        "",
        "Written by `scripts/parity/comet_fixtures.py` in the parity environment (`scripts/parity/setup.sh`):",
        "tiny random checkpoints built and saved by unbabel-comet itself, and its float32 CPU scores",
        "(`expected.json`) on `segments.jsonl` (FLORES-101 devtest lines, CC BY-SA 4.0, Goyal et al. 2021,",
        "plus empty and over-long segments). Regenerate: `.venv-parity/bin/python scripts/parity/comet_fixtures.py`.",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {p} | {v} |" for p, v in expected["versions"].items()),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
