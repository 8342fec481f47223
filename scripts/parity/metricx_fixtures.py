"""Build tests/fixtures/metricx/: tiny random MetricX-24 checkpoints and Google's own scores for them.

Runs where Google's code runs: its own pins (requirements.txt: transformers 4.30.2, sentencepiece
0.1.99, datasets 2.13.1). On transformers 4.57 its ``MT5ForRegression`` fails (the decoder, built
with ``is_encoder_decoder=False``, shares one cache between self- and cross-attention: "The size of
tensor a (210) must match the size of tensor b (209)"), so the parity environment of COMET/BLEURT
does not do. One command, with Google's code from a checkout given on the command line::

    git clone https://github.com/google-research/metricx
    python -m venv metricx-venv && metricx-venv/bin/pip install torch==2.13.0 \
        "transformers[torch]==4.30.2" sentencepiece==0.1.99 datasets==2.13.1 "numpy<2" \
        protobuf==3.20.3 "fsspec[http]==2023.6.0"
    metricx-venv/bin/python scripts/parity/metricx_fixtures.py --metricx-repo metricx

(protobuf 3.20 for transformers 4.30's SentencePiece conversion, fsspec 2023.6 for datasets 2.13.)

What it writes (nothing of Google's code is copied; its ``metricx24.predict`` runs as a subprocess):

- ``inputs.jsonl``: FLORES-101 devtest segments (CC BY-SA 4.0) as ``source``/``hypothesis``/
  ``reference``, plus edge cases (empty and whitespace-only fields, inputs longer than the
  1536-token limit, Arabic, Greek, Hindi and Chinese text);
- ``tokenizer/``: a SentencePiece model trained here on FLORES dev text, laid out like
  ``google/mt5-*`` (``spiece.model``, ``tokenizer_config.json`` and a ``config.json`` naming
  ``mt5``, no ``tokenizer.json``);
- ``<name>/config.json`` and ``<name>/model.safetensors.xz``: tiny random ``MT5ForRegression``
  checkpoints with mT5's real vocabulary size (the score is the logit of token 250089, so the
  embedding and output matrices keep 250,112 rows; the embedding rows no token id reaches and the
  output rows other than 250089 are zero, so the compressed file is small). The decoder's
  cross-attention is sharpened (query x10, output x5) and the output row 250089 points along the
  states' main direction of variation, scaled so that about 92% of the scores fall inside 0..25 and
  the rest are clipped at 0 or 25;
- ``expected.json``: the scores of ``python -m metricx24.predict`` (batch size 1, max input length
  1536) in reference mode and QE mode (``--qe``) for every checkpoint, the number of input tokens of
  every segment and the token ids of the edge cases.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LANGS = ("eng", "ara", "ell", "hin", "tur", "vie", "zho_simpl")
MAX_INPUT_LENGTH = 1536
PREDICTION_ID = 250089
VOCAB_SIZE = 250112
SPM_VOCAB = 2000
N_DIRECTIONS = 210
"""Translation-like segments before the edge cases."""
CHECKPOINTS = {
    "tiny-a": {
        "d_model": 32,
        "d_ff": 64,
        "d_kv": 8,
        "num_heads": 4,
        "num_layers": 2,
        "num_decoder_layers": 2,
    },
    "tiny-b": {
        "d_model": 24,
        "d_ff": 48,
        "d_kv": 6,
        "num_heads": 4,
        "num_layers": 3,
        "num_decoder_layers": 1,
    },
}
TOKENIZER_CONFIG = {
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "extra_ids": 0,
    "additional_special_tokens": None,
}
"""What ``google/mt5-*``'s ``tokenizer_config.json`` sets (no sentinel tokens added on top of spiece)."""


def read_flores(folder: Path, split: str) -> dict[str, list[str]]:
    return {
        lang: (folder / split / f"{lang}.{split}").read_text(encoding="utf-8").split("\n")[:-1]
        for lang in LANGS
    }


