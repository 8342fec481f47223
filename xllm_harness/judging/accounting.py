"""Tokens, cost and the spend cap of one judge run.

Before a request (or a whole batch) is sent, its worst-case cost (prompt bytes as tokens, plus framing,
plus ``max_tokens``) is reserved against ``max_cost``: the cap holds what was spent plus the worst case
of what is in flight. A request that does not fit waits while others are in flight (their real cost
is usually far below the worst case) and is skipped only when nothing is in flight. A reply whose
``usage`` is unusable is kept, counted as of unknown cost, and its worst case stays charged against the
cap. Batch replies are priced with the batch discount (OpenAI: half the synchronous price).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.judging.backend import BudgetExceeded, ChatReply, ChatRequest, prompt_token_bound

# USD per 1M tokens (input, output): list prices when this was written; pass your own prices.
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-3.5-turbo": (0.5, 1.5),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
}


@dataclass
class Usage:
    """Totals of one run: new replies and their tokens/cost, plus what the cache answered."""

    requests: int = 0
    """Replies received in this run (synchronous calls and batch results)."""
    attempts: int = 0
    retries: int = 0
    failures: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    cost_usd: float | None = 0.0
    skipped_budget: int = 0
    price_input_per_1m: float | None = None
    price_output_per_1m: float | None = None
    max_cost_usd: float | None = None
    batch_discount: float = 0.5
    batch_requests: int = 0
    """Of ``requests``, those that came from a batch (or an imported output file), priced with the discount."""
    batches_submitted: int = 0
    unknown_usage: int = 0
    """Replies kept whose ``usage`` was missing, malformed or impossible: not in the tokens or the cost."""
    unknown_usage_worst_case_usd: float | None = 0.0
    """Their worst-case cost, charged against ``--max-cost`` (``None`` without prices)."""
    usage_problems: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def usd(amount: float | None) -> str:
    """The one way a cost is written (summary line, spend-cap messages)."""
    return "unknown (no price)" if amount is None else f"{amount:.6f} USD"


def check_amount(option: str, value: float | None, *, positive: bool = False) -> None:
    """An ``InputError`` naming ``option`` unless ``value`` is a finite number >= 0 (> 0 if ``positive``)."""
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise InputError(f"{option} must be a finite number {bound}, got {value}")


class Ledger:
    """Prices, the running :class:`Usage` and the reservations against ``max_cost`` (thread-safe)."""

    def __init__(
        self,
        model: str,
        price_input: float | None,
        price_output: float | None,
        max_cost: float | None,
        max_tokens: int,
        batch_discount: float,
    ) -> None:
        check_amount("--price-input", price_input)
        check_amount("--price-output", price_output)
        check_amount("--max-cost", max_cost)
        known = KNOWN_PRICES.get(model)
        self.price_input = price_input if price_input is not None else (known[0] if known else None)
        self.price_output = price_output if price_output is not None else (known[1] if known else None)
        priced = self.price_input is not None and self.price_output is not None
        if max_cost is not None and not priced:
            raise InputError(
                f"--max-cost needs prices: model {model!r} has no known price; "
                "set --price-input and --price-output (USD per 1M tokens)"
            )
        if not 0.0 < batch_discount <= 1.0:
            raise InputError(f"--batch-discount must be in (0, 1], got {batch_discount}")
        self.max_cost = max_cost
        self.max_tokens = max_tokens
        self.usage = Usage(
            cost_usd=0.0 if priced else None,
            price_input_per_1m=self.price_input,
            price_output_per_1m=self.price_output,
            max_cost_usd=max_cost,
            batch_discount=batch_discount,
            unknown_usage_worst_case_usd=0.0 if priced else None,
        )
        self.lock = threading.RLock()
        self._released = threading.Condition(self.lock)
        self._reserved = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        assert self.price_input is not None and self.price_output is not None
        return (prompt_tokens * self.price_input + completion_tokens * self.price_output) / 1e6

    def worst_case(self, request: ChatRequest, batched: bool = False) -> float:
        """Upper bound of one request's cost (:func:`prompt_token_bound` and ``max_tokens``)."""
        if self.price_input is None or self.price_output is None:
            return 0.0
        discount = self.usage.batch_discount if batched else 1.0
        return self.cost(prompt_token_bound(request), self.max_tokens) * discount

    @property
    def spent(self) -> float:
        """Known cost plus the worst case of the replies whose cost is unknown (what the cap sees)."""
        return (self.usage.cost_usd or 0.0) + (self.usage.unknown_usage_worst_case_usd or 0.0)

    def reserve(self, amount: float, stopped: Callable[[], bool] | None = None) -> BudgetExceeded | None:
        """Reserve ``amount`` USD, or say why not (the spend cap). With ``stopped`` (concurrent callers)
        a request that does not fit waits while others are in flight, until it fits, nothing is in
        flight, or ``stopped()``; without it (one caller reserving a whole batch) it does not wait."""
        if self.max_cost is None:
            return None
        with self._released:
            while self.spent + self._reserved + amount > self.max_cost:
                if stopped is None or self._reserved <= 0 or stopped():
                    return BudgetExceeded(
                        f"stopped before exceeding --max-cost {self.max_cost:g} USD: spent {usd(self.spent)}, "
                        f"the next request(s) could cost up to {usd(amount)}"
                    )
                self._released.wait(0.2)
            self._reserved += amount
        return None

    def release(self, amount: float) -> None:
        with self._released:
            self._reserved = max(0.0, self._reserved - amount)
            self._released.notify_all()

    def charge(self, reply: ChatReply, request: ChatRequest, batched: bool = False) -> None:
        """Count a reply that arrived (synchronously, or from a batch at the discount)."""
        with self.lock:
            usage = self.usage
            usage.requests += 1
            usage.batch_requests += batched
            if reply.prompt_tokens is None or reply.completion_tokens is None:
                usage.unknown_usage += 1
                problem = (reply.usage_problem or "unknown").split(" (")[0]
                usage.usage_problems[problem] = usage.usage_problems.get(problem, 0) + 1
                if usage.unknown_usage_worst_case_usd is not None:
                    usage.unknown_usage_worst_case_usd += self.worst_case(request, batched)
                return
            usage.prompt_tokens += reply.prompt_tokens
            usage.completion_tokens += reply.completion_tokens
            if usage.cost_usd is not None:
                discount = usage.batch_discount if batched else 1.0
                usage.cost_usd += self.cost(reply.prompt_tokens, reply.completion_tokens) * discount

    def cache_hit(self, reply: ChatReply) -> None:
        with self.lock:
            self.usage.cache_hits += 1
            self.usage.cached_prompt_tokens += reply.prompt_tokens or 0
            self.usage.cached_completion_tokens += reply.completion_tokens or 0

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self.usage, name, getattr(self.usage, name) + n)

    def fault(self, kind: str) -> None:
        with self.lock:
            self.usage.faults[kind] = self.usage.faults.get(kind, 0) + 1
