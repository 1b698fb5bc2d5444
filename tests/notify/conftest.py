"""A Runtime in this process on a real SQLite store and the local Chat service (in a thread)."""

from __future__ import annotations

import pytest
import requests

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from ackflow_tools.emulators.chat import start_server

SPACE = "spaces/order"


@pytest.fixture
def chat(tmp_path):
    service, users, server = start_server(tmp_path / "chat.db")
    requests.put(f"{server.url}/_emulator/{SPACE}", json={}).raise_for_status()
    server.service = service
    yield server
    server.stop()


@pytest.fixture
def runtime(tmp_path, chat):
    settings = Settings(store="sqlite", sqlite_path=str(tmp_path / "jobs.db"), chat_endpoint=chat.url,
                        local_services=True, log_format="text")
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


def message_of(chat, job) -> dict:
    return requests.get(f"{chat.url}/v1/{job.space}/messages/{job.message_id}").json()
