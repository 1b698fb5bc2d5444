"""Case records as the commands read them: the open cases by due date, filtered; the case card with
its history."""

from __future__ import annotations

import pytest

from ackflow.store.sqlite import SqliteDocuments
from workers.office.cases import CaseRecords
from workers.office.commands import open_cases, parse_filters


@pytest.fixture
def cases(tmp_path):
    records = CaseRecords(SqliteDocuments(tmp_path / "cases.db"))
    rows = (("2026-001", "ACME", "受注", "2026-12-10"), ("2026-002", "B社", "見積提出", None),
            ("2026-003", "ACME", "入金", "2026-11-01"), ("2026-004", "ACME", "保留", "2026-12-01"),
            ("2026-005", "C社", "失注", "2026-11-20"), ("2026-006", "ACME", "請求", "2026-12-05"))
    for case, client, status, due in rows:
        records.update(case, "j", client=client, title=case, due=due, status=status)
    return records


def test_open_cases_are_listed_by_due_date_without_the_paid_and_the_lost(cases):
    listed = [r["case"] for r in open_cases(cases.docs)]
    assert listed == ["2026-004", "2026-006", "2026-001", "2026-002"]  # no due date last
    assert [r["case"] for r in open_cases(cases.docs, client="ACME")] == ["2026-004", "2026-006", "2026-001"]
    assert [r["case"] for r in open_cases(cases.docs, status="入金")] == ["2026-003"]


def test_filters_are_checked():
    assert parse_filters(["client=ACME", "status=受注"]) == {"client": "ACME", "status": "受注"}
    for bad in (["ACME"], ["due=2026-12-01"], ["client="]):
        with pytest.raises(ValueError, match="client=NAME or status=STATUS"):
            parse_filters(bad)


def test_a_status_filter_may_name_the_status_in_english_and_an_unknown_one_is_refused():
    from ackflow.i18n import speaker_for

    assert parse_filters(["status=ordered"]) == {"status": "受注"}
    assert parse_filters(["status=In-Progress"]) == {"status": "作業中"}
    assert parse_filters(["status=estimate_sent"]) == {"status": "見積提出"}
    with pytest.raises(ValueError) as refused:
        parse_filters(["status=shipped"])
    said = refused.value.args[0]
    english, japanese = said.render(speaker_for("en")), said.render(speaker_for("ja"))
    assert "“shipped” names no status" in english and "受注 (ordered)" in english
    assert "「shipped」という状況はありません" in japanese and "受注 (ordered)" in japanese and japanese != english
    with pytest.raises(ValueError) as refused:
        parse_filters(["状況=出荷"], "ja")
    japanese = refused.value.args[0].render(speaker_for("ja"))  # said to a Japanese reader: the names to write
    assert "受付、見積提出、受注" in japanese and "ordered" not in japanese
    assert japanese.startswith("「出荷」という状況はありません。")  # the status, not 「状況=出荷」


def test_a_filter_may_be_written_with_a_colon_as_every_option_is():
    """取引先：ACME, as the office writes 納期：12月1日 (the IME's ： is read as :), was refused."""
    assert parse_filters(["取引先:ACME", "状況:受注"]) == {"client": "ACME", "status": "受注"}
    assert parse_filters(["client:ACME"]) == {"client": "ACME"}
    assert parse_filters(["client=A:B"]) == {"client": "A:B"}  # the first = or : ends the name


def test_a_client_filter_matches_whatever_the_case_and_width(cases):
    """取引先=acme (or ａｃｍｅ, read as acme) found no case of ACME."""
    cases.update("2026-007", "j", client="ＡＣＭＥ精機", title="x", due=None, status="受注")  # as a sheet holds it
    for typed in ("acme", "Acme", "ACME"):
        assert [r["case"] for r in open_cases(cases.docs, client=typed)] == ["2026-004", "2026-006", "2026-001",
                                                                            "2026-007"]


