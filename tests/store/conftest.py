"""The job store contract runs over every backend: SQLite here, Firestore on its emulator."""

from __future__ import annotations

import pytest

from ackflow.store.jobstore import JobStore

BACKENDS = ["sqlite", "firestore"]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        from ackflow.store.sqlite import SqliteDocuments

        docs = SqliteDocuments(tmp_path / "jobs.db")
    else:
        emulator = request.getfixturevalue("firestore_emulator")
        docs = emulator.documents()
    store = JobStore(docs, finished_ttl=1000)
    yield store
    store.close()
