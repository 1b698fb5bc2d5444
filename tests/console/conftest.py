"""The console tests' own runtime: a real SQLite store in the test's directory, the test job types."""

from __future__ import annotations

import pytest

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings


@pytest.fixture
def runtime(tmp_path):
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"),
                               job_types="tests.support.jobtypes:build_registry"))
    yield runtime
    runtime.close()
