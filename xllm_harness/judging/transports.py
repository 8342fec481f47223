"""How the requests the cache could not answer get answered.

- :class:`SyncTransport`: one chat-completions call per request, at most ``concurrency`` in flight,
  each call's worst-case cost reserved against the spend cap first.
- :class:`ExportTransport` (``--export-batch FILE``): writes them as a Batch-API input file, sends nothing.
- :class:`ImportTransport` (``--import-batch FILE``): reads a Batch-API output file (OpenAI's, or
  vLLM ``run_batch``'s) into the cache.
- :class:`~xllm_harness.judging.batch_api.BatchTransport` (``--batch``): the Batch API.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from xllm_harness.judging.backend import BudgetExceeded, ChatReply, ChatRequest, JudgeError, TransientError
from xllm_harness.judging.batch_files import (
    completion_reply,
    read_result_file,
    request_line,
    write_request_file,
)

if TYPE_CHECKING:
    from xllm_harness.judging.client import JudgeClient, Results


class Transport(Protocol):
    def run(self, client: JudgeClient, requests: list[ChatRequest], desc: str) -> Results:
        """Replies (or :class:`JudgeError` values) for requests that are not in the cache."""
        ...


def skipped(client: JudgeClient) -> JudgeError:
    """The error of a request not sent because the run stopped."""
    stop = client.stopped
    if isinstance(stop, BudgetExceeded):
        client.ledger.count("skipped_budget")
    return stop or JudgeError("stopped")


class SyncTransport:
    """Synchronous chat-completions calls through a thread pool."""

    def run(self, client: JudgeClient, requests: list[ChatRequest], desc: str) -> Results:
        from tqdm.auto import tqdm

        results: Results = {}
        bar = tqdm(
            total=len(requests), desc=desc, unit="call", file=sys.stderr, disable=not client.settings.progress
        )
        with ThreadPoolExecutor(max_workers=client.settings.concurrency) as pool:
            futures = {pool.submit(self._one, client, request): request for request in requests}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
        bar.close()
        return results

    @staticmethod
    def _one(client: JudgeClient, request: ChatRequest) -> ChatReply | JudgeError:
        if client.stopped is not None:
            return skipped(client)
        reservation = client.ledger.worst_case(request)
        refused = client.ledger.reserve(reservation)
        if refused is not None:
            client.stop(refused)
            return skipped(client)
        s = client.settings
        try:
            reply = client.call(lambda: client.judge.send(request, s.temperature, s.max_tokens))
        except JudgeError as err:
            client.ledger.count("failures")
            return err
        finally:
            client.ledger.release(reservation)
        client.store(request, reply)
        return reply


class ExportTransport:
    """Collects the requests as Batch-API input lines; :meth:`write` saves them. Nothing is sent."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lines: dict[str, bytes] = {}

    def run(self, client: JudgeClient, requests: list[ChatRequest], desc: str) -> Results:
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
        lines, self.malformed = read_result_file(self.path)
        self.lines = {line.custom_id: line for line in lines}
        self.matched: set[str] = set()

    @property
    def unmatched(self) -> int:
        """Lines that answered no request of this job (another model, endpoint or settings?)."""
        return len(set(self.lines) - self.matched)

    def run(self, client: JudgeClient, requests: list[ChatRequest], desc: str) -> Results:
        results: Results = {}
        for request in requests:
            key = client.key(request)
            line = self.lines.get(key)
            if line is None:
                results[request] = JudgeError(
                    f"not in --import-batch {self.path}: export again (--export-batch) to run it"
                )
                continue
            self.matched.add(key)
            if line.error is not None:
                client.ledger.count("failures")
                results[request] = JudgeError(f"in {self.path.name}: {line.error}")
                continue
            try:
                reply = completion_reply(line.body, request)
            except TransientError as err:
                client.ledger.count("failures")
                results[request] = JudgeError(f"in {self.path.name}: {err}")
                continue
            client.store(request, reply, batched=True)
            results[request] = reply
        return results
