"""Build tiny BLEURT checkpoints with bleurt-pytorch 0.0.1 and record its scores and token ids.

Runs in the parity environment (scripts/parity/setup.sh; transformers 4.57, bleurt-pytorch 0.0.1), never
in the project's own: it is the reference our BLEURT code (plugins/metrics/bleurt/) is proven equal to.

    /work/parity-venv/bin/python scripts/parity/bleurt_fixtures.py \
        --flores /work/shared/data/flores101 --out tests/fixtures/bleurt

Writes under ``--out``:
- ``sp/``: a BLEURT-20-shaped checkpoint (SentencePiece ``spm.model`` read by bleurt-pytorch's
  ``BleurtSPTokenizer``, an embedding projection ``embedding_size < hidden_size``, weights as
  ``pytorch_model.bin`` like the hub's BLEURT-20 family);
- ``wordpiece/``: an older-BLEURT-shaped checkpoint (WordPiece ``vocab.txt``/``tokenizer.json`` read by
  ``BleurtTokenizerFast``, no projection, ``model.safetensors``);
- ``cases.json``: the (reference, candidate) pairs: real FLORES-101 devtest lines in seven languages, edge
  texts (empty, whitespace-only, ``▁``, special-token strings) and pairs longer than 512 tokens;
- ``expected.json``: per checkpoint, bleurt-pytorch's segment scores (scored as the former plugin did:
  references first, sorted by length, batches of 16, ``padding="longest"``, ``truncation=True``,
  ``max_length=512``) and its token ids and token type ids for every pair; the versions used.

Both models are random, with weights drawn wide enough that scores spread (a near-constant model would
make a 1e-5 parity check meaningless). The scores mean nothing as translation quality.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import sentencepiece as spm
import torch
from bleurt_pytorch import BleurtConfig, BleurtForSequenceClassification, BleurtTokenizer

LANGS = ["eng", "ara", "ell", "hin", "tur", "vie", "zho_simpl"]
MAX_LENGTH = 512
BATCH_SIZE = 16
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

EDGE_TEXTS = [
    "",
    " ",
    "   ",
    "\t",
    "▁",
    "▁▁",
    "word▁",
    "▁word",
    "a ▁ b",
    "trailing space ",
    " leading space",
    "double  space",
    "[SEP]",
    "[CLS]",
    "[UNK]",
    "[PAD]",
    "[MASK]",
    "foo [SEP] bar",
    "foo[SEP]bar",
    " [CLS] x [MASK] ",
    "<s> </s> <unk> <pad>",
    "\u00a0no-break space",
    "ﬁne ligature ①",
    "Ｆｕｌｌ　ｗｉｄｔｈ",
    "e\u0301 combining",
    "zero\u200bwidth",
    "emoji 🙂🙂",
    "ALL CAPS Ünïcödé",
    "数字 123 和 English",
]


def read(flores: Path, split: str, lang: str) -> list[str]:
    return (flores / split / f"{lang}.{split}").read_text(encoding="utf-8").split("\n")[:-1]


def widen(model: torch.nn.Module, seed: int) -> None:
    """Redraw every weight so that the output varies with the input (default init is near-constant)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "LayerNorm" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                param.copy_(base + 0.2 * torch.randn(param.shape, generator=gen))
            elif param.dim() == 2 and "embeddings" not in name:
                param.copy_(torch.randn(param.shape, generator=gen) / param.shape[1] ** 0.5)
            elif param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=gen))
            else:
                param.copy_(0.1 * torch.randn(param.shape, generator=gen))


def train_spm(texts: list[str], path: Path) -> None:
    """A unigram SentencePiece model laid out like BLEURT-20's: [PAD] 0, [UNK] 1, [CLS], [SEP], [MASK]."""
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=buffer,
        vocab_size=1500,
        character_coverage=0.995,
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
    path.write_bytes(buffer.getvalue())


def wordpiece_vocab(texts: list[str]) -> list[str]:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=1000, special_tokens=SPECIALS, limit_alphabet=300, show_progress=False
    )
    tok.train_from_iterator(texts, trainer=trainer)
    vocab = tok.get_vocab()
    return sorted(vocab, key=vocab.__getitem__)


def build_sp(out: Path, texts: list[str], seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = out / "_spm.model"
    train_spm(texts, work)
    from bleurt_pytorch.bleurt.tokenization_bleurt_sp import BleurtSPTokenizer

    tokenizer = BleurtSPTokenizer(str(work))
    tokenizer.save_pretrained(out)
    work.unlink()
    config = BleurtConfig(
        vocab_size=len(tokenizer),
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        architectures=["BleurtForSequenceClassification"],
    )
    torch.manual_seed(seed)
    model = BleurtForSequenceClassification(config)
    widen(model, seed)
    model.save_pretrained(out, safe_serialization=False)  # pytorch_model.bin, as the hub's BLEURT-20


def build_wordpiece(out: Path, texts: list[str], seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(wordpiece_vocab(texts)) + "\n", encoding="utf-8")
    tokenizer = BleurtTokenizer.from_pretrained(str(out), model_max_length=MAX_LENGTH)
    tokenizer.save_pretrained(out)
    config = BleurtConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        architectures=["BleurtForSequenceClassification"],
    )
    torch.manual_seed(seed)
    model = BleurtForSequenceClassification(config)
    widen(model, seed)
    model.save_pretrained(out)  # model.safetensors


def pair_length(tokenizer, ref: str, cand: str) -> int:
    return len(tokenizer(ref, cand)["input_ids"])


