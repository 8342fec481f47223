"""``--batch``: judge through the Batch API (OpenAI ``/v1/files`` + ``/v1/batches``; half the price).

One call of :meth:`BatchTransport.run` (one round of :func:`~xllm_harness.judging.rounds.judge_all`):

1. **resume**: batches recorded in the cache (submitted, not collected) that hold some of the
   requests are polled again; those requests are never submitted twice;
2. **submit** the others: their worst-case cost (at the batch discount) is reserved against
   ``--max-cost`` first; they are cut into files under the per-file limits, each uploaded (purpose
   ``batch``), submitted (completion window 24h) and recorded in the cache before any polling;
3. **poll** with backoff, a progress line giving the batch objects' request counts;
4. **collect** each finished batch: its output and error files are downloaded and every reply goes
   into the cache. Requests that failed inside a completed batch (an error line, a malformed line, a
   missing line, a reply without content) are submitted again in a new batch, up to ``batch_rounds``
   batches in all. An expired or cancelled batch keeps what completed; the rest is reported as not
   judged, and a rerun submits it again. A batch that ``failed`` (validation) fails all its requests.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from xllm_harness.errors import InputError
from xllm_harness.judging.backend import BatchInfo, ChatReply, ChatRequest, JudgeError, TransientError
from xllm_harness.judging.batch_files import completion_reply, parse_result_lines, request_line, split_lines
from xllm_harness.judging.cache import CachedReply
from xllm_harness.judging.transports import skipped

if TYPE_CHECKING:
    from xllm_harness.judging.client import JudgeClient, Results


@dataclass
class _Collected:
    """What one finished batch gave for the requests of this round."""

    replies: dict[str, ChatReply] = field(default_factory=dict)
    retry: dict[str, str] = field(default_factory=dict)
    """Failed inside the batch: worth another batch (key -> why)."""
    final: dict[str, str] = field(default_factory=dict)
    """Not answered and not to be resubmitted in this run (expired, cancelled, failed batch)."""


class BatchTransport:
    """The Batch API through the backend's batch capability (``Judge.supports_batch``)."""

    def __init__(self) -> None:
        self.malformed_lines = 0
        self.batches: dict[str, str] = {}
        """Every batch this run waited for: id -> final status."""
        self._reserved = 0.0

    def run(self, client: JudgeClient, requests: list[ChatRequest], desc: str) -> Results:
        if not client.judge.supports_batch:
            raise InputError(f"--batch: judge backend {client.judge.name!r} cannot use the Batch API")
        if client.cache is None:
            raise InputError(
                "--batch needs the cache (it keeps the batch ids and the replies); drop --no-cache"
            )
        pending = {client.key(request): request for request in requests}
        results: Results = {}
        try:
            self._rounds(client, pending, results, desc)
        finally:
            client.ledger.release(self._reserved)
            self._reserved = 0.0
        for request in pending.values():  # stopped (credentials, connection) before they ran
            results[request] = skipped(client)
        return results

    def _rounds(
        self, client: JudgeClient, pending: dict[str, ChatRequest], results: Results, desc: str
    ) -> None:
        for round_ in range(client.settings.batch_rounds):
            if not pending or client.stopped is not None:
                break
            batches = self._resume(client, pending) + self._submit(client, pending, results)
            collected = self._wait(client, batches, desc)
            last = round_ == client.settings.batch_rounds - 1
            for key in list(pending):
                if key in collected.replies:
                    results[pending.pop(key)] = collected.replies[key]
                elif key in collected.final or (last and key in collected.retry):
                    why = collected.final.get(key) or collected.retry[key]
                    client.ledger.count("failures")
                    results[pending.pop(key)] = JudgeError(why)
                elif key in collected.retry:
                    client.ledger.count("retries")

    # -- resume and submit -------------------------------------------------------------------
    def _resume(self, client: JudgeClient, pending: dict[str, ChatRequest]) -> list[tuple[str, dict]]:
        assert client.cache is not None
        found = client.cache.open_batches(client.judge.endpoint)
        return [(batch_id, fields) for batch_id, fields in found.items() if pending.keys() & fields.keys()]

    def _submit(
        self, client: JudgeClient, pending: dict[str, ChatRequest], results: Results
    ) -> list[tuple[str, dict]]:
        assert client.cache is not None
        covered = set().union(*client.cache.open_batches(client.judge.endpoint).values())
        new = [key for key in pending if key not in covered]
        affordable = self._reserve(client, new, pending)
        for key in new[len(affordable) :]:
            results[pending.pop(key)] = skipped(client)
        lines = [
            (key, request_line(key, client.judge.batch_url, client.body(pending[key]))) for key in affordable
        ]
        s = client.settings
        submitted = []
        for number, chunk in enumerate(split_lines(lines, s.batch_max_requests, s.batch_max_bytes), 1):
            content = b"".join(line for _, line in chunk)
            file_id = client.call(
                partial(client.judge.upload_batch_file, content, f"xllm-judge-{number}.jsonl")
            )
            info = client.call(partial(client.judge.create_batch, file_id, {"source": "xllm-harness judge"}))
            fields = {key: client.request_fields(pending[key]) for key, _ in chunk}
            client.cache.add_batch(info.id, client.judge.endpoint, fields)
            client.ledger.count("batches_submitted")
            submitted.append((info.id, fields))
        return submitted

    def _reserve(self, client: JudgeClient, keys: list[str], pending: dict[str, ChatRequest]) -> list[str]:
        """The longest prefix of ``keys`` whose worst-case cost (at the batch discount) fits under the cap.

        Held until the end of this round, so it covers the replies as they are charged."""
        for count, key in enumerate(keys):
            amount = client.ledger.worst_case(pending[key], batched=True)
            refused = client.ledger.reserve(amount)
            if refused is not None:
                client.stop(refused)
                return keys[:count]
            self._reserved += amount
        return keys

    # -- poll and collect --------------------------------------------------------------------
    def _wait(self, client: JudgeClient, batches: list[tuple[str, dict]], desc: str) -> _Collected:
        collected = _Collected()
        waiting = dict(batches)
        interval = client.settings.batch_poll_interval
        progress = _Progress(desc, client.settings.progress)
        while waiting:
            infos = {
                batch_id: client.call(partial(client.judge.retrieve_batch, batch_id)) for batch_id in waiting
            }
            progress.show(infos)
            for batch_id, info in infos.items():
                if info.done:
                    self._collect(client, info, waiting.pop(batch_id), collected)
            if waiting:
                time.sleep(interval)
                interval = min(client.settings.batch_poll_max, interval * 1.5)
        progress.close()
        return collected

    def _collect(
        self, client: JudgeClient, info: BatchInfo, fields: dict[str, Any], into: _Collected
    ) -> None:
        assert client.cache is not None
        self.batches[info.id] = info.status
        answered: set[str] = set()
        for file_id in (info.output_file_id, info.error_file_id):
            if not file_id:
                continue
            data = client.call(partial(client.judge.download_file, file_id))
            lines, malformed = parse_result_lines(data)
            self.malformed_lines += malformed
            for line in lines:
                if line.custom_id not in fields or line.custom_id in into.replies:
                    continue
                answered.add(line.custom_id)
                self._line(client, info, line.custom_id, line.body, line.error, fields, into)
        for key in fields.keys() - answered - into.replies.keys():
            why = f"batch {info.id} {info.status}"
            if info.status == "failed":
                into.final[key] = f"{why}: {'; '.join(info.errors) or 'no reason given'}"
            elif info.status in ("expired", "cancelled"):
                into.final[key] = f"{why} before this request ran; rerun to submit it again"
            else:
                into.retry[key] = f"{why} without a result line for this request"
        client.cache.close_batch(info.id, info.status)

    @staticmethod
    def _line(
        client: JudgeClient,
        info: BatchInfo,
        key: str,
        body: dict[str, Any] | None,
        error: str | None,
        fields: dict[str, Any],
        into: _Collected,
    ) -> None:
        assert client.cache is not None
        where = f"batch {info.id}"
        if error is None:
            request = _request_of(fields[key])
            try:
                reply = completion_reply(body, request)
            except TransientError as err:
                into.retry[key] = f"{where}: {err}"
                return
            client.ledger.charge(reply, batched=True)
            client.cache.put(
                key, fields[key], CachedReply(reply.text, reply.prompt_tokens, reply.completion_tokens)
            )
            into.replies[key] = reply
            into.retry.pop(key, None)
        elif info.status in ("expired", "cancelled"):
            into.final[key] = (
                f"{where} {info.status} before this request ran ({error}); rerun to submit it again"
            )
        else:
            into.retry[key] = f"{where}: {error}"


def _request_of(fields: dict[str, Any]) -> ChatRequest:
    """The request recorded in a batch row (enough to estimate tokens when a reply has no usage)."""
    return ChatRequest(tuple((role, content) for role, content in fields["messages"]))


class _Progress:
    """One line on stderr with the batches' status and request counts (rewritten in place on a terminal)."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc = desc
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = ""

    def show(self, infos: dict[str, BatchInfo]) -> None:
        if not self.enabled:
            return
        total = sum(i.total for i in infos.values())
        done = sum(i.completed for i in infos.values())
        failed = sum(i.failed for i in infos.values())
        statuses = ", ".join(f"{batch_id}: {info.status}" for batch_id, info in infos.items())
        line = f"{self.desc}: batch {done}/{total} completed, {failed} failed ({statuses})"
        if line == self.last:
            return
        self.last = line
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty and self.last:
            print(file=sys.stderr)
