"""A persistent, content-addressed cache of judge replies (sqlite in WAL mode).

The key is the sha256 of every request field that changes the answer (judge backend, model, endpoint
host and path, messages, temperature, max tokens, seed), never the API key. Only replies that arrived
are stored: a failed request leaves no row, so a rerun asks again. Each thread opens its own
connection; WAL mode plus a busy timeout make concurrent threads and processes safe, and a committed
row survives the process being killed.

Beside the replies, the ``batches`` table records every Batch-API batch submitted and not yet
collected (its id and the requests in it), so a run killed while waiting resumes polling and never
submits those requests again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
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
)
"""


def request_key(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the request fields."""
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    text: str
    prompt_tokens: int
    completion_tokens: int


class JudgeCache:
    """``get(key)`` / ``put(key, request, reply)`` over one sqlite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn()  # create the schema now, so a bad path fails early

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
        return CachedReply(*row) if row else None

    def put(self, key: str, request: dict[str, Any], reply: CachedReply) -> None:
        """Store a reply; the first writer of a key wins (same key, same request)."""
        self._conn().execute(
            "INSERT OR IGNORE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                json.dumps(request, sort_keys=True, ensure_ascii=False),
                reply.text,
                reply.prompt_tokens,
                reply.completion_tokens,
                time.time(),
            ),
        )

    def keys(self) -> set[str]:
        return {row[0] for row in self._conn().execute("SELECT key FROM replies")}

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    # -- Batch-API batches -----------------------------------------------------------------------
    def add_batch(self, batch_id: str, endpoint: str, requests: dict[str, dict[str, Any]]) -> None:
        """Record a submitted batch: ``requests`` maps each cache key in it to its request fields."""
        self._conn().execute(
            "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, 'submitted', ?)",
            (batch_id, endpoint, json.dumps(requests, sort_keys=True, ensure_ascii=False), time.time()),
        )

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
