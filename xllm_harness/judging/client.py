"""The judge client: cache, retries, failing fast, and the choice of transport.

A :class:`~xllm_harness.judging.backend.Judge` backend makes one HTTP call at a time. For a list of
requests, :class:`JudgeClient`:

- answers from the content-addressed cache first (a finished rerun makes zero requests);
- hands the rest to its transport: synchronous calls through a thread pool (default), the Batch API
  (``--batch``), an exported input file (``--export-batch``) or an imported output file
  (``--import-batch``), see :mod:`~xllm_harness.judging.transports` and
  :mod:`~xllm_harness.judging.batch_api`;
- gives every HTTP call a total deadline (``Judge.timeout``: connect, send and the whole body, however
  slowly the server trickles it) and retries transient failures (429, 5xx, timeouts, connection
  errors, malformed replies) with exponential backoff and jitter, waiting at least what
  ``Retry-After`` asks (:meth:`JudgeClient.call`);
- stops at once on Ctrl-C (:meth:`JudgeClient.interrupt`): nothing queued is sent, calls in flight are
  abandoned, what was answered stays cached;
- stops the run at once on 401/403, and after ``max_connection_failures`` consecutive connection
  failures, with the cause in one line; what was judged so far stays cached;
- scrubs secrets from every error message and every reply before it is kept
  (:func:`~xllm_harness.judging.backend.redact`).
"""

from __future__ import annotations

import math
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from xllm_harness.errors import InputError
from xllm_harness.judging.accounting import Ledger, Usage
from xllm_harness.judging.backend import (
    ChatReply,
    ChatRequest,
    Interrupted,
    Judge,
    JudgeAuthError,
    JudgeConnectionError,
    JudgeError,
    Results,
    TransientError,
    parse_completion,
    redact,
)
from xllm_harness.judging.cache import CachedReply, JudgeCache, request_key
from xllm_harness.judging.settings import JudgeSettings
from xllm_harness.judging.transports import SyncTransport, Transport

T = TypeVar("T")


