"""Hostile mails, each with its expected outcome: read as the Gmail adapter reads them (the payload
Gmail's format=full gives, as the stand-in builds it from the raw mail), then summarized."""

from __future__ import annotations

import base64
import datetime as dt
from email import message_from_bytes

import pytest

from ackflow_tools.emulators.gmail.api import READ_POLICY, _payload
from tests.support.mail import mail
from workers.office.mail.card import mail_card
from workers.office.mail.gmail import _headers, _leaves
from workers.office.mail.mailbox import Mail
from workers.office.mail.parse import decode_words, due_date, summarize

LIMIT = 1000


def read(raw: bytes):
    payload = _payload(message_from_bytes(raw, policy=READ_POLICY), "", "m1")
    parts: list = []
    truncated = _leaves(payload, parts, 0)
    parsed = Mail(id="m1", history_id="1", size=len(raw), received_at=0, headers=_headers(payload["headers"]),
                  parts=tuple(parts), truncated=truncated)
    return summarize(parsed, max_attachment_bytes=LIMIT)


def test_a_plain_request_is_read_as_written():
    summary = read(mail(attachments=(("図面.pdf", b"%PDF" * 10, "application/pdf"),)))
    assert summary.sender_name == "山田 太郎" and summary.sender_domain == "acme.co.jp"
    assert summary.subject == "プレス金型 A-12 のお見積りのお願い" and not summary.automatic
    assert [a.name for a in summary.attachments] == ["図面.pdf"] and not summary.auth_failure
    assert "納期: 2026年12月1日" in summary.preview


def test_a_line_separator_in_a_subject_or_a_name_reads_as_a_space():
    """U+2028/U+2029 are no control characters: kept, a subject's line separator made the title the
    form is filled in with one that the form then refused (a line break), and a client's name two
    lines in the sheet and the cards."""
    from ackflow.jobs.params import Param
    from workers.office.mail.actions import case_params

    def encoded(text: str) -> str:  # as a mail carries it: Python's writer refuses such a header unencoded
        return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="

    summary = read(mail(encoded("プレス金型\u2028A-12\u2029のお見積り"),
                        sender=encoded("山田\u2028工業") + " <yamada@acme.co.jp>", body="納期\u20282026年12月1日"))
    assert summary.subject == "プレス金型 A-12 のお見積り" and summary.sender_name == "山田 工業"
    assert "\u2028" not in summary.preview
    params = case_params({"id": "m1", "title": summary.title, "sender_name": summary.sender_name})
    assert Param("title", max_length=200).convert(params["title"]) == "プレス金型 A-12 のお見積り"
    assert Param("client", max_length=60).convert(params["client"]) == "山田 工業"


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "_.._etc_passwd"),
    ("..\\..\\boot.ini", "_.._boot.ini"),
    ("/etc/shadow", "_etc_shadow"),
    ("bell\x07\x1b[31m.pdf", "bell[31m.pdf"),
    ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override hiding the real extension
    ("CON.txt", "_CON.txt"),
    ("...", "attachment-1"),
])
def test_hostile_attachment_names_become_one_safe_component(name, expected):
    summary = read(mail(attachments=((name, b"x", "application/octet-stream"),)))
    saved = summary.attachments[0].name
    assert saved == expected
    assert "/" not in saved and "\\" not in saved and saved not in ("", ".", "..")


def test_a_300_character_name_is_cut_keeping_its_extension_and_colliding_names_get_numbers():
    long = "長" * 300 + ".pdf"
    summary = read(mail(attachments=((long, b"1", "application/pdf"), ("a.pdf", b"2", "application/pdf"),
                                     ("A.pdf", b"3", "application/pdf"), ("a.pdf", b"4", "application/pdf"),
                                     ("長" * 299 + "短.pdf", b"5", "application/pdf"))))  # cut, it is the first's
    names = [a.name for a in summary.attachments]
    assert names[0].endswith(".pdf") and len(names[0].encode()) <= 120
    assert names[1:4] == ["a.pdf", "A (2).pdf", "a (3).pdf"]  # names differing only in case collide too
    assert names[4].endswith(" (2).pdf") and len(names[4].encode()) <= 120  # numbered, still within 120 bytes
    assert len({n.lower() for n in names}) == 5


