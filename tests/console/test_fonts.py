"""The fonts the console's pages and the browser chat need to draw what the office writes:
Japanese (fonts-noto-cjk) and the emoji the app's cards use (fonts-noto-color-emoji). Without
them Chromium draws boxes, and a screenshot would not show it to a test. scripts/install-tools
installs them (and only warns when it cannot); in CI (CI=true) a missing one fails here."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import IN_CI, require_tool


def _missing(what: str, package: str) -> None:
    message = f"no font for {what} (apt-get install {package}; scripts/install-tools)"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def _fonts(pattern: str) -> list[str]:
    fc_list = require_tool("fc-list", "fontconfig lists the fonts Chromium can use")
    listed = subprocess.run([fc_list, pattern, "family"], capture_output=True, text=True, timeout=60, check=True)
    return [line for line in listed.stdout.splitlines() if line.strip()]


def test_a_japanese_font_is_installed():
    if not _fonts(":lang=ja"):
        _missing("Japanese", "fonts-noto-cjk")


def test_an_emoji_font_is_installed():
    if not _fonts(":charset=2705"):  # ✅, as the result cards begin
        _missing("emoji such as ✅", "fonts-noto-color-emoji")
