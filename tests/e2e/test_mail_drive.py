"""A case opened from a mail, on the Drive stand-in, on both stores: a worker killed at the end of
``newcase``'s ``mail`` step (the mail and its attachments uploaded, the mail labelled, its card
updated, the step not recorded) leaves one file of each in Drive, which allows two of one name in a
folder."""

from __future__ import annotations

import pytest

from tests.e2e.test_mail import assert_filed_once, killed_in_the_mail_step, mail_office
from tests.support.office import drive_tree

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module", params=["sqlite", "firestore"])
def office(request, tmp_path_factory):
    with mail_office(tmp_path_factory.mktemp(f"mail-drive-{request.param}"), "classic", "project-number",
                     request.param, storage="drive") as pipeline:
        yield pipeline


def test_on_drive_a_worker_killed_at_the_end_of_the_mail_step_uploads_each_file_once(office):
    mail_id, job_id = killed_in_the_mail_step(office, "停止試験 Drive メール保存")
    filed = assert_filed_once(office, mail_id, job_id)
    case = office.runtime.store.get_job(job_id).result["case"]
    tree = drive_tree(office, case)
    received = {path: items for path, items in tree.items() if "/01_受領資料/メール/" in path}
    assert sorted(path.rsplit("/", 1)[-1] for path in received) == filed
    assert {path: len(items) for path, items in tree.items() if len(items) > 1} == {}  # one of each, all the case