def test_an_attachment_over_the_limit_is_noted():
    summary = read(mail(attachments=(("big.bin", b"x" * (LIMIT + 1), "application/octet-stream"),
                                     ("small.bin", b"x", "application/octet-stream"))))
    assert [a.too_large for a in summary.attachments] == [True, False]


def test_an_html_only_body_is_shown_as_its_text_never_as_markup():
    html = ('<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>'
            '<p>お見積りを<b>お願い</b>します</p><a href="https://evil.example">ここをクリック</a>'
            '<img src=x onerror=alert(2)></body></html>')
    summary = read(mail(body=None, html=html))
    assert summary.html_only
    assert "お見積りをお願いします" in summary.preview and "ここをクリック" in summary.preview
    assert "<" not in summary.preview and "alert" not in summary.preview and "color" not in summary.preview
    card = str(mail_card({"id": "mail-x", **summary.__dict__, "attachments": []}).card)
    assert "<script" not in card and "<a href" not in card


@pytest.mark.parametrize("tag", ["div", "p", "li"])
def test_an_html_body_nested_as_deep_as_it_is_long_is_read_in_a_moment(tag):
    """200,000 characters of ``<div><div>…`` (as much HTML as is read at all) cost minutes when each
    block's line break was inserted into the tree (each insert walks the block's subtree): longer
    than the mail's lease and Pub/Sub's ack deadline (120 s), so every delivery was taken over
    before it ended and the mail, and every mail after it, waited forever."""
    import time

    html = f"<{tag}>" * (199_000 // (len(tag) + 2)) + "お見積りをお願いします"
    started = time.process_time()  # the CPU it costs (about 1 s): a loaded machine's wall clock is not the code's
    summary = read(mail(body=None, html=html))
    assert time.process_time() - started < 15
    assert summary.html_only and summary.preview == "お見積りをお願いします"


def test_a_card_escapes_what_the_mail_says():
    summary = read(mail('<a href="https://evil.example">請求書</a>', sender='"<b>Boss</b>" <boss@evil.example>',
                        body="<script>alert(1)</script>"))
    from ackflow.chat.cards import render_card
    from ackflow.chat.events import EventFormat

    rendered = str(render_card(mail_card({"id": "mail-x", **summary.__dict__, "attachments": []}).card,
                               EventFormat.CLASSIC, "https://x"))
    assert "<a href=\"https://evil" not in rendered and "<script>" not in rendered and "<b>Boss" not in rendered
    assert "&lt;a href=" in rendered and "&lt;script&gt;" in rendered


def test_thousands_of_recipients_are_counted_not_listed():
    to = ", ".join(f"user{n}@example.com" for n in range(5000))
    summary = read(mail(to=to))
    assert summary.recipients == 5000
    card = str(mail_card({"id": "mail-x", **summary.__dict__, "attachments": []}).card)
    assert "5,000" in card and "user4999@example.com" not in card


@pytest.mark.parametrize("header", ["From", "To", "Cc"])
def test_an_address_header_nested_past_pythons_parser_still_makes_a_card(header):
    """2,000 nested comments ``((((…`` in an address header made Python's address parser recurse
    past its limit: the whole mail was skipped as unreadable (no card, no label, a line in a log)."""
    headers = {"From": "yamada@acme.co.jp", "To": "irai@office.example", "Cc": "sato@acme.co.jp",
               header: "(" * 2000 + "x@acme.co.jp"}
    raw = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Subject: mitsumori\r\n\r\nplease\r\n"
    summary = read(raw.encode())
    assert summary.subject == "mitsumori" and summary.preview == "please"
    assert summary.recipients >= 1
    if header != "From":
        assert summary.sender_address == "yamada@acme.co.jp"


@pytest.mark.parametrize("headers, why", [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"List-Id": "<news.acme.co.jp>"}, "List-Id"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "list"}, "Precedence: list"),
])
def test_auto_replies_and_lists_are_recognised(headers, why):
    assert read(mail(headers=headers)).automatic == why


def test_auto_submitted_no_is_a_person():
    assert read(mail(headers={"Auto-Submitted": "no"})).automatic == ""


def test_failed_authentication_is_flagged_only_from_the_receiving_server():
    failed = read(mail(auth="mx.google.com; spf=softfail smtp.mailfrom=acme.co.jp; dkim=fail; dmarc=fail"))
    assert failed.auth_failure == "spf=softfail, dkim=fail, dmarc=fail"
    # a sender's own header claiming success above a failing one from a server we do not trust
    forged = read(mail(auth="evil.example; spf=pass; dkim=pass"))
    assert forged.auth_failure == ""
    lied = mail(auth="mx.google.com; spf=fail smtp.mailfrom=acme.co.jp",
                headers={"Authentication-Results": "mx.google.com.evil.example; spf=pass"})
    assert read(lied).auth_failure == "spf=fail"


