"""The REST surface of the local Chat service.

``/v1/spaces/...``: the Chat API paths an app calls (as the official client's REST transport
sends them). Certificates: where Google serves the Chat signer's and Google's ID-token keys.
``/_emulator/...``: the user side (send a message, click a button, open, submit and close a
dialog, add or remove the app, run an app command), app configuration, each person's client
(language, time zone, platform), Chat's write quotas (and injected 429s or late writes), and a
long-poll feed of what happens in a space; refusals of the next writes (`:refuse`: a 400 for a card
Chat does not take, a 401 for the app's credentials, 403, 404), and messages over Chat's 32,000 bytes
refused as Chat documents.

Every user-side body may name the ``user`` and give ``locale``, ``timeZone`` and ``platform`` for
that one action (else the person's, set with ``PUT /_emulator/users/{id}``, else the service's).
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from ackflow.auth.signing import CERTS_MAX_AGE

from ..web import GoogleError, Router, ints_for_enums, json_response, read_json
from .service import ChatService, render
from .userside import CHAT_ISSUER, UserSide

SPACE = r"spaces/[^/:]+"
MESSAGE = SPACE + r"/messages/[^/:]+"

DEFAULT_USER = {
    "name": "users/100000000000000000001",
    "displayName": "Dev User",
    "email": "dev@example.com",
    "type": "HUMAN",
    "domainId": "local",
}


def _bool(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _number(value, name: str):
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise GoogleError("INVALID_ARGUMENT", f"{name} must be a whole number.") from exc


def _user(body: dict) -> dict:
    user = dict(DEFAULT_USER)
    user.update(body.get("user") or {})
    user.setdefault("type", "HUMAN")
    return user


def _client(body: dict) -> dict:
    """What one action says about the person's client (``locale``, ``timeZone``, ``platform``)."""
    return {k: body[k] for k in ("locale", "timeZone", "platform") if k in body}


def _inputs(body: dict) -> dict:
    inputs = body.get("formInputs") or {}
    if not isinstance(inputs, dict):
        raise GoogleError("INVALID_ARGUMENT", "formInputs must be an object of inputs.")
    return inputs


