"""Drive ids reserved in the job store, one per item key, so every attempt makes the same item.

Drive's search may not show a file made a moment ago, so "search before create" cannot tell a
retry that the earlier attempt already made it. An id from ``files.generateIds`` can: Drive makes
at most one file with it (a second create answers 409) and ``files.get`` by id is strongly
consistent. The id for a key is chosen once, in a transaction (``drive_ids``/<key>: the id, the
path, when), and every attempt of every worker uses it. Ids come from a small per-process pool.
An item Drive takes no chosen id for (a copy of a Google Docs file) has its id noted once made.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from ackflow.store.documents import Documents

COLLECTION = "drive_ids"
BATCH = 20


class DriveIds:
    def __init__(self, docs: Documents, generate: Callable[[int], list[str]], batch: int = BATCH):
        self.docs = docs
        self.generate = generate  # count → fresh ids from files.generateIds
        self.batch = batch
        self._pool: list[str] = []
        self._lock = threading.Lock()

    def known(self, key: str) -> str | None:
        """The id reserved for ``key``, if any (a strongly consistent read)."""
        doc = self.docs.get(COLLECTION, key)
        return doc["id"] if doc else None

    def reserve(self, key: str, path: str) -> str:
        """The id for ``key``: the one reserved earlier, else a fresh one, reserved now."""
        known = self.known(key)
        return known if known is not None else self._choose(key, path, spent=None)

    def renew(self, key: str, path: str, spent: str) -> str:
        """A new id for ``key`` when ``spent`` is taken by something that no longer counts (trashed
        or deleted): Drive will never make another file with ``spent``, so no attempt in flight can."""
        return self._choose(key, path, spent=spent)

    def record(self, key: str, path: str, file_id: str) -> None:
        """Note the id Drive chose for ``key`` (an item made without a reserved id)."""
        def apply(tx) -> None:
            doc = tx.get(COLLECTION, key)
            if doc is None or doc["id"] != file_id:
                tx.set(COLLECTION, key, {"id": file_id, "path": path, "at": dt.datetime.now(dt.UTC).isoformat(),
                                         "chosen_by": "drive"})

        self.docs.transaction(apply)

    def _choose(self, key: str, path: str, spent: str | None) -> str:
        candidate = self._fresh()

        def apply(tx) -> str:
            doc = tx.get(COLLECTION, key)
            if doc is not None and doc["id"] != spent:
                return doc["id"]  # another attempt chose first
            record = {"id": candidate, "path": path, "at": dt.datetime.now(dt.UTC).isoformat()}
            # read in this transaction, so a set cannot overwrite another's choice (a create could
            # only add an AlreadyExists for the same outcome)
            tx.set(COLLECTION, key, record if doc is None else {**record, "replaced": spent})
            return candidate

        chosen = self.docs.transaction(apply)
        if chosen != candidate:
            with self._lock:
                self._pool.append(candidate)  # never sent to Drive: still good
        return chosen

    def _fresh(self) -> str:
        with self._lock:
            if not self._pool:
                self._pool = list(self.generate(self.batch))
            return self._pool.pop()
