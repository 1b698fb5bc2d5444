"""ackflow dev's read-only server of the local case folders: only what is under the root, never a
5xx for a path someone made up."""

from __future__ import annotations

import os

import pytest
from werkzeug.test import Client

from ackflow_tools.emulators.files import CaseFiles


@pytest.fixture
def files(tmp_path):
    root = tmp_path / "cases"
    (root / "2026-001_ACME").mkdir(parents=True)
    (root / "2026-001_ACME" / "見積書.pdf").write_bytes(b"%PDF-1.4")
    (root / "2026-001_ACME" / ".partial-x").write_bytes(b"half")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "2026-001_ACME" / "link.txt")
    return Client(CaseFiles(root))


def test_a_file_and_a_folder_are_served(files):
    document = files.get("/cases/2026-001_ACME/%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf")
    assert document.status_code == 200 and document.data == b"%PDF-1.4"
    assert document.headers["Content-Type"] == "application/pdf"
    listing = files.get("/cases/2026-001_ACME")
    assert listing.status_code == 200 and "見積書.pdf" in listing.text and ".partial" not in listing.text


HOSTILE = {"up": "/cases/../secret.txt", "encoded up": "/cases/2026-001_ACME/%2E%2E/%2E%2E/secret.txt",
           "symlink out": "/cases/2026-001_ACME/link.txt", "half-written": "/cases/2026-001_ACME/.partial-x",
           "nul": "/cases/%00", "backslash": "/cases/a%5C..%5Csecret.txt", "300 bytes": "/cases/" + "x" * 300,
           "300 bytes of Japanese": "/cases/2026-001_ACME/" + "%E5%9B%B3" * 100, "deep": "/cases/" + "a/" * 3000}


@pytest.mark.parametrize("path", list(HOSTILE.values()), ids=list(HOSTILE))
def test_what_is_not_a_file_under_the_root_is_not_found_never_an_error(files, path):
    answer = files.get(path)
    assert answer.status_code == 404 and b"outside" not in answer.data
