"""A persistent, content-addressed cache of judge replies (sqlite in WAL mode).

The key is the sha256 of every request field that changes the answer (judge backend, model, endpoint
host and path, messages, temperature, max tokens, seed), never the API key. Only replies that arrived
are stored: a failed request leaves no row, so a rerun asks again. Each thread opens its own
connection; WAL mode plus a busy timeout make concurrent threads and processes safe, and a committed
row survives the process being killed.
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
            conn.execute(SCHEMA)
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
