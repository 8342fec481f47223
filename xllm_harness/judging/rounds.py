"""Judge a list of requests in rounds, re-asking (with a new seed) when a reply cannot be parsed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xllm_harness.judging.backend import BatchPending, BudgetExceeded, ChatRequest, Interrupted, JudgeError
from xllm_harness.judging.client import JudgeClient


@dataclass
class Outcome:
    """The final result of one request: a parsed value, or why there is none."""

    value: Any | None
    reply: str | None
    tries: int
    """Replies received for this request (1 + parse retries)."""
    error: str | None = None
    skipped: str | None = None
    """Why the request was not answered without having failed: ``budget`` (``--max-cost``),
    ``interrupted`` (Ctrl-C) or ``pending`` (a batch left for a rerun)."""

    @property
    def unparseable(self) -> bool:
        return self.error is None and self.value is None


def skip_reason(error: JudgeError) -> str | None:
    """``budget``, ``interrupted``, ``pending``, or ``None`` for a request that failed."""
    for kind, name in ((BudgetExceeded, "budget"), (Interrupted, "interrupted"), (BatchPending, "pending")):
        if isinstance(error, kind):
            return name
    return None


def judge_all(
    client: JudgeClient,
    requests: Sequence[ChatRequest],
    parse: Callable[[str], Any | None],
    parse_retries: int = 2,
    desc: str = "judging",
) -> dict[ChatRequest, Outcome]:
    """Outcomes keyed by the original requests; unparseable replies are re-asked ``parse_retries`` times.

    Each round is one :meth:`JudgeClient.run` (with ``--batch``: one batch). When a re-ask fails, the
    outcome stays unparseable (the reply that could not be parsed is kept).
    """
    pending = {request: request for request in requests}
    last_reply: dict[ChatRequest, str] = {}
    outcomes: dict[ChatRequest, Outcome] = {}
    while pending:
        replies = client.run(list(pending.values()), desc=desc)
        retry: dict[ChatRequest, ChatRequest] = {}
        for original, current in pending.items():
            reply = replies[current]
            if isinstance(reply, JudgeError):
                if original in last_reply:
                    outcomes[original] = Outcome(None, last_reply[original], current.attempt)
                else:
                    outcomes[original] = Outcome(None, None, current.attempt, str(reply), skip_reason(reply))
                continue
            value = parse(reply.text)
            if value is None and current.attempt < parse_retries:
                last_reply[original] = reply.text
                retry[original] = current.retry()
                continue
            outcomes[original] = Outcome(value, reply.text, current.attempt + 1)
        pending = retry
    return outcomes
