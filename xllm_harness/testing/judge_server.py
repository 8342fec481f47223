"""A scripted OpenAI-compatible judge server on 127.0.0.1 for the judge tests and the benchmark.

It speaks ``POST /v1/chat/completions`` and answers deterministically from the request content:

- QA prompts ("Evaluation Form (YES or NO)"): ``YES`` when the answer is non-empty and occurs in the
  context (case-insensitive), else ``NO``.
- Pairwise prompts: each assistant scores its answer's word count clamped to 1..10; ``bias`` points are
  added to Assistant 1 (a position-biased judge).
- An answer containing ``UNPARSEABLE_ONCE`` gets a reply without a verdict on its first try (seed < 100);
  ``UNPARSEABLE_ALWAYS`` never gets one.

Faults come from ``script(key, attempt)`` (``key`` identifies the request body, ``attempt`` counts how
often this body was seen): ``"429"`` (with ``Retry-After``), ``"500"``, ``"timeout"`` (the reply comes
after ``timeout_sleep`` seconds), ``"badjson"`` (200 with a body that is not JSON), ``"nochoices"`` (200,
JSON without ``choices``), ``"trickle"`` (the 200 reply's body one byte every ``trickle_interval``
seconds), a malformed ``usage`` in a 200 reply (``"usage_string"``: a string; ``"usage_text"``:
non-numeric tokens; ``"usage_huge"``: ``1e400`` prompt tokens; ``"usage_over"``: 4,000,000 completion
tokens, far above any ``max_tokens``), ``"echo_auth"`` (the reply text and body echo the request's
``Authorization`` header, key included) or ``None``. A wrong bearer token gets a 401 whose body echoes the key in full,
as a hostile server might. ``on_request(n)`` runs before request ``n`` (1-based) is answered.

It also speaks the Batch API: ``POST /v1/files`` (multipart upload, purpose ``batch``), ``GET
/v1/files/{id}/content``, ``POST /v1/batches`` and ``GET /v1/batches/{id}``. A batch moves through
``validating`` -> ``in_progress`` (request counts growing) -> ``finalizing`` -> its outcome over
``batch_turnaround`` seconds. ``batch_outcome(n)`` picks the outcome of the n-th batch (1-based):
``completed`` (default), ``failed`` (validation; no files), ``expired`` or ``cancelled`` (the first half
of the lines ran, the rest go to the error file). ``batch_fault(custom_id, n)`` spoils one line:
``"error"`` (a 500 in the error file), ``"malformed"`` (a line that is not JSON), ``"missing"`` (no line),
``"nocontent"`` (200 without choices), ``"duplicate"`` (the line again, with the other verdict),
``"foreign"`` (an extra line for a custom_id nobody sent), ``"badutf8"`` (an extra line of bytes
that are not UTF-8), ``"usage_string"`` (a malformed ``usage``). An outcome that is no API status
(e.g. ``"paused"``) leaves the batch in that status for good. ``files_404`` makes every output and
error file answer 404. ``create_delay`` seconds pass between making a batch and answering the create
call (a client killed then leaves a batch it has no id for); ``GET /v1/batches`` lists the batches
with their ``metadata``. Replies are :func:`verdict`'s, as for synchronous calls.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("429", "500", "timeout", "badjson", "nochoices")
"""The faults a client must retry."""
REPLY_FAULTS = ("trickle", "usage_string", "usage_text", "usage_huge", "usage_over", "echo_auth")
"""Faults of a reply that arrives (slowly, or with a bad ``usage`` or an echoed key)."""
KNOWN_OUTCOMES = ("completed", "failed", "expired", "cancelled")


def spoil_usage(body: dict, fault: str) -> bytes:
    """A completion's JSON with the malformed ``usage`` a fault names."""
    if fault == "usage_string":
        body["usage"] = "lots of tokens"
    elif fault == "usage_text":
        body["usage"] = {"prompt_tokens": "many", "completion_tokens": "few"}
    elif fault == "usage_over":
        body["usage"] = {"prompt_tokens": 10, "completion_tokens": 4_000_000, "total_tokens": 4_000_010}
    text = json.dumps(body)
    if fault == "usage_huge":
        text = text.replace('"prompt_tokens": ', '"prompt_tokens": 1e400, "was": ', 1)
    return text.encode()


