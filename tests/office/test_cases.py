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
    assert "status=shipped" in english and "受注 (ordered)" in english
    assert "status=shipped" in japanese and "受注 (ordered)" in japanese and japanese != english
