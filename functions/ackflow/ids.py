"""Identifiers: short, lowercase (they become Chat message ids, ``client-<job id>``), random."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: easy to read back from a phone
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


def is_safe_id(value: object) -> bool:
    """Whether ``value`` could be an id we made: letters, digits, ``-`` and ``_``, at most 100.

    What someone typed or a button carried is looked up only if it is: a path (``a/b/c``), a
    Firestore reserved name (``__x__``), a surrogate or a megabyte never reaches the store.
    """
    return isinstance(value, str) and _SAFE_ID.fullmatch(value) is not None


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_job_id() -> str:
    return new_id("j")


def new_confirmation_id() -> str:
    return new_id("c", 12)


def new_token() -> str:
    return secrets.token_urlsafe(18)
