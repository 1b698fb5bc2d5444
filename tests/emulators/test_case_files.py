"""The local case-folder server behind `ackflow dev`'s link buttons: it serves the case folders and
nothing else, and never lets a file from outside (a mail attachment, a portal download) run as a
page on its origin. Over real HTTP."""

from __future__ import annotations

import pytest
import requests

from ackflow_tools.emulators.files import CaseFiles
from ackflow_tools.emulators.web import ServerThread


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "cases"
    folder = root / "2026-001_ACME_金型" / "01_受領資料"
    folder.mkdir(parents=True)
    (folder / "invite.html").write_text("<script>document.cookie='x=1'</script>", encoding="utf-8")
    (folder / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    (folder / "見積書.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (tmp_path / "secret.txt").write_text("outside the cases")
    (root / ".hidden").write_text("hidden")
    server = ServerThread(CaseFiles(root)).start()
    yield f"{server.url}/cases"
    server.stop()


@pytest.mark.parametrize("name", ["invite.html", "logo.svg"])
def test_a_file_that_could_run_script_is_shown_as_text_in_a_sandbox(served, name):
    opened = requests.get(f"{served}/2026-001_ACME_金型/01_受領資料/{name}", timeout=5)
    assert opened.status_code == 200 and opened.headers["Content-Type"].startswith("text/plain")
    assert opened.headers["X-Content-Type-Options"] == "nosniff"
    assert opened.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_pdf_opens_as_a_pdf(served):
    opened = requests.get(f"{served}/2026-001_ACME_金型/01_受領資料/見積書.pdf", timeout=5)
    assert opened.status_code == 200 and opened.headers["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/2026-001_ACME_金型/..%2F..%2Fsecret.txt",
                                  "/.hidden", "/2026-001_ACME_金型\\..\\..\\secret.txt"])
def test_nothing_outside_the_case_folders_or_hidden_is_served(served, path):
    opened = requests.get(served + path, timeout=5)
    assert opened.status_code == 404 and b"outside" not in opened.content and b"hidden" not in opened.content


def test_it_is_read_only(served):
    assert requests.put(f"{served}/2026-001_ACME_金型/x.txt", data=b"x", timeout=5).status_code == 405


TOO_LONG = {"300 bytes": "/" + "x" * 300, "300 bytes of Japanese": "/2026-001_ACME_金型/" + "%E5%9B%B3" * 100,
            "deep": "/" + "a/" * 3000}


@pytest.mark.parametrize("path", list(TOO_LONG.values()), ids=list(TOO_LONG))
def test_a_path_too_long_for_the_filesystem_is_not_found_never_an_error(tmp_path, path):
    from werkzeug.test import Client

    (tmp_path / "cases").mkdir()
    answer = Client(CaseFiles(tmp_path / "cases")).get("/cases" + path)  # in-process: any length of URL
    assert answer.status_code == 404


def test_a_symlink_out_of_the_case_folders_is_not_followed(served, tmp_path):
    import os

    os.symlink(tmp_path / "secret.txt", tmp_path / "cases" / "2026-001_ACME_金型" / "link.txt")
    opened = requests.get(f"{served}/2026-001_ACME_金型/link.txt", timeout=5)
    assert opened.status_code == 404 and b"outside" not in opened.content


def test_a_name_with_bidi_or_control_characters_is_neither_shown_nor_saved_turned_around(tmp_path):
    """A file a person put in the case folder (the local stand-in of the shared drive) named to look
    like a PDF (``invoice\u202efdp.exe`` shows as ``invoiceexe.pdf``): the listing shows the
    override as U+FFFD and the file is offered under a name without it, encoded as RFC 8187 says."""
    import re
    import unicodedata
    from urllib.parse import unquote

    folder = tmp_path / "cases" / "2026-001_ACME_金型"
    folder.mkdir(parents=True)
    (folder / "invoice\u202efdp.exe").write_bytes(b"MZ")
    (folder / "tab\there; x.txt").write_bytes(b"x")
    server = ServerThread(CaseFiles(tmp_path / "cases")).start()
    try:
        page = requests.get(f"{server.url}/cases/2026-001_ACME_金型", timeout=5).text
        assert "invoice\ufffdfdp.exe" in page
        assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in page.replace("\n", "")), ascii(page)
        for name, saved in (("invoice\u202efdp.exe", "invoicefdp.exe"), ("tab\there; x.txt", "tabhere; x.txt")):
            opened = requests.get(f"{server.url}/cases/2026-001_ACME_金型/{name}", timeout=5)
            match = re.fullmatch(r"inline; filename\*=UTF-8''((?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-F]{2})+)",
                                 opened.headers["Content-Disposition"])
            assert match and unquote(match.group(1)) == saved, opened.headers["Content-Disposition"]
    finally:
        server.stop()
