"""The moves a person makes on a case without an admin: work started (作業中), lost (失注), on hold
(保留) and back from hold, each a move in the history (never a correction), forward only from the
stage the case stands at; what is refused is said in Japanese and in English. These were only
possible as an admin's `correct`, recorded as 訂正."""

from __future__ import annotations

import pytest

from ackflow.errors import PermanentError
from ackflow.i18n import speaker_for
from ackflow.store.sqlite import SqliteDocuments
from workers.office.cases import CaseRecords, standing

JA, EN = speaker_for("ja"), speaker_for("en")
CASE = "2026-001"


@pytest.fixture
def cases(tmp_path):
    clock = iter(range(1_800_000_000, 1_900_000_000)).__next__  # one second a change
    cases = CaseRecords(SqliteDocuments(tmp_path / "cases.db"), clock=clock)
    cases.update(CASE, "jnew", status="受付", by="Alice")
    return cases


def move(cases: CaseRecords, status: str, job: str, by: str = "Alice") -> dict:
    return cases.transition(CASE, status, by=by, job_id=job)


def refused(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(PermanentError) as caught:
        call(*args, **kwargs)
    english, japanese = caught.value.render(EN), caught.value.render(JA)
    assert english != japanese
    return english, japanese


def test_hold_and_resume_go_back_to_the_stage_it_was_held_at_as_moves(cases):
    move(cases, "受注", "jord")
    move(cases, "作業中", "jstart")
    held = move(cases, "保留", "jhold", by="Bob")
    assert held["status"] == "保留" and standing(held) == "作業中"
    resumed = cases.resume(CASE, by="Carol", job_id="jresume")
    assert resumed["status"] == "作業中"
    assert cases.resume(CASE, by="Carol", job_id="jresume") == resumed  # the same job again: nothing more
    history = resumed["history"]
    assert [(h["status"], h["from"], h["by"]) for h in history[-3:]] == [
        ("作業中", "受注", "Alice"), ("保留", "作業中", "Bob"), ("作業中", "保留", "Carol")]
    assert not any(h.get("correction") for h in history)
    assert all(isinstance(h["at"], int) for h in history)  # when, by the records' clock


def test_a_held_case_moves_on_from_its_stage_but_never_back(cases):
    move(cases, "納品", "jdel")
    move(cases, "保留", "jhold")
    english, japanese = refused(move, cases, "作業中", "jstart")
    assert english.startswith(f"case {CASE} is 保留, set aside at 納品; a status only moves forward")
    assert f"correct {CASE} 作業中" in english and "納品" in japanese and f"訂正 {CASE} 作業中" in japanese
    assert move(cases, "請求", "jinv")["status"] == "請求"  # an invoice ends the hold


def test_work_started_is_forward_only(cases):
    assert move(cases, "作業中", "jstart")["status"] == "作業中"
    move(cases, "納品", "jdel")
    english, japanese = refused(move, cases, "作業中", "jstart2")
    assert english.startswith(f"case {CASE} is 納品; a status only moves forward, so it cannot become 作業中")
    assert "作業中" in japanese and f"訂正 {CASE} 作業中" in japanese


def test_a_case_is_lost_only_before_it_is_delivered_and_comes_back_by_a_later_stage(cases):
    move(cases, "見積提出", "jest")
    lost = move(cases, "失注", "jlost")
    assert lost["status"] == "失注" and not lost["history"][-1].get("correction")
    english, _ = refused(cases.resume, CASE, by="Alice", job_id="jresume")  # lost is not on hold
    assert "not on hold" in english
    english, _ = refused(move, cases, "保留", "jhold")
    assert "only an open case can be put on hold" in english
    assert move(cases, "受注", "jord")["status"] == "受注"  # the client ordered after all
    move(cases, "納品", "jdel")
    english, japanese = refused(move, cases, "失注", "jlost2")
    assert english.startswith(f"case {CASE} is 納品: a case delivered, invoiced or paid is not lost")
    assert "失注" in japanese and f"訂正 {CASE} 失注" in japanese


def test_a_paid_case_is_not_held_and_resume_needs_a_hold(cases):
    move(cases, "入金", "jpaid")
    english, japanese = refused(move, cases, "保留", "jhold")
    assert english.startswith(f"case {CASE} is 入金: only an open case can be put on hold")
    english, japanese = refused(cases.resume, CASE, by="Alice", job_id="jresume")
    assert english == f"case {CASE} is 入金, not on hold (保留): there is nothing to resume"
    assert "保留" in japanese


def test_a_hold_without_a_recorded_stage_is_not_guessed(cases):
    cases.transition(CASE, "保留", by="Admin", job_id="jfix", correction=True)
    record = cases.get(CASE)
    assert standing(record) == "受付"  # a correction records where it came from, too
    cases.docs.transaction(lambda tx: tx.set("cases", CASE, {**record, "history": []}))  # as a sheet edit leaves it
    english, _ = refused(cases.resume, CASE, by="Alice", job_id="jresume")
    assert "does not say at which stage" in english and f"correct {CASE} STATUS" in english
