"""The built-in judge: any OpenAI-compatible chat-completions endpoint (OpenAI, Azure, vLLM...).

Model, base URL and key come from options or the environment (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``). The ``openai`` client's own retries are off: :class:`JudgeClient` retries.
"""

from __future__ import annotations

import os

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.judging.client import (
    ChatReply,
    ChatRequest,
    Judge,
    JudgeAuthError,
    JudgeError,
    TransientError,
)


class OpenAICompatJudge(Judge):
    """Chat completions through the ``openai`` client."""

    name = "openai"
    description = "OpenAI-compatible chat completions (OPENAI_API_KEY, OPENAI_BASE_URL)"

    def __init__(
        self, model: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 60.0
    ):
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            raise InputError(
                "no API key for the judge: set OPENAI_API_KEY (or name another variable with --api-key-env)"
            )
        super().__init__(model, base_url, api_key, timeout)
        try:
            import openai
        except ImportError:
            raise InputError(
                "the judge needs the openai package: pip install 'xllm-harness[judge]'"
            ) from None
        self._openai = openai
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    def send(self, request: ChatRequest, temperature: float, max_tokens: int) -> ChatReply:
        openai = self._openai
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": role, "content": content} for role, content in request.messages],
                temperature=temperature,
                max_tokens=max_tokens,
                seed=request.seed,
            )
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            raise JudgeAuthError(
                f"the judge endpoint {self.endpoint} refused the credentials (HTTP {err.status_code}): "
                "check OPENAI_API_KEY / --api-key-env"
            ) from None
        except openai.RateLimitError as err:
            raise TransientError("429: rate limited", _retry_after(err.response.headers)) from None
        except openai.APITimeoutError:
            raise TransientError(f"timeout: no reply within {self.timeout:g} s") from None
        except openai.APIConnectionError as err:
            raise TransientError(f"connection: {type(err).__name__}") from None
        except openai.APIStatusError as err:
            if err.status_code >= 500 or err.status_code in (408, 409):
                raise TransientError(
                    f"{err.status_code}: server error", _retry_after(err.response.headers)
                ) from None
            raise JudgeError(f"HTTP {err.status_code} from {self.endpoint}: {_short(err.message)}") from None
        except (openai.APIResponseValidationError, ValueError) as err:
            raise TransientError(f"malformed: {type(err).__name__}") from None
        choices = getattr(completion, "choices", None)
        if not choices or choices[0].message is None or choices[0].message.content is None:
            raise TransientError("malformed: reply without choices/content")
        usage = getattr(completion, "usage", None)
        text = choices[0].message.content
        if usage is None or usage.prompt_tokens is None:  # estimate: about 4 bytes a token
            prompt = sum(len(c.encode("utf-8")) for _, c in request.messages) // 4 + 1
            return ChatReply(text, prompt, len(text.encode("utf-8")) // 4 + 1)
        return ChatReply(text, int(usage.prompt_tokens), int(usage.completion_tokens or 0))


def _retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    import email.utils
    import time

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
