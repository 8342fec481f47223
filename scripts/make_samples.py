"""Cut the small bundled samples in xllm_harness/data/samples/ from the full data files.

    python scripts/make_samples.py /path/to/shared/data

Deterministic: the first N items of each file (for Alpaca, the first N complete records: a record with an
empty output is a defect of the source that the trainer would skip with a warning on every demo run).
Sources and licences: xllm_harness/data/samples/README.md.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "xllm_harness" / "samples"
XQUAD_LANGS = ["ar", "el", "en", "hi", "tr", "vi", "zh"]
MLQA_STAND_IN_LANGS = ["ar", "en", "hi", "vi", "zh"]
"""The languages of the mlqa_xllm tasks: their sample is an XQuAD cut in MLQA's file layout (no MLQA
data is available to this project; see xllm_harness/data/samples/README.md)."""
FLORES = ["eng", "ara", "ell", "hin", "tur", "vie", "zho_simpl"]
PARALLEL = {  # only the sets with an explicit licence (CC0, CC BY 2.0 FR)
    "en-ar": "tico19-test.{}",
    "en-el": "tatoeba-test-v2021-08-07.{}",
    "en-vi": "tatoeba-test-v2021-08-07.{}",
}
PARALLEL_CODES = {"en-ar": "ara", "en-el": "ell", "en-vi": "vie"}


def head_lines(src: Path, dst: Path, n: int) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(n)]
    dst.write_text("".join(lines), encoding="utf-8")


def complete_records(records: list[dict], n: int) -> list[dict]:
    """The first ``n`` instruction records whose output is a non-empty string."""
    return [r for r in records if isinstance(r.get("output"), str) and r["output"].strip()][:n]


def main(shared: Path) -> None:
    shutil.rmtree(OUT / "xquad", ignore_errors=True)
    for lang in XQUAD_LANGS:  # the first 4 paragraphs of the first article (same questions in every language)
        full = json.loads((shared / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        article = dict(full["data"][0])
        article["paragraphs"] = article["paragraphs"][:4]
        out = OUT / "xquad" / f"xquad.{lang}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps({"version": full["version"], "data": [article]}, ensure_ascii=False), encoding="utf-8"
        )
    shutil.rmtree(OUT / "mlqa", ignore_errors=True)
    for lang in MLQA_STAND_IN_LANGS:  # XQuAD's 2nd article, first 3 paragraphs (15 questions): NOT MLQA text
        full = json.loads((shared / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        article = dict(full["data"][1])
        article["paragraphs"] = article["paragraphs"][:3]
        out = OUT / "mlqa" / "test" / f"test-context-{lang}-question-{lang}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps({"version": full["version"], "data": [article]}, ensure_ascii=False), encoding="utf-8"
        )
    for code in FLORES:
        head_lines(
            shared / "flores101" / "dev" / f"{code}.dev", OUT / "flores101" / "dev" / f"{code}.dev", 20
        )
        head_lines(
            shared / "flores101" / "devtest" / f"{code}.devtest",
            OUT / "flores101" / "devtest" / f"{code}.devtest",
            50,
        )
    alpaca = json.loads((shared / "alpaca" / "alpaca_data.json").read_text(encoding="utf-8"))
    (OUT / "alpaca").mkdir(parents=True, exist_ok=True)
    (OUT / "alpaca" / "alpaca_en.json").write_text(
        json.dumps(complete_records(alpaca, 300), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    zh = json.loads(
        (shared / "alpaca" / "translated_zh" / "zh-data-part-00.json").read_text(encoding="utf-8")
    )
    (OUT / "alpaca" / "alpaca_zh.json").write_text(
        json.dumps(complete_records(zh, 200), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    for pair, pattern in PARALLEL.items():
        x = PARALLEL_CODES[pair]
        head_lines(
            shared / "parallel" / f"{pair}.{pattern.format('eng')}", OUT / "parallel" / f"{pair}.en", 300
        )
        head_lines(
            shared / "parallel" / f"{pair}.{pattern.format(x)}", OUT / "parallel" / f"{pair}.{pair[3:]}", 300
        )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
