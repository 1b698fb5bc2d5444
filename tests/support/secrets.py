"""A local stand-in for the Secret Manager v1 REST API, as much of it as the worker uses:
``versions.access`` (with ``latest``), Google's error shape, CRC32C of the payload, and switches
for a denied reader, an unavailable service and a corrupted payload."""

from __future__ import annotations

import base64

import google_crc32c
from werkzeug.wrappers import Request, Response

from ackflow_tools.emulators.web import GoogleError, Router, ServerThread, json_response

SECRET = r"(projects/[^/]+/(?:locations/[^/]+/)?secrets/[^/]+)"


class SecretManager:
    def __init__(self):
        self.secrets: dict[str, list[bytes]] = {}  # secret name -> versions, 1-based
        self.denied: set[str] = set()
        self.unavailable = False
        self.corrupt = False
        self.accessed: list[str] = []
        router = Router()
        router.add("GET", rf"/v1/{SECRET}/versions/([^/:]+):access", self.access)
        self.server = ServerThread(router).start()

    @property
    def url(self) -> str:
        return self.server.url

    def add(self, secret: str, data: bytes) -> str:
        self.secrets.setdefault(secret, []).append(data)
        return f"{secret}/versions/{len(self.secrets[secret])}"

    def stop(self) -> None:
        self.server.stop()

    def access(self, request: Request, secret: str, version: str) -> Response:
        if self.unavailable:
            raise GoogleError("UNAVAILABLE", "The service is currently unavailable.")
        if secret in self.denied:
            raise GoogleError("PERMISSION_DENIED",
                              "Permission 'secretmanager.versions.access' denied for resource "
                              f"'{secret}/versions/{version}'")
        versions = self.secrets.get(secret)
        number = len(versions or []) if version == "latest" else int(version) if version.isdigit() else 0
        if not versions or not 1 <= number <= len(versions):
            raise GoogleError("NOT_FOUND", f"Secret Version [{secret}/versions/{version}] not found.")
        data = versions[number - 1]
        self.accessed.append(f"{secret}/versions/{number}")
        crc = google_crc32c.value(data) ^ (1 if self.corrupt else 0)
        return json_response({"name": f"{secret}/versions/{number}",
                              "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}})
