"""Drive v3's REST endpoints over the local state, as the official client calls them.

``files.get`` (metadata, ``alt=media``), ``files.list`` (``q`` per ``query.py``, ``corpora``,
``driveId``, paging), ``files.create`` (metadata only, and ``uploadType=media|multipart|resumable``),
``files.copy`` (both taking an ``id`` from ``files.generateIds``, checked as ``service.py`` says),
``files.update`` (metadata, parents), ``files.delete``; ``fields`` trims answers as Drive does (the
default is ``kind,id,name,mimeType``). An OAuth token endpoint makes a
service-account key file whose ``token_uri`` points here work unchanged; the caller is the key's
email. Test hooks under ``/_emulator/`` create shared drives, seed files, inject faults (an error,
or a write that is done and then answered late), make search lag behind writes, and list
everything. ``browse.py`` serves the ``webViewLink`` pages.
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
from .service import DriveError, DriveService, new_id

FILE = r"/drive/v3/files/([^/:]+)"
DEFAULT_FIELDS = "kind,id,name,mimeType"


def parse_fields(text: str) -> dict:
    """``files(id,name),nextPageToken`` → {"files": {"id": {}, "name": {}}, "nextPageToken": {}}."""
    tree: dict = {}
    stack = [tree]
    name = ""
    for char in text + ",":
        if char in ",()":
            if name.strip():
                stack[-1].setdefault(name.strip().split("/")[0], {})
            if char == "(":
                stack.append(stack[-1][name.strip()])
            elif char == ")":
                stack.pop()
            name = ""
        else:
            name += char
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
    return metadata, parts[1][1], parts[1][0].get("content-type", "application/octet-stream")


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
            return base64.urlsafe_b64decode(token[len("drive-local."):] + "==").decode()
        return "anonymous"

    def api(handler):
        """An API call: authenticated, and subject to injected faults."""
        def run(request: Request, *args):
            who = caller(request)
            fault = faults.take(f"{request.method} {request.path}?{request.query_string.decode()}",
                                request.get_data().decode("latin-1"))
            if fault and "stall" not in fault:
                raise DriveError("PERMISSION_DENIED" if fault["code"] == 403 else
                                 {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[fault["code"]],
                                 fault.get("message", "Injected fault."), fault.get("reason", "backendError"),
                                 domain="usageLimits" if "RateLimit" in fault.get("reason", "") else "global")
            response = handler(request, who, _flag(request, "supportsAllDrives"), *args)
            if fault:
                with faults.lock:
                    faults.stalled += 1
                time.sleep(float(fault["stall"]))
            return response
        return run

    def answer(request: Request, item: dict, status: int = 200) -> Response:
        fields = parse_fields(request.args.get("fields") or DEFAULT_FIELDS)
        return json_response(trim(service.resource(item), fields), status)

    def get(request: Request, who: str, all_drives: bool, file_id: str):
        if request.args.get("alt") == "media":
            item, data = service.content(file_id, who, all_drives)
            return Response(data, mimetype=item["mimeType"])
        return answer(request, service.get(file_id, who, all_drives))

    def list_files(request: Request, who: str, all_drives: bool):
        if _flag(request, "includeItemsFromAllDrives") and not all_drives:
            raise DriveError("FAILED_PRECONDITION", "The includeItemsFromAllDrives parameter can only be set when "
                             "supportsAllDrives is also set to true.", "invalid", location="includeItemsFromAllDrives")
        corpora = request.args.get("corpora", "user")
        drive_id = request.args.get("driveId", "")
        if corpora == "drive" and not drive_id:
            raise DriveError("INVALID_ARGUMENT", "The driveId parameter must be specified if and only if corpora "
                             "is set to drive.", "invalid", location="driveId")
        try:
            predicate = compile_query(request.args.get("q", ""))
        except QueryError as exc:
            raise DriveError("INVALID_ARGUMENT", f"Invalid Value: {exc}", "invalid", location="q") from exc
        found = service.list(predicate, who, _flag(request, "includeItemsFromAllDrives"), drive_id)
        size = max(1, min(int(request.args.get("pageSize") or 100), 1000))
        start = int(request.args.get("pageToken") or 0)
        body = {"kind": "drive#fileList", "incompleteSearch": False,
                "files": [service.resource(f) for f in found[start:start + size]]}
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
        metadata = {k: v for k, v in read_json(request).items() if not k.startswith("_")}
        return answer(request, service.create(metadata, None, "", who, all_drives))

    def upload(request: Request, who: str, all_drives: bool):
        kind = request.args.get("uploadType", "")
        if kind == "media":
            item = service.create({}, request.get_data(), request.mimetype, who, all_drives)
        elif kind == "multipart":
            metadata, data, media_type = split_multipart(request.get_data(), request.headers.get("Content-Type", ""))
            metadata = {k: v for k, v in metadata.items() if not k.startswith("_")}
            item = service.create(metadata, data, media_type, who, all_drives)
        elif kind == "resumable":
            upload_id = new_id()
            metadata = {k: v for k, v in read_json(request).items() if not k.startswith("_")}
            uploads[upload_id] = {"metadata": metadata, "who": who, "all_drives": all_drives,
                                  "type": request.headers.get("X-Upload-Content-Type", ""), "data": b"",
                                  "fields": request.args.get("fields", "")}
            query = {**request.args.to_dict(), "upload_id": upload_id}
            return Response(status=200, headers={"Location": f"{request.host_url.rstrip('/')}{request.path}?"
                                                             f"{urlencode(query)}"})
        else:
            raise DriveError("INVALID_ARGUMENT", f"Invalid uploadType {kind!r}.", "invalid", location="uploadType")
        return answer(request, item)

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
        return json_response(trim(service.resource(item), fields))

    def copy(request: Request, who: str, all_drives: bool, file_id: str):
        metadata = {k: v for k, v in read_json(request).items() if not k.startswith("_")}
        return answer(request, service.copy(file_id, metadata, who, all_drives))

    def update(request: Request, who: str, all_drives: bool, file_id: str):
        return answer(request, service.update(file_id, read_json(request), who, all_drives,
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
        except (IndexError, ValueError, KeyError) as exc:
            raise GoogleError("INVALID_ARGUMENT", "invalid_grant: a signed JWT assertion is required") from exc
        access = "drive-local." + base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
        return json_response({"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    # -- test hooks --------------------------------------------------------------------------------
    def put_drive(request: Request, drive_id: str):
        body = read_json(request)
        return json_response(service.put_drive(drive_id, body.get("name", drive_id), body.get("members")))

    def seed(request: Request):
        body = read_json(request)
        data = base64.b64decode(body.pop("content_base64")) if "content_base64" in body else None
        file_id = body.pop("id", None)
        declared = body.pop("size", None)  # a size to report without holding the bytes (a 2 GB file)
        body.pop("_size", None)
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
        with faults.lock:
            faults.pending.extend(read_json(request).get("faults", []))
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
