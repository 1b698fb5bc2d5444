"""The console's Flask app: settings, safety (bind address, sign-in, CSRF, Host check, headers),
the person's language, and the pages registered from their own modules."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response, abort, g, redirect, render_template, request, url_for
from markupsafe import Markup

from ackflow.app.audit import denied_by_iam
from ackflow.app.views import requester_label, shown_result
from ackflow.i18n import LANGUAGES, N_, Speaker, speaker_for

from . import recorded
from .cards import visible_bidi
from .signin import Guesses, Sessions

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "ackflow_csrf"
LANG_COOKIE = "ackflow_lang"
SESSION_COOKIE = "ackflow_console"
# Nothing from another host, ever (an office laptop may have no internet, and a page must not
# tell anyone what it shows): scripts and styles are the console's own files, no inline script
# or style attribute; images only the console's or data: (a card's image from elsewhere is a link).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; frame-src 'none'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


class ConsoleRefused(Exception):
    """The console will not start with these settings (e.g. a public address without sign-in)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ConsoleConfig:
    runtime: Runtime  # the store, queue and registry the console uses
    operator: str  # who acts, as the audit log records it
    host: str = "127.0.0.1"
    port: int = 8090
    language: str = "ja"
    time_zone: str = "Asia/Tokyo"
    auth_token: str = ""  # required when bound to anything but loopback
    chat_url: str = ""  # the local Chat service (dev): enables the browser chat
    chat_space: str = "spaces/console"
    page_size: int = 50
    poll_seconds: float = 2.0
    chat_waits: int = 8  # browser chat: long polls held at once (each holds a thread up to chat_wait_seconds)
    chat_wait_seconds: float = 20.0
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def check(self) -> ConsoleConfig:
        if not is_loopback(self.host) and len(self.auth_token) < 16:
            raise ConsoleRefused(
                f"the console would listen on {self.host}, beyond this machine: set an authentication token of "
                "at least 16 characters (--auth-token or ACKFLOW_CONSOLE_AUTH_TOKEN), or bind to 127.0.0.1")
        if self.language not in LANGUAGES:
            raise ConsoleRefused(f"language must be one of {', '.join(LANGUAGES)}")
        return self


