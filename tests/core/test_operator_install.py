"""The operator commands against a deployment from a machine that lacks the cloud client the
settings name (the CLI installed without the ``gcp`` or ``aws`` extra): a clear refusal that says
what to install, before anything is read or changed, never a traceback."""

from __future__ import annotations

import os
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


# No Application Default Credentials on this machine (the operator skipped, or let expire,
# `gcloud auth application-default login`): google.auth finds none in HOME nor in the environment,
# and the metadata server is neither asked for nor reachable.
NO_CREDENTIALS = {**{k: v for k, v in DEPLOYMENT.items() if k != "FIRESTORE_EMULATOR_HOST"},
                  "NO_GCE_CHECK": "true", "GCE_METADATA_HOST": "127.0.0.1:9", "GCE_METADATA_IP": "127.0.0.1:9",
                  "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


@pytest.mark.parametrize("args", [["jobs"], ["jobs", "show", "j7jffsi4y43"], ["sweep"], ["retry", "j7jffsi4y43"],
                                  ["cancel", "j7jffsi4y43"],
                                  ["console", "--project", "acme-design-ackflow", "--port", "0"]])
def test_without_credentials_the_command_says_how_to_get_them(args, tmp_path):
    """docs/deploy.md's operator commands on a laptop with no Application Default Credentials: the
    command ends with exit status 1 and says the one command that fixes it, not a traceback (the
    console before it serves: else each of its pages said it, as a failed operation)."""
    code = f"import sys; sys.argv = ['ackflow', *{args!r}]; from ackflow_tools.cli.main import cli; cli()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **NO_CREDENTIALS,
                                 "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: Firestore needs Google credentials"), result.stderr
    assert "gcloud auth application-default login" in result.stderr
