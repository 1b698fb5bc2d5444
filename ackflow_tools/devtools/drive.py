"""The local Drive stand-in as ``ackflow dev --storage drive`` and the tests set it up: a shared
drive, the case folders' parent folder, and the boilerplate template as a Drive folder (the
bundled template's files, plus a Google Docs file to show that copies stay native). Ids are
fixed, so the settings are known before the stand-in starts and a restart finds the same folders."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import requests

SHARED_DRIVE = "local-shared-drive"
SHARED_DRIVE_NAME = "設計事務所"
PARENT_FOLDER = "local-cases-folder"
TEMPLATE_FOLDER = "local-template-folder"
FOLDER = "application/vnd.google-apps.folder"
NATIVE_DOC = ("${case}_打合せメモ", "application/vnd.google-apps.document")


def _id(relative: str) -> str:
    return "local-template-" + hashlib.sha256(relative.encode()).hexdigest()[:16]


def seed(url: str, template_dir: str | Path, *, timeout: float = 10) -> dict[str, str]:
    """Make the shared drive, the parent folder and the template folder (again: nothing changes)."""
    def post(body: dict) -> dict:
        response = requests.post(f"{url}/_emulator/files", json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    requests.put(f"{url}/_emulator/drives/{SHARED_DRIVE}", json={"name": SHARED_DRIVE_NAME},
                 timeout=timeout).raise_for_status()
    post({"id": PARENT_FOLDER, "name": "案件", "mimeType": FOLDER, "parents": [SHARED_DRIVE]})
    post({"id": TEMPLATE_FOLDER, "name": "案件テンプレート", "mimeType": FOLDER, "parents": [SHARED_DRIVE]})
    root = Path(template_dir)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        parent = _id(str(relative.parent)) if relative.parent != Path(".") else TEMPLATE_FOLDER
        body = {"id": _id(str(relative)), "name": path.name, "parents": [parent]}
        if path.is_dir():
            post({**body, "mimeType": FOLDER})
        else:
            from workers.office.template import content_type

            post({**body, "mimeType": content_type(path.name),
                  "content_base64": base64.b64encode(path.read_bytes()).decode()})
    post({"id": _id(NATIVE_DOC[0]), "name": NATIVE_DOC[0], "mimeType": NATIVE_DOC[1],
          "parents": [_id("02_設計") if (root / "02_設計").is_dir() else TEMPLATE_FOLDER]})
    return {"shared_drive": SHARED_DRIVE, "parent": PARENT_FOLDER, "template": TEMPLATE_FOLDER}