@pytest.mark.parametrize("raw", [
    b"From: a@b.example\r\nSubject: =?x-unknown?B?!!!?=\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
    b"--zz\r\nContent-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"@@@not base64@@@\r\n--zz\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''%E5%9B%B3%E9%9D%A2.pdf\r\n\r\n%PDF\r\n",  # no closing
    b"Subject: no blank line and no body",
    b"\x00\xff\xfe garbage that is not a mail at all",
    b"Content-Type: multipart/mixed\r\n\r\nno boundary given\r\n",
])
def test_malformed_mime_is_read_without_raising(raw):
    summary = read(raw)
    assert isinstance(summary.preview, str)
    for attachment in summary.attachments:
        assert "/" not in attachment.name


def test_deep_nesting_is_read_up_to_a_bound():
    inner = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for depth in range(60):
        boundary = f"b{depth}".encode()
        inner = (b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary + b"\r\n"
                 + inner + b"\r\n--" + boundary + b"--\r\n")
    summary = read(b"From: a@b.example\r\nSubject: deep\r\n" + inner)
    assert "structure" in " ".join(summary.notes)


@pytest.mark.parametrize("text, expected", [
    ("納期: 2026年12月1日", "2026-12-01"),
    ("納期は 12月1日 でお願いします", "2026-12-01"),
    ("希望納期 2026/3/15", "2026-03-15"),
    ("deadline: 2/1", "2027-02-01"),
    ("12月1日に打ち合わせ", None),  # a date without a word that makes it a due date
    ("納期: 2026年13月40日", None),
    # the era, as business mail in Japan often writes the year (read as None: the form's due was empty)
    ("納期: 令和8年12月1日", "2026-12-01"), ("納期：令和９年１月５日（火）", "2027-01-05"),
    ("納期 R8.12.1", "2026-12-01"), ("締切: R9/1/5", "2027-01-05"), ("納期: 令和元年5月1日", "2019-05-01"),
])
def test_due_dates_the_mail_states(text, expected):
    assert due_date(text, dt.date(2026, 11, 28)) == expected


