"""Debian's chromium driven by Playwright (from PyPI). Playwright never downloads a browser here:
``executable_path`` is the system's chromium, launched headless in a fresh profile. Without it
the browser tests skip locally and fail in CI."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ACKFLOW_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
# A test run writes its screenshots under .ackflow/screenshots (to look at; never committed);
# ACKFLOW_UPDATE_DOC_SCREENSHOTS=1 writes them over docs/console/ for docs/console.md.
SHOTS = DOC_SHOTS if os.environ.get("ACKFLOW_UPDATE_DOC_SCREENSHOTS") == "1" else \
    Path(__file__).resolve().parents[2] / ".ackflow" / "screenshots"


def require_chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        message = "Debian's chromium is needed for the browser tests (apt-get install chromium; scripts/install-tools)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "playwright (the dev extra) is needed for the browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def browser():
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    profile = tempfile.mkdtemp(prefix="ackflow-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=path, headless=True, args=ARGS, viewport=DESKTOP, locale="ja-JP",
                timezone_id="Asia/Tokyo")
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def shoot(page, name: str) -> Path:
    """A screenshot at the page's current width (for docs/console.md when asked: SHOTS)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
