"""Start the local Google services as real processes on free ports, and clients for them."""

from __future__ import annotations

import sys
from pathlib import Path

from ackflow.devtools.procs import ManagedProcess, free_port


def ackflow_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "ackflow", *args]


def start_tasks_emulator(workdir: Path, *extra: str, db: Path | None = None,
                         port: int | None = None) -> ManagedProcess:
    port = port or free_port()
    db = db or workdir / "tasks.db"
    proc = ManagedProcess(
        "tasks-emulator",
        ackflow_argv("tasks-emulator", "--port", str(port), "--db", str(db), *extra),
        ready_url=f"http://127.0.0.1:{port}/",
        log_path=workdir / f"tasks-emulator-{port}.log",
    )
    proc.url = f"http://127.0.0.1:{port}"
    proc.port = port
    return proc.start()


def start_chat_emulator(workdir: Path, *extra: str, db: Path | None = None) -> ManagedProcess:
    port = free_port()
    db = db or workdir / "chat.db"
    proc = ManagedProcess(
        "chat-emulator",
        ackflow_argv("chat-emulator", "--port", str(port), "--db", str(db), *extra),
        ready_url=f"http://127.0.0.1:{port}/",
        log_path=workdir / f"chat-emulator-{port}.log",
    )
    proc.url = f"http://127.0.0.1:{port}"
    return proc.start()


def tasks_client(url: str):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import tasks_v2

    return tasks_v2.CloudTasksClient(
        transport="rest", credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url))


def chat_client(url: str):
    from google.api_core.client_options import ClientOptions
    from google.apps import chat_v1
    from google.auth.credentials import AnonymousCredentials

    return chat_v1.ChatServiceClient(
        transport="rest", credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url))
