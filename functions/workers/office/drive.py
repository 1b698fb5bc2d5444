"""Case folders in a Google Drive shared drive (Drive API v3 through google-api-python-client).

Drive has no paths and lets one folder hold two files of the same name, so "find before create"
goes by a key, not a name: every folder and file Ackflow makes carries ``appProperties``
(``ackflowKey``: a hash of the parent folder's id and the case-relative path; ``ackflowCase``: the
case number) and is looked up with a ``q`` on the key. It is also marked with what made it
(``storage.marked``): ``ackflowStep``, the step, and on an issued estimate or invoice
``ackflowDocument``, its id (``quotation:2026-001-v1``); these are for people and audits, never
searched. A retried step finds what an earlier attempt
made (even renamed or moved within the shared drive) and never makes a second copy or overwrites
one; a file a person put at the same name is left alone too. Writes are never retried blindly
(a create whose answer was lost may have happened): every retry looks for what it made first.

Drive's search can lag its writes, so a key search alone may miss what an attempt made a moment
ago. With the job store (``docs``), each key gets a Drive id reserved before its item is made
(``drive_ids.py``, ids from ``files.generateIds``); the item is created with that id, so a second
create answers 409 instead of making a copy, and "was it made?" is a ``files.get`` by id, which is
strongly consistent. Drive takes no pre-generated id for a Google Workspace file other than a folder
or a ``drive-sdk`` shortcut (a copy of a Google Doc, Sheet…, or an upload converted to one, as
Google documents): such an item is made in a holding folder of its own, made with a reserved id
under the case folders' parent, then claimed for its key in the store (the first claim wins) and
only then moved into place and given its key. A holding folder whose answer was lost is trashed
with whatever was made in it, so no search is needed to know what an attempt made. Without a
store every item goes by the key search alone.

Every call says ``supportsAllDrives=true``; rate limits (403 ``userRateLimitExceeded`` /
``rateLimitExceeded``, 429) and 5xx are retried with backoff, then left to the queue's retry;
a parent folder the service account cannot see, or may not write to (``check``: its role there
is less than Content manager), is a permanent failure that says what to fix, as is a full shared
drive (the organization's storage, or as many items as Drive allows).
What fails is said to the person who asked, in their language: actions and reasons are marked for
the catalog (``L_``/``N_`` with their values); the vendor's own words stay as a value.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import L_, N_, Msg

from .drive_ids import DriveIds
from .names import safe_content_type, safe_relative_path, unprintable
from .template import TemplateEntry

SCOPES = ["https://www.googleapis.com/auth/drive"]
FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
NATIVE = "application/vnd.google-apps."
DRIVE_SDK = "application/vnd.google-apps.drive-sdk"
HOLD = "ackflowHold"  # appProperties of a holding folder and of what is made in it: the key it is for
HOLD_NAME = ".ackflow-copying-"
FIELDS = "id,name,mimeType,webViewLink,createdTime,size,parents,trashed,driveId"
MULTIPART_LIMIT = 5 * 1024 * 1024  # Drive's limit for one-request uploads; larger ones are resumable


def media_type(content_type: str) -> str:
    """The type the upload's media part is sent as. The client builds a multipart upload with the
    standard library's MIME generator, which reads a ``message/*`` or ``multipart/*`` part as a mail
    to serialize and fails on its 8-bit bytes (a saved .eml, a forwarded mail): those go as
    octet-stream, and the file keeps its type from the metadata's ``mimeType``, which Drive takes
    before the media's."""
    return "application/octet-stream" if content_type.startswith(("message/", "multipart/")) else content_type
TEMPLATE_TEXT_LIMIT = 5 * 1024 * 1024
TEMPLATE_MAX_ITEMS = 500
RATE_LIMITS = {"userRateLimitExceeded", "rateLimitExceeded"}
# a shared drive, or a folder in it, as full of items (or as deep) as Drive allows: its documented 403s
ITEM_LIMITS = {"teamDriveFileLimitExceeded", "numChildrenInNonRootLimitExceeded", "teamDriveHierarchyTooDeep"}
NEEDED = ("canAddChildren", "canMoveChildrenWithinDrive", "canTrashChildren")  # of the parent folder: a Content manager
RENEWALS = 3  # new ids tried for one key when its id is spent on a trashed or deleted item
CASE = re.compile(r"^(\d{4}-\d{3,})_")