def make_segments(devtest: dict[str, list[str]], n: int = N_DIRECTIONS) -> list[dict[str, str]]:
    """``n`` translation-like segments over every direction, then the edge cases."""
    lines = len(devtest["eng"])
    rows = []
    for k in range(n):
        src, tgt = LANGS[k % 7], LANGS[(k % 7 + 1 + (k // 7) % 6) % 7]
        i = (k * 37) % lines
        ref = devtest[tgt][i]
        words = ref.split()
        hyp = [
            ref,  # perfect
            devtest[tgt][(i + 1) % lines],  # unrelated
            " ".join(words[: max(1, len(words) // 2)]),  # undertranslation
            devtest[src][i],  # off-target (the source copied)
            ref.rstrip(".。।") + " " + ref,  # overtranslation
        ][k % 5]
        rows.append({"source": devtest[src][i], "hypothesis": hyp, "reference": ref, "case": f"{src}-{tgt}"})
    long_zh = " ".join(devtest["zho_simpl"][:60])
    long_en = " ".join(devtest["eng"][:60])
    edge = [
        ("empty hypothesis", devtest["eng"][3], "", devtest["ara"][3]),
        ("whitespace hypothesis", devtest["eng"][4], "   ", devtest["hin"][4]),
        ("empty source", "", devtest["ell"][5], devtest["ell"][5]),
        ("empty reference", devtest["eng"][6], devtest["tur"][6], ""),
        ("all empty", "", "", ""),
        (
            "outer spaces",
            " " + devtest["eng"][7] + " ",
            " " + devtest["vie"][7] + "  ",
            devtest["vie"][7] + " ",
        ),
        ("long hypothesis (truncated)", devtest["eng"][8], long_zh, devtest["zho_simpl"][8]),
        ("long source (truncated)", long_en, devtest["hin"][9], devtest["hin"][9]),
        ("long everything (truncated)", long_en, long_zh, long_zh),
        (
            "tab and newline",
            devtest["eng"][10],
            devtest["ell"][10] + "\t" + devtest["ell"][11],
            devtest["ell"][10],
        ),
    ]
    for case, src, hyp, ref in edge:
        rows.append({"source": src, "hypothesis": hyp, "reference": ref, "case": case})
    return rows


def train_tokenizer(dev: dict[str, list[str]], out: Path) -> None:
    """A unigram SentencePiece model with mT5's special ids (pad 0, eos 1, unk 2, no bos)."""
    import sentencepiece as spm

    out.mkdir(parents=True, exist_ok=True)
    texts = [line for lang in LANGS for line in dev[lang]]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_prefix=str(out / "spiece"),
        vocab_size=SPM_VOCAB,
        model_type="unigram",
        character_coverage=0.995,  # rare characters stay unknown: the <unk> path is exercised
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    (out / "spiece.vocab").unlink()
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2) + "\n")
    specials = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n")
    # google/mt5-* also hold the model's config.json, from which AutoTokenizer learns the class
    (out / "config.json").write_text(json.dumps({"model_type": "mt5"}, indent=2) + "\n")


def google_input(row: dict[str, str], qe: bool) -> str:
    """The MetricX-24 input text (only to fit the output row below; the scores come from Google's code)."""
    text = "source: " + row["source"] + " candidate: " + row["hypothesis"]
    return text if qe else text + " reference: " + row["reference"]


def build_checkpoint(models, name: str, shape: dict[str, int], tokenizer, rows, out: Path, seed: int) -> None:
    """A random ``MT5ForRegression`` (Google's class) whose output row spreads the scores over 0..25."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.MT5Config(
        vocab_size=VOCAB_SIZE,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        dropout_rate=0.0,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        **shape,
    )
    config.architectures = ["MT5ForRegression"]
    model = models.MT5ForRegression(config).eval()
    reachable = len(tokenizer)
    with torch.no_grad():
        model.shared.weight[reachable:] = 0.0  # rows no token id reaches
        model.lm_head.weight.zero_()  # only the prediction row is ever read; fitted below
        # sharper cross-attention: the decoder's state depends more on the input (a better-conditioned fixture)
        for block in model.decoder.block:
            block.layer[1].EncDecAttention.q.weight.mul_(10.0)
            block.layer[1].EncDecAttention.o.weight.mul_(5.0)
        # the decoder's final states for every input; the output row spreads their scores over 0..25
        texts = [google_input(r, qe) for qe in (False, True) for r in rows]
        states = []
        hook = model.decoder.register_forward_hook(lambda _m, _i, out: states.append(out[0][0, 0]))
        for text in texts:
            enc = tokenizer(text, max_length=MAX_INPUT_LENGTH, truncation=True, return_tensors="pt")
            model(input_ids=enc["input_ids"][:, :-1], attention_mask=enc["attention_mask"][:, :-1])
        hook.remove()
        states = torch.stack(states).double()
        # the direction in which the states vary most (a random direction would need a far larger
        # row, and float32 rounding, amplified by it, would exceed the 1e-5 the test asks for)
        direction = torch.linalg.svd(states - states.mean(0), full_matrices=False).Vh[0]
        constant = torch.linalg.lstsq(states, torch.ones(len(states), 1, dtype=states.dtype)).solution[:, 0]
        spread = states @ direction
        low, high = torch.quantile(spread, 0.04), torch.quantile(spread, 0.96)
        scale = 25.0 / (high - low)  # the middle 92% in 0..25, the rest clipped by the model
        model.lm_head.weight[PREDICTION_ID] = (scale * direction - scale * low * constant).float()
    model.save_pretrained(out, safe_serialization=True)
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters", file=sys.stderr)


def run_google(
    repo: Path, tokenizer: Path, checkpoint: Path, inputs: Path, qe: bool, work: Path
) -> list[float]:
    """Google's ``metricx24.predict`` as its README runs it (batch size 1), as a subprocess."""
    out = work / f"{checkpoint.name}-{'qe' if qe else 'ref'}.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "metricx24.predict",
        f"--tokenizer={tokenizer}",
        f"--model_name_or_path={checkpoint}",
        f"--max_input_length={MAX_INPUT_LENGTH}",
        "--batch_size=1",
        f"--input_file={inputs}",
        f"--output_file={out}",
        *(["--qe"] if qe else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(repo), "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run(cmd, check=True, cwd=work, env=env)
    return [json.loads(line)["prediction"] for line in out.read_text(encoding="utf-8").splitlines()]


def google_token_ids(repo: Path, tokenizer_dir: Path, inputs: Path, qe: bool) -> list[list[int]]:
    """The token ids Google's ``get_dataset`` feeds the model (its own function, imported)."""
    import transformers

    sys.path.insert(0, str(repo))
    from metricx24 import predict

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    ds = predict.get_dataset(str(inputs), tokenizer, MAX_INPUT_LENGTH, "cpu", qe)
    return [row["input_ids"].tolist() for row in ds["test"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--metricx-repo", required=True, type=Path, help="checkout of google-research/metricx"
    )
    default_flores = Path(os.environ.get("XLLM_SHARED_DATA", "/work/shared/data")) / "flores101"
    parser.add_argument(
        "--flores", type=Path, default=default_flores, help="FLORES-101 folder (dev/, devtest/)"
    )
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/metricx"))
    args = parser.parse_args()
    import torch
    import transformers

    repo = args.metricx_repo.resolve()
    if not (repo / "metricx24" / "predict.py").is_file():
        parser.error(f"--metricx-repo {repo}: no metricx24/predict.py there")
    sys.path.insert(0, str(repo))
    from metricx24 import models

    out = args.out.resolve()
    for name in ("tokenizer", *CHECKPOINTS):  # what this script writes (README.md stays)
        shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    rows = make_segments(read_flores(args.flores, "devtest"))
    inputs = out / "inputs.jsonl"
    with inputs.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    train_tokenizer(read_flores(args.flores, "dev"), out / "tokenizer")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(out / "tokenizer"))
    expected: dict = {
        "max_input_length": MAX_INPUT_LENGTH,
        "made_with": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "metricx_commit": _commit(repo),
            "tokenizer_class": type(tokenizer).__name__,
        },
        "scores": {},
    }
    edge = list(range(N_DIRECTIONS, len(rows)))
    for qe, mode in ((False, "metricx"), (True, "metricx_qe")):
        ids = google_token_ids(repo, out / "tokenizer", inputs, qe)
        expected.setdefault("input_lengths", {})[mode] = [len(x) for x in ids]
        expected.setdefault("edge_input_ids", {})[mode] = {str(i): ids[i] for i in edge}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for seed, (name, shape) in enumerate(CHECKPOINTS.items()):
            ckpt = work / name
            build_checkpoint(models, name, shape, tokenizer, rows, ckpt, seed)
            expected["scores"][name] = {
                mode: run_google(repo, out / "tokenizer", ckpt, inputs, qe, work)
                for qe, mode in ((False, "metricx"), (True, "metricx_qe"))
            }
            (out / name).mkdir()
            shutil.copy(ckpt / "config.json", out / name / "config.json")
            data = (ckpt / "model.safetensors").read_bytes()
            (out / name / "model.safetensors.xz").write_bytes(lzma.compress(data, preset=9))
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total / 1e6:.2f} MB)", file=sys.stderr)
    return 0


def _commit(repo: Path) -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    raise SystemExit(main())
