"""A case opened from a mail, on the Drive stand-in: a worker killed at the end of ``newcase``'s
``mail`` step (the mail and its attachments uploaded, the mail labelled, its card updated, the step
not recorded) leaves one file of each in Drive, which allows two of one name in a folder."""

from __future__ import annotations

import os

import pytest

from tests.e2e.test_mail import assert_filed_once, killed_in_the_mail_step
from tests.support.office import drive_tree

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    from ackflow_tools.devtools.pubsub import find_jar
    from tests.conftest import IN_CI, require_tool
    from tests.e2e.conftest import start_pipeline

    require_tool("java", "the Pub/Sub emulator runs on Java")
    try:
        find_jar()
    except RuntimeError as exc:
        (pytest.fail if IN_CI else pytest.skip)(str(exc))
    workdir = tmp_path_factory.mktemp("mail-drive")
    env = {"ACKFLOW_JOB_TYPES": "tests.support.jobtypes:mail_with_pause_points",
           "ACKFLOW_TEST_PAUSE_FILE": str(workdir / "pause"), "ACKFLOW_OFFICE_MAIL_LEASE": "4",
           "ACKFLOW_OFFICE_NAME": "山田金型設計事務所"}
    pipeline = start_pipeline(workdir, "classic", "project-number", "sqlite", mail=True, storage="drive", **env)
    office_env = {k: v for k, v in pipeline.stack.env().items()
                  if k.startswith("ACKFLOW_OFFICE_") or k == "ACKFLOW_TEST_PAUSE_FILE"}
    saved = {k: os.environ.get(k) for k in office_env}
    os.environ.update(office_env)  # this process reads the same mailbox, Drive and sheet
    pipeline.runtime = pipeline.stack.runtime()
    pipeline.store = pipeline.runtime.store
    pipeline.gmail = pipeline.stack.url("gmail")
    assert "error" not in pipeline.stack.sweep_once()  # the sweep watches the mailbox
    try:
        yield pipeline
    finally:
        pipeline.stack.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_on_drive_a_worker_killed_at_the_end_of_the_mail_step_uploads_each_file_once(office):
    mail_id, job_id = killed_in_the_mail_step(office, "停止試験 Drive メール保存")
    filed = assert_filed_once(office, mail_id, job_id)
    case = office.runtime.store.get_job(job_id).result["case"]
    tree = drive_tree(office, case)
    received = {path: items for path, items in tree.items() if "/01_受領資料/メール/" in path}
    assert sorted(path.rsplit("/", 1)[-1] for path in received) == filed
    assert {path: len(items) for path, items in tree.items() if len(items) > 1} == {}  # one of each, all the case
