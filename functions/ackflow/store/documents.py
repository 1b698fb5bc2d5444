"""The Documents port: the few primitives a backend must offer for the JobStore to run on it.

Collections hold JSON documents by id. Every write the JobStore makes goes through
``transaction``, which is how compare-and-set is done on every backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

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

MAX_ID_BYTES = 1500  # Firestore's limit on a document id (UTF-8)
_RESERVED_ID = re.compile(r"__.*__", re.DOTALL)


def storable_id(doc_id: object) -> bool:
    """Whether a document can have this id on every backend: Firestore's rules for a document id
    (UTF-8, at most 1,500 bytes, no ``/``, not ``.`` nor ``..``, not ``__.*__``), non-empty.
    Firestore names a document by its path, so an id with a ``/`` would name another document (or
    none); the others it refuses with INVALID_ARGUMENT. A backend reads such an id as a document
    that does not exist and refuses to write one (ValueError), SQLite too, so that what only
    Firestore would refuse is found on the embedded store as well."""
    if not isinstance(doc_id, str) or not doc_id or "/" in doc_id or doc_id in (".", "..") \
            or _RESERVED_ID.fullmatch(doc_id):
        return False
    try:
        return len(doc_id.encode("utf-8")) <= MAX_ID_BYTES
    except UnicodeEncodeError:  # an unpaired surrogate
        return False


def refuse_unstorable(collection: str, doc_id: object) -> None:
    """Raise ValueError for an id no document can have (``storable_id``): a write of one is a bug
    of its caller, which must make ids or check what it was given."""
    if not storable_id(doc_id):
        raise ValueError(f"{str(doc_id)[:80]!r} is not a document id any store takes ({collection})")


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
