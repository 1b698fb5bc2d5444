"""The console's Mail page, driven through Flask's client over a real SQLite store: the mails whose
card Chat refused for good are listed with what a mail says, escaped (a mail comes from anyone),
in English and Japanese; "show again" asks first, sends the mail back to the sweep once however
often it is pressed, and is in the audit log."""

from __future__ import annotations

import re
import time

from ackflow_tools.console.app import LANG_COOKIE, ConsoleConfig, create_app
from workers.office.mail.records import MailRecords, MailStatus

MAILBOX = "irai@office.example"
OPERATOR = "ops@example.com"
HOSTILE_SUBJECT = '<script>alert("subject")</script> お見積りのお願い'
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def unshown(runtime, mail_id: str, subject: str = HOSTILE_SUBJECT, **fields) -> dict:
    """What the mail flow leaves when Chat refused a mail's card for good."""
    records = MailRecords(runtime.store.docs)
    now = time.time()
    _, claimed = records.claim(MAILBOX, mail_id, "push-1", now, 60)
    return records.settle(claimed["id"], "push-1", MailStatus.UNSHOWN, now, label_due=False, space="spaces/gone",
                          reason='404 NOT_FOUND: <b>Space</b> "spaces/gone" not found', refusals=1, retry_due=True,
                          sender_name=HOSTILE_NAME, sender_address="yamada@acme.co.jp", subject=subject,
                          received_at=now - 3600, **fields)


def browser(runtime, language: str = "en"):
    client = create_app(ConsoleConfig(runtime=runtime, operator=OPERATOR, language=language)).test_client()
    client.get("/mail")  # the CSRF cookie
    return client


def csrf(client) -> str:
    return client.get_cookie("ackflow_csrf").value


def test_the_mail_page_lists_unshown_mails_escaped_and_the_menu_counts_them(runtime):
    record = unshown(runtime, "m-1")
    page = browser(runtime).get("/mail").get_data(as_text=True)
    row = re.search(rf'<tr data-mail="{record["id"]}">.*?</tr>', page, re.S).group(0)
    assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt; お見積りのお願い" in row
    assert "&lt;img src=x onerror=alert(1)&gt; &lt;yamada@acme.co.jp&gt;" in row
    assert "&lt;b&gt;Space&lt;/b&gt;" in row and "spaces/gone" in row
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert re.search(r'data-test="unshown-count"[^>]*>1<', page)
    assert 'data-test="show-all-again"' in page and 'name="mail" value="' + record["id"] in page


def test_the_mail_page_speaks_japanese(runtime):
    unshown(runtime, "m-1", subject="図面の件")
    client = browser(runtime)
    client.set_cookie(LANG_COOKIE, "ja")
    page = client.get("/mail").get_data(as_text=True)
    assert "チャットに表示されていないメール" in page and "もう一度表示" in page and "図面の件" in page
    assert "Not shown in Chat" not in page


def test_show_again_asks_first_then_sends_the_mail_back_once_and_is_audited(runtime):
    record = unshown(runtime, "m-1")
    records = MailRecords(runtime.store.docs)
    client = browser(runtime)
    asked = client.post("/mail/show-again", data={"csrf_token": csrf(client), "mail": record["id"]})
    assert asked.status_code == 200 and b'name="confirmed" value="1"' in asked.data
    assert records.get(record["id"])["status"] == "UNSHOWN" and runtime.store.list_audit() == []
    done = client.post("/mail/show-again", data={"csrf_token": csrf(client), "mail": record["id"], "confirmed": "1"},
                       follow_redirects=True)
    assert done.status_code == 200 and "1 mail will be shown again by the next sweep." in done.get_data(as_text=True)
    first = records.get(record["id"])
    # a claim whose holder is gone: the sweep's next pass takes it and posts the card
    assert first["status"] == "PROPOSING" and first["holder"] == "" and first["lease_until"] == 0
    assert first["reshow_by"] == OPERATOR and first["retry_due"] is False
    assert records.stalled(time.time() + 1) == [first]
    page = done.get_data(as_text=True)
    assert 'data-test="waiting"' in page and 'data-test="no-unshown"' in page
    again = client.post("/mail/show-again", data={"csrf_token": csrf(client), "mail": record["id"], "confirmed": "1"},
                        follow_redirects=True)
    assert "1 mail was already waiting for the sweep." in again.get_data(as_text=True)
    assert records.get(record["id"]) == first  # pressed twice: nothing more
    entries = runtime.store.list_audit()
    assert [(e.action, e.actor, e.surface, e.outcome) for e in entries] == [
        ("show-mail-again", OPERATOR, "console", "done")] * 2
    assert record["id"] in entries[-1].detail and "1 to show again" in entries[-1].detail
    assert "1 already waiting" in entries[0].detail
    audit = client.get("/audit").get_data(as_text=True)
    assert "show mail again" in audit


