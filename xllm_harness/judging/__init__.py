"""LLM-as-a-judge: the paper's QA correctness and MI-Eval pairwise judging.

``backend`` (the judge-backend contract: request, reply and its chat-completion body, errors,
Batch-API capability), ``client`` (cache lookup, retries, failing fast), ``settings`` (the client's
settings), ``accounting`` (tokens, cost, spend cap), ``transports`` (synchronous calls, batch-file
export and import; they see the client through the ``TransportClient`` protocol), ``batch_api`` (``--batch``), ``batch_files`` (the
Batch-API JSONL format), ``cache`` (content-addressed sqlite, batch ids), ``rounds`` (parse-retry
rounds), ``prompts`` (the paper's appendix D prompts and verdict parsers), ``langgate`` (language
gate), ``summary`` (the final line), ``qa`` and ``pairwise`` (the two jobs). Judge backends are
plugins (``xllm_judges`` hook); the built-in one is ``openai``.
"""

from __future__ import annotations

from xllm_harness.judging.backend import Judge
from xllm_harness.registry import get_registry


def get_judges() -> dict[str, type[Judge]]:
    """Registered judge backend classes by name; two plugins claiming one name is an error (a judge
    named like the built-in one would receive its API key)."""
    return get_registry().named(
        "xllm_judges", "judge", lambda x: isinstance(x, type) and issubclass(x, Judge), "a Judge subclass"
    )
