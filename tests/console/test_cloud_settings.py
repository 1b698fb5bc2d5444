"""Operator commands against a deployment (the Firestore store, Google's Cloud Tasks) need the
deployment's worker URL and invoker: without them they refuse before anything changes; with them
a retry queues a task that the deployed worker accepts. Real parts: the Firestore emulator, the
local Cloud Tasks service reached through the official client with a service-account key (no
``local_services`` shortcut), and the ``ackflow`` commands themselves."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.queues import load_queues
from ackflow.settings import Settings
from ackflow_tools.cli.main import cli
from tests.support.console import console_process

LOCATION = "asia-northeast1"
WORKER_URL = f"https://{LOCATION}-cloudops.cloudfunctions.net/ackflow-worker"
INVOKER = "ackflow-invoker@cloudops.iam.gserviceaccount.com"
JOB = "jfailed23456"
CLOUD_JOB = "jcloudmode01"


@pytest.fixture(scope="module")
def tasks_service(tmp_path_factory):
    from ackflow_tools.devtools.queues import sync_cloud_tasks_queues
    from tests.support.services import start_tasks_emulator

    proc = start_tasks_emulator(tmp_path_factory.mktemp("cloud-settings-tasks"))
    definitions = load_queues(Settings().queues_file).values()
    yield proc, definitions, sync_cloud_tasks_queues
    proc.stop()


@pytest.fixture
def deployment(firestore_emulator, tasks_service, tmp_path, monkeypatch):
    """A FAILED job in the deployment's store, its queues (held paused, so the task stays to be
    read), and the environment of an operator's shell that has only the store and the project."""
    from ackflow.auth.signing import LocalSigner
    from tests.support.services import tasks_client

    proc, definitions, sync = tasks_service
    for name, value in firestore_emulator.env().items():
        monkeypatch.setenv(name, value)
    project = firestore_emulator.project
    for name in sync(proc.url, project, LOCATION, definitions):
        tasks_client(proc.url).pause_queue(name=name)
        tasks_client(proc.url).purge_queue(name=name)
    settings = Settings(store="firestore", project=project, job_types="tests.support.jobtypes:build_registry")
    runtime = Runtime(settings)
    now = time.time()
    runtime.store.create_job(Job(id=JOB, type="echo", params={"text": "x"}, requester=Requester("users/1"),
                                 space=None, thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                                 created_at=now, updated_at=now, status=JobStatus.FAILED))
    key = LocalSigner.generate("operator")
    adc = tmp_path / "adc.json"  # the operator's credentials; the local service takes any caller
    adc.write_text(json.dumps({
        "type": "service_account", "project_id": project, "private_key_id": key.kid,
        "private_key": key.key_pem.decode(), "client_email": f"operator@{project}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": proc.url + "/token"}))
    env = {"ACKFLOW_STORE": "firestore", "ACKFLOW_PROJECT": project, "ACKFLOW_LOCATION": LOCATION,
           "ACKFLOW_CLOUDTASKS_ENDPOINT": proc.url, "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:build_registry",
           "ACKFLOW_LOG_FORMAT": "text", "GOOGLE_APPLICATION_CREDENTIALS": str(adc),
           **firestore_emulator.env()}
    yield runtime, env, proc
    runtime.close()


def queued_tasks(proc, project: str) -> list:
    from tests.support.services import tasks_client

    client = tasks_client(proc.url)
    parent = f"projects/{project}/locations/{LOCATION}/queues/ackflow-default"
    from google.cloud import tasks_v2

    request = tasks_v2.ListTasksRequest(parent=parent, response_view=tasks_v2.Task.View.FULL)  # with the HTTP request
    return list(client.list_tasks(request=request))


@pytest.mark.parametrize("command", [["retry", JOB], ["sweep"], ["console", "--project", "{project}"]])
def test_without_the_deployments_settings_a_command_that_queues_work_is_refused(deployment, command):
    runtime, env, proc = deployment
    project = env["ACKFLOW_PROJECT"]
    result = CliRunner().invoke(cli, [arg.format(project=project) for arg in command], env=env)

    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert "ACKFLOW_WORKER_URL (is http://127.0.0.1:8081/" in message
    assert "ACKFLOW_INVOKER_SERVICE_ACCOUNT (not set" in message
    assert "output -raw operator_env" in message and "Operating from a laptop" in message
    assert "Nothing was changed" in message
    assert runtime.store.get_job(JOB).status == JobStatus.FAILED
    assert queued_tasks(proc, project) == []


def test_with_the_deployments_settings_a_retry_queues_a_task_for_its_worker_with_its_invoker(deployment):
    runtime, env, proc = deployment
    env = {**env, "ACKFLOW_WORKER_URL": WORKER_URL, "ACKFLOW_INVOKER_SERVICE_ACCOUNT": INVOKER}
    result = CliRunner().invoke(cli, ["retry", JOB, "--by", "ops@example.com"], env=env)

    assert result.exit_code == 0, result.output
    assert runtime.store.get_job(JOB).status == JobStatus.QUEUED
    [task] = queued_tasks(proc, env["ACKFLOW_PROJECT"])
    assert task.http_request.url == WORKER_URL
    assert task.http_request.oidc_token.service_account_email == INVOKER
    assert task.http_request.oidc_token.audience == WORKER_URL


