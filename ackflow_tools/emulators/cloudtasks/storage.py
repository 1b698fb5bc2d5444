"""SQLite persistence for the local Cloud Tasks service: queues, pending tasks, reserved names.

Everything the dispatcher needs to resume after a restart is here; the in-memory state of the
service is a cache of these rows, written through on every change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from ackflow.auth.signing import LocalSigner

from ..keystore import load_or_create_signer
from .resources import TaskRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    message BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    name TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    message BLOB NOT NULL,
    schedule_time REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_queue ON tasks(queue, schedule_time);
CREATE TABLE IF NOT EXISTS reserved_names (
    name TEXT PRIMARY KEY,
    until REAL NOT NULL
);
"""


class TasksStorage:
    def __init__(self, path: str | Path):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # queues
    def load_queues(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._db.execute("SELECT name, message FROM queues"))

    def put_queue(self, name: str, message: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO queues(name, message) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET message = excluded.message",
                (name, message),
            )

    def delete_queue(self, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM queues WHERE name = ?", (name,))
            self._db.execute("DELETE FROM tasks WHERE queue = ?", (name,))

    # tasks
    def load_tasks(self) -> list[TaskRecord]:
        with self._lock:
            rows = self._db.execute("SELECT name, queue, message, schedule_time, state FROM tasks")
            records = []
            for name, queue, message, schedule_time, state in rows:
                extra = json.loads(state)
                records.append(
                    TaskRecord(
                        name=name,
                        queue=queue,
                        message=message,
                        schedule_time=schedule_time,
                        first_attempt_time=extra.pop("first_attempt_time", None),
                        previous_response=extra.pop("previous_response", None),
                        retry_reason=extra.pop("retry_reason", None),
                        extra=extra,
                    )
                )
            return records

    def put_task(self, record: TaskRecord) -> None:
        state = dict(record.extra)
        state.update(
            first_attempt_time=record.first_attempt_time,
            previous_response=record.previous_response,
            retry_reason=record.retry_reason,
        )
        with self._lock:
            self._db.execute(
                "INSERT INTO tasks(name, queue, message, schedule_time, state) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET message = excluded.message, "
                "schedule_time = excluded.schedule_time, state = excluded.state",
                (record.name, record.queue, record.message, record.schedule_time, json.dumps(state)),
            )

    def delete_task(self, name: str, reserve_until: float | None) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM tasks WHERE name = ?", (name,))
            if reserve_until is not None:
                self._db.execute(
                    "INSERT INTO reserved_names(name, until) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET until = excluded.until",
                    (name, reserve_until),
                )
            self._db.execute("COMMIT")

    def delete_tasks_of(self, queue: str, reserve_until: float | None) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            if reserve_until is not None:
                self._db.execute(
                    "INSERT INTO reserved_names(name, until) SELECT name, ? FROM tasks WHERE queue = ? "
                    "ON CONFLICT(name) DO UPDATE SET until = excluded.until",
                    (reserve_until, queue),
                )
            self._db.execute("DELETE FROM tasks WHERE queue = ?", (queue,))
            self._db.execute("COMMIT")

    # reserved names (de-duplication window after a task ran or was deleted)
    def reserved_until(self, name: str) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT until FROM reserved_names WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def forget_reservations(self, before: float) -> None:
        with self._lock:
            self._db.execute("DELETE FROM reserved_names WHERE until < ?", (before,))

    def signer(self, purpose: str) -> LocalSigner:
        return load_or_create_signer(self._db, self._lock, purpose)
