"""Cloud Functions (functions-framework, Flask) ↔ the core's HttpRequest/HttpResponse.

Also holds the per-process Runtime: built on the first request (or by a warm-up thread at start),
kept for the life of the instance, as Cloud Functions recommends for clients and caches.

``serve`` is the one way in: it reads at most one byte more than ``MAX_BODY`` (the handler answers
413 to that), and an exception that escapes the handler becomes a logged traceback and a 500 that
says only that, never Flask's page or the exception's text.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from ..app.http import MAX_BODY, HttpRequest, HttpResponse, error

log = logging.getLogger(__name__)
_lock = threading.Lock()
_runtime = None


def runtime():
    """The process's Runtime, from the environment's settings (created once)."""
    global _runtime
    with _lock:
        if _runtime is None:
            from .. import logs
            from ..app.runtime import Runtime
            from ..settings import load_settings

            settings = load_settings().check()
            logs.configure(settings.log_format, settings.log_level, settings.project)
            # the webhook's store bounded (a person waits, Chat for 30 s); the worker's is not
            webhook = os.environ.get("FUNCTION_TARGET") == "chat_webhook"
            _runtime = Runtime(settings, store_timeout=settings.store_timeout if webhook else None)
        return _runtime


def from_flask(request) -> HttpRequest:
    body = request.stream.read(MAX_BODY + 1)  # never more: a bigger body is refused, not buffered
    return HttpRequest.build(request.method, request.path, request.headers, body)


def serve(request, handle: Callable[[HttpRequest], HttpResponse]):
    """Convert the Flask request, delegate to ``handle``, convert back; nothing escapes as a raw 500."""
    try:
        response = handle(from_flask(request))
    except Exception:
        log.exception("unhandled error while serving %s %s", request.method, request.path)
        response = error(500, "internal error; it is logged")
    return to_flask(response)


def to_flask(response: HttpResponse):
    body, headers = response.encoded()
    return body, response.status, headers


def _forget_after_fork() -> None:
    # gunicorn imports the function in its master and then forks workers. The warm-up runs in
    # each worker after the fork: a thread in the master could be mid-import or hold a lock at the
    # moment of the fork, and the child would inherit that state with no thread to finish it.
    global _lock, _runtime
    _lock = threading.Lock()
    _runtime = None
    for target in _warm_targets:
        _start_warm_up(target)


_warm_targets: list[str] = []
os.register_at_fork(after_in_child=_forget_after_fork)


def warm_up_in_background(target: str) -> None:
    """Build the runtime and do the one-time set-up (clients, certificates) off the request path,
    in each server worker process as soon as it is forked.

    Only for the function this process serves (``FUNCTION_TARGET``, set by Cloud Functions and by
    ``ackflow dev``), since one source archive holds both functions.
    """
    serving = os.environ.get("FUNCTION_TARGET")
    if serving != {"webhook": "chat_webhook", "worker": "worker"}[target]:
        return
    _warm_targets.append(target)  # started in each forked worker (see _forget_after_fork)


def _start_warm_up(target: str) -> None:
    def work():
        try:
            rt = runtime()
            if target == "webhook":
                rt.registry, rt.access, rt.store  # noqa: B018 - touching them builds them
                rt.chat_verifier.warm_up()
                rt.queue.warm_up()
            else:
                rt.registry, rt.store, rt.services  # noqa: B018
                rt.worker_verifier.warm_up()
                rt.chat.warm_up()
        except Exception:  # the first request will raise it properly
            log.exception("warm-up failed")

    threading.Thread(target=work, name="ackflow-warm-up", daemon=True).start()
