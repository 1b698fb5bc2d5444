"""What is known of each person between events: the language and time zone their Chat client last
sent, so an event that carries neither (not every one does) is still answered in their language.

One small document per Chat user (collection ``people``), on whichever store backend runs; a
process keeps what it read or wrote for ten minutes, so a busy person costs no extra read, a
person new to the process one read, and only a change of language or zone a write.

An event that says both the language and the zone needs nothing read back, so the webhook keeps
them on a thread of its own (``remember_soon``): its answer never waits for the store (the first
``help`` of a fresh instance does not open the store at all). A later ``get`` of that person in the
same process waits for it; other instances read it once it is written. Best effort, as all of
this: a write lost with its instance is made again by the person's next event.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .documents import Documents, Tx, storable_id

PEOPLE = "people"
USER_NAME = re.compile(r"users/([A-Za-z0-9_-]{1,64})")  # what Chat names a person; anything else is not kept
CACHE_SIZE = 2048
CACHE_SECONDS = 600.0  # a language is rarely changed; an event that says it is remembered at once
PENDING_MOST = 32  # people being remembered on threads at once; beyond it, remembered on the caller's
PENDING_WAIT = 5.0  # seconds a get waits for that person's pending remember (then reads the store)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Known:
    language: str = ""
    time_zone: str = ""


class People:
    def __init__(self, docs: Documents, *, clock=time.monotonic):
        self.docs = docs
        self.clock = clock
        self._seen: OrderedDict[str, tuple[float, Known]] = OrderedDict()
        self._pending: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    @staticmethod
    def doc_id(user_name: str) -> str | None:
        match = USER_NAME.fullmatch(user_name or "")
        # users/__x__ is none of Chat's (its ids are digits) and no id Firestore takes (reserved)
        return match.group(1) if match and storable_id(match.group(1)) else None

    def _cached(self, doc_id: str) -> Known | None:
        with self._lock:
            entry = self._seen.get(doc_id)
            if entry is None or self.clock() - entry[0] > CACHE_SECONDS:
                return None
            self._seen.move_to_end(doc_id)
            return entry[1]

    def _keep(self, doc_id: str, known: Known) -> None:
        with self._lock:
            self._seen[doc_id] = (self.clock(), known)
            self._seen.move_to_end(doc_id)
            while len(self._seen) > CACHE_SIZE:
                self._seen.popitem(last=False)

    def get(self, user_name: str) -> Known:
        """The person's last known language and time zone (empty strings when unknown)."""
        doc_id = self.doc_id(user_name)
        if doc_id is None:
            return Known()
        with self._lock:
            pending = self._pending.get(doc_id)
        if pending is not None:  # what an event said of them is being kept: read it once it is
            pending.wait(PENDING_WAIT)
        return self._known(doc_id)

    def _known(self, doc_id: str) -> Known:
        known = self._cached(doc_id)
        if known is None:
            doc = self.docs.get(PEOPLE, doc_id) or {}
            known = Known(str(doc.get("language") or ""), str(doc.get("time_zone") or ""))
            self._keep(doc_id, known)
        return known

    def remember(self, user_name: str, language: str, time_zone: str, now: float) -> Known:
        """Keep what an event said of the person (a part it did not say keeps its last value).
        Writes only when something changed; safe to run twice."""
        doc_id = self.doc_id(user_name)
        if doc_id is None or not (language or time_zone):
            return Known()
        known = self._known(doc_id)  # a plain read: no transaction when unchanged
        if (language or known.language, time_zone or known.time_zone) == (known.language, known.time_zone):
            return known

        def apply(tx: Tx) -> Known:
            doc = tx.get(PEOPLE, doc_id) or {}
            stored = Known(str(doc.get("language") or ""), str(doc.get("time_zone") or ""))
            if float(doc.get("updated_at") or 0) > now:  # a later event's write landed first: it stands
                return stored
            known = Known(language or stored.language, time_zone or stored.time_zone)
            if (known.language, known.time_zone) != (doc.get("language"), doc.get("time_zone")):
                tx.set(PEOPLE, doc_id, {"language": known.language, "time_zone": known.time_zone, "updated_at": now})
            return known

        known = self.docs.transaction(apply)
        self._keep(doc_id, known)
        return known

    def settle(self, timeout: float = PENDING_WAIT) -> None:
        """Wait (at most ``timeout`` in all) for what is being remembered on threads: before the
        store is closed under them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._pending.values())
        for done in pending:
            done.wait(max(0.0, deadline - time.monotonic()))

    def remember_soon(self, user_name: str, language: str, time_zone: str, now: float) -> None:
        """``remember`` on a thread of its own, for an event that says both language and zone (the
        caller needs nothing back). Nothing when this process knows it already."""
        doc_id = self.doc_id(user_name)
        if doc_id is None or not (language or time_zone):
            return
        known = self._cached(doc_id)
        if known is not None and (language or known.language, time_zone or known.time_zone) == (
                known.language, known.time_zone):
            return
        done = threading.Event()
        with self._lock:
            crowded = len(self._pending) >= PENDING_MOST or doc_id in self._pending
            if not crowded:
                self._pending[doc_id] = done
        if crowded:  # many people new to this process at once (or this one twice): no more threads
            with self._lock:
                earlier = self._pending.get(doc_id)
            if earlier is not None:  # this person's earlier event first, so that this one lands last
                earlier.wait(PENDING_WAIT)
            self.remember(user_name, language, time_zone, now)
            return

        def work() -> None:
            try:
                self.remember(user_name, language, time_zone, now)
            except Exception as exc:  # noqa: BLE001 - best effort; the next event tries again
                log.warning("could not keep the person's language: %s", exc)
            finally:
                with self._lock:
                    self._pending.pop(doc_id, None)
                done.set()
                release = getattr(self.docs, "release_thread", None)
                if release is not None:  # SQLite: this thread's connection, not kept for a thread that ends
                    release()

        threading.Thread(target=work, name="ackflow-remember", daemon=True).start()
