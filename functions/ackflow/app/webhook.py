"""The chat_webhook's logic: verify, parse, route, answer at once. Never waits for the work.

Status codes: 401 for a token that does not verify (nothing is stored), 400 for a body that is not
a Chat event (not JSON, nested too deep, a field of the wrong type…), 413 for a body larger than
any Chat event, 405 for other methods, and 200 for everything else: an event we do not handle gets
``{}`` (a 4xx would make Chat back off), and our own failures become a message to the person.
Error bodies say what was wrong in our words, never an exception's text.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..chat.events import ChatEvent, EventKind, MalformedEvent, parse_event
from ..chat.replies import Answer, Reply, for_platform, response_json
from ..errors import StoreUnavailable, VerificationError
from ..logs import TRACE, trace_from
from . import commands, confirm, views
from .http import MAX_BODY, BadBody, HttpRequest, HttpResponse, error, read_json
from .speech import speaker_of, with_known_client

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)


class Webhook:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        TRACE.set(trace_from(request.header("x-cloud-trace-context")))
        if request.method != "POST":
            return error(405, "POST Chat events here")
        if len(request.body) > MAX_BODY:
            return error(413, f"a Chat event is never larger than {MAX_BODY} bytes")
        try:
            self.runtime.chat_verifier.verify(request.header("authorization"))
        except VerificationError as exc:
            log.warning("rejected an event: %s", exc)
            return error(401, "the bearer token does not verify")
        try:
            event = parse_event(read_json(request.body or b"null"))
        except (BadBody, MalformedEvent) as exc:  # both say what is wrong in our own words
            log.warning("unreadable event: %s", exc)
            return error(400, f"not a Google Chat event: {exc}")
        reply = for_platform(self.answer(event), event.platform)
        log.info("answered %s", event.raw_type, extra={
            "event": event.kind.value, "space": event.space,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2)})
        return HttpResponse(200, response_json(reply, event.format, self.runtime.settings.webhook_url))

    def answer(self, event: ChatEvent) -> Answer | None:
        try:
            if event.kind != EventKind.REMOVED:  # the person's language, also when the event says none
                event = with_known_client(self.runtime, event)
            return self.route(event)
        except StoreUnavailable as exc:
            log.error("job store unavailable: %s", exc)
            reply = Reply(text=speaker_of(self.runtime, event)._(
                "Sorry, I could not reach the job store just now, so nothing was started. Please try again in a "
                "minute."))
        except Exception:
            log.exception("failed to answer a %s event", event.kind.value)
            reply = Reply(text=speaker_of(self.runtime, event)._(
                "Sorry, something went wrong on my side and nothing was started. The problem is logged; please try "
                "again."))
        if event.dialog:
            from .dialogs import in_dialog

            return in_dialog(event, reply)
        return reply

    def route(self, event: ChatEvent) -> Answer | None:
        runtime = self.runtime
        if event.dialog:  # a dialog opened, submitted or closed: answered with a dialog (imported when
            from .dialogs import on_dialog  # first needed: the webhook's cold start does not pay for forms)

            return on_dialog(runtime, event)
        if event.kind == EventKind.ADDED:
            speaker = speaker_of(runtime, event)
            return views.help_card(runtime.registry, commands.allowed_commands(runtime, event), speaker, speaker._(
                "Hello! I run the office's slow work for you: ask, confirm on the card, and I post progress and the "
                "result here."))
        if event.kind in (EventKind.MESSAGE, EventKind.COMMAND):
            return commands.handle_text(runtime, event)
        if event.kind == EventKind.CLICK:
            if event.action == "run":
                return confirm.on_run(runtime, event)
            if event.action == "cancel":
                return confirm.on_cancel(runtime, event)
            if event.action == "retry":
                return commands.on_retry_click(runtime, event)
            if event.action in runtime.registry.actions:
                return runtime.registry.actions[event.action](runtime, event)
        if event.kind == EventKind.REMOVED:
            log.info("removed from %s", event.space)
        return None
