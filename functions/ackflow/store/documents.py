"""The Documents port: the few primitives a backend must offer for the JobStore to run on it.

Collections hold JSON documents by id. Every write the JobStore makes goes through
``transaction``, which is how compare-and-set is done on every backend.
"""

from __future__ import annotations

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