class JudgeClient:
    """Runs lists of :class:`ChatRequest` through a :class:`Judge` with cache, retries and a cap."""

    def __init__(
        self,
        judge: Judge,
        settings: JudgeSettings | None = None,
        cache: JudgeCache | None = None,
        transport: Transport | None = None,
    ):
        self.judge = judge
        self.settings = settings or JudgeSettings()
        self.cache = cache
        s = self.settings
        self.ledger = Ledger(
            judge.model, s.price_input, s.price_output, s.max_cost, s.max_tokens, s.batch_discount
        )
        self.transport = transport or SyncTransport()
        self._lock = threading.Lock()
        self._stop: JudgeError | None = None
        self._connection_failures = 0
        self.cancelled = threading.Event()
        """Set by :meth:`interrupt`: calls in flight are abandoned, nothing more is sent."""
        if judge.timeout is None or not (math.isfinite(judge.timeout) and judge.timeout > 0):
            raise InputError(f"--timeout must be a finite number > 0, got {judge.timeout}")

    @property
    def usage(self) -> Usage:
        return self.ledger.usage

    # -- keys --------------------------------------------------------------------------------
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

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The chat-completions body of a request (synchronous call and batch line alike)."""
        return self.judge.request_body(request, self.settings.temperature, self.settings.max_tokens)

    # -- stopping ----------------------------------------------------------------------------
    @property
    def stopped(self) -> JudgeError | None:
        """Why the client stopped sending (spend cap, credentials, unreachable endpoint), if it did."""
        return self._stop

    def stop(self, reason: JudgeError) -> JudgeError:
        """Stop the run (the first reason wins); return the reason in force."""
        with self._lock:
            if self._stop is None:
                self._stop = reason
            return self._stop

    def interrupt(self) -> None:
        """Ctrl-C: stop sending, abandon the calls in flight."""
        self.stop(Interrupted("interrupted (Ctrl-C): queued requests were not sent"))
        self.cancelled.set()

    # -- requests ----------------------------------------------------------------------------
    def run(self, requests: Sequence[ChatRequest], desc: str = "judging") -> Results:
        """Answer every request (cache or transport); failures come back as :class:`JudgeError` values."""
        results: Results = {}
        todo: list[ChatRequest] = []
        for request in dict.fromkeys(requests):
            hit = self.cache.get(self.key(request)) if self.cache is not None else None
            reply = (
                ChatReply(hit.text, hit.prompt_tokens, hit.completion_tokens, cached=True)
                if hit is not None
                else self._recovered(request)
            )
            if reply is None:
                todo.append(request)
                continue
            results[request] = reply
            self.ledger.cache_hit(reply)
        if todo:
            results.update(self.transport.run(self, todo, desc))
        return results

    def ask(self, request: ChatRequest) -> ChatReply:
        """One synchronous request with retries; with a backend that gives the raw body, the body is
        kept in the cache before it is parsed. The reply is not stored yet (:meth:`store`)."""
        s = self.settings
        if not self.judge.sends_raw:
            return self.call(lambda: self.judge.send(request, s.temperature, s.max_tokens))

        def keep(raw: bytes) -> ChatReply:
            if self.cache is not None:
                scrubbed = redact(raw.decode("utf-8", errors="surrogateescape"), self.judge.secrets)
                self.cache.put_raw(self.key(request), scrubbed.encode("utf-8", errors="surrogateescape"))
            return parse_completion(raw, request, s.max_tokens)

        return self.call(lambda: self.judge.send_raw(request, s.temperature, s.max_tokens), after=keep)

    def _recovered(self, request: ChatRequest) -> ChatReply | None:
        """A reply whose body was kept but never parsed (the run died in between), parsed now."""
        raw = self.cache.get_raw(self.key(request)) if self.cache is not None else None
        if raw is None:
            return None
        try:
            reply = parse_completion(raw, request, self.settings.max_tokens)
        except TransientError:
            return None
        stored = CachedReply(reply.text, reply.prompt_tokens, reply.completion_tokens)
        assert self.cache is not None
        self.cache.put(self.key(request), self.request_fields(request), stored)
        return ChatReply(reply.text, reply.prompt_tokens, reply.completion_tokens, cached=True)

    def store(self, request: ChatRequest, reply: ChatReply, batched: bool = False) -> ChatReply:
        """Scrub a reply that arrived of secrets, count it and commit it to the cache; return it scrubbed."""
        return self.store_fields(self.key(request), self.request_fields(request), request, reply, batched)

    def store_fields(
        self, key: str, fields: dict[str, Any], request: ChatRequest, reply: ChatReply, batched: bool = False
    ) -> ChatReply:
        """:meth:`store` under a recorded key and request fields (a batch row's)."""
        reply = ChatReply(
            redact(reply.text, self.judge.secrets), reply.prompt_tokens, reply.completion_tokens,
            usage_problem=reply.usage_problem,
        )  # fmt: skip
        self.ledger.charge(reply, request, batched)
        if reply.usage_problem:
            print(
                f"judge: a reply's usage cannot be billed ({reply.usage_problem}): kept, cost counted as unknown",
                file=sys.stderr,
                flush=True,
            )
        if self.cache is not None:
            stored = CachedReply(reply.text, reply.prompt_tokens, reply.completion_tokens)
            self.cache.put(key, fields, stored)
        return reply

    def call(
        self, fn: Callable[[], Any], deadline: float | None = None, after: Callable[[Any], T] | None = None
    ) -> T:
        """``fn()`` (one HTTP call) with retries of :class:`TransientError`; raises :class:`JudgeError`.
        Each try has ``deadline`` seconds in all (default: ``Judge.timeout``); ``after`` (in this
        thread) turns its result into the value returned, and may raise :class:`TransientError` too."""
        s = self.settings
        secrets = self.judge.secrets
        attempt = 0
        while True:
            if isinstance(self._stop, (JudgeAuthError, JudgeConnectionError, Interrupted)):
                raise self._stop
            self.ledger.count("attempts")
            try:
                self.judge.prepare()
                result = self._within_deadline(fn, deadline or self.judge.timeout)
                if after is not None:
                    result = after(result)
            except Interrupted:
                raise
            except JudgeAuthError as err:
                raise self.stop(JudgeAuthError(redact(str(err), secrets))) from None
            except JudgeError as err:
                self._reached()
                raise JudgeError(redact(str(err), secrets)) from None
            except TransientError as err:
                self.ledger.fault(err.kind)
                self._unreachable(err)
                message = redact(str(err), secrets)
                if attempt == s.max_retries:
                    raise JudgeError(f"gave up after {attempt + 1} tries: {message}") from None
                if err.retry_after is not None and err.retry_after > s.max_retry_after:
                    raise JudgeError(
                        f"server asked to wait {err.retry_after:.0f} s (> {s.max_retry_after:.0f} s); giving up"
                    ) from None
                self.ledger.count("retries")
                delay = min(s.backoff_max, s.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
                if self.cancelled.wait(max(delay, err.retry_after or 0.0)):
                    raise self._stop or Interrupted("interrupted") from None
                attempt += 1
                continue
            self._reached()
            return result

    def _within_deadline(self, fn: Callable[[], T], seconds: float) -> T:
        """``fn()`` in a helper thread, given up after ``seconds`` in all (the HTTP
        client's own timeout is per read, so a server trickling bytes could hold it for ever) or at
        once on :meth:`interrupt`. An abandoned call's thread ends with the process."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = fn()
            except BaseException as err:  # handed to the caller's thread
                box["error"] = err
            finally:
                done.set()

        threading.Thread(target=target, daemon=True, name="judge-call").start()
        deadline = time.monotonic() + seconds
        while not done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
            if self.cancelled.is_set():
                raise self._stop or Interrupted("interrupted")
            if time.monotonic() >= deadline:
                raise TransientError("timeout", f"no complete reply within {seconds:g} s (--timeout)")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _reached(self) -> None:
        with self._lock:
            self._connection_failures = 0

    def _unreachable(self, err: TransientError) -> None:
        """Count a failure; the ``max_connection_failures``-th connection failure in a row stops the run."""
        if err.kind != "connection":
            self._reached()
            return
        with self._lock:
            self._connection_failures += 1
            failures = self._connection_failures
        if failures >= self.settings.max_connection_failures:
            detail = redact(err.detail, self.judge.secrets)
            reason = JudgeConnectionError(
                f"cannot connect to {self.judge.display_url}: {detail} "
                f"({failures} connection failures in a row, --max-connection-failures)"
            )
            raise self.stop(reason) from None
