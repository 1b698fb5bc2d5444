"""A local stand-in for the Secret Manager v1 REST API, as much of it as the worker uses:
``versions.access`` (with ``latest``), ``secrets.addVersion`` (the payload's CRC32C checked),
``versions.destroy``, Google's error shape, CRC32C of the payload, and switches for a denied reader,
a reader that may not add versions, an unavailable service and a corrupted payload."""

from __future__ import annotations

import base64
import threading

import google_crc32c
from werkzeug.wrappers import Request, Response

from ackflow_tools.emulators.web import GoogleError, Router, ServerThread, json_response, read_json

SECRET = r"(projects/[^/]+/(?:locations/[^/]+/)?secrets/[^/]+)"


class SecretManager:
    def __init__(self):
        self.secrets: dict[str, list[bytes]] = {}  # secret name -> versions, 1-based
        self.destroyed: set[str] = set()  # version names
        self.lock = threading.Lock()
        self.denied: set[str] = set()
        self.no_adding: set[str] = set()  # read, but no version added (no roles/secretmanager.secretVersionAdder)
        self.unavailable = False
        self.corrupt = False
        self.accessed: list[str] = []
        router = Router()
        router.add("GET", rf"/v1/{SECRET}/versions/([^/:]+):access", self.access)
        router.add("POST", rf"/v1/{SECRET}:addVersion", self.add_version)
        router.add("POST", rf"/v1/{SECRET}/versions/([^/:]+):destroy", self.destroy)
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
        if f"{secret}/versions/{number}" in self.destroyed:
            raise GoogleError("FAILED_PRECONDITION", f"{secret}/versions/{number} is in DESTROYED state.")
        data = versions[number - 1]
        self.accessed.append(f"{secret}/versions/{number}")
        crc = google_crc32c.value(data) ^ (1 if self.corrupt else 0)
        return json_response({"name": f"{secret}/versions/{number}",
                              "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}})

    def add_version(self, request: Request, secret: str) -> Response:
        if secret in self.denied or secret in self.no_adding:
            raise GoogleError("PERMISSION_DENIED", f"Permission 'secretmanager.versions.add' denied for '{secret}'")
        payload = read_json(request).get("payload", {})
        data = base64.b64decode(payload.get("data", ""))
        if "dataCrc32c" in payload and int(payload["dataCrc32c"]) != google_crc32c.value(data):
            raise GoogleError("INVALID_ARGUMENT", "Checksum mismatch.")
        with self.lock:
            name = self.add(secret, data)
        return json_response({"name": name, "state": "ENABLED"})

    def destroy(self, request: Request, secret: str, version: str) -> Response:
        name = f"{secret}/versions/{version}"
        if not version.isdigit() or int(version) > len(self.secrets.get(secret, [])):
            raise GoogleError("NOT_FOUND", f"Secret Version [{name}] not found.")
        self.destroyed.add(name)
        return json_response({"name": name, "state": "DESTROYED"})

    def live_versions(self, secret: str) -> list[str]:
        return [f"{secret}/versions/{n}" for n in range(1, len(self.secrets.get(secret, [])) + 1)
                if f"{secret}/versions/{n}" not in self.destroyed]
