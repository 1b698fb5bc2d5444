"""SQLite storage of the local Chat service: spaces, messages and the change feed."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from ackflow.auth.signing import LocalSigner

from ..keystore import load_or_create_signer

SCHEMA = """
CREATE TABLE IF NOT EXISTS spaces (
    name TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    name TEXT PRIMARY KEY,
    space TEXT NOT NULL,
    client_id TEXT,
    request_id TEXT,
    create_time REAL NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id ON messages(space, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_space ON messages(space, create_time);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    space TEXT NOT NULL,
    kind TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_space ON changes(space, seq);
"""


class ChatStorage:
    """All writes of one API call go in one transaction (``with storage.batch():``)."""

    def __init__(self, path: str | Path):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()

    def batch(self):
        """A transaction around several writes (the message and its change-feed entry)."""
        return _Batch(self.db)

    def signer(self, purpose: str) -> LocalSigner:
        return load_or_create_signer(self.db, self.lock, purpose)

    # spaces
    def get_space(self, name: str) -> dict | None:
        row = self.db.execute("SELECT doc FROM spaces WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_space(self, space: dict) -> None:
        self.db.execute(
            "INSERT INTO spaces(name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
            (space["name"], json.dumps(space)),
        )

    # messages
    def find_message(self, space: str, message_id: str) -> dict | None:
        """By server id (``spaces/S/messages/ID``) or client-assigned id (``client-...``)."""
        if message_id.startswith("client-"):
            row = self.db.execute(
                "SELECT doc FROM messages WHERE space = ? AND client_id = ?", (space, message_id)
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT doc FROM messages WHERE name = ?", (f"{space}/messages/{message_id}",)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def find_by_request_id(self, space: str, request_id: str) -> dict | None:
        row = self.db.execute(
            "SELECT doc FROM messages WHERE space = ? AND request_id = ?", (space, request_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def insert_message(self, message: dict, created: float, request_id: str | None) -> None:
        self.db.execute(
            "INSERT INTO messages(name, space, client_id, request_id, create_time, doc) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                message["name"],
                message["space"]["name"],
                message.get("clientAssignedMessageId"),
                request_id,
                created,
                json.dumps(message),
            ),
        )

    def update_message(self, message: dict) -> None:
        self.db.execute("UPDATE messages SET doc = ? WHERE name = ?", (json.dumps(message), message["name"]))

    def delete_message(self, name: str) -> None:
        self.db.execute("DELETE FROM messages WHERE name = ?", (name,))

    def list_messages(self, space: str, offset: int, limit: int, descending: bool) -> list[dict]:
        order = "DESC" if descending else "ASC"
        rows = self.db.execute(
            f"SELECT doc FROM messages WHERE space = ? ORDER BY create_time {order}, name {order} "
            "LIMIT ? OFFSET ?",
            (space, limit, offset),
        )
        return [json.loads(doc) for (doc,) in rows]

    # change feed
    def add_change(self, space: str, kind: str, doc: dict) -> int:
        cursor = self.db.execute(
            "INSERT INTO changes(space, kind, doc) VALUES (?, ?, ?)", (space, kind, json.dumps(doc))
        )
        return cursor.lastrowid

    def changes_after(self, space: str, after: int, limit: int = 500) -> list[dict]:
        rows = self.db.execute(
            "SELECT seq, kind, doc FROM changes WHERE space = ? AND seq > ? ORDER BY seq LIMIT ?",
            (space, after, limit),
        )
        return [{"seq": seq, "kind": kind, **json.loads(doc)} for seq, kind, doc in rows]

    def last_seq(self, space: str) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM changes WHERE space = ?", (space,)).fetchone()
        return row[0] or 0


class _Batch:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN")
        return self

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
