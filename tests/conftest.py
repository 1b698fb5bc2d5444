"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str, why: str) -> str:
    """The path of ``name``; a skip locally when missing, a failure in CI (CI=true)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def firestore_session(tmp_path_factory):
    """One Firestore emulator for the run (it takes seconds to start); tests reset its data."""
    from ackflow_tools.devtools.firestore_emulator import EmulatorMissing, FirestoreEmulator

    require_tool("java", "the Firestore emulator runs on Java")
    emulator = FirestoreEmulator(tmp_path_factory.mktemp("firestore"))
    try:
        emulator.start()
    except EmulatorMissing as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI=true requires it")
        pytest.skip(str(exc))
    yield emulator
    emulator.stop()


@pytest.fixture
def firestore_emulator(firestore_session):
    firestore_session.reset()
    yield firestore_session
    firestore_session.reset()


REAL_CLOUD = (".googleapis.com", ".google.com", ".amazonaws.com", "googleapis.com", ".freee.co.jp")


@pytest.fixture(autouse=True, scope="session")
def no_real_cloud_endpoints():
    """Any attempt of the test process to resolve a Google or AWS host fails the test loudly."""
    original = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(REAL_CLOUD):
            raise AssertionError(f"a test tried to reach {host}: point the client at a local service")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    yield
    socket.getaddrinfo = original
