"""Subcommands of the ``xllm`` command line, one module each; the option groups several share."""

from __future__ import annotations

import argparse

from xllm_harness.train_sources import DIRECTIONS, INSTRUCTIONS


def add_data_options(p: argparse.ArgumentParser, spec_required: bool) -> None:
    """The data options of ``xllm data build`` (spec positional) and ``xllm train`` (``--data``)."""
    p.add_argument(
        "--data" if not spec_required else "spec",
        nargs=None if not spec_required else "?",
        default=None,
        help="data spec, e.g. alpaca_en+alpaca_zh+translation_en-zh[:100000]; items may name files: "
        "alpaca_zh=/d/zh.json, translation_en-zh=/d/x.en,/d/x.zh"
        + ("; or a .jsonl file written by `xllm data build`" if not spec_required else ""),
    )
    p.add_argument(
        "--allocation",
        default=None,
        help="allocation JSON from `xllm analyze allocator` (adds translation_<lang>[:n])",
    )
    p.add_argument(
        "--direction", default="en-x", choices=DIRECTIONS,
        help="direction of translation_<lang> items and allocations (en-x: non-English on the target side)",
    )  # fmt: skip
    p.add_argument(
        "--instructions",
        default="rotate",
        choices=INSTRUCTIONS,
        help="translation instructions: rotate paraphrases (training) or the fixed test prompt",
    )
    p.add_argument("--seed", type=int, default=42, help="shuffling (and training) seed")
