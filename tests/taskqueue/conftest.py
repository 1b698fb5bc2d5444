"""The ``setup`` fixture of the SQS relay's tests: ``setup(**kwargs)`` makes a queue, its DLQ, a
recording worker and a relay (tests/support/sqsrelay.py), all closed after the test."""

from __future__ import annotations

import pytest

from tests.support.sqsrelay import Setup


@pytest.fixture
def setup(moto, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = []

    def make(**kwargs) -> Setup:
        made.append(Setup(moto, **kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()
