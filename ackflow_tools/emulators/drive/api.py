"""Drive v3's REST endpoints over the local state, as the official client calls them.

``files.get`` (metadata, ``alt=media``), ``files.list`` (``q`` per ``query.py``, ``corpora``,
``driveId``, paging), ``files.create`` (metadata only, and ``uploadType=media|multipart|resumable``),
``files.copy`` (both taking an ``id`` from ``files.generateIds``, checked as ``service.py`` says),
``files.update`` (metadata, parents), ``files.delete``; ``fields`` trims answers as Drive does (the
default is ``kind,id,name,mimeType``; ``capabilities`` are the caller's). What each member role
may do is ``service.py``'s (a Viewer reads, a Contributor adds and edits, a Content manager also
trashes and moves, a Manager deletes), refused with Drive's 403 ``insufficientFilePermissions``.
An OAuth token endpoint makes a
service-account key file whose ``token_uri`` points here work unchanged; the caller is the key's
email (from the token it hands out, or from the self-signed JWT google-auth sends instead for a key
outside Google's universe). Test hooks under ``/_emulator/`` create shared drives, seed files, inject faults (an error,
or a write that is done and then answered late), make search lag behind writes, and list
everything. ``browse.py`` serves the ``webViewLink`` pages.

Bad input is a 400 in Drive's error shape, never a 500, and is refused before anything is written:
a query parameter Drive cannot read (``pageSize`` not a whole number or below 1, a ``pageToken``
it did not hand out, a ``fields`` selector that does not parse) is reason ``invalid`` with the
parameter as its location; a body that is not JSON is ``parseError``; a metadata field of the wrong
type (``appProperties`` that is no object of strings, ``parents`` that is no list of ids…) is
``badRequest`` (Drive's documented reasons: developers.google.com/workspace/drive/api/guides/
handle-errors). ``pageSize`` above 1,000 is read as 1,000, as Drive's discovery document says.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from ..web import GoogleError, Router, json_response, read_json
from .query import QueryError, compile_query
from .service import DriveError, DriveService, bad_members, new_id

FILE = r"/drive/v3/files/([^/:]+)"
DEFAULT_FIELDS = "kind,id,name,mimeType"
CORPORA = ("user", "drive", "domain", "allDrives")


FIELD_PATH = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*(?:/[A-Za-z_*][A-Za-z0-9_]*)*)\s*")
FIELDS_DEPTH = 8  # nesting a selector may have (Drive's resources are shallower)


def parse_fields(text: str) -> dict:
    """``files(id,name),nextPageToken``, or ``files/id,files/name,nextPageToken`` (Google's partial
    response syntax: ``a/b`` is b within a) → {"files": {"id": {"*": {}}, "name": {"*": {}}},
    "nextPageToken": {"*": {}}}, where ``*`` is all of a field. A selector that does not parse
    (``files((((``, ``a,,b``, an unclosed parenthesis) is Drive's 400 ``invalid`` on ``fields``."""
    position = 0

    def refuse() -> DriveError:
        return DriveError("INVALID_ARGUMENT", f"Invalid field selection {text[:200]}", "invalid",
                          location="fields")

    def selector(depth: int) -> dict:
        nonlocal position
        if depth > FIELDS_DEPTH:
            raise refuse()
        tree: dict = {}
        while True:
            match = FIELD_PATH.match(text, position)
            if not match:
                raise refuse()
            position = match.end()
            segments = match.group(1).split("/")  # ``a/b``: b within a, as ``a(b)``
            if len(segments) + depth > FIELDS_DEPTH:
                raise refuse()
            sub = tree
            for segment in segments:
                sub = sub.setdefault(segment, {})
            if text.startswith("(", position):
                position += 1
                for name, inner in selector(depth + len(segments)).items():
                    sub.setdefault(name, {}).update(inner)
                if not text.startswith(")", position):
                    raise refuse()
                position += 1
                while text.startswith(" ", position):
                    position += 1
            else:
                sub["*"] = {}  # all of it (``files,files/id`` is all of files)
            if not text.startswith(",", position):
                return tree
            position += 1

    tree = selector(0)
    if position != len(text):
        raise refuse()
    return tree


def trim(resource: dict, fields: dict) -> dict:
    if not fields or "*" in fields:
        return resource
    shown = {}
    for key, sub in fields.items():
        if key in resource:
            value = resource[key]
            if sub and isinstance(value, list):
                value = [trim(v, sub) if isinstance(v, dict) else v for v in value]
            elif sub and isinstance(value, dict):
                value = trim(value, sub)
            shown[key] = value
    return shown


def _flag(request: Request, name: str) -> bool:
    return request.args.get(name, "").lower() == "true"


def page_size(request: Request) -> int:
    """``pageSize``: a whole number from 1 (Drive: 400 ``invalid`` otherwise); above 1,000 read as
    1,000, as Drive's discovery document says; 100 when not given."""
    text = request.args.get("pageSize", "")
    if not text:
        return 100
    if not re.fullmatch(r"-?[0-9]{1,10}", text):
        raise DriveError("INVALID_ARGUMENT", f"Invalid value '{text[:100]}'. Values must be whole numbers.",
                         "invalid", location="pageSize")
    if int(text) < 1:
        raise DriveError("INVALID_ARGUMENT", f"Invalid value '{text}'. Values must be within the range: [1, 1000]",
                         "invalid", location="pageSize")
    return min(int(text), 1000)


def page_start(request: Request) -> int:
    """Where a ``pageToken`` the stand-in handed out (``nextPageToken``) goes on; anything else is
    Drive's 400 ``invalid`` on ``pageToken``."""
    text = request.args.get("pageToken", "")
    if not text:
        return 0
    if not re.fullmatch(r"[0-9]{1,12}", text):
        raise DriveError("INVALID_ARGUMENT", "Invalid Value", "invalid", location="pageToken")
    return int(text)


def body_json(request: Request):
    """The request's JSON body (``{}`` when empty); a body that is not JSON is Drive's 400."""
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError included
        raise DriveError("INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}", "parseError") from exc


def _bad_value(field: str, expected: str) -> DriveError:
    return DriveError("INVALID_ARGUMENT", f"Invalid value for {field}: it must be {expected}.", "badRequest")


def checked_metadata(metadata) -> dict:
    """A file resource as a request body sends it, its fields of the types Drive's File has (the
    ones the stand-in reads); keys starting with ``_`` (the stand-in's own) are dropped. Any other
    shape is Drive's 400 ``badRequest``, before anything is written."""
    if not isinstance(metadata, dict):
        raise DriveError("INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object (a File).",
                         "badRequest")
    metadata = {k: v for k, v in metadata.items() if not k.startswith("_")}
    for field in ("name", "mimeType", "id", "parents", "trashed", "shortcutDetails", "copyRequiresWriterPermission"):
        if field in metadata and metadata[field] is None:  # null: not given (a description's clears it)
            del metadata[field]
    for field in ("name", "mimeType", "description", "id"):
        if field in metadata and metadata[field] is not None and not isinstance(metadata[field], str):
            raise _bad_value(field, "a string")
    for field in ("trashed", "copyRequiresWriterPermission"):
        if field in metadata and not isinstance(metadata[field], bool):
            raise _bad_value(field, "true or false")
    parents = metadata.get("parents")
    if parents is not None and not (isinstance(parents, list) and all(isinstance(p, str) and p for p in parents)):
        raise _bad_value("parents", "a list of folder ids")
    for field in ("appProperties", "properties"):
        value = metadata.get(field)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(v, str) or v is None for v in value.values())):
            raise _bad_value(field, "an object whose values are strings (or null, to clear one)")
    details = metadata.get("shortcutDetails")
    if details is not None and not (isinstance(details, dict) and isinstance(details.get("targetId", ""), str)):
        raise _bad_value("shortcutDetails", "an object with a targetId")
    return metadata


def split_multipart(body: bytes, content_type: str) -> tuple[dict, bytes, str]:
    """(metadata, media, media type) of a ``multipart/related`` upload."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise DriveError("INVALID_ARGUMENT", "Missing multipart boundary.", "badContent")
    parts = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        newline = b"\r\n" if chunk.startswith(b"\r\n") else b"\n"
        chunk = chunk[len(newline):]
        head, _, content = chunk.partition(newline * 2)
        if content.endswith(newline):
            content = content[:-len(newline)]
        headers = dict(line.split(":", 1) for line in head.decode("latin-1").split(newline.decode()) if ":" in line)
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        parts.append((headers, content))
    if len(parts) != 2:
        raise DriveError("INVALID_ARGUMENT", "A multipart upload has two parts: metadata and media.", "badContent")
    try:
        metadata = json.loads(parts[0][1] or b"{}")
    except ValueError as exc:
        raise DriveError("INVALID_ARGUMENT", f"Invalid metadata: {exc}", "parseError") from exc
    return checked_metadata(metadata), parts[1][1], parts[1][0].get("content-type", "application/octet-stream")


def _fault_ok(fault) -> bool:
    """A fault the API calls can apply: an error with a code they answer, or a stall."""
    if not isinstance(fault, dict):
        return False
    if not all(isinstance(fault.get(k, ""), str) for k in ("match", "body", "message", "reason")):
        return False
    if not isinstance(fault.get("count", 1), int) or isinstance(fault.get("count", 1), bool):
        return False
    if "stall" in fault:
        stall = fault["stall"]
        return isinstance(stall, int | float) and not isinstance(stall, bool) and 0 <= stall <= 600
    return fault.get("code") in (403, 429, 500, 503) and not isinstance(fault.get("code"), bool)


class Faults:
    """Injected trouble for the next matching API calls: an error answer, or ``stall``: the call is
    carried out, then answered only after a delay (a client killed meanwhile never hears of it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[dict] = []
        self.stalled = 0

    def take(self, what: str, body: str) -> dict | None:
        """The first fault whose ``match`` is in "METHOD path?query" and ``body`` in the body."""
        with self.lock:
            for fault in self.pending:
                if fault.get("match", "") in what and fault.get("body", "") in body and fault.get("count", 1) > 0:
                    fault["count"] = fault.get("count", 1) - 1
                    return dict(fault)
        return None


def signed_by(token: str) -> str:
    """The email a self-signed JWT access token names (``sub``, else ``iss``), as google-auth sends
    for a service-account key outside Google's universe instead of asking the token endpoint; ""
    when the token is no such JWT. The signature is not checked: the stand-in trusts its callers."""
    parts = token.split(".")
    if len(parts) != 3:
        return ""
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # binascii.Error and UnicodeDecodeError included
        return ""
    if not isinstance(claims, dict):
        return ""
    email = claims.get("sub") or claims.get("iss")
    return email if isinstance(email, str) and "@" in email else ""


def build_app(service: DriveService) -> Router:
    app = Router()
    faults = Faults()
    uploads: dict[str, dict] = {}

    def caller(request: Request) -> str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise DriveError("UNAUTHENTICATED", "Request is missing required authentication credential.",
                             "authError", location="Authorization")
        token = header[len("Bearer "):]
        if token.startswith("drive-local."):
            try:
                return base64.urlsafe_b64decode(token[len("drive-local."):] + "==").decode()
            except ValueError as exc:  # binascii.Error and UnicodeDecodeError: not a token it handed out
                raise DriveError("UNAUTHENTICATED", "Request had invalid authentication credentials.",
                                 "authError", location="Authorization") from exc
        return signed_by(token) or "anonymous"

    def api(handler):
        """An API call: authenticated, and subject to injected faults."""
        def run(request: Request, *args):
            who = caller(request)
            parse_fields(request.args.get("fields") or DEFAULT_FIELDS)  # a bad one refused before any write
            fault = faults.take(f"{request.method} {request.path}?{request.query_string.decode()}",
                                request.get_data().decode("latin-1"))
            if fault and "stall" not in fault:
                raise DriveError("PERMISSION_DENIED" if fault["code"] == 403 else
                                 {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[fault["code"]],
                                 fault.get("message", "Injected fault."), fault.get("reason", "backendError"),
                                 domain="usageLimits" if "ratelimit" in fault.get("reason", "").lower() else "global")
            response = handler(request, who, _flag(request, "supportsAllDrives"), *args)
            if fault:
                with faults.lock:
                    faults.stalled += 1
                time.sleep(float(fault["stall"]))
            return response
        return run

    def answer(request: Request, who: str, item: dict, status: int = 200) -> Response:
        """``item`` trimmed to the request's ``fields``, its ``capabilities`` those of ``who``."""
        fields = parse_fields(request.args.get("fields") or DEFAULT_FIELDS)
        return json_response(trim(service.resource(item, who), fields), status)

    def get(request: Request, who: str, all_drives: bool, file_id: str):
        if request.args.get("alt") == "media":
            item, data = service.content(file_id, who, all_drives)
            return Response(data, mimetype=item["mimeType"])
        return answer(request, who, service.get(file_id, who, all_drives))

    def list_files(request: Request, who: str, all_drives: bool):
        if _flag(request, "includeItemsFromAllDrives") and not all_drives:
            raise DriveError("FAILED_PRECONDITION", "The includeItemsFromAllDrives parameter can only be set when "
                             "supportsAllDrives is also set to true.", "invalid", location="includeItemsFromAllDrives")
        corpora = request.args.get("corpora", "user")
        drive_id = request.args.get("driveId", "")
        if corpora not in CORPORA:
            raise DriveError("INVALID_ARGUMENT", f"Invalid value for corpora: {corpora[:100]}", "invalid",
                             location="corpora")
        if corpora == "drive" and not drive_id:
            raise DriveError("INVALID_ARGUMENT", "The driveId parameter must be specified if and only if corpora "
                             "is set to drive.", "invalid", location="driveId")
        try:
            predicate = compile_query(request.args.get("q", ""))
        except QueryError as exc:
            raise DriveError("INVALID_ARGUMENT", f"Invalid Value: {exc}", "invalid", location="q") from exc
        size, start = page_size(request), page_start(request)
        found = service.list(predicate, who, _flag(request, "includeItemsFromAllDrives"), drive_id)
        body = {"kind": "drive#fileList", "incompleteSearch": False,
                "files": [service.resource(f, who) for f in found[start:start + size]]}
        if start + size < len(found):
            body["nextPageToken"] = str(start + size)
        default = f"kind,incompleteSearch,nextPageToken,files({DEFAULT_FIELDS})"
        fields = parse_fields(request.args.get("fields") or default)
        return json_response(trim(body, fields))

    def generate_ids(request: Request, who: str, all_drives: bool):
        try:
            count = int(request.args.get("count") or 10)
        except ValueError:
            count = 0
        if not 1 <= count <= 1000:
            raise DriveError("INVALID_ARGUMENT", "Invalid value for count: must be between 1 and 1000.", "invalid",
                             location="count")
        space, kind = request.args.get("space") or "drive", request.args.get("type") or "files"
        if space != "drive":
            raise DriveError("INVALID_ARGUMENT", "The stand-in generates ids for the drive space only.",
                             "invalid", location="space")
        if kind not in ("files", "shortcuts"):
            raise DriveError("INVALID_ARGUMENT", f"Invalid value for type: {kind}.", "invalid", location="type")
        return json_response({"kind": "drive#generatedIds", "space": space, "ids": service.generate_ids(count, kind)})

    def create(request: Request, who: str, all_drives: bool):
        metadata = checked_metadata(body_json(request))
        return answer(request, who, service.create(metadata, None, "", who, all_drives))

    def upload(request: Request, who: str, all_drives: bool):
        kind = request.args.get("uploadType", "")
        if kind == "media":
            item = service.create({}, request.get_data(), request.mimetype, who, all_drives)
        elif kind == "multipart":
            metadata, data, media_type = split_multipart(request.get_data(), request.headers.get("Content-Type", ""))
            item = service.create(metadata, data, media_type, who, all_drives)
        elif kind == "resumable":
            upload_id = new_id()
            metadata = checked_metadata(body_json(request))
            service.check_place(metadata, who, all_drives)  # when the session starts, not at its end
            uploads[upload_id] = {"metadata": metadata, "who": who, "all_drives": all_drives,
                                  "type": request.headers.get("X-Upload-Content-Type", ""), "data": b"",
                                  "fields": request.args.get("fields", "")}
            query = {**request.args.to_dict(), "upload_id": upload_id}
            return Response(status=200, headers={"Location": f"{request.host_url.rstrip('/')}{request.path}?"
                                                             f"{urlencode(query)}"})
        else:
            raise DriveError("INVALID_ARGUMENT", f"Invalid uploadType {kind!r}.", "invalid", location="uploadType")
        return answer(request, who, item)

    def resume(request: Request):
        session = uploads.get(request.args.get("upload_id", ""))
        if session is None:
            raise DriveError("NOT_FOUND", "No such upload session.", "notFound")
        content_range = request.headers.get("Content-Range", "")
        match = re.match(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)$", content_range)
        if not match:
            raise DriveError("INVALID_ARGUMENT", f"Invalid Content-Range {content_range!r}.", "badContent")
        if match.group(2) is not None:
            if int(match.group(2)) != len(session["data"]):
                raise DriveError("INVALID_ARGUMENT", "The chunk does not continue the upload.", "badContent")
            session["data"] += request.get_data()
        total = match.group(4)
        if total == "*" or len(session["data"]) < int(total):
            headers = {"Range": f"bytes=0-{len(session['data']) - 1}"} if session["data"] else {}
            return Response(status=308, headers=headers)
        uploads.pop(request.args["upload_id"], None)
        item = service.create(session["metadata"], session["data"], session["type"], session["who"],
                              session["all_drives"])
        fields = parse_fields(session["fields"] or DEFAULT_FIELDS)
        return json_response(trim(service.resource(item, session["who"]), fields))

    def copy(request: Request, who: str, all_drives: bool, file_id: str):
        metadata = checked_metadata(body_json(request))
        return answer(request, who, service.copy(file_id, metadata, who, all_drives))

    def update(request: Request, who: str, all_drives: bool, file_id: str):
        return answer(request, who, service.update(file_id, checked_metadata(body_json(request)), who, all_drives,
                                                   request.args.get("addParents", ""),
                                                   request.args.get("removeParents", "")))

    def delete(request: Request, who: str, all_drives: bool, file_id: str):
        service.delete(file_id, who, all_drives)
        return Response(status=204)

    def token(request: Request):
        """OAuth 2.0 token endpoint for service-account JWT grants: the caller is the key's email."""
        assertion = request.form.get("assertion", "")
        try:
            payload = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
            email = payload["iss"]
            if not isinstance(email, str):
                raise TypeError("iss")
        except (IndexError, ValueError, KeyError, TypeError) as exc:
            raise GoogleError("INVALID_ARGUMENT", "invalid_grant: a signed JWT assertion is required") from exc
        access = "drive-local." + base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
        return json_response({"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    # -- test hooks --------------------------------------------------------------------------------
    def put_drive(request: Request, drive_id: str):
        body = read_json(request)
        name, members, restrictions = body.get("name", drive_id), body.get("members"), body.get("restrictions")
        if not isinstance(name, str):
            raise GoogleError("INVALID_ARGUMENT", "name must be a string")
        problem = bad_members(members)  # a list of emails (Content managers), {email: role}, or null: anyone
        if problem:
            raise GoogleError("INVALID_ARGUMENT", problem)
        if restrictions is not None and not (isinstance(restrictions, dict)
                                             and all(isinstance(v, bool) for v in restrictions.values())):
            raise GoogleError("INVALID_ARGUMENT", "restrictions: an object of true or false")
        return json_response(service.put_drive(drive_id, name, members, restrictions))

    def seed(request: Request):
        body = read_json(request)
        try:
            data = base64.b64decode(body.pop("content_base64"), validate=True) if "content_base64" in body else None
        except (TypeError, ValueError) as exc:
            raise GoogleError("INVALID_ARGUMENT", "content_base64 must be base64") from exc
        file_id = body.pop("id", None)
        declared = body.pop("size", None)  # a size to report without holding the bytes (a 2 GB file)
        if file_id is not None and not (isinstance(file_id, str) and file_id):
            raise GoogleError("INVALID_ARGUMENT", "id must be a string")
        if declared is not None and (not isinstance(declared, int) or isinstance(declared, bool) or declared < 0):
            raise GoogleError("INVALID_ARGUMENT", "size must be a whole number of bytes")
        body = checked_metadata(body)
        with service.lock:
            if file_id in service.files:
                return json_response(service.resource(service.files[file_id]))
            item = service.create(body, data, body.get("mimeType", ""), None, True, file_id=file_id)
            if declared is not None:
                item["_size"] = int(declared)
                service.save()
        return json_response(service.resource(item))

    def everything(request: Request):
        with service.lock:
            return json_response({"files": [service.resource(f) for f in
                                            sorted(service.files.values(), key=lambda f: f["_order"])]})

    def set_faults(request: Request):
        given = read_json(request).get("faults", [])
        if not isinstance(given, list) or not all(_fault_ok(f) for f in given):
            raise GoogleError("INVALID_ARGUMENT", "faults: a list of {match, body, count, and code (403, 429, 500 "
                                                  "or 503) or stall (seconds)}")
        with faults.lock:
            faults.pending.extend(given)
        return json_response({"faults": faults.pending})

    def show_faults(request: Request):
        with faults.lock:
            return json_response({"faults": faults.pending, "stalled": faults.stalled})

    def set_search_lag(request: Request):
        """``{"seconds": N}``: items made in the last N seconds are left out of ``files.list`` (0: off)."""
        seconds = read_json(request).get("seconds", 0)
        if not isinstance(seconds, int | float) or seconds < 0:
            raise GoogleError("INVALID_ARGUMENT", "seconds must be a number >= 0")
        with service.lock:
            service.search_lag = float(seconds)
        return json_response({"seconds": service.search_lag})

    def clear_faults(request: Request):
        with faults.lock:
            faults.pending.clear()
            faults.stalled = 0
        return json_response({})

    app.add("GET", r"/drive/v3/files", api(list_files))
    app.add("POST", r"/drive/v3/files", api(create))
    app.add("POST", r"/upload/drive/v3/files", api(upload))
    app.add("PUT", r"/upload/drive/v3/files", resume)
    app.add("GET", r"/drive/v3/files/generateIds", api(generate_ids))
    app.add("GET", FILE, api(get))
    app.add("PATCH", FILE, api(update))
    app.add("DELETE", FILE, api(delete))
    app.add("POST", FILE + r"/copy", api(copy))
    app.add("POST", "/token", token)
    app.add("PUT", r"/_emulator/drives/([^/]+)", put_drive)
    app.add("POST", r"/_emulator/files", seed)
    app.add("GET", r"/_emulator/files", everything)
    app.add("POST", r"/_emulator/faults", set_faults)
    app.add("GET", r"/_emulator/faults", show_faults)
    app.add("DELETE", r"/_emulator/faults", clear_faults)
    app.add("PUT", r"/_emulator/search_lag", set_search_lag)
    app.add("GET", r"/_emulator/search_lag", lambda request: json_response({"seconds": service.search_lag}))
    app.add("GET", "/", lambda request: json_response({"status": "ok", "service": "drive"}))
    from .browse import add_pages

    add_pages(app, service)
    return app
