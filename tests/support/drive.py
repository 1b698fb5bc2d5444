"""The local Drive stand-in for tests: in this process, seeded as ``ackflow dev`` seeds it, with a
service-account key file whose token endpoint is the stand-in (so the official client signs in)."""

from __future__ import annotations

from pathlib import Path

import requests

from ackflow_tools.devtools import drive as seeding
from ackflow_tools.devtools.stack import WORKER_ACCOUNT, write_service_account
from ackflow_tools.emulators.drive import DriveService, build_app
from ackflow_tools.emulators.web import ServerThread
from workers.office.drive import DriveStorage
from workers.office.settings import DEFAULT_TEMPLATE

FOLDER = "application/vnd.google-apps.folder"


class LocalDrive:
    def __init__(self, workdir: Path):
        self.service = DriveService(None)
        self.server = ServerThread(build_app(self.service)).start()
        self.url = self.server.url
        self.service.public_url = self.url
        seeding.seed(self.url, DEFAULT_TEMPLATE)
        self.key_file = write_service_account(workdir / "drive-key.json", f"{self.url}/token")
        self.member = WORKER_ACCOUNT

    def storage(self, parent: str = seeding.PARENT_FOLDER, **kwargs) -> DriveStorage:
        kwargs.setdefault("backoff", 0.01)
        return DriveStorage(parent, endpoint=self.url, credentials_file=str(self.key_file), **kwargs)

    def seed(self, **body) -> dict:
        response = requests.post(f"{self.url}/_emulator/files", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def shared_drive(self, drive_id: str, name: str, members: list[str] | dict[str, str] | None = None) -> None:
        """Make or change a shared drive; ``members``: emails (Content managers), {email: Drive role},
        or None (anyone)."""
        requests.put(f"{self.url}/_emulator/drives/{drive_id}", json={"name": name, "members": members},
                     timeout=5).raise_for_status()

    def faults(self, *faults: dict) -> None:
        requests.post(f"{self.url}/_emulator/faults", json={"faults": list(faults)}, timeout=5).raise_for_status()

    def search_lag(self, seconds: float) -> None:
        """Leave items made in the last ``seconds`` out of ``files.list`` (0: off)."""
        requests.put(f"{self.url}/_emulator/search_lag", json={"seconds": seconds}, timeout=5).raise_for_status()

    def files(self) -> list[dict]:
        return all_files(self.url)

    def stop(self) -> None:
        self.server.stop()


def all_files(url: str) -> list[dict]:
    """Everything the stand-in holds (trashed items too), as Drive resources."""
    return requests.get(f"{url}/_emulator/files", timeout=5).json()["files"]


def tree(url: str, folder_id: str) -> dict[str, list[dict]]:
    """Path → the items at that path under ``folder_id`` (a list: Drive allows two of one name)."""
    files = [f for f in all_files(url) if not f["trashed"]]
    children: dict[str, list[dict]] = {}
    for item in files:
        for parent in item.get("parents", []):
            children.setdefault(parent, []).append(item)
    found: dict[str, list[dict]] = {}
    pending = [("", folder_id)]
    while pending:
        base, current = pending.pop()
        for item in children.get(current, []):
            path = f"{base}/{item['name']}" if base else item["name"]
            found.setdefault(path, []).append(item)
            if item["mimeType"] == FOLDER:
                pending.append((path, item["id"]))
    return found
