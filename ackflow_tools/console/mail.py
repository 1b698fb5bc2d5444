"""The Mail page: the mails of the request mailbox whose card Chat refused for good (UNSHOWN), with
what their record knows, those asked to be shown again and not shown yet, and "show again" (one
mail, or all), which asks the worker's next sweep to post their cards (``workers.office.mail.unshown``:
the store only; the console never posts or labels itself)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from ackflow.errors import AckflowError

from .app import actor_surface, console_config
from .jobs import _confirmed

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

blueprint = Blueprint("mail", __name__)
LIMIT = 200  # mails listed (the longest unshown first; "show all again" reaches 500)


def unshown_count(runtime: Runtime) -> int | None:
    """UNSHOWN mails, for the menu (one count; only when the job types register the mail flow,
    else None: no Mail page in the menu)."""
    if "mail" not in runtime.registry.sweep_tasks:
        return None
    from workers.office.mail.records import MAIL, MailStatus

    try:
        return runtime.store.docs.count(MAIL, [("status", "==", MailStatus.UNSHOWN.value)])
    except AckflowError:
        return 0  # the menu still shows the page, which says what is wrong


@blueprint.route("/mail")
def index():
    from workers.office.mail.flow import UNSHOWN_RETRY_AFTER
    from workers.office.mail.records import MailRecords

    config = console_config()
    records = MailRecords(config.runtime.store.docs)
    return render_template("mail.html", unshown=records.unshown(limit=LIMIT), waiting=records.waiting(limit=LIMIT),
                           retry_after=UNSHOWN_RETRY_AFTER, now=time.time())


@blueprint.route("/mail/show-again", methods=["POST"])
def show_again():
    from workers.office.mail.unshown import RID_RE
    from workers.office.mail.unshown import show_again as ask

    config = console_config()
    speaker = g.speaker
    rid = request.form.get("mail", "")
    every = request.form.get("all") == "1"
    if every == bool(rid) or (rid and not RID_RE.match(rid)):
        abort(400, description=speaker._("Name one mail (mail) or all of them (all=1)."))
    question = (speaker._("Show every unshown mail again? The next sweep posts their cards in the office space.")
                if every else speaker._("Show mail {mail} again? The next sweep posts its card in the office space.",
                                        mail=rid))
    asked = _confirmed(speaker._("Show again"), question, url_for("mail.index"))
    if asked:
        return asked
    result = ask(config.runtime, None if every else [rid], config.operator, actor_surface(config))
    if result.reopened:
        flash(speaker.n_("{count} mail will be shown again by the next sweep.",
                         "{count} mails will be shown again by the next sweep.", len(result.reopened)))
    if result.waiting:
        flash(speaker.n_("{count} mail was already waiting for the sweep.",
                         "{count} mails were already waiting for the sweep.", len(result.waiting)))
    if result.shown:
        flash(speaker.n_("{count} mail is no longer unshown (shown, opened or ignored meanwhile): nothing to do.",
                         "{count} mails are no longer unshown (shown, opened or ignored meanwhile): nothing to do.",
                         len(result.shown)))
    if not (result.reopened or result.waiting or result.shown):
        flash(speaker._("No unshown mails."))
    return redirect(url_for("mail.index"))
