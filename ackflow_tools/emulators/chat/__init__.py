"""A local stand-in for Google Chat: the app-facing REST API and a user side that sends events."""

from __future__ import annotations

from pathlib import Path

from ..web import ServerThread
from .api import build_app
from .events import Client
from .quota import QuotaConfig, WriteQuotas
from .service import AppIdentity, ChatService
from .storage import ChatStorage
from .userside import AppEndpoint, UserSide


def open_service(db_path: str | Path, app: AppEndpoint | None = None,
                 quota: QuotaConfig | None = None, client: Client | None = None) -> tuple[ChatService, UserSide]:
    storage = ChatStorage(db_path)
    app = app or AppEndpoint()
    service = ChatService(storage, AppIdentity(display_name=app.display_name),
                          WriteQuotas(quota, project=app.project_number))
    users = UserSide(service, app, storage.signer("chat-system"), storage.signer("google-oidc"), client)
    return service, users


def start_server(db_path: str | Path, app: AppEndpoint | None = None, host: str = "127.0.0.1",
                 port: int = 0, quota: QuotaConfig | None = None) -> tuple[ChatService, UserSide, ServerThread]:
    service, users = open_service(db_path, app, quota)
    server = ServerThread(build_app(service, users), host, port).start()
    return service, users, server