def boundary_pairs(tokenizer, text: str) -> list[list[str]]:
    """Pairs whose untruncated length is 511..515 tokens (the candidate is a prefix of ``text``), both ways."""
    pairs = []
    short = text[:300]
    for target in range(511, 516):
        lo, hi = 0, len(text)  # the shortest prefix reaching ``target`` tokens
        while lo < hi:
            mid = (lo + hi) // 2
            if pair_length(tokenizer, short, text[:mid]) >= target:
                hi = mid
            else:
                lo = mid + 1
        if pair_length(tokenizer, short, text[:lo]) == target:
            pairs += [[short, text[:lo]], [text[:lo], short]]
    return pairs


def make_cases(flores: Path, sp_tok, wp_tok) -> list[list[str]]:
    lines = {lang: read(flores, "devtest", lang) for lang in LANGS}
    rng = random.Random(19)
    pairs: list[list[str]] = []
    for i in range(210):  # real segments: same-language candidates, some wrong, some perturbed
        lang = LANGS[i % len(LANGS)]
        ref = lines[lang][i]
        if i % 3 == 0:
            cand = lines[lang][(i + 7) % len(lines[lang])]
        elif i % 3 == 1:
            words = ref.split(" ")
            rng.shuffle(words)
            cand = " ".join(words[: max(1, len(words) - 2)])
        else:
            cand = ref
        pairs.append([ref, cand])
    for i in range(7):  # across languages
        pairs.append([lines["eng"][300 + i], lines[LANGS[i]][300 + i]])
    for text in EDGE_TEXTS:
        pairs += [[text, lines["eng"][500]], [lines["eng"][500], text], [text, text]]
    pairs += [["", ""], ["", " "], [" ", ""]]
    long_en = " ".join(lines["eng"][600:640])
    long_zh = "".join(lines["zho_simpl"][600:660])
    long_hi = " ".join(lines["hin"][600:640])
    pairs += [
        [long_en, lines["eng"][600]],
        [lines["eng"][600], long_en],
        [long_en, long_en],
        [long_zh, long_hi],
        [long_hi, lines["hin"][601]],
        [long_en, ""],
        ["", long_zh],
    ]
    text = " ".join(lines["eng"][700:760])
    pairs += boundary_pairs(sp_tok, text) + boundary_pairs(wp_tok, text)
    return pairs


def reference_scores(model, tokenizer, pairs: list[list[str]]) -> list[float]:
    """Scores as the former plugin computed them with bleurt-pytorch."""
    refs = [p[0] for p in pairs]
    cands = [p[1] for p in pairs]
    order = sorted(range(len(pairs)), key=lambda i: len(refs[i]) + len(cands[i]))
    scores = [0.0] * len(pairs)
    with torch.inference_mode():
        for start in range(0, len(order), BATCH_SIZE):
            ids = order[start : start + BATCH_SIZE]
            inputs = tokenizer(
                [refs[i] for i in ids],
                [cands[i] for i in ids],
                padding="longest",
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            )
            for i, score in zip(ids, model(**inputs).logits.float().view(-1).tolist(), strict=True):
                scores[i] = score
    return scores


def record(folder: Path, pairs: list[list[str]]) -> dict:
    model = BleurtForSequenceClassification.from_pretrained(str(folder)).eval()
    tokenizer = BleurtTokenizer.from_pretrained(str(folder))
    # batched lists, as the plugin called it: a single call with an empty candidate would drop the pair
    # (BertTokenizerFast tests ``if text_pair``), a batch keeps it
    encoded = tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation=True, max_length=MAX_LENGTH)
    return {
        "tokenizer_class": type(tokenizer).__name__,
        "scores": reference_scores(model, tokenizer, pairs),
        "input_ids": encoded["input_ids"],
        "token_type_ids": encoded["token_type_ids"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flores", type=Path, required=True, help="FLORES-101 folder (dev/, devtest/)")
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/bleurt"))
    args = parser.parse_args()
    dev = [line for lang in LANGS for line in read(args.flores, "dev", lang)]
    build_sp(args.out / "sp", dev, seed=1)
    latin = [line for lang in ("eng", "ell", "tur", "vie", "ara") for line in read(args.flores, "dev", lang)]
    build_wordpiece(args.out / "wordpiece", latin, seed=2)
    pairs = make_cases(
        args.flores,
        BleurtTokenizer.from_pretrained(str(args.out / "sp")),
        BleurtTokenizer.from_pretrained(str(args.out / "wordpiece")),
    )
    cases = {
        "source": "FLORES-101 devtest lines (CC BY-SA 4.0, see /work/shared/data/SOURCES.md) and edge texts",
        "pairs": pairs,
    }
    (args.out / "cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=0) + "\n", "utf-8")
    expected = {
        "made_by": "scripts/parity/bleurt_fixtures.py",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "versions": {
            name: version(name)
            for name in ("bleurt-pytorch", "transformers", "tokenizers", "sentencepiece", "torch")
        }
        | {"python": platform.python_version()},
        "max_length": MAX_LENGTH,
        "batch_size": BATCH_SIZE,
        "checkpoints": {name: record(args.out / name, pairs) for name in ("sp", "wordpiece")},
    }
    (args.out / "expected.json").write_text(
        json.dumps(expected, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    for name, rec in expected["checkpoints"].items():
        scores = torch.tensor(rec["scores"])
        print(
            f"{name}: {rec['tokenizer_class']}, {len(pairs)} pairs, scores mean {scores.mean():.4f} std {scores.std():.4f}"
        )


if __name__ == "__main__":
    main()
