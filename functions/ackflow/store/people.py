"""What is known of each person between events: the language and time zone their Chat client last
sent, so an event that carries neither (not every one does) is still answered in their language.

One small document per Chat user (collection ``people``), on whichever store backend runs; a
process keeps what it read or wrote for ten minutes, so a busy person costs no extra read, a
person new to the process one read, and only a change of language or zone a write.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .documents import Documents, Tx

PEOPLE = "people"
USER_NAME = re.compile(r"users/([A-Za-z0-9_-]{1,64})")  # what Chat names a person; anything else is not kept
CACHE_SIZE = 2048
CACHE_SECONDS = 600.0  # a language is rarely changed; an event that says it is remembered at once


@dataclass(frozen=True)
class Known:
    language: str = ""
    time_zone: str = ""


class People:
    def __init__(self, docs: Documents, *, clock=time.monotonic):
        self.docs = docs
        self.clock = clock
        self._seen: OrderedDict[str, tuple[float, Known]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def doc_id(user_name: str) -> str | None:
        match = USER_NAME.fullmatch(user_name or "")
        return match.group(1) if match else None

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
        known = self._cached(doc_id) or self.get(user_name)  # a plain read: no transaction when unchanged
        if (language or known.language, time_zone or known.time_zone) == (known.language, known.time_zone):
            return known

        def apply(tx: Tx) -> Known:
            doc = tx.get(PEOPLE, doc_id) or {}
            known = Known(language or str(doc.get("language") or ""), time_zone or str(doc.get("time_zone") or ""))
            if (known.language, known.time_zone) != (doc.get("language"), doc.get("time_zone")):
                tx.set(PEOPLE, doc_id, {"language": known.language, "time_zone": known.time_zone, "updated_at": now})
            return known

        known = self.docs.transaction(apply)
        self._keep(doc_id, known)
        return known
