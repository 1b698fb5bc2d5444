"""The CaseStorage contract, one suite over every adapter: a local folder, Cloud Storage (its
emulator) and Google Drive (the local stand-in, through the official client)."""

from __future__ import annotations

import unicodedata
import uuid
from urllib.parse import quote

import pytest

from ackflow.errors import PermanentError
from tests.support.drive import FOLDER, LocalDrive
from tests.support.office import GcsEmulator
from workers.office.storage import GcsStorage, LocalStorage


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    emulator = GcsEmulator(tmp_path_factory.mktemp("gcs"))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    stand_in = LocalDrive(tmp_path_factory.mktemp("drive"))
    yield stand_in
    stand_in.stop()


@pytest.fixture(params=["local", "gcs", "drive", "drive-store"])
def storage(request, tmp_path, monkeypatch):
    """Each adapter; Drive both by key search alone and as the worker runs it, with the job store
    reserving each item's id (``drive-store``)."""
    if request.param == "local":
        return LocalStorage(tmp_path / "cases")
    if request.param == "gcs":
        return gcs_storage(request.getfixturevalue("gcs"))
    stand_in = request.getfixturevalue("drive")
    parent = stand_in.seed(name=f"cases {uuid.uuid4().hex[:8]}", mimeType=FOLDER, parents=["local-shared-drive"])
    if request.param == "drive":
        return stand_in.storage(parent["id"])
    from ackflow.store.sqlite import SqliteDocuments

    docs = SqliteDocuments(tmp_path / "store.db")
    request.addfinalizer(docs.close)
    return stand_in.storage(parent["id"], docs=docs)


def gcs_storage(emulator) -> GcsStorage:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_client

    client = gcs_client.Client(project="local-project", credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": emulator.url})
    return GcsStorage("office-cases", f"t-{uuid.uuid4().hex[:8]}/", client=client)


CASE = "2026-001_ACME_プレス金型 A-12 🚀"


def test_a_file_is_created_once_and_never_clobbered(storage):
    assert storage.create(f"{CASE}/03_見積/見積書_v1.pdf", b"%PDF first", "application/pdf") is True
    assert storage.create(f"{CASE}/03_見積/見積書_v1.pdf", b"%PDF second", "application/pdf") is False
    assert storage.read(f"{CASE}/03_見積/見積書_v1.pdf") == b"%PDF first"
    assert storage.list(CASE) == [f"{CASE}/03_見積/見積書_v1.pdf"]


def test_exists_read_and_a_missing_file(storage):
    assert storage.exists(f"{CASE}/README.txt") is False
    storage.create(f"{CASE}/README.txt", "案件 2026-001\n".encode(), "text/plain")
    assert storage.exists(f"{CASE}/README.txt") is True
    assert storage.read(f"{CASE}/README.txt").decode() == "案件 2026-001\n"
    with pytest.raises(Exception):  # noqa: B017 - each adapter has its own "not there"
        storage.read(f"{CASE}/missing.txt")


def test_list_is_recursive_sorted_files_only_and_stays_under_the_prefix(storage):
    for path in (f"{CASE}/b.txt", f"{CASE}/01_受領資料/portal/PO-1/図面.pdf", f"{CASE}/a.txt",
                 "2026-002_other/a.txt"):
        storage.create(path, b"x")
    storage.ensure_folder(f"{CASE}/04_納品")  # an empty folder lists nothing
    assert storage.list(CASE) == sorted([f"{CASE}/01_受領資料/portal/PO-1/図面.pdf", f"{CASE}/a.txt",
                                         f"{CASE}/b.txt"])
    assert storage.list("2026-999_nothing") == []


def test_folders_are_made_once(storage):
    storage.ensure_folder(f"{CASE}/02_設計")
    storage.ensure_folder(f"{CASE}/02_設計")
    assert storage.create(f"{CASE}/02_設計/メモ.csv", b"a,b\n") is True
    assert storage.list(CASE) == [f"{CASE}/02_設計/メモ.csv"]


def test_links_are_given_for_files(storage):
    storage.create(f"{CASE}/README.txt", b"x")
    link = storage.link(f"{CASE}/README.txt")
    assert link.startswith(("file://", "https://", "http://"))


def test_a_gcs_link_opens_the_file_itself_and_a_folder_as_a_folder(gcs):
    """Cloud Storage: a file's link is its authenticated browser URL (the PDF opens on a phone),
    a folder's the console's browser of its prefix, never one object's ``_details`` page."""
    storage = gcs_storage(gcs)
    storage.create(f"{CASE}/01_受領資料/図面 1.pdf", b"%PDF-1.4")
    name = f"{storage.prefix}{CASE}/01_受領資料/図面 1.pdf"
    assert storage.link(f"{CASE}/01_受領資料/図面 1.pdf") == f"https://storage.cloud.google.com/office-cases/{quote(name)}"
    assert "%20" in quote(name) and "/" in quote(name)  # the name quoted, its slashes kept
    assert storage.link(CASE) == (
        f"https://console.cloud.google.com/storage/browser/office-cases/{quote(storage.prefix + CASE)}/")


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", f"{CASE}/../../x", "", f"{CASE}//x",
                                  "..\\..\\x", f"{CASE}\\..\\..\\x"])
