"""Reading the local Chat service's change feed (``GET /_emulator/{space}/changes``) to its end."""

from __future__ import annotations


def changes(http, chat_url: str, space: str, *, timeout: float = 60) -> list[dict]:
    """Everything that happened in the space, in order (``http``: a requests session)."""
    found: list[dict] = []
    after = 0
    while True:
        page = http.get(f"{chat_url}/_emulator/{space}/changes", params={"after": after}, timeout=timeout).json()
        if not page["changes"]:
            return found
        found.extend(page["changes"])
        after = page["last"]
