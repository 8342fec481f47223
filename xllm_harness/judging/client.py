"""The judge client: bounded concurrency, retries, cache, token and cost accounting, spend cap.

A :class:`Judge` backend (a plugin, e.g. the built-in OpenAI-compatible one) sends ONE chat request
and classifies what went wrong. :class:`JudgeClient` does the rest for a batch of requests:

- cache first (a finished batch rerun makes zero requests), then at most ``concurrency`` requests in
  flight (a thread pool);
- retries of transient failures (429, 5xx, timeouts, connection errors, malformed replies) with
  exponential backoff and jitter, waiting at least what ``Retry-After`` asks; other 4xx fail the item;
  401/403 stop the batch;
- before each request, its worst-case cost (prompt bytes as tokens + ``max_tokens``) is reserved
  against ``max_cost``; a request that could push spending past the cap is never sent;
- secrets are scrubbed from every error message (:func:`redact`).
"""

from __future__ import annotations

import random
import re
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlparse

from xllm_harness.errors import InputError, XllmError
from xllm_harness.judging.cache import CachedReply, JudgeCache, request_key

# USD per 1M tokens (input, output): list prices when this was written; pass your own prices.
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-3.5-turbo": (0.5, 1.5),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
}
MAX_SAMPLES = 100
"""k is capped so that ``seed = sample + 100 * attempt`` stays unique."""

_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]+")


class JudgeError(XllmError, RuntimeError):
    """One request failed for good (after retries, or a non-retryable status)."""


class JudgeAuthError(JudgeError):
    """The endpoint refused the credentials (401/403): the whole batch stops."""


class BudgetExceeded(JudgeError):
    """The request was not sent: it could have pushed spending past ``max_cost``."""


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's requested wait in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Remove the given secrets and anything shaped like an OpenAI key from ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(r"\1***", text)


@dataclass(frozen=True)
class ChatRequest:
    """One judge call: the messages plus which of the k samples and which parse retry it is."""

    messages: tuple[tuple[str, str], ...]
    sample: int = 0
    attempt: int = 0

    @property
    def seed(self) -> int:
        return self.sample + MAX_SAMPLES * self.attempt

    def retry(self) -> ChatRequest:
        """The same question asked again (after an unparseable reply): a new seed, a new cache key."""
        return ChatRequest(self.messages, self.sample, self.attempt + 1)


@dataclass(frozen=True)
class ChatReply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False