def encoded(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


@pytest.mark.parametrize("word", ["=?a\x00b?B?5bGx?=", "=?idna?B?5bGx?=", "=?base64?B?5bGx?=", "=?x-nope?B?5bGx?="])
def test_an_encoded_word_in_a_charset_python_cannot_use_reads_as_utf8(word):
    assert decode_words(word + " です") == "山 です"


def test_broken_encoded_words_are_shown_as_written_never_raised():
    """A word whose base64 is broken (HeaderParseError) or whose charset has no name (CharsetError):
    each used to raise from the mail's summary, so the mail was never settled and every delivery
    (and the sweep) stopped at it."""
    raw = (b"From: =?utf-8?b?5bGx55SwIOWkqumDjg=\xd5?= <yamada@acme.co.jp>\r\nSubject: =?utf-8?b?44OX4^Os44K5?=\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
           b"--b\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename=\"=?u\xc1f-8?b?5bGx?=.pdf\"\r\n\r\n%PDF\r\n--b--\r\n")
    summary = read(raw)
    assert summary.subject == "=?utf-8?b?44OX4^Os44K5?=" and summary.sender_address == "yamada@acme.co.jp"
    assert summary.preview == "body" and len(summary.attachments) == 1


@pytest.mark.parametrize("sender", [
    encoded("山田 <yamada@acme.co.jp>") + " <attacker@evil.example>",
    encoded("yamada@acme.co.jp") + " <attacker@evil.example>",
    encoded('"山田 <yamada@acme.co.jp>"') + " <attacker@evil.example>",
    '"山田 <yamada@acme.co.jp>" <attacker@evil.example>',
])
def test_a_name_that_decodes_to_an_address_never_becomes_the_sender(sender):
    """Gmail's API gives the From header decoded: the address is the one that ends it, so the card's
    sender and its client guess (by domain) are the forger's, not the client the name imitates."""
    summary = read(mail(sender=sender))
    assert summary.sender_address == "attacker@evil.example" and summary.sender_domain == "evil.example"
    assert "yamada@acme.co.jp" in summary.sender_name  # shown as the name it is


@pytest.mark.parametrize("results, flagged", [
    # a signature of the forger's own domain, listed first (the sender orders the signatures)
    ("dkim=pass header.i=@evil.example; dkim=fail header.i=@acme.co.jp; spf=pass", "dkim=fail"),
    ("dkim=pass header.d=evil.example; dkim=fail (bad signature) header.d=acme.co.jp", "dkim=fail"),
    # a list's signature broken in passing, the sender's own one intact: nothing to say
    ("dkim=fail header.d=lists.example; dkim=pass header.i=yamada@acme.co.jp; spf=pass", ""),
    ("dkim=fail header.d=lists.example; dkim=pass header.d=mail.acme.co.jp", "dkim=fail"),  # not a parent
])
def test_a_failed_dkim_signature_counts_unless_the_senders_own_domain_passed(results, flagged):
    assert read(mail(auth=f"mx.google.com; {results}")).auth_failure == flagged


def test_the_due_date_the_mail_states_is_shown_as_people_read_dates():
    summary = read(mail())
    record = {"id": "mail-x", **summary.__dict__, "attachments": [], "due": "2026-12-01"}
    assert "2026年12月1日(火)" in str(mail_card(record, "ja").card) and "2026-12-01" not in str(mail_card(record).card)
    assert "1 Dec 2026" in str(mail_card(record, "en").card)


def test_a_mail_attached_to_the_mail_is_one_attachment_named_as_a_mail():
    """A request forwarded as an attachment (message/rfc822): Gmail gives it as one attachment; its
    own parts are neither the mail's text nor attachments of their own."""
    from email.message import EmailMessage

    inner = message_from_bytes(mail("転送元の依頼", attachments=(("in.pdf", b"%PDF", "application/pdf"),)))
    for filename, expected in (("依頼.eml", "依頼.eml"), ("依頼", "依頼.eml"), (None, "attachment-1.eml")):
        outer = EmailMessage()
        outer["From"], outer["Subject"] = "b@acme.co.jp", "Fwd: 依頼"
        outer.set_content("転送します")
        outer.add_attachment(inner, **({"filename": filename} if filename else {}))
        summary = read(outer.as_bytes())
        assert [a.name for a in summary.attachments] == [expected] and summary.preview == "転送します"
        assert summary.attachments[0].mime_type == "message/rfc822" and summary.attachments[0].handle


@pytest.mark.parametrize("charset, encode", [
    ("Shift_JIS", lambda text: text.encode("cp932")),
    ("ISO-2022-JP", lambda text: text.replace("㈱", "\x00").replace("①", "\x01").encode("iso2022_jp")
     .replace(b"\x00", b"\x1b$B-j\x1b(B").replace(b"\x01", b"\x1b$B-!\x1b(B")),  # NEC ㈱ and ①, as Outlook writes
    ("EUC-JP", lambda text: text.replace("㈱", "\x00").replace("①", "\x01").encode("euc_jp")
     .replace(b"\x00", b"\xad\xea").replace(b"\x01", b"\xad\xa1")),
])
def test_japanese_mail_with_windows_characters_reads_as_written(charset, encode):
    """㈱ and ① in mail labelled Shift_JIS, ISO-2022-JP or EUC-JP (Windows' characters, in most
    Japanese business mail): Python's codecs of those names made each a "�" (and Shift_JIS the next
    character with it: ㈱山田 read �且R田)."""
    text = "㈱山田金型の山田です。\n①納期: 2026年12月1日\n"
    subject = "=?" + charset + "?B?" + base64.b64encode(encode("㈱山田金型 ①のお見積り")).decode() + "?="
    raw = (f"From: yamada@acme.co.jp\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode()
    summary = read(raw + base64.encodebytes(encode(text)))
    assert summary.subject == "㈱山田金型 ①のお見積り"
    assert summary.preview == "㈱山田金型の山田です。\n①納期: 2026年12月1日"


def test_html_a_mail_program_does_not_show_is_not_on_the_card():
    """Text hidden by the mail's own HTML (a trick to put words before a person that they never saw
    in Gmail) is dropped with the scripts and styles."""
    html = ('<p>お見積りをお願いします</p><div style="display: none">至急 振込先変更</div>'
            '<span hidden>secret</span><p style="font-size:0">zero</p><p style="font-size:0.9em">小さい字</p>'
            '<div aria-hidden="true">aria</div><noscript>NS</noscript><iframe>IF</iframe>'
            '<div style="visibility:hidden"><b>nested hidden</b></div>')
    summary = read(mail(body=None, html=html))
    assert summary.preview == "お見積りをお願いします\n小さい字"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_card_that_became_a_case_names_the_cases_client_not_the_guess(language):
    """Once opened, the card said 「不明な差出人」 (no guess from the sheet) beside 「案件 2026-001 になりました」,
    though the person had just named the client; it names the case's client, escaped."""
    summary = read(mail("見積のお願い"))
    record = {"id": "mail-x", **summary.__dict__, "attachments": [], "client_guess": None, "status": "OPENED",
              "case": "2026-001", "case_client": "<b>ACME</b>精機", "opened_by": "山田"}
    shown = str(mail_card(record, language).card)
    unknown = "不明な差出人" if language == "ja" else "Unknown sender"
    assert unknown not in shown and "&lt;b&gt;ACME&lt;/b&gt;精機" in shown, shown
    assert "(guessed)" not in shown and "推定" not in shown
    record["client_guess"] = "ACME"  # a guess that was right or wrong: the case's client is what counts
    record["case_client"] = "ACME精機"
    shown = str(mail_card(record, language).card)
    assert "ACME精機" in shown and "(guessed)" not in shown and "推定" not in shown


def test_a_subject_that_grows_when_normalized_fills_the_form_with_a_title_the_form_takes():
    """The form reads a value as NFKC, where ㍿ is 株式会社: a subject of 100 such characters was
    cut to 200 as written, then read as 400 and refused as too long in a form nobody had typed in."""
    from ackflow.jobs.normalize import normalize_field
    from ackflow.jobs.params import Param
    from workers.office.mail.actions import case_params

    params = case_params({"id": "m1", "title": "㍿" * 100 + "のご依頼", "sender_name": "㈱" * 40})
    title, client = Param("title", max_length=200), Param("client", max_length=60)
    # as the form reads what it shows (normalize_field, then the parameter's rules)
    assert title.convert(normalize_field(params["title"])).startswith("株式会社株式会社")
    assert client.convert(normalize_field(params["client"])).startswith("(株)(株)")


@pytest.mark.parametrize("given, filed", [
    ("受信メール.eml", "添付_受信メール.eml"),
    ("受信メール.EML", "添付_受信メール.EML"),  # one file where a filesystem folds case (Drive for desktop)
    ("受信ﾒｰﾙ.eml", "添付_受信ﾒｰﾙ.eml"),  # half-width katakana: the same name read as a person reads it
    ("受信メール．ｅｍｌ", "添付_受信メール．ｅｍｌ"),  # full width
    ("受信メール.eml.", "添付_受信メール.eml"),  # Windows drops a trailing dot or space
    ("受信メール .eml", "添付_受信メール.eml"),
    ("受信メール (Ackflow).eml", "添付_受信メール (Ackflow).eml"),  # the name the mail once took beside such a file
    ("受信メール（2）.eml", "添付_受信メール（2）.eml"),
    ("受信メール一覧.eml", "受信メール一覧.eml"),  # another name: kept
    ("受信メール.eml.pdf", "受信メール.eml.pdf"),
])
def test_an_attachment_that_would_pass_for_the_mails_own_file_is_filed_under_another_name(given, filed):
    """The mail is filed as 受信メール.eml; a sender's attachment of that name kept it and pushed the
    mail received to 受信メール (Ackflow).eml, so a forged mail lay where the office looks for it."""
    summary = read(mail(attachments=((given, b"forged", "application/octet-stream"),)))
    assert [a.name for a in summary.attachments] == [filed]


def test_the_names_attachments_are_filed_under_are_the_same_however_often_asked():
    """A retried step, and a record read before these names were given (its attachment still named
    受信メール.eml), file each attachment once under one name; another's name stays its own."""
    from workers.office.mail.parse import filed_names

    given = ["受信メール.eml", "添付_受信メール.eml", "受信メール (2).eml", "図面.pdf"]
    once = filed_names(given)
    assert once == ["添付_受信メール (2).eml", "添付_受信メール.eml", "添付_受信メール (2) (2).eml", "図面.pdf"]
    assert filed_names(once) == once and len({name.casefold() for name in once}) == 4
