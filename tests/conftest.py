"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str, why: str) -> str:
    """The path of ``name``; a skip locally when missing, a failure in CI (CI=true)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)
