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
