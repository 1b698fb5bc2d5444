"""Identifiers: short, lowercase (they become Chat message ids, ``client-<job id>``), random."""

from __future__ import annotations

import secrets

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: easy to read back from a phone


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_job_id() -> str:
    return new_id("j")


def new_confirmation_id() -> str:
    return new_id("c", 12)


def new_token() -> str:
    return secrets.token_urlsafe(18)