def _tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def verdict(messages: list[dict], seed: int | None, bias: int = 0) -> str:
    """The deterministic judge reply for a request's messages."""
    user = messages[-1]["content"]
    always = "UNPARSEABLE_ALWAYS" in user
    once = "UNPARSEABLE_ONCE" in user and (seed or 0) < 100
    if always or once:
        return "I am not able to decide on this one."
    if "Evaluation Form (YES or NO)" in user:
        m = re.search(r"\nContext: (.*)\nAnswer: (.*)\n\nEvaluation Form", user, re.S)
        context, answer = (m.group(1), m.group(2).strip()) if m else ("", "")
        return "YES" if answer and answer.lower() in context.lower() else "NO"
    answers = re.findall(r"\[The Start of Assistant \d's Answer\]\n(.*?)\n\[The End of Assistant", user, re.S)
    if len(answers) != 2:
        return "I could not find two answers."
    s1, s2 = (max(1, min(10, len(a.split()))) for a in answers)
    s1 = min(10, s1 + bias)
    return (
        f"Evaluation evidence: assistant 1 wrote {len(answers[0].split())} words, assistant 2 wrote "
        f"{len(answers[1].split())}.\nScore of the Assistant 1: {s1}\nScore of the Assistant 2: {s2}"
    )


def completion(body: dict, key: str, bias: int = 0) -> dict:
    """The chat-completion object answering a request body (synchronous reply and batch line alike)."""
    text = verdict(body["messages"], body.get("seed"), bias)
    prompt = "".join(m["content"] for m in body["messages"])
    return {
        "id": "chatcmpl-" + key[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "judge"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": _tokens(prompt),
            "completion_tokens": _tokens(text),
            "total_tokens": _tokens(prompt) + _tokens(text),
        },
    }


def _encode(text: str) -> bytes:
    """UTF-8, except the characters U+0080..U+00FF of a ``badutf8`` line, written as single raw bytes."""
    return b"\n".join(
        line.encode("latin-1") if '"custom_id": "\xff\xfe"' in line else line.encode("utf-8")
        for line in text.split("\n")
    )


class _Batch:
    """One batch: its input lines, its scripted outcome, and the object the API returns."""

    def __init__(
        self, batch_id: str, number: int, input_file_id: str, lines: list[dict], outcome: str
    ) -> None:
        self.id = batch_id
        self.number = number
        self.input_file_id = input_file_id
        self.lines = lines
        self.outcome = outcome
        self.metadata: dict = {}
        self.created = time.monotonic()
        self.status = "validating"
        self.output_file_id: str | None = None
        self.error_file_id: str | None = None

    def obj(self, completed: int, failed: int) -> dict:
        errors = (
            {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "scripted validation failure"}],
            }
            if self.status == "failed"
            else None
        )
        return {
            "id": self.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": errors,
            "input_file_id": self.input_file_id, "completion_window": "24h", "status": self.status,
            "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "created_at": int(time.time()), "metadata": self.metadata,
            "request_counts": {"total": len(self.lines), "completed": completed, "failed": failed},
        }  # fmt: skip


