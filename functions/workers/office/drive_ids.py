"""Drive ids reserved in the job store, one per item key, so every attempt makes the same item.

Drive's search may not show a file made a moment ago, so "search before create" cannot tell a
retry that the earlier attempt already made it. An id from ``files.generateIds`` can: Drive makes
at most one file with it (a second create answers 409) and ``files.get`` by id is strongly
consistent. The id for a key is chosen once, in a transaction (``drive_ids``/<key>: the id, the
path, when), and every attempt of every worker uses it. Ids come from a small per-process pool.

Drive takes no chosen id for a Google Docs file (a copy of one, or an upload converted to one).
Such an item is made in a holding folder of its own (a folder with a reserved id, listed under
``drive_holds``/<key> before it is made), then *claimed*: the first attempt to write its item's id
to ``drive_ids``/<key> wins (the entry keeps the holding folder and the destination until the item
is moved into place); a loser's item is thrown away with its holding folder.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from ackflow.store.documents import Documents

COLLECTION = "drive_ids"
HOLDS = "drive_holds"
BATCH = 20


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class DriveIds:
    def __init__(self, docs: Documents, generate: Callable[[int], list[str]], batch: int = BATCH):
        self.docs = docs
        self.generate = generate  # count → fresh ids from files.generateIds
        self.batch = batch
        self._pool: list[str] = []
        self._lock = threading.Lock()

    def entry(self, key: str) -> dict | None:
        """What the store holds for ``key`` (a strongly consistent read)."""
        return self.docs.get(COLLECTION, key)

    def known(self, key: str) -> str | None:
        """The id reserved or claimed for ``key``, if any."""
        doc = self.entry(key)
        return doc["id"] if doc else None

    def reserve(self, key: str, path: str) -> str:
        """The id for ``key``: the one reserved earlier, else a fresh one, reserved now."""
        known = self.known(key)
        return known if known is not None else self._choose(key, path, spent=None)

    def renew(self, key: str, path: str, spent: str) -> str:
        """A new id for ``key`` when ``spent`` is taken by something that no longer counts (trashed
        or deleted): Drive will never make another file with ``spent``, so no attempt in flight can."""
        return self._choose(key, path, spent=spent)

    def claim(self, key: str, path: str, file_id: str, hold: str, parent: str, spent: str | None) -> str:
        """Claim ``key`` for ``file_id``, an item Drive chose the id of, made in the holding folder
        ``hold`` and to be moved to ``parent``: the id that holds the key afterwards (``file_id``
        if this claim won; ``spent``, the id found dead, may be replaced)."""
        def apply(tx) -> str:
            doc = tx.get(COLLECTION, key)
            if doc is not None and doc["id"] != spent:
                return doc["id"]
            record = {"id": file_id, "path": path, "at": _now(), "chosen_by": "drive", "hold": hold,
                      "parent": parent}
            tx.set(COLLECTION, key, record if doc is None else {**record, "replaced": spent})
            return file_id

        return self.docs.transaction(apply)

    def placed(self, key: str, file_id: str) -> None:
        """``file_id`` is in place: its entry no longer names a holding folder."""
        def apply(tx) -> None:
            doc = tx.get(COLLECTION, key)
            if doc is not None and doc["id"] == file_id and "hold" in doc:
                tx.set(COLLECTION, key, {k: v for k, v in doc.items() if k not in ("hold", "parent")})

        self.docs.transaction(apply)

    def hold(self, key: str, path: str) -> str:
        """A fresh id for a new holding folder for ``key``, listed before the folder is made."""
        candidate = self._fresh()

        def apply(tx) -> None:
            doc = tx.get(HOLDS, key)
            tx.set(HOLDS, key, {"path": path, "holds": [*(doc or {}).get("holds", []), candidate]})

        self.docs.transaction(apply)
        return candidate

    def holds(self, key: str) -> list[str]:
        """The holding folders listed for ``key`` and not yet released."""
        doc = self.docs.get(HOLDS, key)
        return list(doc["holds"]) if doc else []

    def release(self, key: str, gone: list[str]) -> None:
        """``gone`` holding folders are in the trash: unlist them."""
        def apply(tx) -> None:
            doc = tx.get(HOLDS, key)
            if doc is None:
                return
            left = [h for h in doc["holds"] if h not in gone]
            if left:
                tx.set(HOLDS, key, {**doc, "holds": left})
            else:
                tx.delete(HOLDS, key)

        self.docs.transaction(apply)

    def _choose(self, key: str, path: str, spent: str | None) -> str:
        candidate = self._fresh()

        def apply(tx) -> str:
            doc = tx.get(COLLECTION, key)
            if doc is not None and doc["id"] != spent:
                return doc["id"]  # another attempt chose first
            record = {"id": candidate, "path": path, "at": _now()}
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
