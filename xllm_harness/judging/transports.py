"""How the requests the cache could not answer get answered.

- :class:`SyncTransport`: one chat-completions call per request, at most ``concurrency`` in flight,
  each call's worst-case cost reserved against the spend cap first; Ctrl-C cancels what is queued at
  once and keeps what was answered.
- :class:`ExportTransport` (``--export-batch FILE``): writes them as a Batch-API input file, sends nothing.
- :class:`ImportTransport` (``--import-batch FILE``): reads a Batch-API output file (OpenAI's, or
  vLLM ``run_batch``'s) into the cache.
- :class:`~xllm_harness.judging.batch_api.BatchTransport` (``--batch``): the Batch API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol, TypeVar

from xllm_harness.judging.accounting import Ledger
from xllm_harness.judging.backend import (
    BudgetExceeded,
    ChatReply,
    ChatRequest,
    Interrupted,
    Judge,
    JudgeError,
    Results,
    TransientError,
    completion_reply,
)
from xllm_harness.judging.batch_files import (
    LineCounts,
    read_result_file,
    request_line,
    select_lines,
    write_request_file,
)
from xllm_harness.judging.cache import JudgeCache
from xllm_harness.judging.settings import JudgeSettings

T = TypeVar("T")


class TransportClient(Protocol):
    """What a transport uses of :class:`~xllm_harness.judging.client.JudgeClient` (and nothing else)."""

    judge: Judge
    settings: JudgeSettings
    cache: JudgeCache | None
    ledger: Ledger
    cancelled: threading.Event
    """Set on Ctrl-C: calls in flight are abandoned."""

    @property
    def stopped(self) -> JudgeError | None:
        """Why the client stopped sending, if it did."""
        ...

    def stop(self, reason: JudgeError) -> JudgeError: ...
    def interrupt(self) -> None: ...
    def request_fields(self, request: ChatRequest) -> dict[str, Any]: ...
    def key(self, request: ChatRequest) -> str: ...
    def body(self, request: ChatRequest) -> dict[str, Any]: ...
    def ask(self, request: ChatRequest) -> ChatReply: ...
    def store(self, request: ChatRequest, reply: ChatReply, batched: bool = False) -> ChatReply: ...
    def store_fields(
        self, key: str, fields: dict[str, Any], request: ChatRequest, reply: ChatReply, batched: bool = False
    ) -> ChatReply: ...
    def call(
        self, fn: Callable[[], Any], deadline: float | None = None, after: Callable[[Any], T] | None = None
    ) -> T: ...


class Transport(Protocol):
    def run(self, client: TransportClient, requests: list[ChatRequest], desc: str) -> Results:
        """Replies (or :class:`JudgeError` values) for requests that are not in the cache."""
        ...


def skipped(client: TransportClient) -> JudgeError:
    """The error of a request not sent because the run stopped."""
    stop = client.stopped
    if isinstance(stop, BudgetExceeded):
        client.ledger.count("skipped_budget")
    return stop or JudgeError("stopped")


class SyncTransport:
    """Synchronous chat-completions calls through a thread pool."""

    def run(self, client: TransportClient, requests: list[ChatRequest], desc: str) -> Results:
        from xllm_harness.console import progress_bar

        results: Results = {}
        bar = progress_bar(desc=desc, total=len(requests), unit="call", enabled=client.settings.progress)
        pool = ThreadPoolExecutor(max_workers=client.settings.concurrency)
        futures = {pool.submit(self._one, client, request): request for request in requests}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
        except KeyboardInterrupt:
            client.interrupt()
            for request in futures.values():
                if request not in results:
                    results[request] = skipped(client)
        finally:
            pool.shutdown(wait=not client.cancelled.is_set(), cancel_futures=True)
            bar.close()
        return results

    @staticmethod
    def _one(client: TransportClient, request: ChatRequest) -> ChatReply | JudgeError:
        if client.stopped is not None:
            return skipped(client)
        reservation = client.ledger.worst_case(request)
        refused = client.ledger.reserve(reservation, lambda: client.stopped is not None)
        if refused is not None:
            client.stop(refused)
            return skipped(client)
        try:
            return client.store(request, client.ask(request))
        except JudgeError as err:
            if isinstance(err, Interrupted):
                return skipped(client)
            client.ledger.count("failures")
            return err
        finally:
            client.ledger.release(reservation)


class ExportTransport:
    """Collects the requests as Batch-API input lines; :meth:`write` saves them. Nothing is sent."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lines: dict[str, bytes] = {}

    def run(self, client: TransportClient, requests: list[ChatRequest], desc: str) -> Results:
        reason = JudgeError(f"exported to {self.path}: not judged yet (run it, then --import-batch)")
        for request in requests:
            key = client.key(request)
            self.lines[key] = request_line(key, client.judge.batch_url, client.body(request))
        return dict.fromkeys(requests, reason)

    def write(self) -> int:
        return write_request_file(self.path, self.lines.values())


class ImportTransport:
    """Answers requests from a Batch-API output file, matched on ``custom_id`` (the cache key)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.all_lines, self.parsed = read_result_file(self.path)
        self.wanted: set[str] = set()
        self.counts = LineCounts()

    def line_counts(self) -> LineCounts:
        """The file's lines under the one rule (:func:`select_lines`), against every request of the job."""
        counts = LineCounts()
        counts.add(self.parsed)
        select_lines(self.all_lines, self.wanted, counts)
        return counts

    def run(self, client: TransportClient, requests: list[ChatRequest], desc: str) -> Results:
        results: Results = {}
        keys = {request: client.key(request) for request in requests}
        self.wanted |= set(keys.values())
        chosen = select_lines(self.all_lines, set(keys.values()), LineCounts())
        for request in requests:
            key = keys[request]
            line = chosen.get(key)
            if line is None:
                results[request] = JudgeError(
                    f"not in --import-batch {self.path}: export again (--export-batch) to run it"
                )
                continue
            if line.error is not None:
                client.ledger.count("failures")
                results[request] = JudgeError(f"in {self.path.name}: {line.error}")
                continue
            try:
                reply = completion_reply(line.body, request, client.settings.max_tokens)
            except TransientError as err:
                client.ledger.count("failures")
                results[request] = JudgeError(f"in {self.path.name}: {err}")
                continue
            results[request] = client.store(request, reply, batched=True)
        return results
