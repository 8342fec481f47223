"""Helpers for the judge tests: lm-eval-style samples folders with known right verdicts."""

from __future__ import annotations

import json
from pathlib import Path

from xllm_harness.languages import get_language
from xllm_harness.tasks.mi_eval_docs import read_mi_eval
from xllm_harness.tasks.qa_docs import read_squad_json

API_KEY = "sk-test-Zq8wXv3LmN5pR7tY9uB2cD4eF6gH"
WRONG_KEY = "sk-test-WRONGkey0123456789abcdefXYZ"
STAMP = "2026-01-01T00-00-00.000000"
WORDS = {
    "en": [
        "the",
        "sky",
        "looks",
        "blue",
        "because",
        "sunlight",
        "scatters",
        "in",
        "the",
        "air",
        "and",
        "short",
        "waves",
        "spread",
        "more",
    ],
    "zh": [
        "天空",
        "看起来",
        "是",
        "蓝色",
        "的",
        "因为",
        "阳光",
        "在",
        "空气",
        "中",
        "发生",
        "散射",
        "短波",
        "更",
        "容易",
    ],
    "el": [
        "ο",
        "ουρανός",
        "φαίνεται",
        "μπλε",
        "επειδή",
        "το",
        "φως",
        "του",
        "ήλιου",
        "σκεδάζεται",
        "στον",
        "αέρα",
    ],
}


def _write(folder: Path, task: str, records: list[dict], model: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"samples_{task}_{STAMP}.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    results = {
        "results": {task: {}},
        "config": {"model": "hf", "model_args": f"pretrained={model},dtype=float32"},
        "model_name": model,
    }
    (folder / f"results_{STAMP}.json").write_text(json.dumps(results), encoding="utf-8")


def qa_samples(folder: Path, samples_dir: Path, langs=("en", "zh"), n: int = 20) -> dict[str, list[bool]]:
    """Write xquad samples; every third answer is wrong, one is empty. Returns the right verdicts."""
    expected: dict[str, list[bool]] = {}
    for code in langs:
        docs = read_squad_json(samples_dir / "xquad" / f"xquad.{code}.json", get_language(code))[:n]
        records, truth = [], []
        for i, doc in enumerate(docs):
            if i == 5:
                answer = ""
            elif i % 3 == 0:
                answer = "purple elephant 12345"
            else:
                answer = doc["answers"][0]
            right = bool(answer) and answer.lower() in doc["context"].lower()
            truth.append(right)
            em = float(answer == doc["answers"][0])
            records.append(
                {
                    "doc_id": i,
                    "doc": {k: doc[k] for k in ("context", "question", "answers", "lang")},
                    "target": doc["answers"][0],
                    "resps": [[answer]],
                    "filtered_resps": [answer],
                    "exact_match": em,
                    "match": em,
                }
            )
        _write(folder, f"xquad_xllm_{code}", records, "model-x")
        expected[f"xquad_xllm_{code}"] = truth
    return expected


def mi_eval_pair(dir_a: Path, dir_b: Path, samples_dir: Path, plan: dict[str, list[tuple]]) -> None:
    """Write MI-Eval samples for two systems. ``plan[lang]`` lists (answer_a, answer_b) per doc, where an
    int means that many words in the language and a str is the answer itself."""
    for code, rows in plan.items():
        docs = read_mi_eval(samples_dir / "mi_eval" / f"{code}.jsonl", code)
        for folder, side, model in ((dir_a, 0, "system-a"), (dir_b, 1, "system-b")):
            records = []
            for i, row in enumerate(rows):
                spec = row[side]
                answer = " ".join(WORDS[code][:spec]) if isinstance(spec, int) else spec
                records.append(
                    {
                        "doc_id": i,
                        "doc": docs[i % len(docs)],
                        "target": "",
                        "resps": [[answer]],
                        "filtered_resps": [answer],
                        "nonempty": 1.0,
                    }
                )
            _write(folder, f"mi_eval_xllm_{code}", records, model)


def written_text(paths: list[Path]) -> str:
    """Every file under the given folders, as text (binary-safe), for secret scans."""
    chunks = []
    for root in paths:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file():
                chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)
