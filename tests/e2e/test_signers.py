"""Google's signers as settings presets, checked through the real function servers.

Generated RSA keys stand in for Google's; a local server serves their certificates where the
settings point. Every kind of bad token gets 401 and leaves nothing stored; the valid one works.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import requests

from ackflow.auth.signing import LocalSigner
from ackflow.store.jobstore import JobStore
from ackflow.store.sqlite import SqliteDocuments
from ackflow_tools.devtools.procs import ManagedProcess, free_port
from ackflow_tools.devtools.stack import functions_source
from tests.core.test_verify import CertServer, chat_token, id_token, tampered

PROJECT_NUMBER = "424242424242"
INVOKER = "ackflow-invoker@office.iam.gserviceaccount.com"
ADDON = f"service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
DATA = Path(__file__).parent.parent / "data" / "events"


class Function:
    def __init__(self, workdir: Path, target: str, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        executable = shutil.which("functions-framework", path=os.path.dirname(sys.executable))
        self.proc = ManagedProcess(target, [executable, "--source", str(functions_source()), "--target", target,
                                            "--host", "127.0.0.1", "--port", str(self.port)],
                                   env={**env, "FUNCTION_TARGET": target}, ready_url=self.url,
                                   log_path=workdir / f"{target}-{self.port}.log").start()


@pytest.fixture(scope="module")
def signers():
    google = CertServer(LocalSigner.generate("google-oauth2"))
    chat = CertServer(LocalSigner.generate("chat-system"))
    yield google, chat
    google.server.stop()
    chat.server.stop()


def base_env(workdir: Path, **extra) -> dict:
    return {
        "ACKFLOW_PROJECT": "office", "ACKFLOW_PROJECT_NUMBER": PROJECT_NUMBER,
        "ACKFLOW_SQLITE_PATH": str(workdir / "jobs.db"), "ACKFLOW_INVOKER_SERVICE_ACCOUNT": INVOKER,
        "ACKFLOW_CLOUDTASKS_ENDPOINT": "http://127.0.0.1:9", "ACKFLOW_CHAT_ENDPOINT": "http://127.0.0.1:9",
        "ACKFLOW_LOCAL_SERVICES": "true", "ACKFLOW_LOG_FORMAT": "json", **extra,
    }


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, signers):
    """The webhook in both audience modes and the worker, on one store."""
    google, chat = signers
    workdir = tmp_path_factory.mktemp("signers")
    url_webhook_port = free_port()
    functions = {
        "project-number": Function(workdir, "chat_webhook", base_env(
            workdir, ACKFLOW_CHAT_AUTH="project-number", ACKFLOW_CHAT_CERTS_URL=chat.url)),
        "endpoint-url": Function(workdir, "chat_webhook", base_env(
            workdir, ACKFLOW_CHAT_AUTH="endpoint-url", ACKFLOW_CHAT_CERTS_URL=google.url,
            ACKFLOW_WEBHOOK_URL=f"https://chat.example/app-{url_webhook_port}")),
        "worker": Function(workdir, "worker", base_env(
            workdir, ACKFLOW_WORKER_URL="https://worker.example/", ACKFLOW_WORKER_CERTS_URL=google.url)),
    }
    store = JobStore(SqliteDocuments(workdir / "jobs.db"))
    yield functions, store, f"https://chat.example/app-{url_webhook_port}"
    for function in functions.values():
        function.proc.stop()
    store.close()


def stored(store: JobStore) -> int:
    return len(store.docs.query("confirmations", [], "created_at", True, 1000))


def post(url: str, body: dict, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(url, json=body, headers=headers, timeout=10)


def message_event(fmt: str) -> dict:
    return json.loads((DATA / fmt / "message.json").read_text())


def test_project_number_audience(deployment, signers):
    google, chat = signers
    functions, store, _ = deployment
    url = functions["project-number"].url
    now = int(time.time())
    rejected = {
        "expired": chat_token(chat.signer, iat=now - 7200, exp=now - 3600),
        "not yet valid": chat_token(chat.signer, iat=now + 3600, exp=now + 7200),
        "wrong audience": chat_token(chat.signer, aud="111111111111"),
        "wrong issuer": chat_token(chat.signer, iss="https://accounts.google.com"),
        "tampered": tampered(chat_token(chat.signer)),
        "unknown key id": chat_token(LocalSigner.generate("someone-else")),
        "the add-on signer's token": id_token(google.signer, url, ADDON),
        "missing header": None,
    }
    before = stored(store)
    for why, token in rejected.items():
        assert post(url, message_event("classic"), token).status_code == 401, why
    assert stored(store) == before
    accepted = post(url, message_event("classic"), chat_token(chat.signer))
    assert accepted.status_code == 200 and "echoを実行しますか？" in accepted.text  # the event says userLocale ja
    assert stored(store) == before + 1


def test_endpoint_url_audience_for_classic_and_addon_apps(deployment, signers):
    google, chat = signers
    functions, store, audience = deployment
    url = functions["endpoint-url"].url
    now = int(time.time())
    rejected = {
        "expired": id_token(google.signer, audience, ADDON, iat=now - 7200, exp=now - 3600),
        "not yet valid": id_token(google.signer, audience, ADDON, iat=now + 3600, exp=now + 7200),
        "wrong audience": id_token(google.signer, "https://elsewhere.example/", ADDON),
        "wrong issuer": id_token(google.signer, audience, ADDON, iss="https://login.example"),
        "wrong email": id_token(google.signer, audience, "intruder@gmail.com"),
        "tampered": tampered(id_token(google.signer, audience, ADDON)),
        "unknown key id": id_token(LocalSigner.generate("someone-else"), audience, ADDON),
        "the project-number signer's token": chat_token(chat.signer, aud=audience),
        "missing header": None,
    }
    before = stored(store)
    for why, token in rejected.items():
        assert post(url, message_event("addon"), token).status_code == 401, why
    assert stored(store) == before
    for fmt, email in (("addon", ADDON), ("classic", "chat@system.gserviceaccount.com")):
        accepted = post(url, message_event(fmt), id_token(google.signer, audience, email))
        assert accepted.status_code == 200, fmt
    assert stored(store) == before + 2


def test_worker_accepts_only_the_invokers_oidc_token(deployment, signers):
    google, chat = signers
    functions, store, _ = deployment
    url = functions["worker"].url
    audience = "https://worker.example/"
    task = {"job_id": "jnothere", "step": 0, "generation": 0}
    now = int(time.time())
    for why, token in {
        "expired": id_token(google.signer, audience, INVOKER, iat=now - 7200, exp=now - 3600),
        "wrong audience": id_token(google.signer, "https://chat.example/", INVOKER),
        "wrong email": id_token(google.signer, audience, "other@office.iam.gserviceaccount.com"),
        "email not verified": id_token(google.signer, audience, INVOKER, email_verified=False),
        "chat's token": chat_token(chat.signer, aud=audience),
        "missing header": None,
    }.items():
        assert post(url, task, token).status_code == 401, why
    answer = post(url, task, id_token(google.signer, audience, INVOKER))
    # verified: the task reaches the worker, which drops it (no such job) rather than have it retried
    assert answer.status_code == 200 and answer.json()["status"] == "dropped" and "jnothere" in answer.text
    assert post(url + "sweep", {}, id_token(google.signer, audience, INVOKER)).status_code == 200


def test_certificates_are_fetched_once_per_process(deployment, signers):
    google, chat = signers
    functions, _, _ = deployment
    before = chat.hits
    for _ in range(5):
        post(functions["project-number"].url, message_event("classic"), chat_token(chat.signer))
    assert chat.hits == before


def test_a_worker_that_cannot_fetch_the_signers_certificates_asks_the_queue_to_deliver_again(tmp_path, signers):
    """Google's certificate endpoint unreachable and nothing cached: a valid token cannot be checked
    now, so the worker answers 503 (the queue delivers again) instead of 401; nothing is run."""
    google, _ = signers
    worker = Function(tmp_path, "worker", base_env(tmp_path, ACKFLOW_WORKER_URL="https://worker.example/",
                                                   ACKFLOW_WORKER_CERTS_URL=f"http://127.0.0.1:{free_port()}/certs"))
    try:
        task = {"job_id": "jnothere", "step": 0, "generation": 0}
        answer = post(worker.url, task, id_token(google.signer, "https://worker.example/", INVOKER))
        assert answer.status_code == 503 and answer.json() == {"status": "retry"}
        assert post(worker.url, task, "not-a-token").status_code == 401  # malformed: no fetch needed to refuse
        assert post(worker.url, task, None).status_code == 401
    finally:
        worker.proc.stop()