class JudgeServer:
    """Start with ``with JudgeServer(api_key) as server:``; ``server.base_url`` ends in ``/v1``."""

    def __init__(
        self,
        api_key: str,
        *,
        latency: float = 0.0,
        script: Callable[[str, int], str | None] | None = None,
        bias: int = 0,
        retry_after: str = "0.05",
        timeout_sleep: float = 1.0,
        on_request: Callable[[int], None] | None = None,
        batch_turnaround: float = 0.5,
        batch_outcome: Callable[[int], str] | None = None,
        batch_fault: Callable[[str, int], str | None] | None = None,
        port: int = 0,
        trickle_interval: float = 0.5,
        create_delay: float = 0.0,
        files_404: bool = False,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.script = script
        self.bias = bias
        self.retry_after = retry_after
        self.timeout_sleep = timeout_sleep
        self.on_request = on_request
        self.lock = threading.Lock()
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.answered: list[str] = []
        """Keys of the requests that got a well-formed 200 reply, in order."""
        self.bodies: dict[str, dict] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = port
        """0: any free port; a fixed one lets a restarted server keep the cache keys (host:port)."""
        self.batch_turnaround = batch_turnaround
        self.batch_outcome = batch_outcome
        self.batch_fault = batch_fault
        self.trickle_interval = trickle_interval
        self.create_delay = create_delay
        self.files_404 = files_404
        self.headers_seen: list[str] = []
        """The ``Authorization`` header values an ``echo_auth`` fault sent back."""
        self.generated: set[str] = set()
        """Ids of the output and error files the server wrote."""
        self.http_requests = 0
        """Every HTTP request, any route."""
        self.files: dict[str, bytes] = {}
        """Uploaded and generated files by id."""
        self.batches: dict[str, _Batch] = {}
        self.batch_submissions = 0
        self.batch_polls = 0
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None

    # -- the Batch API -----------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}-{next(self._ids):06d}"

    def create_batch(self, input_file_id: str) -> _Batch:
        lines = [json.loads(x) for x in self.files[input_file_id].decode("utf-8").splitlines() if x.strip()]
        with self.lock:
            self.batch_submissions += 1
            number = self.batch_submissions
        outcome = self.batch_outcome(number) if self.batch_outcome else "completed"
        batch = _Batch(self.new_id("batch"), number, input_file_id, lines, outcome)
        with self.lock:
            self.batches[batch.id] = batch
        return batch

    def poll(self, batch: _Batch) -> dict:
        """The batch object now: the status follows the elapsed share of ``batch_turnaround``."""
        with self.lock:
            self.batch_polls += 1
        share = (time.monotonic() - batch.created) / max(self.batch_turnaround, 1e-9)
        total = len(batch.lines)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            ran = total if batch.status == "completed" else 0 if batch.status == "failed" else total // 2
            return batch.obj(*self._counts(batch, ran))
        if batch.outcome == "failed" and share >= 0.1:
            batch.status = "failed"
            return batch.obj(0, 0)
        if batch.outcome not in KNOWN_OUTCOMES and share >= 0.1:
            batch.status = batch.outcome  # a status no client knows, for good
            return batch.obj(0, 0)
        if share < 0.1:
            batch.status = "validating"
            return batch.obj(0, 0)
        if share < 0.8:
            batch.status = "in_progress"
            ran = int(total * (share - 0.1) / 0.7)
            if batch.outcome != "completed":
                ran = min(ran, total // 2)
            return batch.obj(*self._counts(batch, ran))
        if share < 1.0:
            batch.status = "cancelling" if batch.outcome == "cancelled" else "finalizing"
            return batch.obj(*self._counts(batch, total if batch.outcome == "completed" else total // 2))
        self._finish(batch)
        return self.poll(batch)

    def _counts(self, batch: _Batch, ran: int) -> tuple[int, int]:
        faults = [self.batch_fault(line["custom_id"], batch.number) if self.batch_fault else None
                  for line in batch.lines[:ran]]  # fmt: skip
        failed = sum(f == "error" for f in faults)
        return ran - failed, failed

    def _finish(self, batch: _Batch) -> None:
        """Write the output and error files and set the final status."""
        ran = len(batch.lines) if batch.outcome == "completed" else len(batch.lines) // 2
        output, errors = [], []
        for index, line in enumerate(batch.lines):
            custom_id = line["custom_id"]
            fault = self.batch_fault(custom_id, batch.number) if self.batch_fault else None
            if index >= ran:
                code = "batch_expired" if batch.outcome == "expired" else "batch_cancelled"
                errors.append({"id": f"batch_req_{index}", "custom_id": custom_id, "response": None,
                               "error": {"code": code, "message": f"this request was not run: {batch.outcome}"}})  # fmt: skip
                continue
            if fault == "missing":
                continue
            if fault == "malformed":
                output.append(
                    json.dumps({"id": f"batch_req_{index}", "custom_id": custom_id, "response": None})[:-9]
                )
                continue
            if fault == "error":
                response = {"status_code": 500, "request_id": f"req_{index}",
                            "body": {"error": {"message": "scripted server error", "type": "server_error"}}}  # fmt: skip
                errors.append(
                    {"id": f"batch_req_{index}", "custom_id": custom_id, "response": response, "error": None}
                )
                continue
            key = hashlib.sha256(json.dumps(line["body"], sort_keys=True).encode()).hexdigest()
            body = completion(line["body"], key, self.bias)
            if fault == "nocontent":
                body.pop("choices")
            if fault == "usage_string":
                body["usage"] = "lots of tokens"
            response = {"status_code": 200, "request_id": f"req_{index}", "body": body}
            output.append(json.dumps({"id": f"batch_req_{index}", "custom_id": custom_id, "response": response,
                                      "error": None}))  # fmt: skip
            if fault == "duplicate":
                other = json.loads(output[-1])
                content = other["response"]["body"]["choices"][0]["message"]
                content["content"] = "NO" if content["content"] == "YES" else "YES"
                output.append(json.dumps(other))
            elif fault == "foreign":
                output.append(json.dumps({**json.loads(output[-1]), "custom_id": "foreign-" + custom_id[:8]}))
            elif fault == "badutf8":
                output.append(b'{"custom_id": "\xff\xfe", "response": null}'.decode("latin-1"))
        if batch.outcome in KNOWN_OUTCOMES and batch.outcome != "failed":
            batch.output_file_id = self._store("\n".join(output) + "\n") if output else None
            batch.error_file_id = (
                self._store("".join(json.dumps(e) + "\n" for e in errors)) if errors else None
            )
        batch.status = batch.outcome

    def _store(self, text: str) -> str:
        file_id = self.new_id("file")
        with self.lock:
            self.files[file_id] = _encode(text)
            self.generated.add(file_id)
        return file_id

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> JudgeServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def ok(self) -> int:
        return len(self.answered)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_state: JudgeServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, body: bytes, interval: float) -> None:
        """A 200 reply whose body comes one byte every ``interval`` seconds."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        for i in range(len(body)):
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(interval)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": {"message": message, "code": status}}).encode(), headers)

    def _authorized(self, state: JudgeServer) -> bool:
        given = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != state.api_key:
            self._error(401, f"Incorrect API key provided: {given}. You can find your key elsewhere.")
            return False
        return True

    def do_GET(self) -> None:
        state = self.server_state
        with state.lock:
            state.http_requests += 1
        if not self._authorized(state):
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if (
            len(parts) == 4
            and parts[:2] == ["v1", "files"]
            and parts[3] == "content"
            and parts[2] in state.files
            and not (state.files_404 and parts[2] in state.generated)
        ):
            data = state.files[parts[2]]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if len(parts) == 3 and parts[:2] == ["v1", "batches"] and parts[2] in state.batches:
            return self._send(200, json.dumps(state.poll(state.batches[parts[2]])).encode())
        if parts == ["v1", "batches"]:  # newest first, one page
            listed = [state.poll(batch) for batch in reversed(list(state.batches.values()))]
            page = {"object": "list", "data": listed, "has_more": False,
                    "first_id": listed[0]["id"] if listed else None, "last_id": listed[-1]["id"] if listed else None}  # fmt: skip
            return self._send(200, json.dumps(page).encode())
        return self._error(404, f"no route {self.path}")

    def _upload(self, state: JudgeServer, raw: bytes) -> None:
        header = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        if fields.get("purpose") != b"batch" or "file" not in fields:
            return self._error(400, "expected a multipart upload with purpose=batch and a file")
        file_id = state.new_id("file")
        with state.lock:
            state.files[file_id] = fields["file"]
        obj = {"id": file_id, "object": "file", "bytes": len(fields["file"]), "created_at": int(time.time()),
               "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}  # fmt: skip
        return self._send(200, json.dumps(obj).encode())

    def _create_batch(self, state: JudgeServer, raw: bytes) -> None:
        body = json.loads(raw)
        if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return self._error(400, "endpoint must be /v1/chat/completions and completion_window 24h")
        if body.get("input_file_id") not in state.files:
            return self._error(404, f"no file {body.get('input_file_id')}")
        batch = state.create_batch(body["input_file_id"])
        batch.metadata = body.get("metadata") or {}
        if state.create_delay:
            time.sleep(state.create_delay)
        return self._send(200, json.dumps(state.poll(batch)).encode())

    def do_POST(self) -> None:
        state = self.server_state
        with state.lock:
            state.http_requests += 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self._post(state)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _post(self, state: JudgeServer) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.rstrip("/").endswith("/v1/files"):
            return self._upload(state, raw) if self._authorized(state) else None
        if self.path.rstrip("/").endswith("/v1/batches"):
            return self._create_batch(state, raw) if self._authorized(state) else None
        if not self.path.endswith("/chat/completions"):
            return self._error(404, f"no route {self.path}")
        with state.lock:
            state.requests += 1
            number = state.requests
        if state.on_request is not None:
            state.on_request(number)
        given = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != state.api_key:
            return self._error(401, f"Incorrect API key provided: {given}. You can find your key elsewhere.")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._error(400, "request body is not JSON")
        key = hashlib.sha256(raw).hexdigest()
        with state.lock:
            attempt = state.seen[key]
            state.seen[key] += 1
            state.bodies[key] = body
        fault = state.script(key, attempt) if state.script else None
        if state.latency:
            time.sleep(state.latency)
        if fault:
            with state.lock:
                state.faults[fault] += 1
        if fault == "429":
            return self._error(429, "rate limited", {"Retry-After": state.retry_after})
        if fault == "500":
            return self._error(500, "internal error")
        if fault == "timeout":
            time.sleep(state.timeout_sleep)
        if fault == "badjson":
            return self._send(200, b'{"id": "x", "choices": [')
        if fault == "nochoices":
            return self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
        reply = completion(body, key, state.bias)
        if fault == "echo_auth":
            given = self.headers.get("Authorization", "")
            with state.lock:
                state.headers_seen.append(given)
            reply["choices"][0]["message"]["content"] += f"\n(request header Authorization: {given})"
            reply["echo"] = {"authorization": given}
        data = (
            spoil_usage(reply, fault) if fault and fault.startswith("usage_") else json.dumps(reply).encode()
        )
        try:
            if fault == "trickle":
                self._trickle(data, state.trickle_interval)
            else:
                self._send(200, data)
        except OSError:  # the client gave up (timeout) or was killed
            return
        with state.lock:
            state.answered.append(key)
