"""The functions' entry modules stay light: no cloud SDK is imported until it is first used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HEAVY = ["google.cloud.firestore", "google.cloud.tasks_v2", "google.apps.chat_v1", "gspread", "boto3",
         "google.cloud.storage", "fpdf", "google.cloud.secretmanager", "googleapiclient", "httplib2",
         # the catalog's formats, the office's calendar, PDFs and portal pages: loaded when first used
         "babel", "holidays", "pypdf", "bs4", "cronsim", "requests"]


@pytest.mark.parametrize("module", ["chat_webhook.main", "workers.main", "main"])
def test_importing_an_entry_point_loads_no_cloud_sdk(module):
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    # FUNCTION_TARGET as the runtime sets it: the warm-up is armed (it only starts after a fork)
    result = subprocess.run([sys.executable, "-c", code], cwd=FUNCTIONS, capture_output=True, text=True,
                            env={"PATH": "", "FUNCTION_TARGET": "chat_webhook"}, check=True)
    assert json.loads(result.stdout) == []