def test_show_all_again_reopens_every_unshown_mail_and_leaves_the_others(runtime):
    records = MailRecords(runtime.store.docs)
    first, second = unshown(runtime, "m-1"), unshown(runtime, "m-2")
    now = time.time()
    _, shown = records.claim(MAILBOX, "m-3", "push-2", now, 60)
    records.settle(shown["id"], "push-2", MailStatus.PROPOSED, now)
    client = browser(runtime)
    done = client.post("/mail/show-again", data={"csrf_token": csrf(client), "all": "1", "confirmed": "1"},
                       follow_redirects=True)
    assert "2 mails will be shown again by the next sweep." in done.get_data(as_text=True)
    assert {records.get(r["id"])["status"] for r in (first, second)} == {"PROPOSING"}
    assert records.get(shown["id"])["status"] == "PROPOSED" and records.get(shown["id"])["holder"] == "push-2"
    nothing = client.post("/mail/show-again", data={"csrf_token": csrf(client), "all": "1", "confirmed": "1"},
                          follow_redirects=True)
    assert "No unshown mails." in nothing.get_data(as_text=True)


def test_bad_requests_are_refused_with_a_4xx_and_change_nothing(runtime):
    record = unshown(runtime, "m-1")
    records = MailRecords(runtime.store.docs)
    client = browser(runtime)
    token = csrf(client)
    assert client.post("/mail/show-again", data={"mail": record["id"], "confirmed": "1"}).status_code == 403
    assert client.post("/mail/show-again", data={"csrf_token": token, "confirmed": "1"}).status_code == 400
    both = {"csrf_token": token, "mail": record["id"], "all": "1", "confirmed": "1"}
    assert client.post("/mail/show-again", data=both).status_code == 400
    odd = client.post("/mail/show-again", data={"csrf_token": token, "mail": "../x<b>", "confirmed": "1"})
    assert odd.status_code == 400 and b"<b>" not in odd.data
    missing = client.post("/mail/show-again", data={"csrf_token": token, "mail": "mail-" + "0" * 20,
                                                    "confirmed": "1"})
    assert missing.status_code == 404 and b"no mail" in missing.data
    assert records.get(record["id"])["status"] == "UNSHOWN"
    assert [e.outcome[:8] for e in runtime.store.list_audit()] == ["refused:"]  # the unknown mail, recorded


def test_the_audit_page_names_the_surface_of_an_action_in_japanese_not_as_a_start_date(runtime):
    """The column of where an action came from (console, CLI, chat) had the date filter's "From"
    (開始日, start date) as its Japanese heading."""
    record = unshown(runtime, "m-1")
    client = browser(runtime)
    client.post("/mail/show-again", data={"csrf_token": csrf(client), "mail": record["id"], "confirmed": "1"})
    client.set_cookie(LANG_COOKIE, "ja")
    page = client.get("/audit").get_data(as_text=True)
    heading = page[page.index("<thead>"):page.index("</thead>")]
    assert "経由" in heading and "開始日" not in heading
    assert 'data-label="経由">コンソール<' in page  # the surface too, in Japanese
