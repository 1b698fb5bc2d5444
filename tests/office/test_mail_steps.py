"""The mail's step of ``newcase`` says why it failed in the requester's language: its failures were
English sentences outside the catalog, shown as they were to a Japanese office."""

from __future__ import annotations

import pytest

from ackflow.errors import PermanentError
from ackflow.i18n import ENGLISH, Speaker
from ackflow.jobs.context import Services, StepContext
from ackflow.jobs.model import Job, Requester, StepState
from ackflow.store.jobstore import JobStore
from ackflow.store.sqlite import SqliteDocuments
from workers.office.mail.records import MailRecords
from workers.office.mail.steps import save_mail
from workers.office.settings import OfficeSettings

JAPANESE = Speaker("ja", "Asia/Tokyo")


@pytest.fixture
def store(tmp_path):
    return JobStore(SqliteDocuments(tmp_path / "jobs.db"))


def context(store: JobStore, mail: str) -> StepContext:
    steps = tuple(StepState(name) for name in ("number", "folder", "sheet", "estimate", "portal", "mail"))
    job = Job(id="j-mail", type="newcase", params={"client": "ACME", "title": "金型", "mail": mail},
              requester=Requester("users/1", "yamada@office.example", "山田", language="ja", time_zone="Asia/Tokyo"),
              space="spaces/office", thread=None, queue="ackflow-office", steps=steps, created_at=1.0,
              updated_at=1.0, confirmation_id="c-typed")
    services = Services({"store": lambda _: store, "office_settings": lambda _: OfficeSettings()})
    return StepContext(job, len(steps) - 1, 1, services, report=lambda *_: None, cancelled=lambda: False,
                       speaker=JAPANESE)


def test_a_mail_no_longer_known_is_said_in_japanese_to_a_japanese_office(store):
    with pytest.raises(PermanentError) as failed:
        save_mail(context(store, "mail-" + "0" * 20))
    assert failed.value.render(ENGLISH) == "the mail this case comes from is no longer known"
    said = failed.value.render(JAPANESE)
    assert said != failed.value.render(ENGLISH) and "メール" in said, said


def test_a_job_not_confirmed_from_the_mails_card_is_said_in_japanese(store):
    _, record = MailRecords(store.docs).claim("irai@office.example", "m-1", "push-1", 1.0, 60)
    with pytest.raises(PermanentError) as failed:
        save_mail(context(store, record["id"]))  # the record's card asked no confirmation c-typed
    assert "card" in failed.value.render(ENGLISH)
    said = failed.value.render(JAPANESE)
    assert "カード" in said and "card" not in said, said