def test_jobs_show_sweep_and_config_read_the_deployments_store_not_a_local_one(deployment, tmp_path, monkeypatch):
    """The read-only operator commands of docs/deploy.md ("Operating from a laptop") against the
    deployment: its Firestore and settings, never a local SQLite file or a running dev."""
    runtime, env, proc = deployment
    env = {**env, "ACKFLOW_WORKER_URL": WORKER_URL, "ACKFLOW_INVOKER_SERVICE_ACCOUNT": INVOKER}
    monkeypatch.chdir(tmp_path)  # a laptop's folder: no .ackflow/ of a dev stack, no jobs.db

    listed = CliRunner().invoke(cli, ["jobs"], env=env)
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.output.splitlines() if line.startswith(JOB)]
    assert row.split()[1:3] == ["echo", "FAILED"]
    shown = CliRunner().invoke(cli, ["jobs", "show", JOB], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"job {JOB}  echo  FAILED")
    swept = CliRunner().invoke(cli, ["sweep"], env=env)
    assert swept.exit_code == 0, swept.output
    assert json.loads(swept.output)["errors"] == [], swept.output
    settings = CliRunner().invoke(cli, ["config"], env=env)
    assert settings.exit_code == 0, settings.output
    assert any(line.split()[:2] == ["ACKFLOW_STORE", "firestore"] for line in settings.output.splitlines())
    assert runtime.store.get_job(JOB).status == JobStatus.FAILED  # read, never changed
    # a FAILED job is not the sweep's to send (it may start the test job types' periodic one)
    assert not [t for t in queued_tasks(proc, env["ACKFLOW_PROJECT"]) if JOB in t.http_request.body.decode()]
    assert not list(tmp_path.rglob("*.db")) and not (tmp_path / ".ackflow").exists()


def test_the_section_the_refusal_names_says_how_to_load_the_settings():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    deploy = (docs / "deploy.md").read_text()
    section = deploy.split("### Operating from a laptop\n", 1)[1].split("\n### ", 1)[0]
    assert 'eval "$(terraform -chdir=infra/terraform output -raw operator_env)"' in section
    console = (docs / "console.md").read_text()
    assert "(deploy.md#operating-from-a-laptop)" in console and "cron, UTC" not in console


def test_the_console_in_cloud_mode_reads_and_acts_with_the_operators_credentials(deployment, tmp_path):
    """`ackflow console --project P`, as docs/deploy.md has an operator run it on a laptop: the
    deployment's settings loaded, the operator's Application Default Credentials (here a key file
    that the local Cloud Tasks service's token endpoint accepts, through the official clients),
    nothing deployed. It listens on loopback only; lists the deployment's FAILED job from
    Firestore; shows the queue as Cloud Tasks reports it (paused, its task waiting); a Retry,
    asked and confirmed, queues the step's task for the deployed worker with its invoker's OIDC
    token, and the audit log names the operator."""
    import os
    import re

    import requests

    runtime, env, proc = deployment
    # A job of its own: Cloud Tasks keeps a task's name for a while after it is gone (deduplication),
    # and the retry test above queued the task named for JOB's step in this module's service
    failed = runtime.store.get_job(JOB)
    runtime.store.create_job(failed.replace(id=CLOUD_JOB))
    env = {**env, "ACKFLOW_WORKER_URL": WORKER_URL, "ACKFLOW_INVOKER_SERVICE_ACCOUNT": INVOKER,
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ACKFLOW_DEV_DIR": str(tmp_path / "nodev"),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    with console_process(["--project", env["ACKFLOW_PROJECT"], "--language", "en", "--operator", "ops@example.com"],
                         env) as url:
        assert url.startswith("http://127.0.0.1:"), url  # loopback, no --host given
        browser = requests.Session()
        jobs = browser.get(url + "/jobs?status=FAILED", timeout=30)
        assert jobs.status_code == 200 and f'<tr data-job="{CLOUD_JOB}">' in jobs.text
        assert "· firestore · cloudtasks ·" in jobs.text  # the footer: the cloud's store and queues
        queues = browser.get(url + "/queues", timeout=30).text
        section = re.search(r'data-queue="ackflow-default">(.*?)</section>', queues, re.S).group(1)
        assert 'data-status="PAUSED"' in section and 'data-test="resume"' in section  # as the fixture left it
        form = {"csrf_token": browser.cookies["ackflow_csrf"]}
        asked = browser.post(f"{url}/jobs/{CLOUD_JOB}/retry", data=form, timeout=30)
        assert asked.status_code == 200 and 'name="confirmed" value="1"' in asked.text
        assert runtime.store.get_job(CLOUD_JOB).status == JobStatus.FAILED  # asked first, nothing changed
        done = browser.post(f"{url}/jobs/{CLOUD_JOB}/retry", data={**form, "confirmed": "1"}, timeout=30)
        assert done.status_code == 200 and done.url.endswith(f"/jobs/{CLOUD_JOB}")
        assert runtime.store.get_job(CLOUD_JOB).status == JobStatus.QUEUED
        [task] = queued_tasks(proc, env["ACKFLOW_PROJECT"])
        assert task.http_request.url == WORKER_URL
        assert task.http_request.oidc_token.service_account_email == INVOKER
        queues = browser.get(url + "/queues", timeout=30).text
        section = re.search(r'data-queue="ackflow-default">(.*?)</section>', queues, re.S).group(1)
        assert re.search(r'data-test="waiting">1<', section), section  # Cloud Tasks' own count
        [entry] = runtime.store.list_audit(job_id=CLOUD_JOB)
        assert (entry.actor, entry.action, entry.surface, entry.outcome) == ("ops@example.com", "retry", "console",
                                                                              "done")
