"""The Documents port: the few primitives a backend must offer for the JobStore to run on it.

Collections hold JSON documents by id. Every write the JobStore makes goes through
``transaction``, which is how compare-and-set is done on every backend.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ..errors import DocumentRefused

T = TypeVar("T")

JOBS = "jobs"
CONFIRMATIONS = "confirmations"
DEAD_LETTERS = "dead_letters"
COUNTERS = "counters"
ALLOCATIONS = "counter_allocations"
AUDIT = "audit"
CHAT_BUDGETS = "chat_budgets"  # one token bucket per Chat space (jobs/messages.py)
MESSAGE_LOGS = "job_messages"  # the write log of each job's Chat message (jobs/messages.py)
HOLDS = "job_holds"  # jobs a step made uncancellable before its step was recorded (jobstore.hold)

# Fields the store filters or orders on; both adapters index exactly these (see indexes.json).
Where = tuple[str, str, Any]  # (field, one of OPERATORS, value)
OPERATORS = ("==", "<", "<=", ">", ">=")
Cursor = tuple[Any, str]  # (value of the order field, document id) of the last document of a page

MAX_ID_BYTES = 1500  # Firestore's limit on a document id (UTF-8), and on a field's name
MAX_DOCUMENT_BYTES = 1_048_576  # Firestore's limit on a document (its own way of counting: ``document_size``)
MAX_DEPTH = 20  # maps and arrays within a field's value
MAX_INT = 2**63
_RESERVED_ID = re.compile(r"__.*__", re.DOTALL)


def storable_id(doc_id: object) -> bool:
    """Whether a document can have this id on every backend: Firestore's rules for a document id
    (UTF-8, at most 1,500 bytes, no ``/``, not ``.`` nor ``..``, not ``__.*__``), non-empty.
    Firestore names a document by its path, so an id with a ``/`` would name another document (or
    none); the others it refuses with INVALID_ARGUMENT. A backend reads such an id as a document
    that does not exist and refuses to write one (DocumentRefused), SQLite too, so that what only
    Firestore would refuse is found on the embedded store as well."""
    if not isinstance(doc_id, str) or not doc_id or "/" in doc_id or doc_id in (".", "..") \
            or _RESERVED_ID.fullmatch(doc_id):
        return False
    try:
        return len(doc_id.encode("utf-8")) <= MAX_ID_BYTES
    except UnicodeEncodeError:  # an unpaired surrogate
        return False


def refuse_unstorable(collection: str, doc_id: object, doc: dict | None = None) -> None:
    """Raise DocumentRefused (a ValueError) for an id no document can have (``storable_id``), or a
    document Firestore would refuse as written (``_value_size``: its size, nesting, field names, arrays in
    arrays, integers beyond 64 bits, unpaired surrogates): before anything is sent, on every
    backend, so that SQLite refuses what Firestore would."""
    if not storable_id(doc_id):
        raise DocumentRefused(f"{str(doc_id)[:80]!r} is not a document id any store takes ({collection})")
    if doc is not None:
        size = len(collection.encode()) + len(str(doc_id).encode()) + 2 + 16 + 32 + _value_size(doc, collection, 0)
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentRefused(f"{collection}/{doc_id} would be {size:,} bytes: Firestore takes at most "
                                  f"{MAX_DOCUMENT_BYTES:,}")


_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _value_size(value: object, where: str, depth: int, path: int = -1) -> int:
    """A value's size as Firestore counts it (strings and names: UTF-8 bytes + 1; numbers and times
    8; maps and arrays the sum of what they hold), or DocumentRefused for what it does not take.
    ``path``: the bytes of the field path to the value (its names joined by dots, a name that is
    not a plain identifier quoted in backticks), which Firestore takes up to 1,500 bytes."""
    if isinstance(value, str):
        try:
            return len(value.encode("utf-8")) + 1
        except UnicodeEncodeError:
            raise DocumentRefused(f"{where} holds an unpaired surrogate") from None
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int):
        if not -MAX_INT <= value < MAX_INT:
            raise DocumentRefused(f"{where} holds an integer beyond 64 bits")
        return 8
    if isinstance(value, (float, dt.datetime)):
        return 8
    if isinstance(value, bytes):
        return len(value)
    if depth > MAX_DEPTH:
        raise DocumentRefused(f"{where} nests maps or arrays more than {MAX_DEPTH} deep")
    if isinstance(value, dict):
        size = 0
        for key, item in value.items():
            if not isinstance(key, str) or not key or _RESERVED_ID.fullmatch(key):
                raise DocumentRefused(f"{where} has a field name Firestore refuses: {str(key)[:40]!r}")
            name = _value_size(key, where, depth) - 1
            inner = path + 1 + name + (0 if _SIMPLE_NAME.fullmatch(key) else 2)
            if inner > MAX_ID_BYTES:
                raise DocumentRefused(f"{where} has a field whose path is over {MAX_ID_BYTES} bytes: {key[:40]!r}…")
            size += name + 1 + _value_size(item, f"{where}.{key[:40]}", depth + 1, inner)
        return size
    if isinstance(value, (list, tuple)):
        if depth and any(isinstance(item, (list, tuple)) for item in value):
            raise DocumentRefused(f"{where} holds an array in an array")
        return sum(_value_size(item, where, depth + 1, path) for item in value)
    raise DocumentRefused(f"{where} holds a {type(value).__name__}, which no store takes")


class Tx(Protocol):
    def get(self, collection: str, doc_id: str) -> dict | None:
        """Read inside the transaction. All reads must come before the first write."""

    def create(self, collection: str, doc_id: str, doc: dict) -> None:
        """Write a new document; raise AlreadyExists if the id is taken."""

    def set(self, collection: str, doc_id: str, doc: dict) -> None:
        """Write (replace) a document."""

    def delete(self, collection: str, doc_id: str) -> None:
        """Remove a document; removing one that is not there is not an error."""


class Documents(Protocol):
    def transaction(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` atomically and return its result.

        ``fn`` may be run more than once (optimistic backends retry on contention), so it must
        have no effect outside the Tx it is given. Reads see one consistent snapshot; if another
        writer changed what was read, the transaction fails or is retried, never half-applied.
        """

    def get(self, collection: str, doc_id: str) -> dict | None:
        """A strongly consistent read outside any transaction."""

    def query(self, collection: str, where: list[Where], order_by: str, descending: bool,
              limit: int, start_after: Cursor | None = None) -> list[dict]:
        """Documents matching every condition, ordered by one field, then by id in the same
        direction. ``start_after`` continues a listing after the document it names (paging by
        cursor: no offset is ever counted, so page 1,000 costs what page 1 costs). Range
        conditions (``<``, ``<=``, ``>``, ``>=``) are only on the order field."""

    def count(self, collection: str, where: list[Where]) -> int:
        """How many documents match every condition (an aggregation: no document is read)."""

    def close(self) -> None:
        """Release connections."""