def _quote(text: str) -> str:
    """A string literal of Drive's query language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def path_name(drive_name: str) -> str:
    """A Drive name as one path component, NFC as every path is: Drive allows "/" and control
    characters in names, a path does not (they become "／" and "\ufffd")."""
    name = "".join("\ufffd" if unprintable(ch) else ch for ch in unicodedata.normalize("NFC", drive_name))
    name = name.replace("/", "／").replace("\\", "＼")
    return name if name not in ("", ".", "..") else "_"


def takes_chosen_id(mime_type: str) -> bool:
    """Whether Drive makes a file of this type with an id from ``files.generateIds``: not for Google
    Workspace types other than folders and third-party shortcuts (``drive-sdk``), as documented in
    developers.google.com/workspace/drive/api/guides/create-file ("Generate IDs…")."""
    return not mime_type.startswith(NATIVE) or mime_type in (FOLDER, DRIVE_SDK)


MARKS = {"step": "ackflowStep", "document": "ackflowDocument"}  # storage.marked → appProperties
PROPERTY_BYTES = 124  # Drive's most for one appProperty, its key and value together (UTF-8)


def _marks() -> dict[str, str]:
    """The marks in force (``storage.marked``) as appProperties, each cut to what Drive takes."""
    from .storage import current_marks

    properties = {}
    for name, value in current_marks().items():
        if name in MARKS:
            room = PROPERTY_BYTES - len(MARKS[name])
            properties[MARKS[name]] = value.encode()[:room].decode(errors="ignore")
    return properties


def _reason(exc) -> str:
    try:
        error = json.loads(exc.content.decode())["error"]
        return (error.get("errors") or [{}])[0].get("reason", "") or error.get("status", "")
    except (ValueError, KeyError, AttributeError, TypeError):
        return ""


class DriveStorage:
    """The CaseStorage port on Drive: case folders under ``parent_id`` (a folder in a shared drive)."""

    def __init__(self, parent_id: str, *, endpoint: str = "", credentials_file: str = "", retries: int = 5,
                 backoff: float = 0.5, timeout: float = 60.0, credentials=None, docs=None):
        self.parent_id = parent_id
        self.endpoint = endpoint.rstrip("/")
        self.credentials_file = credentials_file
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._credentials = credentials
        self._drive_id = ""
        self._lock = threading.Lock()
        self._local = threading.local()  # httplib2 is not thread-safe: one client per thread
        self._ids = DriveIds(docs, self._generate) if docs is not None else None  # None: key search only

    # -- connection ------------------------------------------------------------------------------
    def _creds(self):
        with self._lock:
            if self._credentials is None:
                from google.auth.exceptions import DefaultCredentialsError

                try:
                    if self.credentials_file:
                        from google.oauth2.service_account import Credentials

                        self._credentials = Credentials.from_service_account_file(self.credentials_file,
                                                                                  scopes=SCOPES)
                    else:
                        import google.auth

                        self._credentials, _ = google.auth.default(scopes=SCOPES)
                except (DefaultCredentialsError, ValueError, OSError) as exc:
                    raise PermanentError(N_("no usable Google credentials for Drive ({problem}); check "
                                            "ACKFLOW_OFFICE_DRIVE_CREDENTIALS_FILE or the worker's service account"),
                                         problem=str(exc)) from exc
            return self._credentials

    def _files(self):
        service = getattr(self._local, "service", None)
        if service is None:
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            credentials = self._creds()
            options = None
            if self.endpoint:  # a stand-in: every https:// call goes there, in the key file's universe
                http = _Redirected(self.endpoint, timeout=self.timeout, proxy_info=None)
                options = {"universe_domain": getattr(credentials, "universe_domain", "googleapis.com")}
            else:
                http = httplib2.Http(timeout=self.timeout)
            http.redirect_codes = set(http.redirect_codes) - {308}  # resumable uploads' "incomplete", as build_http
            authorized = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
            service = build("drive", "v3", http=authorized, static_discovery=True, cache_discovery=False,
                            client_options=options)
            self._local.service = service
        return service.files()

    @property
    def member(self) -> str | Msg:
        """Who to add to the shared drive: the worker's service account (its email when known)."""
        email = getattr(self._credentials, "service_account_email", "") or ""
        return email if "@" in email else L_("the worker's service account")

    # -- calls -----------------------------------------------------------------------------------
    def _call(self, action: Msg, request: Callable, *, retry_check: Callable | None = None,
              quiet: tuple[int, ...] = (), retries: int | None = None, template: str = ""):
        """Run ``request()`` (a googleapiclient request maker), retrying rate limits, 5xx and broken
        connections with backoff; errors become the step errors they are, but an HTTP status in
        ``quiet`` answers None. For a write, ``retry_check`` looks for what an answered-too-late
        attempt may have made before trying again. ``action`` is what was being done, said later in
        the person's language (``L_``). ``retries``: other than the adapter's (0: a write that must not
        be sent twice). ``template``: the case template folder's id when reading it (a refusal names
        it and its setting, not the case folders' parent)."""
        from google.auth import exceptions as auth_exceptions
        from googleapiclient.errors import HttpError

        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return request().execute(num_retries=0)
            except HttpError as exc:
                status, reason = exc.resp.status, _reason(exc)
                if status in quiet:
                    return None
                retryable = status >= 500 or status == 429 or (status == 403 and reason in RATE_LIMITS)
                if not retryable:
                    raise self._refusal(action, status, reason, exc, template) from exc
                problem: Exception = exc
            except auth_exceptions.RefreshError as exc:
                if not getattr(exc, "retryable", False):
                    raise PermanentError(N_("Drive: could not {action}: Google refused the worker's credentials "
                                            "({problem})"), action=action, problem=str(exc)) from exc
                problem = exc
            except (OSError, auth_exceptions.TransportError) as exc:  # sockets, timeouts, httplib2
                problem = exc
            except Exception as exc:
                import httplib2

                if not isinstance(exc, httplib2.HttpLib2Error):
                    raise
                problem = exc
            if attempt == retries:  # the vendor's words (a URL, a repr) are for the log, through ``from``
                if isinstance(problem, HttpError):
                    raise TransientError(N_("Drive: could not {action}: Google Drive answered HTTP {status} "
                                            "({reason})"), action=action,
                                         status=problem.resp.status, reason=_reason(problem) or "-") from problem
                raise TransientError(N_("Drive: could not {action}: Google Drive could not be reached "
                                        "({problem})"), action=action, problem=type(problem).__name__) from problem
            time.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random() / 2))
            if retry_check is not None:
                found = retry_check()
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    def _refusal(self, action: Msg, status: int, reason: str, exc, template: str = "") -> Exception:
        folder = self.parent_id
        if status == 404 and template:
            return PermanentError(N_("Drive: could not {action}: not found, or {member} cannot see it. Add {member} "
                                     "to the shared drive that holds the case template folder {folder} "
                                     "(ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) as a member (Viewer is enough there), "
                                     "or check that folder id"), action=action, member=self.member, folder=template)
        if status == 404:
            return PermanentError(N_("Drive: could not {action}: not found, or {member} cannot see it. Add {member} "
                                     "to the shared drive as a member (Content manager) and check the case folders' "
                                     "parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER)"),
                                  action=action, member=self.member, folder=folder)
        if status == 403 and reason == "storageQuotaExceeded" and self._drive_id:
            # the parent is in a shared drive (``_parent`` checked it): the organization's storage is full
            return PermanentError(N_("Drive: could not {action}: the Google storage of the organization that owns "
                                     "the shared drive is full. Free space in Google Drive, or add storage to the "
                                     "Google Workspace account"), action=action)
        if status == 403 and reason in ITEM_LIMITS:
            return PermanentError(N_("Drive: could not {action}: the shared drive, or a folder in it, holds as many "
                                     "items as Google Drive allows ({reason}). Move finished case folders to another "
                                     "shared drive, or set a parent folder in another one "
                                     "(ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER)"), action=action, reason=reason)
        if status == 403 and reason == "storageQuotaExceeded":
            return PermanentError(N_("Drive: could not {action}: a service account can store files only in a shared "
                                     "drive; put the case folders' parent folder {folder} "
                                     "(ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER) in a shared drive"),
                                  action=action, folder=folder)
        if status in (401, 403):
            return PermanentError(N_("Drive: could not {action}: {member} may not ({reason}). Make it a Content "
                                     "manager of the shared drive"),
                                  action=action, member=self.member, reason=reason or status)
        return PermanentError(N_("Drive: could not {action}: HTTP {status} {reason}: {problem}"),
                              action=action, status=status, reason=reason,
                              problem=str(getattr(exc, "reason", "") or ""))  # Drive's words, not the URL

    # -- keys ------------------------------------------------------------------------------------
    def key(self, path: str) -> str:
        return hashlib.sha256(f"{self.parent_id}\n{path}".encode()).hexdigest()

    def _keys(self, path: str) -> dict:
        """The appProperties an item is found by: its key, and its case."""
        properties = {"ackflowKey": self.key(path)}
        case = CASE.match(path)
        if case:
            properties["ackflowCase"] = case.group(1)
        return properties

    def _properties(self, path: str, folder: bool = False) -> dict:
        """Every appProperty of an item made at ``path``: its keys, and the marks of what is making it
        (``storage.marked``): the step (``ackflowStep``) and, for a file, the issued document it is
        (``ackflowDocument``; a folder made on the way to it is not that document)."""
        marks = _marks()
        if folder:
            marks.pop(MARKS["document"], None)
        return {**self._keys(path), **marks}

    def _list(self, action: Msg, q: str, fields: str = FIELDS, *, drive_id: str = "", template: str = "") -> list[dict]:
        """Every item ``q`` finds in the case folders' shared drive (or the shared drive ``drive_id``)."""
        found, token = [], None
        drive_id = drive_id or self._drive()
        while True:
            page = self._call(action, lambda t=token: self._files().list(
                q=q, corpora="drive", driveId=drive_id, includeItemsFromAllDrives=True, supportsAllDrives=True,
                fields=f"nextPageToken,files({fields})", pageSize=1000, pageToken=t), template=template)
            found += page.get("files", [])
            token = page.get("nextPageToken")
            if not token:
                return found

    def _generate(self, count: int) -> list[str]:
        return self._call(L_("reserve Drive ids"), lambda: self._files().generateIds(
            count=count, space="drive", type="files"))["ids"]

    def _live(self, file_id: str, path: str) -> dict | None:
        """The item with this id unless it is gone or in the trash (``files.get``: no search lag)."""
        item = self._call(L_("look for {path}", path=path), lambda: self._files().get(
            fileId=file_id, fields=FIELDS, supportsAllDrives=True), quiet=(404,))
        return item if item is not None and not item.get("trashed") else None

    def _by_key(self, path: str) -> dict | None:
        """What Ackflow made at ``path``: by the id in the store, else by a key search."""
        if self._ids is not None:
            item = self._stored(path)
            if item is not None:
                return item
        found = self._list(L_("look for {path}", path=path),
                           f"appProperties has {{ key='ackflowKey' and value={_quote(self.key(path))} }} "
                           "and trashed = false")
        return min(found, key=lambda f: (f.get("createdTime", ""), f["id"])) if found else None

    def _stored(self, path: str) -> dict | None:
        """The live item the store names for ``path``; one an attempt claimed but did not get to move
        out of its holding folder is moved into place first."""
        entry = self._ids.entry(self.key(path))
        item = self._live(entry["id"], path) if entry is not None else None
        if item is not None and "hold" in entry:
            item = self._settle(path, entry, item)
        return item

    def _by_name(self, parent: dict, name: str, folder: bool = False) -> dict | None:
        """The item in the folder ``parent`` whose Drive name is ``name`` as a path name
        (``path_name``); with ``folder``, the folder of that name (Drive lets a Google Doc, which has
        no extension, share a folder's name). Drive compares names as they are written, and a Mac
        (Drive for desktop) writes them decomposed (NFD) where paths are NFC: both spellings are
        searched for. Searched in the shared drive the folder is in: a case folder a person moved
        to another one (as the card for a full drive advises) holds its files there."""
        parent_id = parent["id"]
        query = f"{_quote(parent_id)} in parents and trashed = false"
        if folder:
            query += f" and mimeType = {_quote(FOLDER)}"
        if not {"／", "＼", "\ufffd"} & set(name) and name != "_":  # the Drive name is the path name
            spellings = dict.fromkeys((name, unicodedata.normalize("NFD", name)))
            query += " and (" + " or ".join(f"name = {_quote(s)}" for s in spellings) + ")"
        found = self._list(L_("look in the folder {folder}", folder=parent_id), query,
                           drive_id=parent.get("driveId", ""))
        return next((f for f in found if path_name(f["name"]) == name), None)

    def _parent(self) -> dict:
        """The configured parent folder, checked: visible, a folder, in a shared drive, not trashed
        (with the worker's ``capabilities`` there, which ``check`` reads)."""
        item = self._call(L_("open the case folders' parent folder"), lambda: self._files().get(
            fileId=self.parent_id, fields=f"{FIELDS},capabilities({','.join(NEEDED)})", supportsAllDrives=True))
        folder = self.parent_id
        if item["mimeType"] != FOLDER:
            raise PermanentError(N_("The case folders' parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER) "
                                    "is not a folder"), folder=folder)
        if item.get("trashed"):
            raise PermanentError(N_("The case folders' parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER) "
                                    "is in the trash; restore it in Drive, or set another folder"), folder=folder)
        if not item.get("driveId"):
            raise PermanentError(N_("The case folders' parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER) "
                                    "is not in a shared drive; a service account can store files only in a shared "
                                    "drive"), folder=folder)
        self._drive_id = item["driveId"]
        return item

    def check(self) -> None:
        """Read-only, before a case number is taken: the case folders' parent folder is there, a
        folder, in a shared drive, not in the trash, and the worker can see it (a member) and is a
        Content manager there: Drive's ``capabilities`` of the folder for the worker say whether it
        may add to it (a Viewer or Commenter may not) and move and trash in it (a Contributor may
        not; copying a Google Docs file of the template does both). A capability Drive leaves out
        is not held against it."""
        capabilities = self._parent().get("capabilities") or {}
        folder = self.parent_id
        if capabilities.get("canAddChildren") is False:
            raise PermanentError(N_("Drive: {member} may only view the shared drive that holds the case folders' "
                                    "parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER), so it cannot make "
                                    "case folders there: it is a Viewer or Commenter. In the shared drive's Manage "
                                    "members, give {member} the Content manager role"),
                                 member=self.member, folder=folder)
        if False in (capabilities.get("canMoveChildrenWithinDrive"), capabilities.get("canTrashChildren")):
            raise PermanentError(N_("Drive: {member} may add files to the shared drive that holds the case folders' "
                                    "parent folder {folder} (ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER) but not move them or "
                                    "put them in the trash, as Ackflow does when it copies Google Docs files: it is "
                                    "a Contributor. In the shared drive's Manage members, give {member} the Content "
                                    "manager role"),
                                 member=self.member, folder=folder)

    def _drive(self) -> str:
        if not self._drive_id:
            self._parent()
        return self._drive_id

    def _find(self, path: str) -> dict | None:
        """The item at ``path``: by its key (what Ackflow made), else by names (what a person made)
        from the nearest folder Ackflow made on the way, which its key finds wherever it is now (a
        case folder moved to another shared drive), else from the case folders' parent."""
        path = safe_relative_path(path)
        found = self._by_key(path)
        if found is not None:
            return found
        parts = path.split("/")
        start, item = 0, {"id": self.parent_id}
        for depth in range(len(parts) - 1, 0, -1):
            folder = self._by_key("/".join(parts[:depth]))
            if folder is not None:
                start, item = depth, folder
                break
        for depth in range(start + 1, len(parts) + 1):
            item = self._by_name(item, parts[depth - 1], folder=depth < len(parts))
            if item is None:
                return None
        return item

    # -- the port --------------------------------------------------------------------------------
    def ensure_folder(self, path: str) -> dict:
        """The folder at ``path``, made (with its parents) if missing; returns its resource."""
        path = safe_relative_path(path)
        found = self._by_key(path)
        if found is not None:
            return found
        parent_path, _, name = path.rpartition("/")
        parent = self.ensure_folder(parent_path) if parent_path else self._parent()
        existing = self._by_name(parent, name, folder=True)
        if existing is not None:
            return existing
        body = {"name": name, "mimeType": FOLDER, "parents": [parent["id"]],
                "appProperties": self._properties(path, folder=True)}
        return self._make(L_("make the folder {path}", path=path), path, body, lambda b: self._files().create(
            body=b, fields=FIELDS, supportsAllDrives=True))

    def _make(self, action: Msg, path: str, body: dict, request: Callable[[dict], object],
              reserved: bool = True) -> dict:
        """Send ``request(body)``, a create or a copy, once in effect: with the id reserved for
        ``path`` when there is a store (a 409 then means an earlier attempt made it), or through a
        holding folder for an item Drive takes no chosen id for (``reserved=False``); without a
        store, checked by a key search after a lost answer."""
        key = self.key(path)
        if self._ids is None:
            return self._call(action, lambda: request(body), retry_check=lambda: self._by_key(path))
        if not reserved:
            return self._make_held(action, path, body, request)
        file_id = self._ids.reserve(key, path)
        for _ in range(RENEWALS):
            made = self._call(action, lambda i=file_id: request({**body, "id": i}),
                              retry_check=lambda i=file_id: self._live(i, path), quiet=(409,))
            if made is None:  # the id is taken: by an earlier attempt, or by an item since trashed or deleted
                made = self._live(file_id, path)
            if made is not None:
                return made
            file_id = self._ids.renew(key, path, file_id)
        raise TransientError(N_("Drive: could not {action}: its reserved ids keep being taken"), action=action)

    # -- items Drive takes no chosen id for ------------------------------------------------------
    def _make_held(self, action: Msg, path: str, body: dict, request: Callable[[dict], object]) -> dict:
        """Make the item in a new holding folder (one with a reserved id, so making it twice is
        harmless), claim the key for it, then move it into place. A request whose answer is lost is
        not sent again into the same folder: that folder is trashed with whatever the request made,
        and the next try uses a new one. Two attempts at once each make one; the first claim wins and
        the other's is trashed with its folder. What was made is never looked for by a search."""
        key = self.key(path)
        entry = self._ids.entry(key)
        spent = None
        if entry is not None:
            item = self._stored(path)
            if item is not None:
                return item  # another attempt made it since this one looked
            spent = entry["id"]  # trashed or deleted since: may be replaced
        # made with its keys cleared (a copy keeps the source's appProperties) and the hold's instead;
        # the marks of what made it are its own from the start, whoever later moves it into place
        keys = self._keys(path)
        held_properties = {**body["appProperties"], **{name: None for name in keys}, HOLD: key}
        problem: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random() / 2))
            hold = self._hold(action, key, path)
            try:
                made = self._call(action, lambda h=hold: request(
                    {**body, "parents": [h], "appProperties": held_properties}), retries=0)
            except TransientError as exc:  # it may have been made: it goes with its holding folder
                self._discard(action, key, hold)
                problem = exc
                continue
            except Exception:
                self._discard(action, key, hold)
                raise
            winner = self._ids.claim(key, path, made["id"], hold, body["parents"][0], spent)
            if winner != made["id"]:
                self._discard(action, key, hold)  # another attempt's claim came first
            item = self._stored(path)
            if item is not None:
                return item
            spent = winner  # the winner is gone already (removed by a person): try again
        if isinstance(problem, TransientError):
            raise problem
        raise TransientError(N_("Drive: could not {action}: {path} was removed while it was being made"),
                             action=action, path=path)

    def _hold(self, action: Msg, key: str, path: str) -> str:
        """A new holding folder for ``key`` under the case folders' parent: its id is listed in the
        store before it is made, and made with that id (a 409: an earlier try made it)."""
        hold = self._ids.hold(key, path)
        body = {"name": HOLD_NAME + key[:12], "mimeType": FOLDER, "parents": [self.parent_id], "id": hold,
                "appProperties": {HOLD: key}}
        self._call(action, lambda: self._files().create(body=body, fields="id", supportsAllDrives=True),
                   retry_check=lambda: self._live(hold, path), quiet=(409,))
        return hold

    def _settle(self, path: str, entry: dict, item: dict) -> dict:
        """Move a claimed item out of its holding folder into place and give it its key (both in one
        ``files.update``), then trash every holding folder listed for the key, with whatever an
        attempt whose answer was lost made in it."""
        key = self.key(path)
        hold, parent = entry["hold"], entry["parent"]
        action = L_("copy the template file to {path}", path=path)

        def in_place() -> dict | None:
            now = self._live(item["id"], path)
            return now if now is not None and parent in now.get("parents", []) else None

        if parent not in item.get("parents", []):
            properties = {**self._keys(path), HOLD: None}
            try:
                item = self._call(action, lambda: self._files().update(
                    fileId=item["id"], addParents=parent, removeParents=hold, body={"appProperties": properties},
                    fields=FIELDS, supportsAllDrives=True), retry_check=in_place)
            except PermanentError:
                moved = in_place()  # another attempt moved it at the same moment (Drive: duplicate parent)
                if moved is None:
                    raise
                item = moved
        holds = self._ids.holds(key)
        for folder in holds:
            self._trash(action, folder)
        self._ids.release(key, holds)
        self._ids.placed(key, item["id"])
        return item

    def _trash(self, action: Msg, folder_id: str) -> None:
        """Trash a holding folder and what is in it (a service account may trash in a shared drive,
        not delete: that takes a Manager)."""
        self._call(action, lambda: self._files().update(fileId=folder_id, body={"trashed": True}, fields="id",
                                                        supportsAllDrives=True), quiet=(404,))

    def _discard(self, action: Msg, key: str, hold: str) -> None:
        """Trash this attempt's holding folder; if Drive will not now, it stays listed and goes when
        the key's item is placed."""
        try:
            self._trash(action, hold)
        except (TransientError, PermanentError):
            return
        self._ids.release(key, [hold])

    def _place(self, path: str) -> tuple[str, str] | None:
        """(parent folder id, name) for a new file at ``path``; None when something is there."""
        if self._by_key(path) is not None:
            return None
        parent_path, _, name = path.rpartition("/")
        parent = self.ensure_folder(parent_path) if parent_path else self._parent()
        if self._by_name(parent, name) is not None:
            return None
        return parent["id"], name

    def create(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        from googleapiclient.http import MediaIoBaseUpload

        path = safe_relative_path(path)
        content_type = safe_content_type(content_type)  # never a Google type: Drive would convert the upload
        place = self._place(path)
        if place is None:
            return False
        body = {"name": place[1], "parents": [place[0]], "mimeType": content_type,
                "appProperties": self._properties(path)}

        def request(sent: dict):
            media = MediaIoBaseUpload(io.BytesIO(data), mimetype=media_type(content_type),
                                      resumable=len(data) > MULTIPART_LIMIT)
            return self._files().create(body=sent, media_body=media, fields=FIELDS, supportsAllDrives=True)

        # an upload converted to a Google format takes no pre-generated id (Ackflow converts nothing)
        self._make(L_("upload {path}", path=path), path, body, request, reserved=takes_chosen_id(content_type))
        return True

    def copy(self, file_id: str, path: str, mime_type: str = "") -> bool:
        """Copy a Drive file (a Google Docs file stays one) to ``path`` if nothing is there.
        ``mime_type``: the source's, when known (else it is asked for)."""
        path = safe_relative_path(path)
        place = self._place(path)
        if place is None:
            return False
        if not mime_type and self._ids is not None:
            mime_type = self._call(L_("copy the template file to {path}", path=path), lambda: self._files().get(
                fileId=file_id, fields="mimeType", supportsAllDrives=True))["mimeType"]
        body = {"name": place[1], "parents": [place[0]], "appProperties": self._properties(path)}
        try:
            self._make(L_("copy the template file to {path}", path=path), path, body, lambda b: self._files().copy(
                fileId=file_id, body=b, fields=FIELDS, supportsAllDrives=True), reserved=takes_chosen_id(mime_type))
        except PermanentError as exc:
            cause = exc.__cause__
            if getattr(getattr(cause, "resp", None), "status", None) != 404 or self._call(
                    L_("copy the template file to {path}", path=path), lambda: self._files().get(
                        fileId=file_id, fields="id", supportsAllDrives=True), quiet=(404,)) is not None:
                raise
            # the file was in the template when the step read it, and is gone now (a person removed or
            # moved it meanwhile): the step's next attempt reads the template again, without it
            raise TransientError(N_("Drive: the template file for {path} was removed from the case template while "
                                    "the case folder was being made; the step will read the template again"),
                                 path=path) from exc
        return True

    def exists(self, path: str) -> bool:
        return self._find(path) is not None

    def read(self, path: str) -> bytes:
        item = self._find(path)
        if item is None:
            raise FileNotFoundError(f"{path} is not in the shared drive")
        return self.download(item["id"], path)

    def download(self, file_id: str, what: str) -> bytes:
        return self._call(L_("read {path}", path=what),
                          lambda: self._files().get_media(fileId=file_id, supportsAllDrives=True))

    def list(self, prefix: str) -> list[str]:
        folder = self._find(prefix)
        if folder is None or folder["mimeType"] != FOLDER:
            return []
        paths, pending = [], [(safe_relative_path(prefix), folder["id"])]
        while pending:
            base, folder_id = pending.pop()
            for item in self._list(L_("list {path}", path=base), f"{_quote(folder_id)} in parents and trashed = false",
                                   drive_id=folder.get("driveId", "")):  # in the drive it is in, if moved
                path = f"{base}/{path_name(item['name'])}"
                if item["mimeType"] == FOLDER:
                    pending.append((path, item["id"]))
                else:
                    paths.append(path)
        return sorted(paths)

    def link(self, path: str) -> str:
        item = self._find(path)
        if item is None:
            raise FileNotFoundError(f"{path} is not in the shared drive")
        return item["webViewLink"]

    # -- the template ----------------------------------------------------------------------------
    def template(self, folder_id: str, max_bytes: int) -> list[TemplateEntry]:
        """The boilerplate case folder kept in Drive, walked and checked before anything is made:
        shortcuts, files over ``max_bytes`` and files the worker may not copy (its ``capabilities``:
        a Viewer of a drive where viewers may not copy, ``copyRequiresWriterPermission``) are
        refused with what to change."""
        try:
            root = self._call(L_("open the case template folder"), lambda: self._files().get(
                fileId=folder_id, fields=FIELDS, supportsAllDrives=True), template=folder_id)
        except PermanentError:
            self._parent()  # the case folders' parent unseen too (the worker in no shared drive): said first
            raise
        name = root.get("name", folder_id)

        def holds_the_parent() -> PermanentError:  # every case would copy the cases before it into itself
            return PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) is, "
                                     "or holds, the case folders' parent folder {folder} "
                                     "(ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER): each case would get a copy of the "
                                     "cases before it. Keep the template in a folder of its own, and set the two "
                                     "folder ids apart"), name=name, folder=self.parent_id)

        if folder_id == self.parent_id:
            raise holds_the_parent()
        if root["mimeType"] != FOLDER or root.get("trashed"):
            raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) is not "
                                    "a folder, or is in the trash"), name=name)
        if not root.get("driveId"):  # listed by its drive: outside a shared drive it would look empty
            raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) is not "
                                    "in a shared drive; move it into the office's shared drive"), name=name)
        entries: list[TemplateEntry] = []
        pending = [((), folder_id)]
        while pending:
            parts, current = pending.pop()
            for item in self._list(L_("read the case template"), f"{_quote(current)} in parents and trashed = false",
                                   f"{FIELDS},capabilities(canCopy,canDownload)", drive_id=root["driveId"],
                                   template=folder_id):
                here = (*parts, path_name(item["name"]))
                shown = "/".join(here)
                if len(entries) >= TEMPLATE_MAX_ITEMS:
                    raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) "
                                            "has more than {limit:,} items"), name=name, limit=TEMPLATE_MAX_ITEMS)
                if item["id"] == self.parent_id:
                    raise holds_the_parent()
                if item["mimeType"] == FOLDER:
                    entries.append(TemplateEntry(here, folder=True))
                    pending.append((here, item["id"]))
                    continue
                if item["mimeType"] == SHORTCUT:
                    raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) "
                                            "holds a shortcut, {path}: a case gets copies, and a shortcut cannot be "
                                            "copied. Put the file itself in the template, or remove it"),
                                         name=name, path=shown)
                size = int(item.get("size") or 0)
                if size > max_bytes:
                    raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) "
                                            "holds {path} of {size:,} bytes, over the {limit:,}-byte limit "
                                            "(ACKFLOW_OFFICE_DRIVE_TEMPLATE_MAX_BYTES); keep large files elsewhere "
                                            "and link to them"), name=name, path=shown, size=size, limit=max_bytes)
                entry = TemplateEntry(here, drive_id=item["id"], mime_type=item["mimeType"], size=size)
                capabilities = item.get("capabilities") or {}
                if capabilities.get("canDownload" if entry.text else "canCopy") is False:
                    raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) "
                                            "holds {path}, which {member} may not copy: the file, or its shared "
                                            "drive, keeps viewers and commenters from downloading, printing and "
                                            "copying it. Turn that setting off, or make {member} a Contributor of "
                                            "the template's shared drive"),
                                         name=name, path=shown, member=self.member)
                if entry.text and size > TEMPLATE_TEXT_LIMIT:
                    raise PermanentError(N_("The case template folder “{name}” (ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) "
                                            "holds a text file {path} over {limit:,} bytes"),
                                         name=name, path=shown, limit=TEMPLATE_TEXT_LIMIT)
                if entry.text:
                    entry = TemplateEntry(here, drive_id=item["id"], mime_type=item["mimeType"], size=size,
                                          reader=lambda i=item["id"], s=shown: self.download(i, s))
                entries.append(entry)
        return sorted(entries, key=lambda e: e.parts)


def _redirected_class():
    import httplib2

    class Redirected(httplib2.Http):
        """httplib2 sending the API's https:// URLs to a local stand-in (``ACKFLOW_OFFICE_DRIVE_ENDPOINT``);
        plain http:// ones (the key file's token endpoint, upload sessions) go where they say."""

        def __init__(self, endpoint: str, **kwargs):
            super().__init__(**kwargs)
            self.endpoint = endpoint

        def request(self, uri, method="GET", body=None, headers=None, *args, **kwargs):
            if uri.startswith("https://"):
                uri = self.endpoint + "/" + uri[len("https://"):].partition("/")[2]
            return super().request(uri, method, body, headers, *args, **kwargs)

    return Redirected


def _Redirected(endpoint: str, **kwargs):  # noqa: N802 - a class made on first use (lazy import)
    return _redirected_class()(endpoint, **kwargs)
