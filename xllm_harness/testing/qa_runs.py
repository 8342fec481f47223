"""Scripted QA runs: lm-eval samples folders for XQuAD whose outputs are right exactly where told.

A right output is the first gold answer, a wrong one a phrase found in no answer; the documents are
the real XQuAD ones (the bundled sample or the full files), as lm-eval stores them with --log_samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xllm_harness.languages import get_language
from xllm_harness.tasks.qa_docs import read_squad_json
from xllm_harness.testing.lm_eval_files import STAMP, sample_line, write_samples

WRONG = "purple elephant 12345"


def xquad_docs(data_dir: Path, lang: str) -> list[dict[str, Any]]:
    """The documents of ``xquad.<lang>.json`` under ``data_dir/xquad``, in file order."""
    return read_squad_json(Path(data_dir) / "xquad" / f"xquad.{lang}.json", get_language(lang))


def write_qa_run(
    folder: Path,
    data_dir: Path,
    langs: Sequence[str],
    right: Callable[[str, int, dict[str, Any]], bool],
    family: str = "xquad_xllm",
    model: str = "scripted",
) -> Path:
    """One model folder with ``samples_<family>_<lang>_<stamp>.jsonl`` per language; document ``i`` of
    language ``lang`` is answered right when ``right(lang, i, doc)``."""
    for lang in langs:
        docs = [
            {k: doc[k] for k in ("id", "context", "question", "answers", "lang")}
            for doc in xquad_docs(data_dir, lang)
        ]
        outputs = [doc["answers"][0] if right(lang, i, doc) else WRONG for i, doc in enumerate(docs)]
        write_samples(
            folder, f"{family}_{lang}", docs, outputs, STAMP,
            line=lambda i, doc, out: sample_line(i, doc, out, doc["answers"][0]),
        )  # fmt: skip
    (folder / f"results_{STAMP}.json").write_text(
        json.dumps(
            {
                "results": {},
                "model_name": model,
                "config": {"model": "hf", "model_args": f"pretrained={model}"},
            }
        ),
        encoding="utf-8",
    )
    return folder
