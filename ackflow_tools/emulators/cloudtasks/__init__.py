"""A local stand-in for Cloud Tasks v2 that the official client talks to over REST."""

from __future__ import annotations

from pathlib import Path

from ..web import ServerThread
from .api import build_app
from .service import CloudTasksService
from .storage import TasksStorage


def open_service(db_path: str | Path, **options) -> CloudTasksService:
    """The service with its state in ``db_path``; its signing key is kept there too."""
    storage = TasksStorage(db_path)
    return CloudTasksService(storage, storage.signer("google-oidc"), **options)


def start_server(db_path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 **options) -> tuple[CloudTasksService, ServerThread]:
    service = open_service(db_path, **options).start()
    server = ServerThread(build_app(service), host, port).start()
    return service, server
