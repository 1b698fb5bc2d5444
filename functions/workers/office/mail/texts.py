"""Every sentence the mail flow says to a person, by key, in the one message catalog
(functions/ackflow/i18n: English here, Japanese in the catalog). ``say`` fills the ``{name}``
placeholders in the language it is given (a Speaker, or a language code such as the office's
ACKFLOW_OFFICE_MAIL_LANGUAGE for the cards the whole space reads).
"""

from __future__ import annotations

from ackflow.i18n import N_, Speaker, speaker_for

TEXTS: dict[str, str] = {
    "card_title": N_("New request mail"),
    "from": N_("Sender"),
    "subject": N_("Subject"),
    "received": N_("Received"),
    "client": N_("Client"),
    "client_guess": N_("{client} (guessed)"),
    "client_unknown": N_("Unknown sender (no client in the case sheet matches)"),
    "client_unverified": N_("Not guessed: the sender is not verified (type the client in the form)"),
    "due": N_("Due (from the mail)"),
    "body": N_("Body (first lines)"),
    "html_only": N_("HTML-only mail (shown as text)"),
    "no_body": N_("(no text)"),
    "attachments": N_("Attachments"),
    "too_large": N_("too large, will not be saved"),
    "no_attachments": N_("No attachments"),
    "recipients": N_("Sent to {count:,} recipients"),
    "auth_failed": N_("⚠ The sender failed authentication ({checks}); it may be forged"),
    "truncated": N_("The mail's structure was too deep or wide; only part of it was read"),
    "open": N_("Open a case"),
    "ignore": N_("Ignore"),
    "open_anyway": N_("Open a case anyway"),
    "ignored_by": N_("Ignored by {who}"),
    "opening": N_("{who} asked for a case (job {job})"),
    "opened": N_("Became case {case} ({who})"),
    "folder": N_("Folder"),
    "already_opened": N_("This mail already became case {case} (job {job})."),
    "already_opening": N_("A case is being opened from this mail (job {job})."),
    "unknown_mail": N_("I no longer know the mail of this button."),
    "not_allowed": N_("You may not open cases here (newcase)."),
    "ignored_reply": N_("Ignored."),
    "confirm_from_mail": N_("Open a case from the mail “{subject}”"),
    "no_subject": N_("(no subject)"),
    "saved": N_("Saved the mail and {count} attachment(s) in 01_受領資料"),
    "not_saved": N_("Attachments not saved: {names}"),
    # why a file of the mail is not in the case folder (the newcase result card's “mail not saved”)
    "skip_gone": N_("{name}: deleted from the mailbox"),
    "skip_large": N_("{name}: {size:,} bytes, too large to save"),
    "skip_missing": N_("{name}: not found in the mail"),
    "filed_without_attachments": N_("{name}: the mail is {size:,} bytes, too large to file whole; filed "
                                    "without its attachments"),
    # why the mail's step of newcase failed (the job's failure card, in the requester's language)
    "mail_unknown": N_("the mail this case comes from is no longer known"),
    "not_from_card": N_("this job was not confirmed from the mail's own card"),
    "card_not_updated": N_("the mail's card could not be updated: {error}"),
}


def say(key: str, language: str | Speaker = "ja", **values) -> str:
    speaker = language if isinstance(language, Speaker) else speaker_for(language)
    return speaker._(TEXTS[key], **values)

# Gmail labels (names people see in Gmail; nested under "Ackflow")
LABEL_PENDING = "Ackflow/確認待ち"  # a card asks what to do with the mail
LABEL_DONE = "Ackflow/処理済"  # a case was opened from it, or a person chose to ignore it
LABEL_AUTOMATIC = "Ackflow/自動"  # an auto-reply or a list mail: Ackflow read it and showed no card
LABEL_UNSHOWN = "Ackflow/未表示"  # Chat refused its card for good (the space gone, the app removed): read it in Gmail
