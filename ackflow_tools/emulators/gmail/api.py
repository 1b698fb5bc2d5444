"""The Gmail v1 REST endpoints of the stand-in, as the official client calls them.

Paths are those of Gmail's discovery document (``/gmail/v1/users/{userId}/…``). Access tokens come
from ``/token`` (a service-account JWT grant, as domain-wide delegation makes one: ``sub`` is the
mailbox, ``scope`` what the admin granted); each method checks that its token carries a scope
Google accepts for it, so a deployment asking for too little fails here as it would at Google.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from email import message_from_bytes
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.policy import Compat32, compat32

from werkzeug.wrappers import Request

from ..web import GoogleError, Router, json_response, read_json
from .service import GmailService

SCOPE = "https://www.googleapis.com/auth/"
FULL = "https://mail.google.com/"
READ = (FULL, SCOPE + "gmail.modify", SCOPE + "gmail.readonly")
METADATA = (*READ, SCOPE + "gmail.metadata")
MODIFY = (FULL, SCOPE + "gmail.modify")
LABELS = (FULL, SCOPE + "gmail.modify", SCOPE + "gmail.labels")
USER = r"/gmail/v1/users/([^/]+)"


class _Headers8Bit(Compat32):
    """Python's compat32 parsing, but a header written in UTF-8 as it is (RFC 6532: many mail
    programs send a Subject or a file name so) reads as that text, as Gmail shows it; compat32
    made it a Header of unknown-8bit bytes, shown as U+FFFD. Bytes that are not UTF-8 are left
    to compat32."""

    def header_fetch_parse(self, name, value):
        if isinstance(value, str):
            try:
                return value.encode("ascii", "surrogateescape").decode("utf-8")
            except UnicodeError:
                pass
        return super().header_fetch_parse(name, value)


READ_POLICY = _Headers8Bit()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _text(value) -> str:
    """A header as Gmail's JSON shows it: unfolded, encoded words decoded."""
    value = " ".join(str(value).split())
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, IndexError, MessageError):
        return value  # what Gmail cannot decode it shows as written


def _attached_mail(part: Message) -> bool:
    """A mail attached to the mail (``message/rfc822``: a request forwarded as an attachment), which
    Gmail gives as one attachment, not as a tree of its own."""
    return part.get_content_type() == "message/rfc822"


def _part_bytes(part: Message) -> bytes:
    if _attached_mail(part) and isinstance(part.get_payload(), list):
        inner = part.get_payload()
        return inner[0].as_bytes(policy=compat32) if inner else b""
    return part.get_payload(decode=True) or b""


def _filename(part: Message) -> str:
    try:
        return _text(part.get_filename() or "")
    except (LookupError, ValueError, TypeError):  # an RFC 2231 name in a charset Python chokes on
        return ""


def _payload(part: Message, part_id: str, message_id: str) -> dict:
    headers = [{"name": k, "value": _text(v)} for k, v in part.items()]
    body: dict = {"size": 0}
    node = {"partId": part_id, "mimeType": part.get_content_type(), "filename": _filename(part),
            "headers": headers, "body": body}
    if _attached_mail(part):
        body.update(size=len(_part_bytes(part)), attachmentId=_b64(f"{message_id}:{part_id}".encode()).rstrip("="))
        return node
    if part.is_multipart():
        children = part.get_payload()
        node["parts"] = [_payload(child, f"{part_id}.{n}" if part_id else str(n), message_id)
                         for n, child in enumerate(children if isinstance(children, list) else [])]
        return node
    data = part.get_payload(decode=True) or b""
    body["size"] = len(data)
    if node["filename"] or part.get_content_disposition() == "attachment":
        body["attachmentId"] = _b64(f"{message_id}:{part_id}".encode()).rstrip("=")
    elif data:
        body["data"] = _b64(data)
    return node


def _find_part(part: Message, part_id: str, wanted: str) -> Message | None:
    if part_id == wanted:
        return part
    if part.is_multipart() and not _attached_mail(part):
        for n, child in enumerate(part.get_payload()):
            found = _find_part(child, f"{part_id}.{n}" if part_id else str(n), wanted)
            if found is not None:
                return found
    return None


