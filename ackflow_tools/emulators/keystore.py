"""Signing keys kept in a local service's SQLite file, so tokens stay verifiable across restarts."""

from __future__ import annotations

import sqlite3
import threading

from ackflow.auth.signing import LocalSigner

SCHEMA = """
CREATE TABLE IF NOT EXISTS signing_keys (
    purpose TEXT PRIMARY KEY,
    key_pem BLOB NOT NULL,
    cert_pem BLOB NOT NULL
);
"""


def load_or_create_signer(db: sqlite3.Connection, lock: threading.Lock, purpose: str) -> LocalSigner:
    """The signer stored under ``purpose``, generated and stored on first use."""
    with lock:
        db.executescript(SCHEMA)
        row = db.execute(
            "SELECT key_pem, cert_pem FROM signing_keys WHERE purpose = ?", (purpose,)
        ).fetchone()
        if row:
            return LocalSigner(row[0], row[1])
        signer = LocalSigner.generate(f"local-{purpose}")
        db.execute(
            "INSERT INTO signing_keys(purpose, key_pem, cert_pem) VALUES (?, ?, ?)",
            (purpose, signer.key_pem, signer.cert_pem),
        )
        return signer
