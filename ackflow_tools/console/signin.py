"""Wrong console tokens, counted per client address: after GUESSES in WINDOW seconds an address is
told to wait (429) until its oldest guess leaves the window. Per address, never global, so a
stranger's guessing never locks the operator out; bounded, so a flood of addresses cannot grow it
without end."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

GUESSES = 5
WINDOW = 60.0
ADDRESSES = 10_000  # addresses remembered at once (the oldest forgotten first)


class Guesses:
    def __init__(self, guesses: int = GUESSES, window: float = WINDOW, clock=time.monotonic):
        self.guesses = guesses
        self.window = window
        self.clock = clock
        self._wrong: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, address: str) -> float:
        """Seconds this address must wait before it may try a token again (0: it may now)."""
        now = self.clock()
        with self._lock:
            wrong = self._wrong.get(address)
            if wrong is None:
                return 0.0
            while wrong and wrong[0] <= now - self.window:
                wrong.popleft()
            if not wrong:
                del self._wrong[address]
                return 0.0
            return max(0.0, wrong[0] + self.window - now) if len(wrong) >= self.guesses else 0.0

    def wrong(self, address: str) -> None:
        with self._lock:
            self._wrong.setdefault(address, deque(maxlen=self.guesses)).append(self.clock())
            self._wrong.move_to_end(address)
            while len(self._wrong) > ADDRESSES:
                self._wrong.popitem(last=False)

    def right(self, address: str) -> None:
        with self._lock:
            self._wrong.pop(address, None)


SESSIONS = 1_000  # signed-in sessions remembered at once (the oldest signed out first)


class Sessions:
    """The signed-in sessions, by a random id the session cookie carries. Flask's session is a
    signed cookie the server keeps nothing of: cleared at sign-out in that browser, a copy of it
    (a shared laptop's profile, a proxy's log) went on signing in for Flask's 31 days. Sign-out
    now forgets the id, so no copy of the cookie signs in again (in this console process)."""

    def __init__(self, limit: int = SESSIONS):
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def open(self) -> str:
        import secrets

        session_id = secrets.token_urlsafe(24)
        with self._lock:
            self._ids[session_id] = None
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
        return session_id

    def live(self, session_id: object) -> bool:
        with self._lock:
            return isinstance(session_id, str) and session_id in self._ids

    def close(self, session_id: object) -> None:
        with self._lock:
            if isinstance(session_id, str):
                self._ids.pop(session_id, None)