def test_filters_have_japanese_names():
    assert parse_filters(["取引先=ACME", "状況=受注"]) == {"client": "ACME", "status": "受注"}
    assert parse_filters(["状況=ordered"]) == {"status": "受注"}


def test_cases_the_digest_and_the_reminder_read_every_page_of_cases(tmp_path, monkeypatch):
    """With two cases a page, the open cases opened last (pages 3 and 4) are listed, reminded of, counted."""
    from types import SimpleNamespace

    from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
    from ackflow.i18n import speaker_for
    from ackflow.settings import Settings
    from ackflow.store.jobstore import JobStore
    from workers.office import commands, reminders
    from workers.office.settings import OfficeSettings

    monkeypatch.setattr(commands, "PAGE", 2)
    clock = iter(range(1, 100))
    store = JobStore(SqliteDocuments(tmp_path / "jobs.db"))
    records = CaseRecords(store.docs, clock=lambda: float(next(clock)))
    for number, status, due in ((1, "入金", "2026-11-01"), (2, "失注", None), (3, "受注", "2026-12-20"),
                                (4, "入金", None), (5, "請求", "2026-12-24"), (6, "作業中", "2026-12-07"),
                                (7, "受付", None)):  # the last page has one case
        records.update(f"2026-00{number}", "j", client="ACME", title=f"件名{number}", due=due, status=status)
    assert [r["case"] for r in open_cases(store.docs)] == ["2026-006", "2026-003", "2026-005", "2026-007"]

    runtime = SimpleNamespace(store=store, settings=Settings())
    event = ChatEvent(EventKind.MESSAGE, EventFormat.CLASSIC, ChatUser("users/1"), "spaces/s", locale="en")
    listed = repr(commands.list_cases(runtime, event, []).card)
    assert all(case in listed for case in ("2026-003", "2026-005", "2026-006", "2026-007"))
    assert "2026-004" not in listed
    assert "due 20 Dec 2026" in listed and "no due date" in listed  # the date says what it is
    event = ChatEvent(EventKind.MESSAGE, EventFormat.CLASSIC, ChatUser("users/1"), "spaces/s", locale="ja")
    listed = repr(commands.list_cases(runtime, event, []).card)
    assert "納期 2026年12月20日(日)" in listed, listed

    friday = SimpleNamespace(slot="202612040000", created_at=0)  # 09:00 on Friday 4 December 2026 in Tokyo
    ctx = SimpleNamespace(services=SimpleNamespace(store=store, office_settings=OfficeSettings()), job=friday,
                          speaker=speaker_for("en"))
    digest = reminders.digest(ctx)
    assert digest["open_cases"] == 4 and "2026-007" in digest["cases"]
    reminded = reminders.reminder(ctx)  # 2026-006 is due on Monday the 7th
    assert reminded["due_cases"] == 1 and "2026-006" in reminded["cases"] and reminded["due"] == "2026-12-07"
    store.close()


def test_open_cases_beyond_the_first_thousand_are_found(tmp_path):
    docs = SqliteDocuments(tmp_path / "cases.db")

    def write(tx):
        for number in range(1, 1202):
            status = "受注" if number in (1, 1001, 1201) else "入金"
            tx.set("cases", f"2026-{number:04d}", {"case": f"2026-{number:04d}", "status": status,
                                                    "created_at": float(number), "client": "ACME"})

    docs.transaction(write)
    assert [r["case"] for r in open_cases(docs)] == ["2026-0001", "2026-1001", "2026-1201"]


def test_a_case_status_is_called_jokyo_wherever_a_japanese_reader_meets_it():
    """The case's status is 状況 in `case`, `cases` and the sheet; the correction's form and card
    called it 状態 (the console's word for a job's status) through a shared msgid."""
    from ackflow.i18n import speaker_for
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    japanese = speaker_for("ja")
    [status] = [p for p in registry.get("correct").params if p.name == "status"]
    assert japanese._(status.title) == "状況"
    assert japanese._("Status") == "状態"  # a job's status, in the console


