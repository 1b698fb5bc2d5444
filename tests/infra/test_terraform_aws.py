"""The AWS module applied for real: terraform init (offline, from the provider mirror), validate,
apply and destroy against a moto server; boto3 checks what exists; the SQS adapter and the relay
then use the queues Terraform made."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import uuid

import boto3
import pytest

from ackflow.auth import verify
from ackflow.auth.signing import LocalSigner
from ackflow.queues import load_queues
from ackflow.taskqueue.base import Task
from ackflow_tools.emulators.web import Router, ServerThread, json_response
from tests.infra.hcl import AWS, ROOT
from tests.infra.tools import cli_config, terraform, terraform_env
from tests.support.recorder import Recorder

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)

QUEUES = ROOT / "functions" / "workers" / "queues.json"
PREFIX = "test-"
REGION = "ap-northeast-1"
RETENTION = 4 * 86400  # a queue's retention shorter than SQS's longest (14 days)


def run(args: list[str], cwd, env) -> subprocess.CompletedProcess:
    result = subprocess.run([terraform(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"terraform {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def applied(tmp_path_factory, moto):
    workdir = tmp_path_factory.mktemp("tf-aws")
    module = workdir / "aws"
    shutil.copytree(AWS, module, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    cli_config(workdir)
    env = terraform_env(workdir, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                        AWS_DEFAULT_REGION=REGION)
    variables = ["-var", f"aws_endpoint={moto.url}", "-var", f"queues_file={QUEUES}", "-var", f"queue_prefix={PREFIX}",
                 "-var", f"message_retention_seconds={RETENTION}"]
    run(["init", "-input=false", "-no-color"], module, env)
    run(["validate", "-no-color"], module, env)
    run(["apply", "-auto-approve", "-input=false", "-no-color", *variables], module, env)
    outputs = json.loads(run(["output", "-json"], module, env).stdout)
    client = boto3.client("sqs", endpoint_url=moto.url, region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    yield {"outputs": outputs, "client": client, "moto": moto}
    run(["destroy", "-auto-approve", "-input=false", "-no-color", *variables], module, env)
    remaining = client.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
    assert remaining == [], f"destroy left {remaining}"


def attributes(client, url: str) -> dict:
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_queues_dead_letter_queues_and_redrive_policies_exist_as_declared(applied):
    client = applied["client"]
    definitions = load_queues(QUEUES)
    urls = applied["outputs"]["queue_urls"]["value"]
    assert set(urls) == set(definitions)
    for name, definition in definitions.items():
        main = attributes(client, urls[name])
        dlq_url = client.get_queue_url(QueueName=f"{PREFIX}{name}-dlq")["QueueUrl"]
        dlq = attributes(client, dlq_url)
        redrive = json.loads(main["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == definition.retry.max_attempts
        assert int(main["VisibilityTimeout"]) > definition.max_step_timeout
        assert main.get("SqsManagedSseEnabled") == "true" and dlq.get("SqsManagedSseEnabled") == "true"
        # A message SQS moves to a standard DLQ keeps its first enqueue time, and expires by the DLQ's
        # retention counted from then: AWS advises a DLQ retention longer than the queue's. With the
        # same retention, a message that waited in the queue expired early from the DLQ, unseen.
        assert int(main["MessageRetentionPeriod"]) == RETENTION
        assert int(dlq["MessageRetentionPeriod"]) == 14 * 86400
    assert applied["outputs"]["dead_letter_queue_arns"]["value"].keys() == definitions.keys()


def test_iam_policies_for_the_sender_and_the_relay(applied):
    iam = boto3.client("iam", endpoint_url=applied["moto"].url, region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing")

    def actions(arn: str, resource: str = "") -> set[str]:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        found = set()
        for statement in document["Statement"]:
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str) else resources
            if resource and resource not in resources:
                continue
            listed = statement["Action"]
            found |= {listed} if isinstance(listed, str) else set(listed)
        return found

    def arn(name: str) -> str:
        url = applied["client"].get_queue_url(QueueName=PREFIX + name)["QueueUrl"]
        return attributes(applied["client"], url)["QueueArn"]

    sender = actions(applied["outputs"]["sender_policy_arn"]["value"])
    relay_arn = applied["outputs"]["relay_policy_arn"]["value"]
    assert "sqs:SendMessage" in sender and "sqs:DeleteMessage" not in sender
    for name in load_queues(QUEUES):
        # receive, settle, and send again the rest of a delay beyond 900 s
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                "sqs:SendMessage"} <= actions(relay_arn, arn(name))
        # a job that failed for good: its message moved to the dead-letter queue by the relay
        dead = actions(relay_arn, arn(name + "-dlq"))
        assert {"sqs:SendMessage", "sqs:GetQueueUrl"} <= dead and "sqs:ReceiveMessage" not in dead


def test_the_adapter_and_the_relay_use_the_queues_terraform_made(applied, monkeypatch):
    from ackflow.taskqueue.relay import Relay, RelayQueue
    from ackflow.taskqueue.sqs import SqsQueue

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    worker = Recorder()
    signer = LocalSigner.generate("relay")
    certs_app = Router()
    certs_app.add("GET", "/certs", lambda request: json_response(signer.x509_document()))
    certs = ServerThread(certs_app).start()
    definitions = load_queues(QUEUES)
    urls = applied["outputs"]["queue_urls"]["value"]
    relay = Relay(sqs=applied["client"], queues=[RelayQueue(definitions[n], urls[n]) for n in definitions],
                  worker_url=worker.url + "/", signer=signer, issuer="https://relay.test", identity="relay@test")
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop, 1), daemon=True)
    thread.start()
    try:
        queue = SqsQueue(endpoint=applied["moto"].url, region=REGION, prefix=PREFIX)
        name = uuid.uuid4().hex
        assert queue.enqueue(Task(queue="ackflow-office", name=name, payload={"job_id": "j9", "step": 0}))
        [got] = worker.wait_for(1, timeout=20)
        assert json.loads(got.body) == {"job_id": "j9", "step": 0}
        assert got.headers["X-Cloudtasks-Taskname"] == name
        policy = verify.TokenPolicy("relay", (worker.url + "/",), ("https://relay.test",), f"{certs.url}/certs",
                                    ("relay@test",), require_email_verified=True)
        assert verify.Verifier([policy]).verify(got.headers["Authorization"])["email"] == "relay@test"
    finally:
        stop.set()
        thread.join(timeout=5)
        certs.stop()
        worker.stop()
