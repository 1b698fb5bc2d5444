"""The local Drive's state: shared drives, folders and files, with their contents.

A generic stand-in for Drive v3 (it knows nothing of cases): every item lives in a shared drive
(a service account has no My Drive storage, so an item with no parent, or one outside a shared
drive, is refused with ``storageQuotaExceeded`` as Google does); a drive may list its members,
and an item of a drive the caller is not a member of is "not found", as Drive answers. Items of a
shared drive are found only by requests that say ``supportsAllDrives=true``. State lives in
memory and, when a folder is given, in ``drive.json`` and ``blobs/`` there.

Ids may be chosen by the caller, as Drive documents (developers.google.com/workspace/drive/api/
guides/create-file, "Generate IDs…"): ``generate_ids`` hands out ids for files or for shortcuts, and
a create or copy that names one makes at most one file with it: a second is 409 ``fileIdInUse``
("A file already exists with the provided ID.", the reason and words Drive gives), here also after
the file is deleted (not documented either way). Drive documents that a Google Workspace type other
than a folder or a ``drive-sdk`` shortcut takes no generated id (a copy of a Google Doc included):
403 ``generatedIdNotSupported`` (the reason reported for a copy of a Slides file, the status and
words reported for a create; neither is documented). An id it did not hand out, or one of the
other type (a file id for a shortcut), is 400 with Drive's reported words "The provided file ID is
not usable." (reason ``fileIdNotUsable``: the stand-in's name, Drive's is not known).
``copyRequiresWriterPermission``, of a file or in a shared drive's ``restrictions`` (which overrides
the files'), keeps readers and commenters from copying and downloading it, as Drive documents: their
``capabilities`` say ``canCopy``/``canDownload`` false, a copy is 403 ``cannotCopyFile`` (the reason
Drive gives a folder's copy) and a download 403 ``cannotDownloadFile``.
``search_lag`` (seconds) keeps items that new out of ``list``, as Drive's search may lag its writes
(seeded items excepted); ``get`` by id never lags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
import threading
from pathlib import Path

from ..web import GoogleError

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
DRIVE_SDK = "application/vnd.google-apps.drive-sdk"
NATIVE = "application/vnd.google-apps."
ROLES = ("reader", "commenter", "writer", "fileOrganizer", "organizer")  # Drive's, least to most
RANK = {role: rank for rank, role in enumerate(ROLES)}
LISTED_MEMBER = "fileOrganizer"  # a member given in a list of emails (a Content manager)
MAX_APP_PROPERTY_BYTES = 124  # key + value, UTF-8, as Drive documents
EDITORS = {"application/vnd.google-apps.document": "document",
           "application/vnd.google-apps.spreadsheet": "spreadsheets",
           "application/vnd.google-apps.presentation": "presentation"}


class DriveError(GoogleError):
    """Drive's error shape: Google's ``{"error": {code, message, status}}`` plus the v3 ``errors``
    list whose ``reason`` clients read (``userRateLimitExceeded``, ``notFound``…)."""

    def __init__(self, status: str, message: str, reason: str, domain: str = "global", location: str = ""):
        super().__init__(status, message)
        self.reason = reason
        self.domain = domain
        self.location = location

    def response(self):
        from ..web import json_response

        error = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location:
            error.update({"locationType": "parameter", "location": self.location})
        body = {"error": {"code": self.code, "message": self.message, "status": self.status, "errors": [error]}}
        return json_response(body, self.code)


def not_found(file_id: str, location: str = "fileId") -> DriveError:
    return DriveError("NOT_FOUND", f"File not found: {file_id}.", "notFound", location=location)


def insufficient(file_id: str) -> DriveError:
    """Drive's refusal of a write the caller's role does not allow (its documented reason and words)."""
    return DriveError("PERMISSION_DENIED", f"The user does not have sufficient permissions for file {file_id}.",
                      "insufficientFilePermissions")


def members_by_role(members) -> dict[str, str] | None:
    """A drive's ``members`` as email → role: None (anyone) stays None, a list of emails makes each
    a ``fileOrganizer``; a mapping is taken as it is (checked by the caller: ``bad_members``)."""
    if members is None:
        return None
    if isinstance(members, list):
        return dict.fromkeys(members, LISTED_MEMBER)
    return dict(members)


def bad_members(members) -> str:
    """What is wrong with ``members`` as a test gives it ("" when it is usable)."""
    if members is None:
        return ""
    if isinstance(members, list):
        return "" if all(isinstance(m, str) for m in members) else "members: every email must be a string"
    if not isinstance(members, dict):
        return "members: a list of emails, a mapping of email to role, or null (anyone)"
    for email, role in members.items():
        if not isinstance(role, str) or role not in RANK:
            return (f"members: the role of {email[:100]} must be one of {', '.join(ROLES)} "
                    f"(got {str(role)[:40]})")
    return ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return "1" + secrets.token_urlsafe(24)[:32]


class DriveService:
    def __init__(self, folder: str | Path | None = None, public_url: str = ""):
        self.folder = Path(folder) if folder else None
        self.public_url = public_url.rstrip("/")
        self.lock = threading.RLock()
        self.drives: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self.blobs: dict[str, bytes] = {}
        self.order = itertools.count()
        self.generated: dict[str, str] = {}  # handed out by generate_ids, not used yet: id → files|shortcuts
        self.spent: set[str] = set()  # chosen ids once used (a deleted file's id stays spent)
        self.search_lag = 0.0
        if self.folder and (self.folder / "drive.json").exists():
            state = json.loads((self.folder / "drive.json").read_text())
            self.drives, self.files = state["drives"], state["files"]
            generated = state.get("generated", {})  # a list before ids had a type
            self.generated = generated if isinstance(generated, dict) else dict.fromkeys(generated, "files")
            self.spent = set(state.get("spent", []))
            self.order = itertools.count(max((f["_order"] for f in self.files.values()), default=0) + 1)
            for file_id in self.files:
                blob = self.folder / "blobs" / file_id
                if blob.exists():
                    self.blobs[file_id] = blob.read_bytes()

    def save(self, changed: str | None = None) -> None:
        if not self.folder:
            return
        (self.folder / "blobs").mkdir(parents=True, exist_ok=True)
        if changed and changed in self.blobs:
            (self.folder / "blobs" / changed).write_bytes(self.blobs[changed])
        temporary = self.folder / "drive.json.partial"
        state = {"drives": self.drives, "files": self.files, "generated": self.generated,
                 "spent": sorted(self.spent)}
        temporary.write_text(json.dumps(state, ensure_ascii=False))
        temporary.replace(self.folder / "drive.json")

    # -- shared drives ---------------------------------------------------------------------------
    def put_drive(self, drive_id: str, name: str, members: list[str] | dict[str, str] | None = None,
                  restrictions: dict | None = None) -> dict:
        """A shared drive (its root folder has the drive's id). ``members``: who may see it, and with
        which role (a list of emails: each a ``fileOrganizer``); None: anyone, as ``organizer`` (the
        stand-in's default). ``restrictions``: Drive's, of which ``copyRequiresWriterPermission``
        is enforced (it overrides the field of that name of every file in the drive)."""
        problem = bad_members(members)
        if problem:
            raise ValueError(problem)
        with self.lock:
            self.drives[drive_id] = {"id": drive_id, "name": name, "members": members_by_role(members),
                                     "restrictions": dict(restrictions or {})}
            self.files.setdefault(drive_id, {"id": drive_id, "name": name, "mimeType": FOLDER, "parents": [],
                                             "driveId": drive_id, "trashed": False, "createdTime": _now(),
                                             "modifiedTime": _now(), "_order": next(self.order)})
            self.save()
            return self.drives[drive_id]

    # -- access ----------------------------------------------------------------------------------
    def role(self, drive_id: str, caller: str | None) -> str | None:
        """``caller``'s role in the shared drive ``drive_id``; None: not a member. The stand-in itself
        (``caller`` None), anyone in a drive open to anyone, and anyone outside a shared drive act
        as ``organizer``."""
        drive = self.drives.get(drive_id or "")
        if drive is None or caller is None:
            return "organizer"
        members = members_by_role(drive["members"])  # a list in state saved before roles
        return "organizer" if members is None else members.get(caller)

    def visible(self, item: dict, caller: str | None, all_drives: bool) -> bool:
        """Whether ``caller`` sees ``item`` (None: the stand-in itself, which sees everything)."""
        drive = self.drives.get(item.get("driveId", ""))
        if drive is None or caller is None:
            return True
        if not all_drives:
            return False
        return self.role(item["driveId"], caller) is not None

    def require(self, item: dict, caller: str | None, needed: str) -> None:
        """Refuse, as Drive does (403 ``insufficientFilePermissions`` naming ``item``), a caller whose
        role in ``item``'s drive is below ``needed``."""
        role = self.role(item.get("driveId", ""), caller)
        if role is None or RANK[role] < RANK[needed]:
            raise insufficient(item["id"])

    def copy_restricted(self, item: dict) -> bool:
        """``copyRequiresWriterPermission`` of the item, or of its shared drive (which overrides the
        item's): readers and commenters may not copy or download it."""
        drive = self.drives.get(item.get("driveId", "")) or {}
        return bool(item.get("copyRequiresWriterPermission")
                    or (drive.get("restrictions") or {}).get("copyRequiresWriterPermission"))

    def capabilities_for(self, item: dict, caller: str | None) -> dict:
        """What ``caller`` may do with ``item``, as Drive's ``capabilities`` says it (the ones the
        stand-in enforces, and reading); none where it is not a member."""
        rank = RANK.get(self.role(item.get("driveId", ""), caller) or "", -1)
        folder = item["mimeType"] == FOLDER
        writer, content_manager = rank >= RANK["writer"], rank >= RANK["fileOrganizer"]
        manager = rank >= RANK["organizer"]
        copies = rank >= 0 and (writer or not self.copy_restricted(item))
        return {"canAddChildren": folder and writer, "canListChildren": folder and rank >= 0,
                "canDownload": copies, "canCopy": copies, "canComment": rank >= RANK["commenter"],
                "canEdit": writer, "canRename": writer, "canModifyContent": writer,
                "canTrash": content_manager, "canTrashChildren": folder and content_manager,
                "canMoveItemWithinDrive": content_manager, "canMoveChildrenWithinDrive": folder and content_manager,
                "canDelete": manager, "canDeleteChildren": folder and manager}

    def get(self, file_id: str, caller: str, all_drives: bool, location: str = "fileId") -> dict:
        item = self.files.get(file_id)
        if item is None or not self.visible(item, caller, all_drives):
            raise not_found(file_id, location)
        return item

    # -- resources -------------------------------------------------------------------------------
    def resource(self, item: dict, caller: str | None = None) -> dict:
        """Every field of a file as Drive shows it (the API layer trims it to ``fields``), with its
        ``capabilities`` for ``caller`` when one is given (an API call; the test hooks give none)."""
        shown = {k: v for k, v in item.items() if not k.startswith("_")}
        if caller is not None:
            shown["capabilities"] = self.capabilities_for(item, caller)
        shown["kind"] = "drive#file"
        file_id = item["id"]
        if item["mimeType"] == FOLDER:
            shown["webViewLink"] = f"{self.public_url}/drive/folders/{file_id}"
        elif item["mimeType"] in EDITORS:
            shown["webViewLink"] = f"{self.public_url}/{EDITORS[item['mimeType']]}/d/{file_id}/edit?usp=drivesdk"
        else:
            shown["webViewLink"] = f"{self.public_url}/file/d/{file_id}/view?usp=drivesdk"
        if not item["mimeType"].startswith(NATIVE):
            data = self.blobs.get(file_id, b"")
            shown["size"] = str(len(data))
            shown["md5Checksum"] = hashlib.md5(data).hexdigest()
        if "_size" in item:  # a size declared when seeded (a 2 GB file without 2 GB of memory)
            shown["size"] = str(item["_size"])
        shown["trashed"] = self.trashed(item)
        return shown

    def trashed(self, item: dict) -> bool:
        """Trashed itself or inside a trashed folder (Drive trashes a folder's contents with it)."""
        seen = set()
        while item is not None and item["id"] not in seen:
            if item.get("trashed"):
                return True
            seen.add(item["id"])
            parents = item.get("parents") or []
            item = self.files.get(parents[0]) if parents else None
        return False

    @staticmethod
    def check_properties(properties: dict) -> None:
        for key, value in properties.items():
            if value is not None and len(key.encode()) + len(str(value).encode()) > MAX_APP_PROPERTY_BYTES:
                raise DriveError("INVALID_ARGUMENT", f"The property {key} exceeds the maximum size of "
                                 f"{MAX_APP_PROPERTY_BYTES} bytes (key and value).", "invalidProperty")

    def _parent(self, metadata: dict, caller: str, all_drives: bool) -> dict:
        parents = metadata.get("parents") or []
        if len(parents) > 1:
            raise DriveError("PERMISSION_DENIED", "A shared drive item must have exactly one parent.",
                             "teamDrivesParentLimit")
        if not parents:
            raise DriveError("PERMISSION_DENIED", "Service Accounts do not have storage quota. Leverage shared "
                             "drives, or use OAuth delegation instead.", "storageQuotaExceeded", "usageLimits")
        parent = self.get(parents[0], caller, all_drives, "parents")
        if parent["mimeType"] != FOLDER:
            raise DriveError("INVALID_ARGUMENT", "The specified parent is not a folder.", "invalidParent")
        if parent.get("driveId") not in self.drives:
            raise DriveError("PERMISSION_DENIED", "Service Accounts do not have storage quota. Leverage shared "
                             "drives, or use OAuth delegation instead.", "storageQuotaExceeded", "usageLimits")
        self.require(parent, caller, "writer")  # adding to a folder: a Contributor or more of its drive
        return parent

    def check_place(self, metadata: dict, caller: str, all_drives: bool) -> None:
        """Refuse, before any bytes come, an upload session for a place the caller may not write to."""
        with self.lock:
            self._parent(metadata, caller, all_drives)

    def generate_ids(self, count: int, kind: str = "files") -> list[str]:
        """``count`` ids a create or copy may name; ``kind``: ``files`` or ``shortcuts``."""
        with self.lock:
            ids = [new_id() for _ in range(count)]
            self.generated.update(dict.fromkeys(ids, kind))
            self.save()
            return ids

    def _chosen(self, file_id: str, mime: str) -> None:
        """Check an id the caller chose (``id`` in the body), as Drive does."""
        if file_id in self.spent or file_id in self.files:
            raise DriveError("ALREADY_EXISTS", "A file already exists with the provided ID.", "fileIdInUse")
        kind = self.generated.get(file_id)
        if kind != ("shortcuts" if mime == SHORTCUT else "files"):
            raise DriveError("INVALID_ARGUMENT", "The provided file ID is not usable.", "fileIdNotUsable",
                             location="file.id")
        if mime.startswith(NATIVE) and mime not in (FOLDER, DRIVE_SDK, SHORTCUT):
            raise DriveError("PERMISSION_DENIED", "Generated IDs are not supported for Docs Editors formats.",
                             "generatedIdNotSupported", location="file.id")

    def create(self, metadata: dict, data: bytes | None, media_type: str, caller: str, all_drives: bool,
               file_id: str | None = None) -> dict:
        with self.lock:
            chosen = "id" in metadata and file_id is None
            if chosen:
                file_id = str(metadata["id"])
                self._chosen(file_id, metadata.get("mimeType") or media_type or "")
            parent = self._parent(metadata, caller, all_drives)
            properties = dict(metadata.get("appProperties") or {})
            self.check_properties(properties)
            mime = metadata.get("mimeType") or media_type or ("application/octet-stream" if data is not None else "")
            if not mime:
                mime = "application/octet-stream"
            if data is not None and mime.startswith(NATIVE):
                raise DriveError("INVALID_ARGUMENT", "The stand-in does not convert uploads to Google formats.",
                                 "badContent")
            now = _now()
            item = {"id": file_id or new_id(), "name": metadata.get("name") or "Untitled", "mimeType": mime,
                    "parents": [parent["id"]], "driveId": parent["driveId"], "trashed": False,
                    "appProperties": properties, "createdTime": now, "modifiedTime": now,
                    "_order": next(self.order)}
            if caller is None:
                item["_seeded"] = True  # the stand-in's own (a test's given state): never held back by search lag
            for key in ("description", "properties", "shortcutDetails", "copyRequiresWriterPermission"):
                if key in metadata:
                    item[key] = metadata[key]
            if "_size" in metadata:  # only from copy() of a seeded file with a declared size
                item["_size"] = int(metadata["_size"])
            if item["id"] in self.files:
                raise DriveError("ALREADY_EXISTS", "A file already exists with the provided ID.", "fileIdInUse")
            self.files[item["id"]] = item
            if chosen:
                self.generated.pop(item["id"], None)
                self.spent.add(item["id"])
            if data is not None:
                self.blobs[item["id"]] = data
            self.save(item["id"])
            return item

    def copy(self, file_id: str, metadata: dict, caller: str, all_drives: bool) -> dict:
        with self.lock:
            source = self.get(file_id, caller, all_drives)
            if source["mimeType"] == FOLDER or not self.capabilities_for(source, caller)["canCopy"]:
                raise DriveError("PERMISSION_DENIED", "This file cannot be copied by the user.", "cannotCopyFile")
            properties = {**source.get("appProperties", {}), **(metadata.get("appProperties") or {})}
            merged = {"name": source["name"], "mimeType": source["mimeType"],
                      "parents": metadata.get("parents") or source["parents"],
                      "appProperties": {k: v for k, v in properties.items() if v is not None},  # null clears
                      **{k: v for k, v in metadata.items() if k not in ("parents", "appProperties")}}
            if "shortcutDetails" in source:
                merged["shortcutDetails"] = source["shortcutDetails"]
            if "_size" in source:
                merged["_size"] = source["_size"]
            data = self.blobs.get(file_id) if not source["mimeType"].startswith(NATIVE) else None
            return self.create(merged, data, source["mimeType"], caller, all_drives)

    def update(self, file_id: str, metadata: dict, caller: str, all_drives: bool, add_parents: str = "",
               remove_parents: str = "") -> dict:
        with self.lock:  # everything is checked before anything changes: a refused update changes nothing
            item = self.get(file_id, caller, all_drives)
            # trashing and moving take a Content manager, any other change a Contributor (a restore too)
            moving = bool(add_parents or remove_parents) or metadata.get("trashed") is True
            self.require(item, caller, "fileOrganizer" if moving else "writer")
            changes = {key: metadata[key] for key in ("name", "trashed", "description", "copyRequiresWriterPermission")
                       if key in metadata}
            if metadata.get("appProperties") is not None:
                merged = {**item.get("appProperties", {}), **metadata["appProperties"]}
                self.check_properties(merged)
                changes["appProperties"] = {k: v for k, v in merged.items() if v is not None}
            if add_parents or remove_parents:
                if set(add_parents.split(",")) & set(item["parents"]):
                    raise DriveError("INVALID_ARGUMENT", "The file already has this parent.", "badRequest",
                                     location="addParents")  # Drive: "a duplicate parent", a 400 badRequest
                parents = [p for p in item["parents"] if p not in remove_parents.split(",")]
                parents += [p for p in add_parents.split(",") if p]
                destination = self._parent({"parents": parents}, caller, all_drives)
                changes["parents"] = parents
                if destination["driveId"] != item.get("driveId"):  # into another shared drive, with its contents
                    for moved in self._within(file_id):
                        self.files[moved]["driveId"] = destination["driveId"]
            item.update(changes)
            item["modifiedTime"] = _now()
            self.save()
            return item

    def _within(self, file_id: str) -> set[str]:
        """The item and everything under it."""
        found = {file_id}
        while True:
            more = {i for i, f in self.files.items() if set(f.get("parents", [])) & found} - found
            if not more:
                return found
            found |= more

    def delete(self, file_id: str, caller: str, all_drives: bool) -> None:
        with self.lock:
            item = self.get(file_id, caller, all_drives)
            self.require(item, caller, "organizer")  # deleting for good in a shared drive: a Manager
            for gone in self._within(file_id):
                self.files.pop(gone, None)
                self.blobs.pop(gone, None)
                if self.folder:
                    (self.folder / "blobs" / gone).unlink(missing_ok=True)
            self.save()

    def list(self, predicate, caller: str, all_drives: bool, drive_id: str = "") -> list[dict]:
        with self.lock:
            lag = self.search_lag and (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.search_lag)).isoformat(
                timespec="milliseconds").replace("+00:00", "Z")
            found = [f for f in self.files.values()
                     if f["id"] not in self.drives and self.visible(f, caller, all_drives)
                     and not (lag and not f.get("_seeded") and f["createdTime"] > lag)
                     and (not drive_id or f.get("driveId") == drive_id)
                     and predicate({**f, "trashed": self.trashed(f)})]
            return sorted(found, key=lambda f: f["_order"])

    def content(self, file_id: str, caller: str, all_drives: bool) -> tuple[dict, bytes]:
        item = self.get(file_id, caller, all_drives)
        if not self.capabilities_for(item, caller)["canDownload"]:
            raise DriveError("PERMISSION_DENIED", "The user does not have permission to download this file.",
                             "cannotDownloadFile")
        if item["mimeType"].startswith(NATIVE):
            raise DriveError("PERMISSION_DENIED", "Only files with binary content can be downloaded. Use Export "
                             "with Docs Editors files.", "fileNotDownloadable", location="alt")
        return item, self.blobs.get(file_id, b"")