def test_a_case_whose_newcase_has_not_made_its_folder_is_not_open_until_it_has(cases):
    """``newcase`` records the case with its number (``opening``: its job) and clears that when the
    folder is made; a job that failed in between leaves a case that is not opened, never listed."""
    cases.update("2026-007", "j7", client="ACME", title="作成中", due="2026-11-30", status="受付", opening="j7")
    assert "2026-007" not in [r["case"] for r in open_cases(cases.docs)]
    assert "2026-007" not in [r["case"] for r in open_cases(cases.docs, status="受付")]
    cases.update("2026-007", "j7", folder="2026-007_ACME_作成中", opening=None)
    assert [r["case"] for r in open_cases(cases.docs)][0] == "2026-007"
    cases.update("2026-007", "j7", opening="j7")  # the number step of a delivery that ran late, after the folder
    assert [r["case"] for r in open_cases(cases.docs)][0] == "2026-007"


@pytest.fixture
def office_runtime(tmp_path, monkeypatch):
    from ackflow.app.runtime import Runtime
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    monkeypatch.setenv("ACKFLOW_OFFICE_LOCAL_ROOT", str(tmp_path / "cases"))
    monkeypatch.setenv("ACKFLOW_OFFICE_TEMPLATE_DIR", str(tmp_path / "no-template"))
    settings = Settings(sqlite_path=str(tmp_path / "jobs.db"))
    runtime = Runtime(settings, registry=build_registry(settings))
    yield runtime
    runtime.close()


def newcase_step(runtime, name: str, job):
    import time

    from ackflow.jobs.context import StepContext

    index = [s.name for s in job.steps].index(name)
    context = StepContext(job, index, 1, runtime.services, report=lambda text, fraction=None: None,
                          cancelled=lambda: False, clock=time.time)
    return runtime.registry.get("newcase").steps[index].run(context)


def newcase_job(runtime, job_id: str, title: str):
    import time

    from ackflow.jobs.model import Job, Requester, StepState

    now = time.time()
    return Job(id=job_id, type="newcase", requester=Requester("users/1", "a@example.com", "Alice"),
               params={"client": "ACME", "title": title, "due": None, "portal": None, "item": []},
               space="spaces/s", thread=None, queue="ackflow-office", created_at=now, updated_at=now,
               steps=tuple(StepState(s.name) for s in runtime.registry.get("newcase").steps))


def test_a_template_too_deep_for_the_case_folders_names_the_setting_and_its_entry_before_a_number(
        office_runtime, tmp_path):
    """Four nested folders of 241 bytes each: every name is fine, the whole path in the case folder
    is over 900 bytes. The office must fix the template, so the refusal names its setting and the
    template's entry (not only the case's path), in the person's language; no number is taken."""
    from ackflow.errors import PermanentError
    from ackflow.i18n import speaker_for

    deep = tmp_path / "no-template"
    for level in range(4):
        deep = deep / (f"{level}" + "深" * 80)
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("x")
    with pytest.raises(PermanentError) as refused:
        newcase_step(office_runtime, "number", newcase_job(office_runtime, "jdeep", "深い"))
    said = str(refused.value)
    assert "ACKFLOW_OFFICE_TEMPLATE_DIR" in said and "longer than 900 bytes" in said, said
    assert "holds “0" + "深" * 80 + "/1" in said, said  # the template's entry, not only the case's path
    japanese = refused.value.render(speaker_for("ja"))
    assert "ACKFLOW_OFFICE_TEMPLATE_DIR" in japanese and "テンプレート" in japanese and "900" in japanese, japanese
    assert [office_runtime.store.counter_value(f"case-{year}") for year in range(2025, 2031)] == [0] * 6
    assert not (tmp_path / "cases").exists() or list((tmp_path / "cases").iterdir()) == []


