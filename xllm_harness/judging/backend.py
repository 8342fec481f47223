"""The judge-backend contract: one chat request, its reply, the errors a backend raises, and the
optional Batch-API capability (upload a JSONL file, create and poll a batch, download its files).

A backend (a plugin, e.g. the built-in OpenAI-compatible one) makes ONE HTTP call per method and
classifies what went wrong; :class:`~xllm_harness.judging.client.JudgeClient` does retries, caching,
cost accounting and batching on top of it.
"""

from __future__ import annotations

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
        from xllm_harness.judging.batch_files import parse_completion

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