def create_app(config: ConsoleConfig) -> Flask:
    config.check()
    app = Flask("ackflow_console", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config.update(SECRET_KEY=config.secret, SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", MAX_CONTENT_LENGTH=256 * 1024)
    app.extensions["ackflow_console"] = config
    app.jinja_env.autoescape = True  # every template, whatever its file name
    app.jinja_env.finalize = visible_bidi  # every value shown: bidi controls named, not obeyed
    app.jinja_env.globals.update(json_pretty=_json_pretty)
    from . import chat, jobs, mail, operate

    guesses = Guesses()  # wrong tokens per client address (the sign-in form and Bearer headers alike)
    sessions = Sessions()  # who signed in and has not signed out

    @app.before_request
    def guard():
        g.speaker = _speaker(config)
        g.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        _check_host(config)
        if not _asked_by_this_console():
            return Response("refused: a page of another site asked for this", 403, mimetype="text/plain")
        g.signed_in = bool(config.auth_token) and sessions.live(_session().get("sid"))
        if config.auth_token and request.endpoint not in ("login", "static") and not _signed_in(config, guesses):
            if request.method == "GET" and not request.path.startswith("/api/"):
                return redirect(url_for("login", next=request.full_path))
            abort(401)
        if request.method == "POST":
            _check_csrf()
        return None

    @app.after_request
    def headers(response):
        if request.cookies.get(CSRF_COOKIE) != g.get("csrf"):
            response.set_cookie(CSRF_COOKIE, g.csrf, httponly=True, samesite="Strict")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers without it
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")  # no-referrer makes Origin "null"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def texts():
        speaker: Speaker = g.speaker
        return {"_": speaker._, "n_": speaker.n_, "speaker": speaker, "csrf_token": g.csrf, "config": config,
                "shown_date": lambda value: shown_result(value, speaker),  # a damaged record's "date" as it is
                "type_label": lambda name: _type_label(config, name, speaker),
                "step_label": lambda name, step: _step_label(config, name, step, speaker),
                "case_status": lambda value: _case_status(value, speaker),
                "audit_said": lambda entry: recorded.audit_said(entry, speaker),
                "audit_target": lambda entry: _type_label(config, entry.target, speaker) if entry.action == "run-now"
                else recorded.audit_target(entry, speaker),  # run now: a job type, as the person calls it
                "error_of": lambda text: recorded.recorded_error(text, speaker),  # a job's page: with its traces
                "letter_error": lambda letter: recorded.letter_error(letter, speaker),
                "requester_label": lambda requester: requester_label(requester, speaker),
                "began": recorded.began, "slot_moment": recorded.slot_moment,
                "chat_enabled": bool(config.chat_url), "languages": LANGUAGES,
                "chat_space": lambda space: bool(chat.SPACE_RE.match(space or "")),  # one the browser chat opens
                "mail_unshown": lambda: mail.unshown_count(config.runtime)}

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error, status = "", 200
        if request.method == "POST":
            address = request.remote_addr or ""
            wait = guesses.wait(address)
            if wait:
                error, status = g.speaker._("Too many wrong tokens from this address: try again in {delay}.",
                                            delay=g.speaker.duration(wait)), 429
            elif config.auth_token and hmac.compare_digest(request.form.get("token", "").encode(),
                                                           config.auth_token.encode()):
                from flask import session

                guesses.right(address)
                session.clear()  # a new id for each sign-in: one planted before it names nothing
                session["sid"] = sessions.open()
                return redirect(local_path(request.args.get("next")))
            else:
                guesses.wrong(address)
                error, status = g.speaker._("That token is not the console's."), 401
        return render_template("login.html", error=error), status

    @app.route("/logout", methods=["POST"])
    def logout():
        from flask import session

        sessions.close(session.get("sid"))
        session.clear()
        return redirect(url_for("login") if config.auth_token else "/")

    @app.route("/lang/<language>", methods=["POST"])
    def language(language: str):
        response = redirect(local_path(request.form.get("next")))
        if language in LANGUAGES:
            response.set_cookie(LANG_COOKIE, language, samesite="Strict", max_age=365 * 86400)
        return response

    @app.route("/")
    def home():
        return redirect(url_for("jobs.index"))

    app.register_blueprint(jobs.blueprint)
    app.register_blueprint(operate.blueprint)
    app.register_blueprint(mail.blueprint)
    app.register_blueprint(chat.blueprint)
    _errors(app)
    _warm(app, config)
    return app


def _warm(app: Flask, config: ConsoleConfig) -> None:
    """Compile every template, load the job types, the texts and the calendar and number data of
    each language now: left to the first request, they took ~200 ms of the first jobs page a
    person opened (benchmarks/console.py). Nothing here reads the store."""
    _ = config.runtime.registry
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    for language in LANGUAGES:
        speaker = speaker_for(language, config.time_zone, default_language=config.language,
                              default_time_zone=config.time_zone)
        speaker.moment(0.0), speaker.date("2026-01-01"), speaker.number(1000), speaker.duration(1.0)


def _type_label(config: ConsoleConfig, name: str, speaker: Speaker) -> str:
    """A job type as the person calls it (新規案件 for newcase in Japanese), as the chat does."""
    from ackflow.app.views import type_name

    registry = config.runtime.registry
    return type_name(registry.get(name) if name in registry else None, name, speaker)


def _case_status(value, speaker: Speaker) -> str:
    """A case's status as the chat's ``case`` says it: as the office writes it (受付), with its word
    in English for an English reader (“received (受付)”)."""
    from workers.office.commands import status_name

    return status_name(value, speaker)


def _step_label(config: ConsoleConfig, name: str, step: str, speaker: Speaker) -> str:
    """A step of a job type by its title in the person's language, else its name."""
    registry = config.runtime.registry
    declared = next((s for s in registry.get(name).steps if s.name == step), None) if name in registry else None
    return speaker._(declared.title) if declared and declared.title else step


def console_config() -> ConsoleConfig:
    from flask import current_app

    return current_app.extensions["ackflow_console"]


def _speaker(config: ConsoleConfig) -> Speaker:
    return speaker_for(request.cookies.get(LANG_COOKIE) or config.language, config.time_zone,
                       default_language=config.language, default_time_zone=config.time_zone)


def _session():
    from flask import session

    return session


def _signed_in(config: ConsoleConfig, guesses: Guesses) -> bool:
    if g.signed_in:
        return True
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    address = request.remote_addr or ""
    if guesses.wait(address):
        abort(429)
    if hmac.compare_digest(header[7:].encode(), config.auth_token.encode()):
        return True
    guesses.wrong(address)
    return False


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path of this console, else ``default`` (where a form says to go next).
    A browser reads ``/\\evil.example`` and ``/<tab>/evil.example`` as ``//evil.example``, another
    host: it drops tabs and line breaks and takes a backslash for a slash, so neither is let through."""
    target = target or ""
    if not target.startswith("/") or target[1:2] == "/" \
            or any(c == "\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    return target


def actor_surface(config: ConsoleConfig) -> str:
    """The surface the audit log records: the console, and beyond loopback (where anyone with the
    token signs in as the console's operator) the address the request came from."""
    return "console" if is_loopback(config.host) else f"console {request.remote_addr or '?'}"


def _asked_by_this_console() -> bool:
    """Whether the browser's request comes from the console's own pages, a person typing its
    address or following a link (Fetch Metadata). A page of another site (or of another port of
    this machine) can make the browser ask for any console URL; it cannot read the answer, but
    the time it takes tells (``/jobs?requester=…`` answers faster when no job matches: a search
    of the office's jobs from any web page), and each search costs up to SEARCH_SECONDS here.
    Browsers that send no Fetch Metadata are left to the other checks."""
    site = request.headers.get("Sec-Fetch-Site")
    if site in (None, "same-origin", "none"):
        return True
    return (request.method == "GET" and request.headers.get("Sec-Fetch-Mode") == "navigate"
            and request.headers.get("Sec-Fetch-Dest", "document") == "document")


def _check_host(config: ConsoleConfig) -> None:
    """On loopback, answer only requests addressed to loopback (a page elsewhere cannot reach the
    console through a DNS name it points at 127.0.0.1)."""
    if not is_loopback(config.host):
        return
    host = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") \
        else request.host.split("]")[0] + "]"
    if not is_loopback(host):
        abort(400, description=g.speaker._("The console answers requests to 127.0.0.1 or localhost only."))


def _check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        abort(403, description=g.speaker._("The form's CSRF token is missing or stale: reload the page and try again."))
    origin = request.headers.get("Origin")
    if origin and origin != request.host_url.rstrip("/"):
        abort(403, description=g.speaker._("A form from another site was refused."))


def _json_pretty(value) -> Markup:
    import json

    from markupsafe import escape

    return Markup(escape(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)))


