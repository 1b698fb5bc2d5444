"""The browser chat (dev): a space of the local Chat service drawn as Google Chat draws it, with a
composer that sends messages and slash commands as a person, buttons that click, dialogs that open
and submit, and the app's later messages (progress, results) appearing as they are written.

The page is a Chat client: it reads the space's change feed and acts through the service's user
side (``/_emulator/...``), which signs events and POSTs them to the app as Chat does."""

from __future__ import annotations

import json
import logging
import re
import threading

import requests
from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from .app import console_config
from .cards import Renderer, message_html

log = logging.getLogger(__name__)
blueprint = Blueprint("chat", __name__)
WAITS = "ackflow.chat_waits"  # app.extensions key: the semaphore of the long polls held at once


@blueprint.record_once
def _bound_the_waits(state) -> None:
    state.app.extensions[WAITS] = threading.BoundedSemaphore(max(1, state.app.extensions["ackflow_console"].chat_waits))
SPACE_RE = re.compile(r"^spaces/[A-Za-z0-9_-]{1,64}$")
FORMATS = ("classic", "addon")
CLIENTS = ("WEB", "IOS", "ANDROID")  # common.platform
USER = {"name": "users/100000000000000000001", "displayName": "Dev User", "email": "dev@example.com"}


def _chat_url() -> str:
    url = console_config().chat_url
    if not url:
        abort(404, description=g.speaker._("The browser chat needs the local Chat service: run {command} (or pass "
                                           "{option}).", command="`ackflow dev`", option="--chat-url"))
    return url.rstrip("/")


def _space() -> str:
    space = (request.values.get("space") or console_config().chat_space).strip()
    if not SPACE_RE.match(space):
        abort(400, description=g.speaker._("\"{space}\" is not a space name (a name is like {example}).",
                                           space=_quoted(space), example="spaces/console"))
    return space


def _quoted(value: str) -> str:
    """A value a person sent, as an error quotes it: short, its controls shown as escapes."""
    shown = value if len(value) <= 80 else value[:80] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)


def _edited() -> str:
    return g.speaker._("edited")


def _person() -> dict:
    """Who acts in the browser chat, and their Chat client: the person reading the page, so the
    client's language (``userLocale``) and time zone are the page's, and the app answers them as
    it would answer that person in Google Chat."""
    speaker = g.speaker
    return {"user": USER, "locale": speaker.language, "timeZone": speaker.time_zone, "platform": _client() or "WEB"}


def _client() -> str:
    """The person's Chat client as the page's header chose it: "" (the web), IOS or ANDROID (a
    phone: the app's answers are the ones a phone gets)."""
    client = request.values.get("client") or ""
    if client and client not in CLIENTS:
        abort(400, description=g.speaker._("The client must be {web}, {ios} or {android}.", web="WEB", ios="IOS",
                                           android="ANDROID"))
    return "" if client == "WEB" else client


def _format() -> str | None:
    fmt = request.values.get("format") or None
    if fmt is not None and fmt not in FORMATS:
        abort(400, description=g.speaker._("The format must be {classic} or {addon}.", classic="classic",
                                           addon="addon"))
    return fmt


def _call(method: str, path: str, **kwargs) -> dict:
    url = _chat_url()
    try:
        response = requests.request(method, url + path, timeout=kwargs.pop("timeout", 60), **kwargs)
    except requests.RequestException as exc:
        # the person is told what failed, not the service's address or the connection's internals
        # (the log has them)
        log.warning("the local Chat service at %s did not answer %s %s: %s", url, method, path, exc)
        abort(502, description=g.speaker._("The local Chat service did not answer ({error}).",
                                           error=type(exc).__name__))
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        message = (body.get("error") or {}).get("message") or response.text[:300]
        return {"error": g.speaker._("The local Chat service refused it: {error}", error=_detail(message)),
                "refused": True, "status": response.status_code}
    return body


def _detail(text: str) -> str:
    """The Chat service's own words (English, as Google's are), quoted in the reader's sentence."""
    return " ".join(str(text).split())[:300]


def _app_error(text: str) -> str:
    """What Chat reported of the app (no answer in time, an answer it refuses), in the reader's
    language; the service's details quoted."""
    return g.speaker._("Google Chat would not show the app's answer: {error}", error=_detail(text))


def conversation(space: str) -> tuple[list[dict], int, list[str]]:
    """The latest version of every message in the space, oldest first; the feed's last sequence;
    the app errors seen (an answer Chat would refuse, an app that did not answer)."""
    messages: dict[str, dict] = {}
    errors: list[str] = []
    after, last = 0, 0
    while True:
        page = _call("GET", f"/_emulator/{space}/changes", params={"after": after})
        if "error" in page:
            break
        for change in page.get("changes", []):
            if change.get("kind") == "app-error":
                errors.append(_app_error(change.get("error", "")))
            message = change.get("message")
            if message and change.get("kind") == "deleted":
                messages.pop(message["name"], None)
            elif message:
                messages[message["name"]] = message
        last = page.get("last", after)
        if not page.get("changes"):
            break
        after = last
    ordered = sorted(messages.values(), key=lambda m: m.get("createTime", ""))
    return ordered, last, errors[-3:]