def _snippet(parsed: Message) -> str:
    for part in parsed.walk():
        if part.get_content_type() == "text/plain" and not _filename(part):
            data = part.get_payload(decode=True) or b""
            try:
                text = data.decode(part.get_content_charset() or "utf-8", "replace")
            except (LookupError, ValueError, TypeError):  # a charset nobody knows: Gmail still shows the mail
                text = data.decode("utf-8", "replace")
            return " ".join(text.split())[:200]
    return ""


def build_app(service: GmailService, *, granted_scopes: tuple[str, ...] = (SCOPE + "gmail.modify",)) -> Router:
    app = Router()
    tokens: dict[str, dict] = {}

    def authorized(request: Request, scopes: tuple[str, ...]) -> str:
        header = request.headers.get("Authorization", "")
        grant = tokens.get(header.partition(" ")[2])
        if grant is None or grant["expires"] < time.time():
            raise GoogleError("UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if not set(grant["scopes"]) & set(scopes):
            raise GoogleError("PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        return grant["subject"]

    def box(request: Request, user_id: str, scopes: tuple[str, ...], method: str = ""):
        mailbox = service.box(user_id, authorized(request, scopes))
        service.charge(mailbox, method)
        return mailbox

    def token(request: Request):
        """OAuth 2.0 token endpoint: a service account's signed JWT (RFC 7523), with ``sub``."""
        assertion = request.form.get("assertion", "")
        try:
            claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
        except (IndexError, ValueError):
            return json_response({"error": "invalid_grant", "error_description": "Invalid JWT."}, 400)
        asked = (claims.get("scope") or "").split()
        if not claims.get("sub"):
            return json_response({"error": "invalid_grant",
                                  "error_description": "Gmail needs a mailbox: the JWT has no sub."}, 400)
        if not asked or not set(asked) <= set(granted_scopes):
            return json_response({"error": "unauthorized_client", "error_description":
                                  "Client is unauthorized to retrieve access tokens using this method, or client "
                                  "not authorized for any of the scopes requested."}, 401)
        value = secrets.token_urlsafe(24)
        tokens[value] = {"subject": claims["sub"], "scopes": asked, "expires": time.time() + 3600}
        return json_response({"access_token": value, "expires_in": 3600, "token_type": "Bearer"})

    def watch(request: Request, user_id):
        return json_response(service.watch(box(request, user_id, METADATA, "watch"), read_json(request)))

    def stop(request: Request, user_id):
        service.stop(box(request, user_id, METADATA, "stop"))
        return json_response({}, 204)

    def profile(request: Request, user_id):
        mailbox = box(request, user_id, METADATA, "getProfile")
        return json_response({"emailAddress": mailbox.address, "messagesTotal": len(mailbox.messages),
                              "threadsTotal": len(mailbox.messages), "historyId": str(mailbox.history_id)})

    def history(request: Request, user_id):
        mailbox = box(request, user_id, METADATA, "history.list")
        size = min(max(int(request.args.get("maxResults", 100) or 100), 1), 500)
        return json_response(service.history(mailbox, request.args.get("startHistoryId"),
                                             request.args.get("labelId"), request.args.getlist("historyTypes"),
                                             size, request.args.get("pageToken")))

    def list_messages(request: Request, user_id):
        mailbox = box(request, user_id, METADATA, "messages.list")
        size = min(max(int(request.args.get("maxResults", 100) or 100), 1), 500)
        return json_response(service.list_messages(mailbox, request.args.getlist("labelIds"),
                                                   request.args.get("q", ""), size, request.args.get("pageToken")))

    def get_message(request: Request, user_id, message_id):
        fmt = request.args.get("format", "full")
        mailbox = box(request, user_id, METADATA if fmt in ("minimal", "metadata") else READ, "messages.get")
        with service.lock:
            stored = dict(service.message(mailbox, message_id))
        raw = base64.urlsafe_b64decode(stored["raw"])
        parsed = message_from_bytes(raw, policy=READ_POLICY)
        body = {k: stored[k] for k in ("id", "threadId", "labelIds", "historyId", "internalDate", "sizeEstimate")}
        body["snippet"] = _snippet(parsed)
        if fmt == "raw":
            body["raw"] = stored["raw"]
        elif fmt == "full":
            body["payload"] = _payload(parsed, "", message_id)
        elif fmt == "metadata":
            wanted = {h.lower() for h in request.args.getlist("metadataHeaders")}
            body["payload"] = {"mimeType": parsed.get_content_type(), "headers": [
                {"name": k, "value": _text(v)} for k, v in parsed.items() if not wanted or k.lower() in wanted]}
        elif fmt != "minimal":
            raise GoogleError("INVALID_ARGUMENT", f"Invalid value for format: {fmt}")
        return json_response(body)

    def attachment(request: Request, user_id, message_id, attachment_id):
        mailbox = box(request, user_id, READ, "messages.attachments.get")
        with service.lock:
            stored = service.message(mailbox, message_id)
        try:
            owner, _, part_id = base64.urlsafe_b64decode(attachment_id + "==").decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            owner, part_id = "", ""
        parsed = message_from_bytes(base64.urlsafe_b64decode(stored["raw"]), policy=READ_POLICY)
        part = _find_part(parsed, "", part_id) if owner == message_id else None
        if part is None or (part.is_multipart() and not _attached_mail(part)):
            raise GoogleError("INVALID_ARGUMENT", "Invalid attachment token")
        data = _part_bytes(part)
        return json_response({"attachmentId": attachment_id, "size": len(data), "data": _b64(data)})

    def modify(request: Request, user_id, message_id):
        mailbox = box(request, user_id, MODIFY, "messages.modify")
        body = read_json(request)
        return json_response(service.modify(mailbox, message_id, list(body.get("addLabelIds") or []),
                                            list(body.get("removeLabelIds") or [])))

    def batch_modify(request: Request, user_id):
        mailbox = box(request, user_id, MODIFY, "messages.batchModify")
        body = read_json(request)
        service.batch_modify(mailbox, [str(i) for i in body.get("ids") or []], list(body.get("addLabelIds") or []),
                             list(body.get("removeLabelIds") or []))
        return json_response({}, 204)

    def labels(request: Request, user_id):
        mailbox = box(request, user_id, METADATA + (SCOPE + "gmail.labels",), "labels.list")
        with service.lock:
            return json_response({"labels": list(mailbox.labels.values())})

    def create_label(request: Request, user_id):
        return json_response(service.create_label(box(request, user_id, LABELS, "labels.create"), read_json(request)))

    def delete_label(request: Request, user_id, label_id):
        service.delete_label(box(request, user_id, LABELS, "labels.delete"), label_id)
        return json_response({}, 204)

    # -- the stand-in's own side: mail arrives, history is forgotten ------------------------------
    def deliver(request: Request, address):
        raw = request.get_data()
        if request.content_type and request.content_type.startswith("application/json"):
            raw = base64.urlsafe_b64decode(read_json(request).get("raw", ""))
        message = service.deliver(address, raw, internal_date_source=request.args.get("internalDateSource",
                                                                                      "receivedTime"))
        return json_response(GmailService.stub(message) | {"historyId": message["historyId"]})

    def expire(request: Request, address):
        return json_response({"oldestHistoryId": str(service.expire_history(address))})

    def notify(request: Request, address):
        return json_response(service.notify(address))

    def state(request: Request, address):
        mailbox = service.ensure(address)
        with service.lock:
            return json_response({"historyId": mailbox.history_id, "watch": mailbox.watch,
                                  "labels": mailbox.labels, "published": service.published,
                                  "messages": [GmailService.stub(mailbox.messages[i]) for i in mailbox.order]})

    app.add("POST", "/token", token)
    app.add("POST", USER + "/watch", watch)
    app.add("POST", USER + "/stop", stop)
    app.add("GET", USER + "/profile", profile)
    app.add("GET", USER + "/history", history)
    app.add("GET", USER + "/messages", list_messages)
    app.add("GET", USER + "/messages/([^/]+)", get_message)
    app.add("GET", USER + "/messages/([^/]+)/attachments/([^/]+)", attachment)
    app.add("POST", USER + "/messages/batchModify", batch_modify)
    app.add("POST", USER + "/messages/([^/]+)/modify", modify)
    app.add("GET", USER + "/labels", labels)
    app.add("POST", USER + "/labels", create_label)
    app.add("DELETE", USER + "/labels/([^/]+)", delete_label)
    app.add("POST", r"/_emulator/users/([^/:]+)/messages", deliver)
    app.add("POST", r"/_emulator/users/([^/:]+):expireHistory", expire)
    app.add("POST", r"/_emulator/users/([^/:]+):notify", notify)
    app.add("GET", r"/_emulator/users/([^/:]+)", state)
    app.add("GET", "/", lambda request: json_response({"status": "ok", "service": "gmail"}))
    return app