def build_app(service: ChatService, users: UserSide) -> Router:
    app = Router()

    def out(message: dict, request: Request):
        return json_response(render(message, ints_for_enums(request)))

    # -- bot side --------------------------------------------------------------------------------
    def create(request, parent):
        args = request.args
        message = service.create_message(
            parent, read_json(request), message_id=args.get("messageId"),
            request_id=args.get("requestId"), reply_option=args.get("messageReplyOption"),
            thread_key=args.get("threadKey"))
        return out(message, request)

    def list_messages(request, parent):
        try:
            size = min(int(request.args.get("pageSize") or 25), 1000)
            offset = int(request.args.get("pageToken") or 0)
        except ValueError as exc:
            raise GoogleError("INVALID_ARGUMENT", "Invalid pageSize or pageToken.") from exc
        descending = "desc" in request.args.get("orderBy", "").lower()
        page = service.list_messages(parent, size + 1, offset, descending)
        body: dict = {"messages": [render(m, ints_for_enums(request)) for m in page[:size]]}
        if len(page) > size:
            body["nextPageToken"] = str(offset + size)
        return json_response(body if page else {})

    def get(request, name):
        return out(service.get_message(name), request)

    def update(request, name):
        mask = [p for p in request.args.get("updateMask", "").split(",") if p]
        message = service.update_message(name, read_json(request), mask,
                                         _bool(request.args.get("allowMissing")))
        return out(message, request)

    def delete(request, name):
        service.delete_message(name)
        return json_response({})

    app.add("POST", f"/v1/({SPACE})/messages", create)
    app.add("GET", f"/v1/({SPACE})/messages", list_messages)
    app.add("GET", f"/v1/({MESSAGE})", get)
    app.add("PATCH", f"/v1/({MESSAGE})", update)
    app.add("PUT", f"/v1/({MESSAGE})", update)
    app.add("DELETE", f"/v1/({MESSAGE})", delete)

    # -- certificates ----------------------------------------------------------------------------
    cache = {"Cache-Control": f"public, max-age={CERTS_MAX_AGE}, must-revalidate, no-transform"}

    def x509(request, email):
        if email != CHAT_ISSUER:
            raise GoogleError("NOT_FOUND", f"No keys for {email}.")
        return json_response(users.chat_signer.x509_document(), headers=cache)

    def jwk(request, email):
        if email != CHAT_ISSUER:
            raise GoogleError("NOT_FOUND", f"No keys for {email}.")
        return json_response(users.chat_signer.jwks_document(), headers=cache)

    app.add("GET", r"/service_accounts/v1/metadata/x509/([^/]+)", x509)
    app.add("GET", r"/service_accounts/v1/jwk/([^/]+)", jwk)
    app.add("GET", "/oauth2/v1/certs", lambda r: json_response(users.google_signer.x509_document(), headers=cache))
    app.add("GET", "/oauth2/v3/certs", lambda r: json_response(users.google_signer.jwks_document(), headers=cache))

    # -- user side and control -------------------------------------------------------------------
    def app_config(request):
        if request.method == "PUT":
            users.app.update(read_json(request))
        return json_response(users.app.to_dict())

    def send(request, space):
        body = read_json(request)
        if not isinstance(body.get("text"), str) or not body["text"].strip():
            raise GoogleError("INVALID_ARGUMENT", "text is required.")
        return json_response(users.send_message(
            space, _user(body), body["text"], thread=body.get("thread"),
            mention=bool(body.get("mention")), fmt=body.get("format"), client=_client(body)))

    def click(request, space):
        body = read_json(request)
        if not body.get("message") or not body.get("button"):
            raise GoogleError("INVALID_ARGUMENT", "message and button are required.")
        dialog_action = body.get("dialogAction")
        if dialog_action is not None and not isinstance(dialog_action, dict):
            raise GoogleError("INVALID_ARGUMENT", "dialogAction must be a button's onClick.action.")
        return json_response(users.click(space, _user(body), body["message"], body["button"],
                                         fmt=body.get("format"), form_inputs=_inputs(body),
                                         dialog_action=dialog_action, client=_client(body)))

    def submit_dialog(request, space):
        body = read_json(request)
        action = body.get("action")
        if action is None and not isinstance(body.get("button"), str):
            raise GoogleError("INVALID_ARGUMENT", "button (a label in the open dialog) or action is required.")
        if action is not None and not isinstance(action, dict):
            raise GoogleError("INVALID_ARGUMENT", "action must be a button's onClick.action.")
        return json_response(users.submit_dialog(space, _user(body), button=body.get("button"), action=action,
                                                 form_inputs=_inputs(body), fmt=body.get("format"),
                                                 client=_client(body)))

    def cancel_dialog(request, space):
        body = read_json(request)
        return json_response(users.cancel_dialog(space, _user(body), fmt=body.get("format"), client=_client(body)))

    def open_dialog(request, space):
        return json_response(users.open_dialog(space, request.args.get("user") or DEFAULT_USER["name"]))

    def user_client(request, user_id):
        name = f"users/{user_id}"
        if request.method == "PUT":
            return json_response(users.set_client(name, _client(read_json(request))).to_dict())
        return json_response(users.client({"name": name}).to_dict())

    def add(request, space):
        body = read_json(request)
        return json_response(users.add_to_space(space, _user(body), fmt=body.get("format"),
                                                display_name=body.get("displayName"),
                                                space_type=body.get("spaceType", "SPACE"), client=_client(body)))

    def remove(request, space):
        body = read_json(request)
        return json_response(users.remove_from_space(space, _user(body), fmt=body.get("format")))

    def command(request, space):
        body = read_json(request)
        if "commandId" not in body:
            raise GoogleError("INVALID_ARGUMENT", "commandId is required.")
        return json_response(users.app_command(
            space, _user(body), _number(body["commandId"], "commandId"), text=body.get("text", ""),
            command_type=body.get("commandType", "SLASH_COMMAND"), fmt=body.get("format"), client=_client(body)))

    def throttle(request, space):
        body = read_json(request)
        service.inject_429(space, _number(body.get("count", 1), "count"))
        return json_response({})

    def refuse(request, space):
        body = read_json(request)
        status = body.get("status", "INVALID_ARGUMENT")
        if status not in ("INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND"):
            raise GoogleError("INVALID_ARGUMENT", "status must be INVALID_ARGUMENT, UNAUTHENTICATED, "
                              "PERMISSION_DENIED or NOT_FOUND.")
        service.refuse(space, status, _number(body.get("count", 1), "count"), bool(body.get("cardsOnly", False)))
        return json_response({})

    def hold(request, space):
        body = read_json(request)
        try:
            seconds = float(body.get("seconds", 1.0))
        except (TypeError, ValueError) as exc:
            raise GoogleError("INVALID_ARGUMENT", "seconds must be a number.") from exc
        if not 0 <= seconds <= 60:
            raise GoogleError("INVALID_ARGUMENT", "seconds must be between 0 and 60.")
        service.hold(space, seconds, _number(body.get("count", 1), "count"))
        return json_response({})

    def quota(request):
        if request.method == "PUT":
            body = read_json(request)
            service.quotas.config.update(body)
            if body.get("reset"):
                service.quotas.reset()
        return json_response(service.quotas.to_dict())

    def changes(request, space):
        try:
            after = int(request.args.get("after") or 0)
            wait = min(float(request.args.get("wait") or 0), 55.0)
        except ValueError as exc:
            raise GoogleError("INVALID_ARGUMENT", "after and wait must be numbers.") from exc
        found = service.changes(space, after, wait)
        last = found[-1]["seq"] if found else after
        with service.lock:
            latest = service.storage.last_seq(space)
        return json_response({"changes": found, "last": last, "latest": latest})

    def space_of(request, space):  # what a client reads before it offers to create one (never creates)
        return json_response(service.get_space(space))

    def ensure_space(request, space):
        body = read_json(request)
        return json_response(service.ensure_space(space, body.get("displayName"),
                                                  body.get("spaceType", "SPACE")))

    app.add("GET", "/_emulator/app", app_config)
    app.add("PUT", "/_emulator/app", app_config)
    app.add("POST", f"/_emulator/({SPACE}):send", send)
    app.add("POST", f"/_emulator/({SPACE}):click", click)
    app.add("POST", f"/_emulator/({SPACE}):submitDialog", submit_dialog)
    app.add("POST", f"/_emulator/({SPACE}):cancelDialog", cancel_dialog)
    app.add("GET", f"/_emulator/({SPACE})/dialog", open_dialog)
    app.add("GET", r"/_emulator/users/([A-Za-z0-9_-]{1,64})", user_client)
    app.add("PUT", r"/_emulator/users/([A-Za-z0-9_-]{1,64})", user_client)
    app.add("POST", f"/_emulator/({SPACE}):addApp", add)
    app.add("POST", f"/_emulator/({SPACE}):removeApp", remove)
    app.add("POST", f"/_emulator/({SPACE}):appCommand", command)
    app.add("POST", f"/_emulator/({SPACE}):throttle", throttle)
    app.add("POST", f"/_emulator/({SPACE}):hold", hold)
    app.add("POST", f"/_emulator/({SPACE}):refuse", refuse)
    app.add("GET", "/_emulator/quota", quota)
    app.add("PUT", "/_emulator/quota", quota)
    app.add("GET", f"/_emulator/({SPACE})", space_of)
    app.add("PUT", f"/_emulator/({SPACE})", ensure_space)
    app.add("GET", f"/_emulator/({SPACE})/changes", changes)
    app.add("GET", "/", lambda r: json_response({"status": "ok", "service": "chat"}))
    return app