@blueprint.route("/chat")
def page():
    """The space's conversation. A GET changes nothing: a space the local Chat service does not
    have is not made here (a link or a typed name would make one); the page says so and offers to
    make it (a POST, with the console's CSRF token), and a message sent there makes it, as a
    person's first message does."""
    space = _space()
    fmt = _format() or ""
    known = _call("GET", f"/_emulator/{space}")
    missing = known.get("status") == 404
    messages, last, errors = ([], 0, []) if missing else conversation(space)
    if known.get("refused") and not missing:
        errors = [known["error"], *errors][-3:]
    edited = _edited()
    return render_template("chat.html", space=space, messages=[message_html(m, edited) for m in messages],
                           last=last, errors=errors, fmt=fmt, client=_client(), missing=missing)


@blueprint.route("/chat/space", methods=["POST"])
def create_space():
    """Make the space in the local Chat service (what the page of a space it lacks offers)."""
    space = _space()
    fmt = _format()
    made = _call("PUT", f"/_emulator/{space}", json={})
    if made.get("refused"):
        abort(502, description=made["error"])
    client = _client()
    return redirect(url_for("chat.page", space=space, **({"format": fmt} if fmt else {}),
                            **({"client": client} if client else {})))


@blueprint.route("/chat/messages")
def messages():
    space = _space()
    found, last, errors = conversation(space)
    edited = _edited()
    return jsonify({"html": str(Markup("").join(message_html(m, edited) for m in found)), "last": last,
                    "errors": errors})


@blueprint.route("/api/chat/wait")
def wait():
    """Hold the request until something happens in the space (at most ``chat_wait_seconds``): the
    page then asks for the conversation again. Each held request holds a thread of the console, so
    only ``chat_waits`` are held at once; one more is told to come back (503, Retry-After), which
    the page does after its poll interval."""
    space = _space()
    try:
        after = max(0, int(request.args.get("after", "0")))
    except ValueError:
        abort(400, description=g.speaker._("{name} must be a whole number.", name="after"))
    _chat_url()
    waits = current_app.extensions[WAITS]
    if not waits.acquire(blocking=False):
        answer = jsonify({"last": after, "changed": False,
                          "error": g.speaker._("Too many pages are waiting; this one asks again shortly.")})
        answer.status_code, answer.headers["Retry-After"] = 503, "2"
        return answer
    try:
        held = console_config().chat_wait_seconds
        page = _call("GET", f"/_emulator/{space}/changes", params={"after": after, "wait": held}, timeout=held + 10)
    finally:
        waits.release()
    return jsonify({"last": page.get("last", after), "changed": bool(page.get("changes"))})


def _posted(result: dict) -> str:
    """The name of the message a person's send posted (a dialog opened by it is submitted on it)."""
    event = result.get("event") or {}
    message = event.get("message") or {}
    for payload in (event.get("chat") or {}).values():
        if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
            message = payload["message"]
    return message.get("name", "")


def _answer(result: dict, message: str) -> dict:
    """What the page needs of an exchange: an error, a dialog to show (again), an error to show in
    the open dialog, or that the dialog closed (with the app's notice, if it gave one)."""
    out: dict = {}
    reply = result.get("reply") or {}
    if result.get("error") and reply.get("action") not in ("dialog", "dialog-closed"):
        out["error"] = result["error"] if result.get("refused") else _app_error(result["error"])
    if reply.get("action") == "dialog":
        out["dialog"] = Renderer(message, dialog=True).card(reply.get("dialog") or {})
    elif reply.get("action") == "dialog-error":
        out["error"] = reply.get("notice") or g.speaker._("The app refused the dialog's submit.")
    elif reply.get("action") in ("dialog-closed", "created", "updated"):
        out["closed"] = True
        if reply.get("notice"):
            out["notice"] = reply["notice"]
    return out


@blueprint.route("/chat/send", methods=["POST"])
def send():
    space = _space()
    text = (request.form.get("text") or "").strip()
    if not text:
        abort(400, description=g.speaker._("Type a message first."))
    body = {"text": text[:4096], **_person()}
    if _format():
        body["format"] = _format()
    result = _call("POST", f"/_emulator/{space}:send", json=body)
    return jsonify(_answer(result, _posted(result)))


@blueprint.route("/chat/click", methods=["POST"])
def click():
    space = _space()
    message, button = request.form.get("message", ""), request.form.get("button", "")
    if not button or (request.form.get("dialog") != "1" and not message.startswith(space + "/messages/")):
        abort(400, description=g.speaker._("A click names the message and the button."))
    body: dict = {"message": message, "button": button, **_person()}
    if _format():
        body["format"] = _format()
    if request.form.get("dialog") == "1":  # a button of the open dialog: submitted with its inputs
        try:
            inputs = json.loads(request.form.get("formInputs") or "{}")
        except ValueError:
            abort(400, description=g.speaker._("The dialog's inputs are not JSON."))
        if not isinstance(inputs, dict):
            abort(400, description=g.speaker._("The dialog's inputs must be a JSON object."))
        body = {"button": button, "formInputs": inputs, **_person(), **({"format": _format()} if _format() else {})}
        return jsonify(_answer(_call("POST", f"/_emulator/{space}:submitDialog", json=body), message))
    return jsonify(_answer(_call("POST", f"/_emulator/{space}:click", json=body), message))


@blueprint.route("/chat/cancel", methods=["POST"])
def cancel():
    """The dialog's close icon: the app hears CANCEL_DIALOG (nothing open is not an error here)."""
    space = _space()
    result = _call("POST", f"/_emulator/{space}:cancelDialog", json=_person())
    return jsonify({"closed": True, **({"notice": result["reply"].get("notice")} if result.get("reply") else {})})
