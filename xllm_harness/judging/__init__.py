"""LLM-as-a-judge: the paper's QA correctness and MI-Eval pairwise judging.

``client`` (concurrency, retries, spend cap), ``cache`` (content-addressed sqlite), ``prompts`` (the
paper's appendix D prompts and reply parsing), ``langgate`` (lid.176), ``samples`` (lm-eval
``--log_samples`` folders), ``batch`` (parse-retry rounds), ``qa`` and ``pairwise`` (the two jobs).
Judge backends are plugins (``xllm_judges`` hook); the built-in one is ``openai``.
"""

from __future__ import annotations

from xllm_harness.registry import collect


def get_judges() -> dict[str, type]:
    """Registered judge backend classes by name."""
    return {cls.name: cls for cls in collect("xllm_judges")}
