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
JSON without ``choices``) or ``None``. A wrong bearer token gets a 401 whose body echoes the key in full,
as a hostile server might. ``on_request(n)`` runs before request ``n`` (1-based) is answered.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("429", "500", "timeout", "badjson", "nochoices")


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
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> JudgeServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
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

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": {"message": message, "code": status}}).encode(), headers)

    def do_POST(self) -> None:
        state = self.server_state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self._post(state)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _post(self, state: JudgeServer) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
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
        text = verdict(body["messages"], body.get("seed"), state.bias)
        prompt = "".join(m["content"] for m in body["messages"])
        reply = {
            "id": "chatcmpl-" + key[:12],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "judge"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": _tokens(prompt),
                "completion_tokens": _tokens(text),
                "total_tokens": _tokens(prompt) + _tokens(text),
            },
        }
        try:
            self._send(200, json.dumps(reply).encode())
        except OSError:  # the client gave up (timeout) or was killed
            return
        with state.lock:
            state.answered.append(key)