# What an error page says when nothing more precise was given (werkzeug's own descriptions are English)
STATUS_TEXTS = {400: N_("The request could not be read."), 401: N_("Sign in first."), 403: N_("Refused."),
                404: N_("There is no such page."), 405: N_("This address does not take that kind of request."),
                413: N_("The request is too large."), 414: N_("The address is too long."),
                429: N_("Too many requests: wait a minute and try again.")}


DEPLOY_ROLES = "docs/deploy.md#the-console-from-an-operators-machine-nothing-deployed"


def _errors(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from ackflow.errors import (
        AckflowError,
        ChatUnavailable,
        Conflict,
        JobNotFound,
        NotFound,
        NotSupported,
        QueueUnavailable,
        StoreUnavailable,
        Unavailable,
        UsageError,
    )

    def page(status: int, message: str, detail: str = ""):
        """``detail``: an error's own text (English, a vendor's answer) shown under the "Technical
        detail" label, never as the message."""
        if request.path.startswith("/api/") or request.path.endswith(".json") \
                or request.accept_mimetypes.best == "application/json":
            return {"error": message, **({"detail": detail} if detail else {})}, status
        return render_template("error.html", status=status, message=message, detail=detail), status

    def speaker() -> Speaker:
        return g.get("speaker") or _speaker(console_config())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        message = exc.description
        if not message or message == type(exc).description:  # werkzeug's own, in English
            message = speaker()._(STATUS_TEXTS.get(code, "Error"))
        return page(code, message)

    @app.errorhandler(AckflowError)
    def ackflow_error(exc: AckflowError):
        said = speaker()
        if isinstance(exc, JobNotFound):
            return page(404, said._("There is no job {job}.", job=exc.job_id))
        if isinstance(exc, UsageError):  # a person-facing message of its own
            return page(400, exc.render(said))
        if isinstance(exc, NotFound):
            return page(404, said._("What this page acts on is not there (any more)."), str(exc))
        if isinstance(exc, (Conflict, NotSupported)):
            return page(409, said._("This cannot be done now."), str(exc))
        if denied_by_iam(exc):  # a read-only operator's action: refused, not "try again later"
            return page(403, said._("The cloud refused this to your account (its IAM roles). The roles an "
                                    "operator needs: {doc}", doc=DEPLOY_ROLES))
        if isinstance(exc, Unavailable):  # the service's own answer is the detail: the person is told what to do
            if isinstance(exc, StoreUnavailable):
                message = said._("The job store did not answer just now: try again in a moment.")
            elif isinstance(exc, QueueUnavailable):
                message = said._("The queue service did not answer just now: try again in a moment.")
            elif isinstance(exc, ChatUnavailable):
                message = said._("Google Chat did not answer just now: try again in a moment.")
            else:
                message = said._("A service did not answer just now: try again in a moment.")
            return page(503, message, str(exc))
        return page(400, said._("This could not be done."), str(exc))
