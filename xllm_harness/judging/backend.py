"""The judge-backend contract: one chat request, its reply (and how a chat-completion body is read into
one), the errors a backend raises, and the optional Batch-API capability (upload a JSONL file, create and poll a batch, download its files).

A backend (a plugin, e.g. the built-in OpenAI-compatible one) makes ONE HTTP call per method and
classifies what went wrong; :class:`~xllm_harness.judging.client.JudgeClient` does retries, caching,
cost accounting and batching on top of it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlparse

from xllm_harness.errors import XllmError

MAX_SAMPLES = 100
"""k is capped so that ``seed = sample + 100 * attempt`` stays unique."""

_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]+")


class JudgeError(XllmError, RuntimeError):
    """One request failed for good (after retries, or a non-retryable status)."""


class JudgeAuthError(JudgeError):
    """The endpoint refused the credentials (401/403): the whole run stops at once."""


class JudgeConnectionError(JudgeError):
    """The endpoint could not be reached several times in a row: the whole run stops."""


class BudgetExceeded(JudgeError):
    """The request was not sent: it could have pushed spending past ``max_cost``."""


class Interrupted(JudgeError):
    """The run was interrupted (Ctrl-C): queued requests were not sent."""


class BatchPending(JudgeError):
    """A batch was left unfinished (``--batch-deadline``, an unknown status): a rerun resumes it."""


class TransientError(Exception):
    """A failure worth retrying. ``kind`` names it (``429``, ``500``, ``timeout``, ``connection``,
    ``malformed``...); ``retry_after`` is the server's requested wait in seconds."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
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
    """A reply that arrived. ``prompt_tokens``/``completion_tokens`` are ``None`` when the server's
    ``usage`` was missing, malformed or impossible for the request (``usage_problem`` says which):
    such a reply is kept, its cost counted as unknown, never guessed."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cached: bool = False
    usage_problem: str | None = None


Results = dict[ChatRequest, "ChatReply | JudgeError"]
"""Replies (or the error of each request that got none) of a list of requests."""


BATCH_TERMINAL = ("completed", "failed", "expired", "cancelled")
"""Batch statuses after which nothing changes."""
BATCH_MOVING = ("validating", "in_progress", "finalizing", "cancelling")
"""Batch statuses still moving: polling goes on. Any other status stops polling (the batch is kept
for a rerun)."""


@dataclass(frozen=True)
class BatchInfo:
    """What a batch object says: its status, counts and result files."""

    id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
    """Batch-level errors (why a batch ``failed`` validation)."""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in BATCH_TERMINAL

    @property
    def moving(self) -> bool:
        return self.status in BATCH_MOVING


class Judge:
    """Backend base class: plugins subclass it and implement :meth:`send` (one HTTP call, no retry).

    A backend that can also use the Batch API sets ``supports_batch = True`` and implements
    :meth:`upload_batch_file`, :meth:`create_batch`, :meth:`retrieve_batch` and :meth:`download_file`
    (the files' line format is :mod:`xllm_harness.judging.batch_files`).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supports_batch: ClassVar[bool] = False
    batch_url: ClassVar[str] = "/v1/chat/completions"
    """The ``url`` of every line of a batch input file."""

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

    @property
    def display_url(self) -> str:
        """The endpoint with its scheme, for messages (never credentials)."""
        scheme = urlparse(self.base_url or "").scheme
        return f"{scheme}://{self.endpoint}" if scheme else self.endpoint

    def request_body(self, request: ChatRequest, temperature: float, max_tokens: int) -> dict[str, Any]:
        """The chat-completions body of a request: sent as is, or written as a batch line's ``body``."""
        return {
            "model": self.model,
            "messages": [{"role": role, "content": content} for role, content in request.messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": request.seed,
        }

    def prepare(self) -> None:
        """Make what every call needs (an HTTP client, imports) before a request's deadline starts."""

    def send(self, request: ChatRequest, temperature: float, max_tokens: int) -> ChatReply:
        """Send one request. Raise :class:`TransientError` (retry), :class:`JudgeAuthError` or
        :class:`JudgeError` (give up on this item). The default reads :meth:`send_raw`'s body."""
        return parse_completion(self.send_raw(request, temperature, max_tokens), request, max_tokens)

    def send_raw(self, request: ChatRequest, temperature: float, max_tokens: int) -> bytes:
        """Send one request and return the reply's body as received (chat-completion JSON). A backend
        that implements it lets the client keep every paid reply before anything parses it."""
        raise NotImplementedError

    @property
    def sends_raw(self) -> bool:
        return type(self).send_raw is not Judge.send_raw

    # -- the Batch API (optional) ------------------------------------------------------------
    def _no_batch(self) -> JudgeError:
        return JudgeError(f"judge backend {self.name!r} cannot use the Batch API (--batch)")

    def upload_batch_file(self, content: bytes, filename: str) -> str:
        """Upload a batch input file (purpose ``batch``); return its file id."""
        raise self._no_batch()

    def create_batch(self, input_file_id: str, metadata: dict[str, str]) -> BatchInfo:
        """Submit an uploaded file as a batch (completion window 24h)."""
        raise self._no_batch()

    def retrieve_batch(self, batch_id: str) -> BatchInfo:
        raise self._no_batch()

    def list_batches(self) -> list[BatchInfo]:
        """The account's batches (newest first): finds a batch whose create call was cut off."""
        raise self._no_batch()

    def download_file(self, file_id: str) -> bytes:
        raise self._no_batch()


# -- the chat-completion reply (a synchronous call's body, a batch output line's body) ------------


def completion_reply(body: Any, request: ChatRequest, max_tokens: int) -> ChatReply:
    """The reply in a chat-completion JSON body. Its ``usage`` is checked (:func:`checked_usage`):
    when it is unusable the reply is still returned, with unknown tokens and the reason."""
    try:
        text = body["choices"][0]["message"]["content"]
    except (TypeError, KeyError, IndexError):
        text = None
    if not isinstance(text, str):
        raise TransientError("malformed", "reply without choices/content")
    usage = body.get("usage") if isinstance(body, dict) else None
    tokens, problem = checked_usage(usage, request, max_tokens)
    if tokens is None:
        return ChatReply(text, None, None, usage_problem=problem)
    return ChatReply(text, *tokens)


def parse_completion(raw: bytes, request: ChatRequest, max_tokens: int) -> ChatReply:
    """:func:`completion_reply` of a chat-completion body as received."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise TransientError("malformed", "reply is not JSON") from None
    return completion_reply(data, request, max_tokens)


def checked_usage(
    usage: Any, request: ChatRequest, max_tokens: int
) -> tuple[tuple[int, int] | None, str | None]:
    """``(prompt_tokens, completion_tokens)``, or ``None`` and why the server's ``usage`` cannot be
    billed: missing, not numbers, negative, not whole, or more than the request can use (completion
    over ``max_tokens``, prompt over one token per byte plus framing)."""
    if not isinstance(usage, dict):
        return None, "no usage" if usage is None else f"usage is not an object ({type(usage).__name__})"
    values = []
    for name in ("prompt_tokens", "completion_tokens"):
        value = usage.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"usage.{name} is not a number ({value!r:.40})"
        if not math.isfinite(value) or value < 0 or value != int(value):
            return None, f"usage.{name} is not a whole number >= 0 ({value!r:.40})"
        values.append(int(value))
    prompt, completion = values
    if completion > max_tokens:
        return None, f"usage.completion_tokens {completion} > max_tokens {max_tokens}"
    bound = prompt_token_bound(request)
    if prompt > bound:
        return None, f"usage.prompt_tokens {prompt} > {bound}, the most this prompt can be"
    return (prompt, completion), None


def prompt_token_bound(request: ChatRequest) -> int:
    """Most tokens a request's prompt can be: a token is at least one UTF-8 byte, plus framing."""
    return sum(len(content.encode("utf-8")) + 8 for _, content in request.messages) + 8