def test_a_missing_template_folder_refuses_the_case_for_good_before_a_number_is_taken(office_runtime, tmp_path):
    """A local (or Cloud Storage) deployment without its template folder: no retry brings it back,
    so the first step fails for good, saying which setting, and no number is taken: nothing
    counted, no case recorded, nothing made."""
    import time

    from ackflow.errors import PermanentError
    from ackflow.jobs.model import Job, Requester, StepState

    now = time.time()
    job = Job(id="jmissing", type="newcase", requester=Requester("users/1", "a@example.com", "Alice"),
              params={"client": "ACME", "title": "金型", "due": None, "portal": None, "item": []},
              space="spaces/s", thread=None, queue="ackflow-office", created_at=now, updated_at=now,
              steps=tuple(StepState(s.name) for s in office_runtime.registry.get("newcase").steps))
    with pytest.raises(PermanentError, match="ACKFLOW_OFFICE_TEMPLATE_DIR") as refused:
        newcase_step(office_runtime, "number", job)
    assert str(tmp_path / "no-template") in str(refused.value)
    store = office_runtime.store
    assert [store.counter_value(f"case-{year}") for year in range(2025, 2031)] == [0] * 6
    assert store.docs.query("cases", [], "created_at", False, 10) == []
    assert not (tmp_path / "cases").exists() or list((tmp_path / "cases").iterdir()) == []


def test_no_open_cases_names_the_filters_as_each_reader_writes_them(cases):
    """「進行中の案件はありません (取引先=ACME) (状況=受注)。」: English brackets and spaces in Japanese."""
    from types import SimpleNamespace

    from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
    from ackflow.settings import Settings
    from workers.office import commands

    runtime = SimpleNamespace(store=SimpleNamespace(docs=cases.docs), settings=Settings())
    said = {}
    for language in ("ja", "en"):
        event = ChatEvent(EventKind.MESSAGE, EventFormat.CLASSIC, ChatUser("users/1"), "spaces/s", locale=language)
        said[language] = commands.list_cases(runtime, event, ["取引先=B社", "状況=受注"]).text
    assert said["ja"] == "進行中の案件はありません（取引先=B社、状況=受注）。", said
    assert said["en"] == "No open cases (client=B社, status=受注).", said


def test_the_case_card_lists_payments_by_date_the_latest_ten(tmp_path):
    """The record keeps payments by the id of the job that recorded them, a random order: `case`
    showed them in that order, and its latest ten were any ten. Now by date (two of one day in
    the order they were asked), the latest ten."""
    import json
    import re
    from types import SimpleNamespace

    from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
    from ackflow.chat.replies import message_json
    from ackflow.settings import Settings
    from ackflow.store.jobstore import JobStore
    from workers.job_types import build_registry
    from workers.office.commands import show_case

    store = JobStore(SqliteDocuments(tmp_path / "jobs.db"))
    ids = [f"j{(n * 7) % 12:02d}x" for n in range(12)]  # job ids in another order than the payments'
    days = [f"2026-12-{n + 1:02d}" for n in range(11)] + ["2026-12-11"]  # the last two on one day
    payments = [{"key": ids[n], "amount": 1000 * (n + 1), "on": days[n], "by": "Alice", "at": 1_800_000_000 + n}
                for n in range(12)]
    CaseRecords(store.docs).update("2026-001", "jnew", client="ACME", title="金型", status="請求", payments=payments)
    runtime = SimpleNamespace(store=store, settings=Settings(), registry=build_registry(Settings()))
    event = ChatEvent(EventKind.MESSAGE, EventFormat.CLASSIC, ChatUser("users/1"), "spaces/s", locale="en",
                      time_zone="Asia/Tokyo")
    try:
        message = message_json(show_case(runtime, event, ["2026-001"]), EventFormat.CLASSIC, "https://a/")
    finally:
        store.close()
    [section] = [section for card in message["cardsV2"] for section in card["card"]["sections"]
                 if section.get("header") == "Payments"]
    shown = [re.search(r"¥([\d,]+)", json.dumps(widget, ensure_ascii=False)).group(1) for widget in section["widgets"]]
    assert shown == [f"{n},000" for n in range(3, 13)], shown