def test_paths_that_would_leave_the_case_storage_are_refused_and_make_nothing(storage, path):
    with pytest.raises(ValueError):
        storage.create(path, b"x")
    assert storage.list(CASE) == []


HOSTILE = {"nul": f"{CASE}/a\x00b.txt", "newline": f"{CASE}/a\nb.txt", "bidi": f"{CASE}/\u202etxt.exe",
           "300 bytes": f"{CASE}/" + "図" * 100 + ".pdf", "deep": f"{CASE}/" + "/".join(["d" * 200] * 5) + "/f"}


@pytest.mark.parametrize("path", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_name_one_backend_would_refuse_or_mangle_is_refused_by_every_one_for_good(storage, path):
    with pytest.raises(PermanentError, match="cannot be a path in the case folders"):
        storage.create(path, b"x")
    assert storage.list(CASE) == []


def test_a_name_is_one_file_however_its_text_is_composed(storage):
    nfc, nfd = (unicodedata.normalize(form, f"{CASE}/ガイド.pdf") for form in ("NFC", "NFD"))
    assert storage.create(nfc, b"first") is True
    assert storage.exists(nfd) and storage.create(nfd, b"second") is False
    assert storage.read(nfd) == b"first" and storage.list(CASE) == [nfc]


@pytest.mark.parametrize("content_type", ["application/vnd.google-apps.document", "application/vnd.google-apps.folder",
                                          "application/vnd.google-apps.shortcut", "text/html\r\nX-Injected: 1", "",
                                          "pdf", "x" * 500 + "/y", 'application/pdf; name="a\r\nb"'])
def test_a_type_anyone_gave_stores_the_bytes_as_a_plain_file(storage, content_type):
    """A mail part's Content-Type is the sender's: never a Google type Drive would convert, refuse or
    make a folder of, never a header of its own."""
    assert storage.create(f"{CASE}/01_受領資料/メール/添付.bin", b"%PDF data", content_type) is True
    assert storage.read(f"{CASE}/01_受領資料/メール/添付.bin") == b"%PDF data"
    assert storage.list(CASE) == [f"{CASE}/01_受領資料/メール/添付.bin"]


def test_a_partial_file_left_by_a_crash_is_removed_by_a_later_write_and_one_being_written_is_not(tmp_path):
    """Local disk writes beside the file, then links it into place: a crash in between leaves a
    ``.partial-`` file, which the next write in that folder removes once it is an hour old."""
    import os
    import time

    storage = LocalStorage(tmp_path / "cases")
    folder = tmp_path / "cases" / CASE / "03_見積"
    folder.mkdir(parents=True)
    left, writing = folder / ".partial-crashed", folder / ".partial-now"
    left.write_bytes(b"half")
    writing.write_bytes(b"being written")
    old = time.time() - 2 * 3600
    os.utime(left, (old, old))
    assert storage.create(f"{CASE}/03_見積/見積書.pdf", b"%PDF") is True
    assert not left.exists() and writing.exists()
    assert sorted(p.name for p in folder.iterdir()) == [".partial-now", "見積書.pdf"]


EIGHT_BIT_MAIL = ("From: 山田 <yamada@acme.co.jp>\r\nSubject: =?UTF-8?B?6KaL56mN?=\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                  "お見積りのお願い\r\n").encode() + bytes(range(256))


@pytest.mark.parametrize("content_type", ["message/rfc822", "message/partial", "multipart/mixed", "message/global"])
def test_a_mail_or_a_multipart_file_of_eight_bit_bytes_is_stored_as_given(storage, content_type):
    """The saved .eml of a request mail, a forwarded mail, a part the sender typed ``multipart/…``:
    raw 8-bit bytes that Drive's client once failed to send (its MIME generator read them as a mail
    to serialize), failing the ``mail`` step of every case opened from a Japanese mail in UTF-8."""
    path = f"{CASE}/01_受領資料/メール/受信メール.eml"
    assert storage.create(path, EIGHT_BIT_MAIL, content_type) is True
    assert storage.read(path) == EIGHT_BIT_MAIL and storage.list(CASE) == [path]


def test_the_check_before_a_case_number_passes_and_makes_nothing(storage):
    storage.check()
    storage.check()  # a retried step runs it again
    assert storage.list(CASE) == [] and storage.exists(CASE) is False


@pytest.mark.parametrize("kind", ["gcs", "drive"])
def test_a_place_for_case_folders_that_is_not_there_is_refused_by_the_check_for_good(request, kind):
    """A bucket or a parent folder that is not there (a wrong setting): refused before a case
    number is taken, naming the setting to check."""
    if kind == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs_client

        emulator = request.getfixturevalue("gcs")
        client = gcs_client.Client(project="local-project", credentials=AnonymousCredentials(),
                                   client_options={"api_endpoint": emulator.url})
        missing, setting = GcsStorage("no-such-bucket", "cases/", client=client), "ACKFLOW_OFFICE_GCS_BUCKET"
    else:
        missing, setting = request.getfixturevalue("drive").storage("no-such-folder"), \
            "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER"
    with pytest.raises(PermanentError, match=setting):
        missing.check()
