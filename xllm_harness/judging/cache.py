"""A persistent, content-addressed cache of judge replies (sqlite in WAL mode).

The key is the sha256 of every request field that changes the answer (judge backend, model, endpoint
host and path, messages, temperature, max tokens, seed), never the API key. Only replies that arrived
are stored: a failed request leaves no row, so a rerun asks again. Each thread opens its own
connection; WAL mode plus a busy timeout make concurrent threads and processes safe, and a committed
row survives the process being killed.

A reply whose ``usage`` was unusable is stored with ``-1`` tokens (unknown). Reply text is stored
with the API key scrubbed (:func:`~xllm_harness.judging.backend.redact`), whatever the server echoed.

One writer at a time: :meth:`JudgeCache.hold` takes an exclusive lock on ``<cache>.lock`` for the
whole run, so a second ``xllm judge`` on the same cache waits (with a message) and then finds the
first one's replies and batches instead of paying for them again.

Beside the replies, the ``batches`` table records every Batch-API batch: a row with status
``creating`` and a fresh token is written *before* the create call (the token goes into the batch's
metadata), then it gets the batch id (``submitted``) and finally its outcome. A run killed during the
create call leaves the ``creating`` row; the rerun finds the batch by its token in the account's
batch list and resumes it, so those requests are never submitted twice. The downloaded output and
error files are kept (``batch_files``) before they are parsed, and so is the body of every
synchronous reply (``raw_replies``): a reply paid for but not parsed (a crash) is read from there
by the rerun instead of being bought again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    requests TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS raw_replies (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_files (
    file_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    content BLOB NOT NULL,
    created REAL NOT NULL
)
"""
UNKNOWN = -1
"""Stored token count of a reply whose usage was unusable."""


def request_key(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the request fields."""
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None


class JudgeCache:
    """``get(key)`` / ``put(key, request, reply)`` over one sqlite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock_file: int | None = None
        self._conn()  # create the schema now, so a bad path fails early

    def hold(self) -> None:
        """Take the cache's writer lock for the life of this process (waits, with a message, while
        another process holds it)."""
        if self._lock_file is not None:
            return
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            print(
                f"xllm judge: another xllm judge (pid {holder}) is using the cache {self.path}; "
                "waiting for it to finish (its replies will be reused, not paid again)",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_file = fd

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._local.conn = conn
        return conn

    def get(self, key: str) -> CachedReply | None:
        row = (
            self._conn()
            .execute("SELECT text, prompt_tokens, completion_tokens FROM replies WHERE key = ?", (key,))
            .fetchone()
        )
        if not row:
            return None
        text, prompt, completion = row
        known = prompt != UNKNOWN and completion != UNKNOWN
        return CachedReply(text, prompt if known else None, completion if known else None)

    def put(self, key: str, request: dict[str, Any], reply: CachedReply) -> None:
        """Store a reply (already scrubbed of secrets); the first writer of a key wins."""
        self._conn().execute(
            "INSERT OR IGNORE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                json.dumps(request, sort_keys=True, ensure_ascii=False),
                reply.text,
                UNKNOWN if reply.prompt_tokens is None else reply.prompt_tokens,
                UNKNOWN if reply.completion_tokens is None else reply.completion_tokens,
                time.time(),
            ),
        )

    def put_raw(self, key: str, body: bytes) -> None:
        """Keep a synchronous reply's body as received (scrubbed of secrets), before it is parsed."""
        self._conn().execute("INSERT OR REPLACE INTO raw_replies VALUES (?, ?, ?)", (key, body, time.time()))

    def get_raw(self, key: str) -> bytes | None:
        row = self._conn().execute("SELECT body FROM raw_replies WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def keys(self) -> set[str]:
        return {row[0] for row in self._conn().execute("SELECT key FROM replies")}

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    # -- Batch-API batches -----------------------------------------------------------------------
    def intend_batch(self, token: str, endpoint: str, requests: dict[str, dict[str, Any]]) -> None:
        """Record a batch about to be created (before the create call): ``requests`` maps each cache
        key in it to its request fields; ``token`` goes into the batch's metadata."""
        self._conn().execute(
            "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, 'creating', ?)",
            (
                f"creating:{token}",
                endpoint,
                json.dumps(requests, sort_keys=True, ensure_ascii=False),
                time.time(),
            ),
        )

    def created_batch(self, token: str, batch_id: str) -> None:
        """The create call of ``token`` returned (or the batch was found in the account's list)."""
        self._conn().execute(
            "UPDATE batches SET batch_id = ?, status = 'submitted' WHERE batch_id = ?",
            (batch_id, f"creating:{token}"),
        )

    def drop_intent(self, token: str) -> None:
        """The create call of ``token`` never made a batch: its requests may be submitted again."""
        self._conn().execute("DELETE FROM batches WHERE batch_id = ?", (f"creating:{token}",))

    def intents(self, endpoint: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Batches whose create call did not return: token -> {cache key: request fields}."""
        rows = self._conn().execute(
            "SELECT batch_id, requests FROM batches WHERE endpoint = ? AND status = 'creating' ORDER BY created",
            (endpoint,),
        )
        return {batch_id.removeprefix("creating:"): json.loads(requests) for batch_id, requests in rows}

    def open_batches(self, endpoint: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Batches of this endpoint not collected yet: batch id -> {cache key: request fields}."""
        rows = self._conn().execute(
            "SELECT batch_id, requests FROM batches WHERE endpoint = ? AND status = 'submitted' ORDER BY created",
            (endpoint,),
        )
        return {batch_id: json.loads(requests) for batch_id, requests in rows}

    def close_batch(self, batch_id: str, status: str) -> None:
        """Mark a batch collected (its final status); its replies are in ``replies`` by then."""
        self._conn().execute("UPDATE batches SET status = ? WHERE batch_id = ?", (status, batch_id))

    def put_file(self, batch_id: str, file_id: str, content: bytes) -> None:
        """Keep a downloaded output or error file (scrubbed of secrets) before it is parsed."""
        self._conn().execute(
            "INSERT OR REPLACE INTO batch_files VALUES (?, ?, ?, ?)",
            (file_id, batch_id, content, time.time()),
        )

    def get_file(self, file_id: str) -> bytes | None:
        row = self._conn().execute("SELECT content FROM batch_files WHERE file_id = ?", (file_id,)).fetchone()
        return bytes(row[0]) if row else None
