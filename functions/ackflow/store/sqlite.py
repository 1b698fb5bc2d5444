"""SQLite backend of the Documents port: the embedded default.

One table of JSON documents; the fields the store queries are indexed with expression indexes
built from ``indexes.json``, the same declaration Firestore's composite indexes come from.
WAL mode lets readers run beside the single writer; ``BEGIN IMMEDIATE`` takes the write lock at
the start of a transaction, so a read-modify-write cannot interleave with another.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import AlreadyExists, StoreUnavailable
from .documents import OPERATORS, Cursor, Where, refuse_unstorable, storable_id

T = TypeVar("T")
INDEXES = Path(__file__).with_name("indexes.json")
FIELD_RE = re.compile(r"^[a-z_]+$")


def _field(name: str) -> str:
    if not FIELD_RE.match(name):
        raise ValueError(f"unsupported field name {name!r}")
    return f"json_extract(doc, '$.{name}')"


def _schema() -> str:
    statements = [
        "CREATE TABLE IF NOT EXISTS docs (collection TEXT NOT NULL, id TEXT NOT NULL, "
        "doc TEXT NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID",
        f"CREATE INDEX IF NOT EXISTS docs_created ON docs(collection, {_field('created_at')})",
        # single-field orderings, which Firestore indexes by itself (the console's "what changed")
        f"CREATE INDEX IF NOT EXISTS docs_updated ON docs(collection, {_field('updated_at')})",
    ]
    declared = json.loads(INDEXES.read_text())
    statements += [f"CREATE INDEX IF NOT EXISTS {name} {definition}" for name, definition in _declared_indexes()]
    statements += _count_triggers(declared.get("counted", {}))
    return ";\n".join(statements) + ";"


def _declared_indexes() -> list[tuple[str, str]]:
    """The indexes of ``indexes.json``, each partial to its collection: a write evaluates only the
    expressions of its own collection's indexes (each json_extract parses the whole document), which
    took a job's write transaction from 0.60 to 0.25 ms, the time the single write lock is held. A
    query names its collection as a literal (_conditions), so the planner can use them."""
    declared = json.loads(INDEXES.read_text())
    indexes = []
    for collection, entries in declared["collections"].items():
        for number, index in enumerate(entries):
            if index.get("only", "sqlite") != "sqlite":
                continue  # Firestore's alone (see indexes.json)
            columns = ", ".join(_field(name) for name, _ in index["fields"])
            indexes.append((f"{collection}_{number}",
                            f"ON docs(collection, {columns}) WHERE collection = '{_name(collection)}'"))
    return indexes


def _name(collection: str) -> str:
    if not FIELD_RE.match(collection):
        raise ValueError(f"unsupported collection name {collection!r}")
    return collection


def _count_triggers(counted: dict[str, list[str]]) -> list[str]:
    """Counts kept by triggers for the fields ``indexes.json`` lists under ``counted``: counting
    90,000 matches through an expression index costs ~200 ms here (it is never covering), a kept
    count one lookup. (Firestore answers the same counts with aggregation queries.)"""
    statements = ["CREATE TABLE IF NOT EXISTS counts (collection TEXT NOT NULL, field TEXT NOT NULL, "
                  "value TEXT, n INTEGER NOT NULL, PRIMARY KEY (collection, field, value))"]
    for collection, fields in counted.items():
        for name in fields:
            value = _field(name)
            tag = f"{collection}_{name}"
            add = ("INSERT INTO counts(collection, field, value, n) VALUES ('{c}', '{f}', {v}, {d}) "
                   "ON CONFLICT(collection, field, value) DO UPDATE SET n = n + {d}")
            plus = add.format(c=collection, f=name, v=value.replace("doc", "NEW.doc"), d=1)
            minus = add.format(c=collection, f=name, v=value.replace("doc", "OLD.doc"), d=-1)
            statements += [
                f"CREATE TRIGGER IF NOT EXISTS count_{tag}_insert AFTER INSERT ON docs "
                f"WHEN NEW.collection = '{collection}' BEGIN {plus}; END",
                f"CREATE TRIGGER IF NOT EXISTS count_{tag}_delete AFTER DELETE ON docs "
                f"WHEN OLD.collection = '{collection}' BEGIN {minus}; END",
                f"CREATE TRIGGER IF NOT EXISTS count_{tag}_update AFTER UPDATE OF doc ON docs "
                f"WHEN OLD.collection = '{collection}' AND {value.replace('doc', 'OLD.doc')} IS NOT "
                f"{value.replace('doc', 'NEW.doc')} BEGIN {minus}; {plus}; END",
            ]
    return statements


COUNTED = json.loads(INDEXES.read_text()).get("counted", {})


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def get(self, collection: str, doc_id: str) -> dict | None:
        if not storable_id(doc_id):  # as on Firestore: no document has it
            return None
        row = self.db.execute("SELECT doc FROM docs WHERE collection = ? AND id = ?",
                              (collection, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def create(self, collection: str, doc_id: str, doc: dict) -> None:
        refuse_unstorable(collection, doc_id, doc)  # what Firestore refuses, refused here too
        try:
            self.db.execute("INSERT INTO docs(collection, id, doc) VALUES (?, ?, ?)",
                            (collection, doc_id, json.dumps(doc, ensure_ascii=False)))
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"{collection}/{doc_id} already exists") from exc

    def set(self, collection: str, doc_id: str, doc: dict) -> None:
        refuse_unstorable(collection, doc_id, doc)
        self.db.execute(
            "INSERT INTO docs(collection, id, doc) VALUES (?, ?, ?) "
            "ON CONFLICT(collection, id) DO UPDATE SET doc = excluded.doc",
            (collection, doc_id, json.dumps(doc, ensure_ascii=False)))

    def delete(self, collection: str, doc_id: str) -> None:
        self.db.execute("DELETE FROM docs WHERE collection = ? AND id = ?", (collection, doc_id))


def _conditions(collection: str, where: list[Where]) -> tuple[list[str], list]:
    clauses = [f"collection = '{_name(collection)}'"]  # a literal: the indexes are partial to it
    args: list = []
    for name, op, value in where:
        if op not in OPERATORS:
            raise ValueError(f"unsupported operator {op}")
        clauses.append(f"{_field(name)} {'=' if op == '==' else op} ?")
        args.append(value)
    return clauses, args


_WRITER_LOCKS: dict[str, threading.Lock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


CLOSE_WAIT = 10.0  # seconds a close waits for a write transaction of another thread to end


def _writer_lock(path: str) -> threading.Lock:
    """One lock per database file in this process, taken around each write transaction.

    SQLite lets one writer in at a time; a connection that finds the file locked sleeps in its
    busy handler (1, 2, 5, 10 … 100 ms), long after the lock is free again. The threads of one
    process queue on this lock instead and are let in as soon as the writer before them commits;
    only writers of other processes meet the busy handler."""
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(path, threading.Lock())


class SqliteDocuments:
    """Documents in one SQLite file, safe for several threads and processes."""

    def __init__(self, path: str | Path, busy_timeout: float = 30.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._lock:
            db = self._connect()
            fresh = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'counts'").fetchone() is None
            for name, definition in _declared_indexes():  # one of an older shape (not partial): made again
                row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
                if row and not row[0].endswith(definition):
                    db.execute(f"DROP INDEX {name}")
            db.executescript(_schema())
            if fresh:  # a store made before counts were kept: count what is there once
                for collection, fields in COUNTED.items():
                    for name in fields:
                        db.execute("INSERT OR REPLACE INTO counts(collection, field, value, n) "
                                   f"SELECT collection, ?, {_field(name)}, COUNT(*) FROM docs "
                                   "WHERE collection = ? GROUP BY 3", (name, collection))

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            self._all.append(db)
        return db

    def transaction(self, fn: Callable[[_SqliteTx], T]) -> T:
        db = self._connect()
        with _writer_lock(self.path):
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"the SQLite store at {self.path} is busy: {exc}") from exc
            try:
                result = fn(_SqliteTx(db))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                db.execute("ROLLBACK")
                raise StoreUnavailable(f"could not commit to {self.path}: {exc}") from exc
            return result

    def get(self, collection: str, doc_id: str) -> dict | None:
        return _SqliteTx(self._connect()).get(collection, doc_id)

    def query(self, collection: str, where: list[Where], order_by: str, descending: bool,
              limit: int, start_after: Cursor | None = None) -> list[dict]:
        clauses, args = _conditions(collection, where)
        order = "DESC" if descending else "ASC"
        if start_after is not None:
            beyond = "<" if descending else ">"
            field = _field(order_by)
            clauses.append(f"({field} {beyond} ? OR ({field} = ? AND id {beyond} ?))")
            args += [start_after[0], start_after[0], start_after[1]]
        sql = (f"SELECT doc FROM docs WHERE {' AND '.join(clauses)} "
               f"ORDER BY {_field(order_by)} {order}, id {order} LIMIT ?")
        rows = self._connect().execute(sql, (*args, limit)).fetchall()
        return [json.loads(doc) for (doc,) in rows]

    def count(self, collection: str, where: list[Where]) -> int:
        kept = COUNTED.get(collection, ())
        if len(where) == 1 and where[0][1] == "==" and where[0][0] in kept:
            row = self._connect().execute("SELECT n FROM counts WHERE collection = ? AND field = ? AND value IS ?",
                                          (collection, where[0][0], where[0][2])).fetchone()
            return row[0] if row else 0
        if not where and kept:
            row = self._connect().execute("SELECT SUM(n) FROM counts WHERE collection = ? AND field = ?",
                                          (collection, kept[0])).fetchone()
            return row[0] or 0
        clauses, args = _conditions(collection, where)
        return self._connect().execute(f"SELECT COUNT(*) FROM docs WHERE {' AND '.join(clauses)}", args).fetchone()[0]

    def release_thread(self) -> None:
        """Close the calling thread's connection (a thread that ends: its connection is not kept)."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        with self._lock:
            if db in self._all:
                self._all.remove(db)
        self._local.db = None
        db.close()

    def close(self) -> None:
        # not while another thread of this process is in a write transaction: closing a connection
        # in use crashes the process (bounded, so a close from inside a transaction cannot hang)
        writer = _writer_lock(self.path)
        waited = writer.acquire(timeout=CLOSE_WAIT)
        try:
            with self._lock:
                for db in self._all:
                    try:
                        db.close()
                    except sqlite3.ProgrammingError:
                        pass
                self._all.clear()
                self._local = threading.local()
        finally:
            if waited:
                writer.release()
