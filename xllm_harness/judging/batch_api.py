"""``--batch``: judge through the Batch API (OpenAI ``/v1/files`` + ``/v1/batches``; half the price).

One call of :meth:`BatchTransport.run` (one round of :func:`~xllm_harness.judging.rounds.judge_all`):

1. **resume**: batches recorded in the cache (submitted, not collected) that hold some of the
   requests are polled again; a batch whose create call never returned (the run was killed during
   it) is looked up by its token in the account's batch list and resumed, or, when the server never
   made it, its requests are submitted again. Requests of a recorded batch are never submitted twice;
2. **submit** the others: their worst-case cost (at the batch discount) is reserved against
   ``--max-cost`` first; they are cut into files under the per-file limits, each uploaded (purpose
   ``batch``), recorded in the cache with a token, then created (completion window 24h, the token in
   its metadata) and recorded with its id;
3. **poll** with backoff, a progress line giving the batch objects' request counts. Polling ends at a
   terminal status, at a status it does not know (the batch is kept for a rerun), at
   ``--batch-deadline`` (likewise) and on Ctrl-C (likewise);
4. **collect** each finished batch: its output and error files are downloaded, kept in the cache,
   then parsed under one rule (:func:`~xllm_harness.judging.batch_files.select_lines`), and every reply
   goes into the cache. A file that cannot be downloaded is looked up again through a fresh batch
   object, then its requests are reported as not judged (the batch is closed, never stuck). Requests
   that failed inside a completed batch (an error line, a malformed line, a missing line, a reply
   without content) are submitted again in a new batch, up to ``batch_rounds`` batches in all. An
   expired or cancelled batch keeps what completed; the rest is reported as not judged, and a rerun
   submits it again. A batch that ``failed`` (validation) fails all its requests.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.judging.backend import (
    BatchInfo,
    BatchPending,
    ChatReply,
    ChatRequest,
    JudgeError,
    Results,
    TransientError,
    completion_reply,
    redact,
)
from xllm_harness.judging.batch_files import (
    LineCounts,
    ResultLine,
    parse_result_lines,
    request_line,
    select_lines,
    split_lines,
)
from xllm_harness.judging.transports import TransportClient, skipped

DOWNLOAD_DEADLINE = 600.0
"""Seconds a batch file download may take in all (at least ``--timeout``): a file can be 200 MB."""
TOKEN_KEY = "xllm_submission"
"""The batch metadata field holding the token recorded before the create call."""


@dataclass
class _Collected:
    """What one finished batch gave for the requests of this round."""

    replies: dict[str, ChatReply] = field(default_factory=dict)
    retry: dict[str, str] = field(default_factory=dict)
    """Failed inside the batch: worth another batch (key -> why)."""
    final: dict[str, str] = field(default_factory=dict)
    """Not answered and not to be resubmitted in this run (expired, cancelled, failed batch)."""
    pending: dict[str, str] = field(default_factory=dict)
    """In a batch left for a rerun (unknown status, ``--batch-deadline``): not failed."""


class BatchTransport:
    """The Batch API through the backend's batch capability (``Judge.supports_batch``)."""

    def __init__(self) -> None:
        self.line_counts = LineCounts()
        self.batches: dict[str, str] = {}
        """Every batch this run waited for: id -> final status."""
        self._reserved = 0.0

    def run(self, client: TransportClient, requests: list[ChatRequest], desc: str) -> Results:
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
        except KeyboardInterrupt:  # the batches stay recorded: a rerun resumes them
            client.interrupt()
        finally:
            client.ledger.release(self._reserved)
            self._reserved = 0.0
        for request in pending.values():  # stopped (credentials, connection) before they ran
            results[request] = skipped(client)
        return results

    def _rounds(
        self, client: TransportClient, pending: dict[str, ChatRequest], results: Results, desc: str
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
                elif key in collected.pending:
                    results[pending.pop(key)] = BatchPending(collected.pending[key])
                elif key in collected.final or (last and key in collected.retry):
                    why = collected.final.get(key) or collected.retry[key]
                    client.ledger.count("failures")
                    results[pending.pop(key)] = JudgeError(why)
                elif key in collected.retry:
                    client.ledger.count("retries")

    # -- resume and submit -------------------------------------------------------------------
    def _resume(self, client: TransportClient, pending: dict[str, ChatRequest]) -> list[tuple[str, dict]]:
        assert client.cache is not None
        self._find_cut_off(client)
        found = client.cache.open_batches(client.judge.endpoint)
        return [(batch_id, fields) for batch_id, fields in found.items() if pending.keys() & fields.keys()]

    @staticmethod
    def _find_cut_off(client: TransportClient) -> None:
        """Batches whose create call did not return: found by token in the account's list (resumed),
        or not there (the server never made them: their requests may be submitted again)."""
        assert client.cache is not None
        intents = client.cache.intents(client.judge.endpoint)
        if not intents:
            return
        listed = client.call(client.judge.list_batches)
        by_token = {info.metadata.get(TOKEN_KEY): info.id for info in listed}
        for token in intents:
            if token in by_token:
                client.cache.created_batch(token, by_token[token])
                print(
                    f"judge: found batch {by_token[token]} of an interrupted run: resuming it",
                    file=sys.stderr,
                )
            else:
                client.cache.drop_intent(token)

    def _submit(
        self, client: TransportClient, pending: dict[str, ChatRequest], results: Results
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
            fields = {key: client.request_fields(pending[key]) for key, _ in chunk}
            token = uuid.uuid4().hex
            client.cache.intend_batch(token, client.judge.endpoint, fields)
            metadata = {"source": "xllm-harness judge", TOKEN_KEY: token}
            try:
                info = client.call(partial(client.judge.create_batch, file_id, metadata))
            except JudgeError:
                self._find_cut_off(client)  # the server may have made it before the error
                raise
            client.cache.created_batch(token, info.id)
            client.ledger.count("batches_submitted")
            submitted.append((info.id, fields))
        return submitted

    def _reserve(
        self, client: TransportClient, keys: list[str], pending: dict[str, ChatRequest]
    ) -> list[str]:
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
    def _wait(self, client: TransportClient, batches: list[tuple[str, dict]], desc: str) -> _Collected:
        collected = _Collected()
        waiting = dict(batches)
        s = client.settings
        interval = s.batch_poll_interval
        deadline = time.monotonic() + s.batch_deadline
        progress = _Progress(desc, s.progress)
        try:
            while waiting:
                infos = {
                    batch_id: client.call(partial(client.judge.retrieve_batch, batch_id))
                    for batch_id in waiting
                }
                progress.show(infos)
                for batch_id, info in infos.items():
                    if info.done:
                        self._collect(client, info, waiting.pop(batch_id), collected)
                    elif not info.moving:
                        self._leave(client, info.id, waiting.pop(batch_id), collected,
                                    f"status {info.status!r}, which this client does not know")  # fmt: skip
                if waiting and time.monotonic() + interval > deadline:
                    for batch_id in list(waiting):
                        self._leave(client, batch_id, waiting.pop(batch_id), collected,
                                    f"not finished after --batch-deadline {s.batch_deadline:g} s")  # fmt: skip
                if waiting:
                    time.sleep(interval)
                    interval = min(s.batch_poll_max, interval * 1.5)
        finally:
            progress.close()
        return collected

    def _leave(
        self, client: TransportClient, batch_id: str, fields: dict, into: _Collected, why: str
    ) -> None:
        """Stop waiting for a batch; it stays recorded as submitted, so a rerun polls it again."""
        reason = BatchPending(f"batch {batch_id}: {why}; it is kept: rerun to resume it")
        client.stop(reason)
        self.batches[batch_id] = "pending"
        for key in fields:
            into.pending.setdefault(key, str(reason))

    def _collect(
        self, client: TransportClient, info: BatchInfo, fields: dict[str, Any], into: _Collected
    ) -> None:
        assert client.cache is not None
        self.batches[info.id] = info.status
        lines, lost = self._result_lines(client, info)
        chosen = select_lines(lines, fields.keys() - into.replies.keys(), self.line_counts)
        for key, line in chosen.items():
            self._line(client, info, key, line.body, line.error, fields, into)
        for key in fields.keys() - chosen.keys() - into.replies.keys():
            why = f"batch {info.id} {info.status}"
            if lost:
                into.final[key] = f"{why}, but {lost}; rerun to submit it again"
            elif info.status == "failed":
                into.final[key] = f"{why}: {'; '.join(info.errors) or 'no reason given'}"
            elif info.status in ("expired", "cancelled"):
                into.final[key] = f"{why} before this request ran; rerun to submit it again"
            else:
                into.retry[key] = f"{why} without a result line for this request"
        client.cache.close_batch(info.id, info.status)

    def _result_lines(self, client: TransportClient, info: BatchInfo) -> tuple[list[ResultLine], str | None]:
        """The lines of a finished batch's output file, then its error file (each kept in the cache
        before parsing); a file that cannot be downloaded is looked up again through a fresh batch
        object once, then given up (the second value says which)."""
        assert client.cache is not None
        lines: list[ResultLine] = []
        lost = []
        deadline = max(DOWNLOAD_DEADLINE, client.judge.timeout)
        for which in ("output_file_id", "error_file_id"):
            file_id = getattr(info, which)
            if not file_id:
                continue
            data = client.cache.get_file(file_id)
            if data is None:
                try:
                    data = client.call(partial(client.judge.download_file, file_id), deadline)
                except JudgeError:
                    fresh = client.call(partial(client.judge.retrieve_batch, info.id))
                    file_id = getattr(fresh, which)
                    try:
                        data = (
                            client.call(partial(client.judge.download_file, file_id), deadline)
                            if file_id
                            else None
                        )
                    except JudgeError as err:
                        lost.append(
                            f"its {which.removesuffix('_id').replace('_', ' ')} could not be fetched ({err})"
                        )
                        continue
                    if data is None:
                        continue
                data = redact(data.decode("utf-8", errors="surrogateescape"), client.judge.secrets).encode(
                    "utf-8", errors="surrogateescape"
                )
                client.cache.put_file(info.id, file_id, data)
            parsed, counts = parse_result_lines(data)
            self.line_counts.add(counts)
            lines.extend(parsed)
        return lines, "; ".join(lost) or None

    @staticmethod
    def _line(
        client: TransportClient,
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
                reply = completion_reply(body, request, int(fields[key]["max_tokens"]))
            except TransientError as err:
                into.retry[key] = f"{where}: {err}"
                return
            into.replies[key] = client.store_fields(key, fields[key], request, reply, batched=True)
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
