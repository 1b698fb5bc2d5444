"""Gmail's push path on one machine: the Pub/Sub emulator of the gcloud CLI, its topic and push
subscription, and a signing relay in front of the worker.

What the emulator does and does not (found by running it, version 0.8.20): it pushes to a push
endpoint with Pub/Sub's envelope, retries a non-2xx answer per the subscription's retry policy and
moves a message to the dead-letter topic after ``maxDeliveryAttempts``; it accepts a push
config's ``oidcToken`` but sends no Authorization header at all. So the subscription here pushes
to a relay that adds the token Pub/Sub would (an ID token for the invoker account, audience the
worker's URL, minted by the local Cloud Tasks service's signer, whose certificates the worker
already trusts) and forwards to the worker's ``/mail``: the worker verifies exactly as in the cloud.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import requests
from werkzeug.wrappers import Request, Response

from .gcloud_sdk import EmulatorMissing, JavaEmulator, first_existing, sdk_roots

TOPIC = "gmail"
DEAD_TOPIC = "gmail-dead"
SUBSCRIPTION = "gmail-push"
# How the push subscription backs off (production's, infra/terraform/mail.tf, is 10 s to 600 s).
# Its 10 deliveries must outlast a minute in which Chat refuses the office space's writes (its
# per-space write quota): with 1 s to 5 s the emulator spent all 10 in 37 s and dead-lettered a
# notification whose card Chat would have taken seconds later; with these, 10 take about 150 s.
RETRY_POLICY = {"minimumBackoff": "5s", "maximumBackoff": "60s"}


def find_jar() -> Path:
    explicit = os.environ.get("ACKFLOW_PUBSUB_EMULATOR_JAR")
    candidates = [Path(explicit)] if explicit else []
    for root in sdk_roots():
        candidates += sorted((root / "platform" / "pubsub-emulator" / "lib").glob("cloud-pubsub-emulator-*.jar"))
    return first_existing(candidates, "the Pub/Sub emulator is not installed: install the gcloud CLI's component "
                          "(gcloud components install pubsub-emulator, or the Debian package "
                          "google-cloud-cli-pubsub-emulator), or set ACKFLOW_PUBSUB_EMULATOR_JAR")


def missing() -> str | None:
    """Why the Pub/Sub emulator cannot run here (no Java, no emulator), or None if it can."""
    if shutil.which("java") is None:
        return PubSubEmulator.needs
    try:
        find_jar()
    except EmulatorMissing as exc:
        return str(exc)
    return None


class PubSubEmulator(JavaEmulator):
    name = "pubsub-emulator"
    needs = "java is not installed (the Pub/Sub emulator needs Java)"

    def argv(self, java: str) -> list[str]:
        return [java, "-jar", str(find_jar()), "--host=127.0.0.1", f"--port={self.port}"]

    def log_path(self) -> Path:
        return self.workdir / "logs" / "pubsub.log"

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def create(self, push_endpoint: str, invoker: str, audience: str) -> None:
        """The topic Gmail publishes to, a dead-letter topic, and the push subscription (as
        Terraform declares them; the emulator ignores the OIDC part, see the module docstring)."""
        base = f"{self.url}/v1/projects/{self.project}"
        for name in (TOPIC, DEAD_TOPIC):
            response = requests.put(f"{base}/topics/{name}", json={}, timeout=10)
            if response.status_code not in (200, 409):
                response.raise_for_status()
        body = {"topic": self.topic(TOPIC), "ackDeadlineSeconds": 30,
                "pushConfig": {"pushEndpoint": push_endpoint,
                               "oidcToken": {"serviceAccountEmail": invoker, "audience": audience}},
                "deadLetterPolicy": {"deadLetterTopic": self.topic(DEAD_TOPIC), "maxDeliveryAttempts": 10},
                "retryPolicy": RETRY_POLICY}
        response = requests.put(f"{base}/subscriptions/{SUBSCRIPTION}", json=body, timeout=10)
        if response.status_code not in (200, 409):
            response.raise_for_status()

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def signing_relay(tokens_url: str, invoker: str, audience: str, target: str):
    """A WSGI app: each push is forwarded to ``target`` with the OIDC token Pub/Sub would attach."""
    session = requests.Session()
    session.trust_env = False

    def app(environ, start_response):
        request = Request(environ)
        try:
            token = session.post(f"{tokens_url}/v1/projects/-/serviceAccounts/{invoker}:generateIdToken",
                                 json={"audience": audience, "includeEmail": True}, timeout=10).json()["token"]
            answer = session.post(target, data=request.get_data(), timeout=60,
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                           "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"})
            response = Response(answer.content, status=answer.status_code, content_type="application/json")
        except (requests.RequestException, KeyError, ValueError) as exc:
            response = Response(f"relay: {exc}", status=503)
        return response(environ, start_response)

    return app
