"""The operator commands against a deployment from a machine that lacks the cloud client the
settings name (the CLI installed without the ``gcp`` or ``aws`` extra): a clear refusal that says
what to install, before anything is read or changed, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = {
    "ACKFLOW_STORE": "firestore", "ACKFLOW_PROJECT": "acme-design-ackflow", "ACKFLOW_PROJECT_NUMBER": "482716350912",
    "ACKFLOW_WORKER_URL": "https://asia-northeast1-acme-design-ackflow.cloudfunctions.net/ackflow-worker",
    "ACKFLOW_INVOKER_SERVICE_ACCOUNT": "ackflow-invoker@acme-design-ackflow.iam.gserviceaccount.com",
    # nothing may reach Google: a client that got this far would fail on this closed port
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
}


def run_without(module: str, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``ackflow ARGS`` in a Python where importing ``module`` fails, as it does when not installed."""
    code = (f"import sys; sys.modules[{module!r}] = None; sys.argv = ['ackflow', *{args!r}]; "
            "from ackflow_tools.cli.main import cli; cli()")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **DEPLOYMENT, **env})


@pytest.mark.parametrize("args", [["jobs"], ["jobs", "show", "j7jffsi4y43"], ["sweep"], ["retry", "j7jffsi4y43"],
                                  ["cancel", "j7jffsi4y43"], ["console", "--project", "acme-design-ackflow"]])
def test_without_the_firestore_client_the_command_says_what_to_install(args):
    result = run_without("google.cloud.firestore", args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "ACKFLOW_STORE=firestore" in result.stderr and "pip install -e '.[gcp,office]'" in result.stderr


def test_without_boto3_an_sqs_deployment_says_what_to_install():
    result = run_without("boto3", ["retry", "j7jffsi4y43"], ACKFLOW_QUEUE_BACKEND="sqs")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "ACKFLOW_QUEUE_BACKEND=sqs" in result.stderr and "[aws]" in result.stderr
