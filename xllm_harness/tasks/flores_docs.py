"""FLORES-101 translation documents (the ``flores_xllm`` task folder's builder): the line-aligned
files of one direction and split, each document with x-LLM's test prompt (``text/prompts.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xllm_harness.data import resolve
from xllm_harness.errors import InputError
from xllm_harness.languages import Language, get_language
from xllm_harness.text.prompts import translation_prompt

TEST_SPLIT = "devtest"
FEWSHOT_SPLIT = "dev"


def read_lines(path: Path) -> list[str]:
    """One sentence per line (FLORES ``<code>.<split>`` files), trailing newline ignored."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _flores_path(lang: Language, split: str) -> Path:
    if not lang.flores:
        raise InputError(f"Language {lang.code!r} declares no flores location (Language.flores)")
    return resolve(lang.flores, split=split)


def build_docs(src: str, tgt: str, split: str, names: str = "english") -> list[dict[str, Any]]:
    """The documents of one direction and split (line-aligned FLORES files)."""
    source, target = get_language(src), get_language(tgt)
    src_path, tgt_path = _flores_path(source, split), _flores_path(target, split)
    src_lines, tgt_lines = read_lines(src_path), read_lines(tgt_path)
    if len(src_lines) != len(tgt_lines):
        raise InputError(
            f"FLORES files are not parallel: {src_path} has {len(src_lines)} lines, {tgt_path} has "
            f"{len(tgt_lines)}; re-fetch with `xllm data fetch flores101 --force`."
        )
    return [
        {
            "id": i,
            "src_lang": src,
            "tgt_lang": tgt,
            "source": s,
            "target": t,
            "prompt": translation_prompt(source, target, s, names),
        }
        for i, (s, t) in enumerate(zip(src_lines, tgt_lines, strict=True))
    ]
