"""Dates the office's commands cannot mean are refused at the command, in the person's language
with an example, before a card: a payment due date or an estimate's validity in the past, a
delivery, payment, order or transaction date far ahead or before the case was opened. They passed
the parser and failed (or were printed on an invoice) only inside the job. "Today" is the office's
(Asia/Tokyo), at the runtime's clock: the parse is given the moment, never the wall clock."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from ackflow.app import formspec
from ackflow.errors import UsageError
from ackflow.i18n import speaker_for
from ackflow.jobs.params import split_words
from ackflow.jobs.registry import Registry
from ackflow.queues import load_queues
from ackflow.settings import Settings
from workers import office

JA, EN = speaker_for("ja"), speaker_for("en")
TOKYO = ZoneInfo("Asia/Tokyo")
# Saturday 28 November 2026, 10:00 in Tokyo (01:00 UTC): the office's today
NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO).timestamp()
# 08:30 on Sunday the 29th in Tokyo, still 23:30 on Saturday the 28th in UTC
EARLY_SUNDAY = dt.datetime(2026, 11, 29, 8, 30, tzinfo=TOKYO).timestamp()


@pytest.fixture(scope="module")
def registry():
    registry = Registry(load_queues(Settings().queues_file))
    office.register(registry)
    return registry


@pytest.fixture(autouse=True)
def office_details(monkeypatch):  # invoices need the office's own details
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", "山田金型設計事務所")
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T7000012050002")
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", "みずほ銀行 蒲田支店 普通 1234567")
    monkeypatch.setenv("ACKFLOW_OFFICE_TIMEZONE", "Asia/Tokyo")


def parse(registry, text: str, now: float = NOW) -> dict:
    name, *words = split_words(text)
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()  # a person whose event says UTC
    return registry.get(registry.resolve(name)).parse(words, today, now)


def refused(registry, text: str, now: float = NOW) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse(registry, text, now)
    return caught.value


@pytest.mark.parametrize(("text", "complaint"), [
    ("invoice 2026-001 --due 2020-01-01", "--due 1 Jan 2020 is in the past (today is 28 Nov 2026)"),
    ("invoice 2026-001 --due 2026-11-27", "--due 27 Nov 2026 is in the past"),
    ("invoice 2026-001 --due 2031-01-31", "--due 31 Jan 2031 is more than a year ahead"),
    ("estimate 2026-001 --valid-until 2020-01-01", "--valid-until 1 Jan 2020 is in the past"),
    ("estimate 2026-001 --valid-until 2062-11-28", "--valid-until 28 Nov 2062 is more than a year ahead"),
    ("invoice 2026-001 --date 2099-01-01", "--date 1 Jan 2099 is more than 7 days ahead (today is 28 Nov 2026)"),
    ("paid 2026-001 --amount 1000 --date 2099-01-01", "--date 1 Jan 2099 is more than 7 days ahead"),
    ("paid 2026-001 --amount 1000 --date 2026-12-25", "--date 25 Dec 2026 is more than 7 days ahead"),
    ("paid 2026-001 --amount 1000 --date 1900-01-01", "--date 1 Jan 1900 is before case 2026-001 was opened"),
    ("delivered 2026-001 --date 2099-12-31", "--date 31 Dec 2099 is more than 7 days ahead"),
    ("delivered 2026-001 --date 2025-12-31", "--date 31 Dec 2025 is before case 2026-001 was opened"),
    ("ordered 2026-001 --date 2027-01-01", "--date 1 Jan 2027 is more than 7 days ahead"),
])
def test_a_date_the_command_cannot_mean_is_refused_with_an_example_that_is_taken(registry, text, complaint):
    error = refused(registry, text)
    english = error.render(EN)
    assert english.startswith(complaint), english
    example = re.search(r"e\.g\. (--[\w-]+ \d{4}-\d\d-\d\d)$", english)
    assert example, english
    fixed = re.sub(r"--(date|due|valid-until) \S+", example.group(1), text)
    assert parse(registry, fixed) and fixed != text  # the example, written in, is taken
    japanese = error.render(JA)
    assert re.search(r"[ぁ-ん]", japanese), japanese  # a Japanese sentence, not the English one
    assert re.search(r"(日付|支払期限|有効期限)：\d{4}-\d\d-\d\d", japanese), japanese  # the example, typed in Japanese
    if "today is" in english:
        assert "2026年11月28日" in japanese, japanese  # today, as the office reads it


def test_the_japanese_names_are_refused_in_japanese(registry):
    error = refused(registry, "入金 2026-001 金額：47万3000円 日付：2099/1/1")
    japanese = error.render(JA)
    assert "日付" in japanese and "2099年1月1日" in japanese and "日付：2026-11-28" in japanese, japanese
    assert re.search(r"[ぁ-ん]", japanese), japanese  # a Japanese sentence, not the English one
    assert "7" in japanese


@pytest.mark.parametrize("text", [
    "invoice 2026-001 --due 2026-11-28",  # due today
    "invoice 2026-001 --date 2026-12-05 --due 2027-11-28",  # a week ahead; a year ahead
    "invoice 2026-001 --date 2026-01-01",  # the first day of the case's year
    "estimate 2026-001 --valid-until 2026-12-28",
    "paid 2026-001 --amount 1000 --date 2026-11-01",
    "paid 2026-001 --amount 1000 --date 2026-12-05",
    "delivered 2026-001 --date 2026-11-28",
    "ordered 2026-001 --date 2026-10-01",
    "delivered 2026-001",  # no date: the job's own date
])
def test_dates_the_office_means_are_taken(registry, text):
    assert parse(registry, text)


def test_today_is_the_offices_not_the_persons(registry):
    """At 08:30 on Sunday in Tokyo it is still Saturday in UTC: Saturday is past for the office."""
    error = refused(registry, "invoice 2026-001 --due 2026-11-28", now=EARLY_SUNDAY)
    assert "is in the past (today is 29 Nov 2026)" in error.render(EN)
    assert parse(registry, "invoice 2026-001 --due 2026-11-29", now=EARLY_SUNDAY)


def test_the_form_refuses_a_past_due_date_too(registry):
    """The invoice form's Next reads the fields through the same rules, with the runtime's clock."""
    state = formspec.FormState(registry.get("invoice"), {"case": "2026-001", "due": "2026-01-31"}, {})
    assert formspec.read(state, JA, dt.date(2026, 11, 28), NOW) is None
    said = state.errors["due"]  # under the date's input
    assert "2026年1月31日" in said and "2026-12-28" in said and "支払期限：" not in said, said  # the field is named
    state = formspec.FormState(registry.get("invoice"), {"case": "2026-001", "due": "2026-12-31"}, {})
    assert formspec.read(state, JA, dt.date(2026, 11, 28), NOW)["due"] == "2026-12-31"
