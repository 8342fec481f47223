"""The built-in judge: any OpenAI-compatible endpoint (OpenAI, Azure, vLLM...), synchronous or batched.

Model, base URL and key come from options or the environment (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``). The ``openai`` client's own retries are off: :class:`JudgeClient` retries.
Besides chat completions it speaks the Batch API: ``/v1/files`` (upload with purpose ``batch``,
content download) and ``/v1/batches`` (create, retrieve).
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from xllm_harness.errors import InputError, MissingDependencyError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.judging.backend import (
    BatchInfo,
    ChatRequest,
    Judge,
    JudgeAuthError,
    JudgeError,
    TransientError,
)

T = TypeVar("T")


class OpenAICompatJudge(Judge):
    """Chat completions and the Batch API through the ``openai`` client."""

    name = "openai"
    description = "OpenAI-compatible chat completions and Batch API (OPENAI_API_KEY, OPENAI_BASE_URL)"
    supports_batch = True

    def __init__(
        self, model: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 60.0
    ):
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        super().__init__(model, base_url, api_key or os.environ.get("OPENAI_API_KEY"), timeout)
        self._client: Any = None
        self._lock = threading.Lock()

    def _api(self) -> Any:
        """The ``openai`` client, made on the first call (exporting a batch file needs neither key nor package)."""
        if self._client is None:
            if not self._api_key:
                raise InputError(
                    "no API key for the judge: set OPENAI_API_KEY (or name another variable with --api-key-env)"
                )
            try:
                import openai
            except ImportError:
                raise MissingDependencyError(
                    "the judge needs the openai package: pip install 'xllm-harness[judge]'"
                ) from None
            self._client = openai.OpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
        return self._client

    def prepare(self) -> None:
        with self._lock:
            self._api()

    def _call(self, fn: Callable[[Any], T]) -> T:
        """``fn(client)`` with the ``openai`` exceptions turned into the judge contract's errors."""
        client = self._api()
        import openai

        try:
            return fn(client)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            raise JudgeAuthError(
                f"the judge endpoint {self.endpoint} refused the credentials (HTTP {err.status_code}): "
                "check OPENAI_API_KEY / --api-key-env"
            ) from None
        except openai.RateLimitError as err:
            raise TransientError("429", "rate limited", _retry_after(err.response.headers)) from None
        except openai.APITimeoutError:
            raise TransientError("timeout", f"no reply within {self.timeout:g} s") from None
        except openai.APIConnectionError as err:
            raise TransientError("connection", _connection_cause(err)) from None
        except openai.APIStatusError as err:
            if err.status_code >= 500 or err.status_code in (408, 409):
                raise TransientError(
                    str(err.status_code), "server error", _retry_after(err.response.headers)
                ) from None
            raise JudgeError(f"HTTP {err.status_code} from {self.endpoint}: {_short(err.message)}") from None
        except (openai.APIResponseValidationError, ValueError) as err:
            raise TransientError("malformed", type(err).__name__) from None

    def send_raw(self, request: ChatRequest, temperature: float, max_tokens: int) -> bytes:
        """One call; the body as received (not read by the ``openai`` client's models)."""
        body = self.request_body(request, temperature, max_tokens)
        return self._call(lambda c: c.chat.completions.with_raw_response.create(**body).http_response.content)

    # -- the Batch API -----------------------------------------------------------------------
    def upload_batch_file(self, content: bytes, filename: str) -> str:
        uploaded = self._call(
            lambda c: c.files.create(file=(filename, content, "application/jsonl"), purpose="batch")
        )
        return str(uploaded.id)

    def create_batch(self, input_file_id: str, metadata: dict[str, str]) -> BatchInfo:
        batch = self._call(
            lambda c: c.batches.create(
                input_file_id=input_file_id,
                endpoint=self.batch_url,
                completion_window="24h",
                metadata=metadata,
            )
        )
        return _batch_info(batch)

    def retrieve_batch(self, batch_id: str) -> BatchInfo:
        return _batch_info(self._call(lambda c: c.batches.retrieve(batch_id)))

    def list_batches(self) -> list[BatchInfo]:
        return self._call(lambda c: [_batch_info(batch) for batch in c.batches.list(limit=100)])

    def download_file(self, file_id: str) -> bytes:
        return self._call(lambda c: c.files.content(file_id).content)


def _batch_info(batch: Any) -> BatchInfo:
    counts = batch.request_counts
    errors = getattr(batch.errors, "data", None) or []
    return BatchInfo(
        id=str(batch.id),
        status=str(batch.status),
        total=int(counts.total) if counts else 0,
        completed=int(counts.completed) if counts else 0,
        failed=int(counts.failed) if counts else 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors=tuple(f"{e.code}: {e.message}" for e in errors),
        metadata={str(k): str(v) for k, v in (getattr(batch, "metadata", None) or {}).items()},
    )


def _connection_cause(err: Exception) -> str:
    """The innermost OS-level reason of a connection error: ``connection refused``, a DNS failure..."""
    cause: BaseException | None = err
    reason = "connection error"
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[0].lower() + cause.strerror[1:]
        if str(cause):
            reason = str(cause)
        cause = cause.__cause__ or cause.__context__
    return reason


def _retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


@hookimpl
def xllm_judges() -> list[type[Judge]]:
    return [OpenAICompatJudge]