class Judge:
    """Backend base class: plugins subclass it and implement :meth:`send` (one HTTP call, no retry)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(
        self, model: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 60.0
    ):
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self._api_key = api_key

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    @property
    def endpoint(self) -> str:
        """Host (and port and path) of the endpoint, without credentials: part of the cache key."""
        if not self.base_url:
            return ""
        parts = urlparse(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return host + parts.path.rstrip("/")

    def send(self, request: ChatRequest, temperature: float, max_tokens: int) -> ChatReply:
        """Send one request. Raise :class:`TransientError` (retry), :class:`JudgeAuthError` or
        :class:`JudgeError` (give up on this item)."""
        raise NotImplementedError


@dataclass
class JudgeSettings:
    temperature: float = 0.0
    max_tokens: int = 512
    k: int = 1
    """Samples per item (each its own request and cache entry)."""
    concurrency: int = 8
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0
    price_input: float | None = None
    """USD per 1M prompt tokens (default: :data:`KNOWN_PRICES` for the model, else unknown)."""
    price_output: float | None = None
    max_cost: float | None = None
    """Stop before new spending in this run could pass this many USD."""
    progress: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_SAMPLES:
            raise InputError(f"k (samples per item) must be in 1..{MAX_SAMPLES}, got {self.k}")
        if self.concurrency < 1:
            raise InputError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_tokens < 1:
            raise InputError(f"max_tokens must be >= 1, got {self.max_tokens}")


@dataclass
class Usage:
    """Totals of one run: new requests and their tokens/cost, plus what the cache answered."""

    requests: int = 0
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
    faults: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JudgeClient:
    """Runs batches of :class:`ChatRequest` through a :class:`Judge` with cache, retries and a cap."""

    def __init__(self, judge: Judge, settings: JudgeSettings | None = None, cache: JudgeCache | None = None):
        self.judge = judge
        self.settings = settings or JudgeSettings()
        self.cache = cache
        s = self.settings
        known = KNOWN_PRICES.get(judge.model)
        self.price_input = s.price_input if s.price_input is not None else (known[0] if known else None)
        self.price_output = s.price_output if s.price_output is not None else (known[1] if known else None)
        priced = self.price_input is not None and self.price_output is not None
        if s.max_cost is not None and not priced:
            raise InputError(
                f"--max-cost needs prices: model {judge.model!r} has no known price; "
                "set --price-input and --price-output (USD per 1M tokens)"
            )
        self.usage = Usage(
            cost_usd=0.0 if priced else None,
            price_input_per_1m=self.price_input,
            price_output_per_1m=self.price_output,
            max_cost_usd=s.max_cost,
        )
        self._lock = threading.RLock()
        self._reserved = 0.0
        self._stop: JudgeError | None = None

    # -- keys, cost --------------------------------------------------------------------------
    def request_fields(self, request: ChatRequest) -> dict[str, Any]:
        """Everything that changes the answer (and nothing secret)."""
        return {
            "judge": self.judge.name,
            "model": self.judge.model,
            "endpoint": self.judge.endpoint,
            "messages": [list(m) for m in request.messages],
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "seed": request.seed,
        }

    def key(self, request: ChatRequest) -> str:
        return request_key(self.request_fields(request))

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        assert self.price_input is not None and self.price_output is not None
        return (prompt_tokens * self.price_input + completion_tokens * self.price_output) / 1e6

    def worst_case_cost(self, request: ChatRequest) -> float:
        """Upper bound of one request's cost: a token is at least one UTF-8 byte, plus framing."""
        prompt = sum(len(content.encode("utf-8")) + 8 for _, content in request.messages) + 8
        return self.cost(prompt, self.settings.max_tokens)

    @property
    def stopped(self) -> JudgeError | None:
        """Why the client stopped sending (spend cap or credentials), if it did."""
        return self._stop

    # -- batches -----------------------------------------------------------------------------
    def run(
        self, requests: Sequence[ChatRequest], desc: str = "judging"
    ) -> dict[ChatRequest, ChatReply | JudgeError]:
        """Answer every request (cache or endpoint); failures come back as :class:`JudgeError` values."""
        results: dict[ChatRequest, ChatReply | JudgeError] = {}
        todo: list[ChatRequest] = []
        for request in dict.fromkeys(requests):
            hit = self.cache.get(self.key(request)) if self.cache else None
            if hit is not None:
                results[request] = ChatReply(hit.text, hit.prompt_tokens, hit.completion_tokens, cached=True)
                self.usage.cache_hits += 1
                self.usage.cached_prompt_tokens += hit.prompt_tokens
                self.usage.cached_completion_tokens += hit.completion_tokens
            else:
                todo.append(request)
        if not todo:
            return results
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(todo), desc=desc, unit="call", file=sys.stderr, disable=not self.settings.progress
        )
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            futures = {pool.submit(self._one, request): request for request in todo}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
        bar.close()
        return results

    def _one(self, request: ChatRequest) -> ChatReply | JudgeError:
        if self._stop is not None:
            return self._skip(request)
        reservation = 0.0
        if self.settings.max_cost is not None:
            reservation = self.worst_case_cost(request)
            with self._lock:
                spent = self.usage.cost_usd or 0.0
                if spent + self._reserved + reservation > self.settings.max_cost:
                    if self._stop is None:
                        self._stop = BudgetExceeded(
                            f"stopped before exceeding --max-cost {self.settings.max_cost:g} USD: "
                            f"spent {spent:.6f}, the next request could cost up to {reservation:.6f}"
                        )
                    return self._skip(request)
                self._reserved += reservation
        try:
            reply = self._send_with_retries(request)
        except JudgeError as err:
            with self._lock:
                self._reserved -= reservation
                self.usage.failures += 1
            return err
        with self._lock:
            self._reserved -= reservation
            self.usage.requests += 1
            self.usage.prompt_tokens += reply.prompt_tokens
            self.usage.completion_tokens += reply.completion_tokens
            if self.usage.cost_usd is not None:
                self.usage.cost_usd += self.cost(reply.prompt_tokens, reply.completion_tokens)
        if self.cache is not None:
            stored = CachedReply(reply.text, reply.prompt_tokens, reply.completion_tokens)
            self.cache.put(self.key(request), self.request_fields(request), stored)
        return reply

    def _skip(self, request: ChatRequest) -> JudgeError:
        with self._lock:
            if isinstance(self._stop, BudgetExceeded):
                self.usage.skipped_budget += 1
        return self._stop or JudgeError("stopped")

    def _send_with_retries(self, request: ChatRequest) -> ChatReply:
        s = self.settings
        for attempt in range(s.max_retries + 1):
            if isinstance(self._stop, JudgeAuthError):
                raise self._stop
            with self._lock:
                self.usage.attempts += 1
            try:
                return self.judge.send(request, s.temperature, s.max_tokens)
            except JudgeAuthError as err:
                safe = JudgeAuthError(redact(str(err), self.judge.secrets))
                with self._lock:
                    if self._stop is None:
                        self._stop = safe
                raise safe from None
            except JudgeError as err:
                raise JudgeError(redact(str(err), self.judge.secrets)) from None
            except TransientError as err:
                kind = str(err).split(":", 1)[0]
                with self._lock:
                    self.usage.faults[kind] = self.usage.faults.get(kind, 0) + 1
                if attempt == s.max_retries:
                    message = redact(str(err), self.judge.secrets)
                    raise JudgeError(f"gave up after {attempt + 1} tries: {message}") from None
                if err.retry_after is not None and err.retry_after > s.max_retry_after:
                    raise JudgeError(
                        f"server asked to wait {err.retry_after:.0f} s (> {s.max_retry_after:.0f} s); giving up"
                    ) from None
                with self._lock:
                    self.usage.retries += 1
                delay = min(s.backoff_max, s.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
                time.sleep(max(delay, err.retry_after or 0.0))
        raise AssertionError("unreachable")
