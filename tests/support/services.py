"""Start the local Google services as real processes on free ports, and clients for them."""

from __future__ import annotations

import sys
from pathlib import Path

from ackflow_tools.devtools.procs import ManagedProcess, free_port


def ackflow_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "ackflow_tools", *args]


def _start(kind: str, workdir: Path, db: Path, port: int | None, extra: tuple[str, ...]) -> ManagedProcess:
    port = port or free_port()
    proc = ManagedProcess(kind, ackflow_argv(kind, "--port", str(port), "--db", str(db), *extra),
                          ready_url=f"http://127.0.0.1:{port}/", log_path=workdir / f"{kind}-{port}.log")
    proc.url = f"http://127.0.0.1:{port}"
    proc.port = port
    return proc.start()


def start_tasks_emulator(workdir: Path, *extra: str, db: Path | None = None,
                         port: int | None = None) -> ManagedProcess:
    return _start("tasks-emulator", workdir, db or workdir / "tasks.db", port, extra)


def start_chat_emulator(workdir: Path, *extra: str, db: Path | None = None) -> ManagedProcess:
    return _start("chat-emulator", workdir, db or workdir / "chat.db", None, extra)


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
