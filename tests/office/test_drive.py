"""Case folders on Google Drive (the local stand-in, through the official client): keys instead
of paths, retries without duplicates, the template as a Drive folder, and refusals that say what
to fix."""

from __future__ import annotations

import base64
import threading
import time
import unicodedata

import pytest
import requests

from ackflow.errors import PermanentError, TransientError
from ackflow_tools.devtools import drive as seeding
from tests.support.drive import FOLDER, LocalDrive, tree
from workers.office.template import DRIVE_TEMPLATE_SETTING, render_tree

CASE = "2026-001_ACME_金型"
NAMES = {"case": "2026-001", "client": "ACME", "title": "金型", "due": "未定", "date": "2026-05-01",
         "year": "2026", "requester": "requester"}


@pytest.fixture
def drive(tmp_path):
    stand_in = LocalDrive(tmp_path)
    yield stand_in
    stand_in.stop()


@pytest.fixture
def docs(tmp_path):
    from ackflow.store.sqlite import SqliteDocuments

    store = SqliteDocuments(tmp_path / "store.db")
    yield store
    store.close()


def cases(drive) -> dict[str, list[dict]]:
    return tree(drive.url, seeding.PARENT_FOLDER)


def test_every_item_is_marked_with_its_key_and_case_and_uploads_keep_their_type(drive):
    storage = drive.storage()
    storage.create(f"{CASE}/03_見積/見積書_2026-001_v1.pdf", b"%PDF-1.4", "application/pdf")
    made = cases(drive)
    assert set(made) == {CASE, f"{CASE}/03_見積", f"{CASE}/03_見積/見積書_2026-001_v1.pdf"}
    pdf = made[f"{CASE}/03_見積/見積書_2026-001_v1.pdf"][0]
    assert pdf["mimeType"] == "application/pdf" and pdf["size"] == "8"
    assert pdf["appProperties"] == {"ackflowKey": storage.key(f"{CASE}/03_見積/見積書_2026-001_v1.pdf"),
                                    "ackflowCase": "2026-001"}
    assert made[CASE][0]["mimeType"] == FOLDER
    assert storage.link(CASE) == f"{drive.url}/drive/folders/{made[CASE][0]['id']}"


def test_a_renamed_or_moved_item_is_still_found_by_its_key_and_not_made_again(drive):
    storage = drive.storage()
    storage.create(f"{CASE}/README.txt", b"original")
    made = cases(drive)
    session = requests.Session()
    token = session.post(f"{drive.url}/token", data={"assertion": "x." + base64.urlsafe_b64encode(
        b'{"iss": "person@example.com"}').decode() + ".y"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path, name in ((f"{CASE}/README.txt", "はじめに.txt"), (CASE, "2026-001 ACME (renamed)")):
        session.patch(f"{drive.url}/drive/v3/files/{made[path][0]['id']}?supportsAllDrives=true",
                      json={"name": name}, headers=headers).raise_for_status()
    assert storage.create(f"{CASE}/README.txt", b"second") is False
    assert storage.read(f"{CASE}/README.txt") == b"original"
    assert set(cases(drive)) == {"2026-001 ACME (renamed)", "2026-001 ACME (renamed)/はじめに.txt"}


def test_a_file_a_person_put_at_the_same_name_is_left_alone(drive):
    storage = drive.storage()
    folder = storage.ensure_folder(CASE)
    drive.seed(name="README.txt", parents=[folder["id"]], mimeType="text/plain",
               content_base64=base64.b64encode(b"by a person").decode())
    assert storage.create(f"{CASE}/README.txt", b"by Ackflow") is False
    assert [f["name"] for f in cases(drive)[f"{CASE}/README.txt"]] == ["README.txt"]
    assert storage.read(f"{CASE}/README.txt") == b"by a person"


def test_a_case_folder_moved_to_another_shared_drive_is_read_listed_and_added_to_once(drive, docs):
    """A full shared drive's card says to move finished case folders to another shared drive: the
    case is still Ackflow's there (found by the ids the job store keeps). A file a person put in it
    is left alone, what a step adds goes into it once, and the folder is listed whole: Drive lists
    a folder's children only in the shared drive they are in."""
    storage = drive.storage(docs=docs)
    storage.create(f"{CASE}/03_見積/見積書_v1.pdf", b"%PDF v1", "application/pdf")
    folder = storage.ensure_folder(f"{CASE}/05_請求")
    drive.shared_drive("archive-drive", "完了案件")
    drive.seed(id="archive-folder", name="2026", mimeType=FOLDER, parents=["archive-drive"])
    case = cases(drive)[CASE][0]
    storage._files().update(fileId=case["id"], addParents="archive-folder", removeParents=seeding.PARENT_FOLDER,
                            body={}, supportsAllDrives=True).execute()
    drive.seed(name="請求書_INV-2026-0001.pdf", parents=[folder["id"]], mimeType="application/pdf",
               content_base64=base64.b64encode(b"%PDF by a person").decode())
    storage = drive.storage(docs=docs)  # a later step, another worker
    assert storage.create(f"{CASE}/05_請求/請求書_INV-2026-0001.pdf", b"%PDF by Ackflow", "application/pdf") is False
    assert storage.read(f"{CASE}/05_請求/請求書_INV-2026-0001.pdf") == b"%PDF by a person"
    assert storage.create(f"{CASE}/05_請求/納品書.pdf", b"%PDF", "application/pdf") is True
    assert drive.storage(docs=docs).create(f"{CASE}/05_請求/納品書.pdf", b"%PDF", "application/pdf") is False
    assert storage.list(CASE) == [f"{CASE}/03_見積/見積書_v1.pdf", f"{CASE}/05_請求/納品書.pdf",
                                  f"{CASE}/05_請求/請求書_INV-2026-0001.pdf"]
    moved = tree(drive.url, "archive-folder")
    assert {path: len(items) for path, items in moved.items() if "/05_請求/" in path} == {
        f"{CASE}/05_請求/請求書_INV-2026-0001.pdf": 1, f"{CASE}/05_請求/納品書.pdf": 1}
    assert cases(drive) == {}


def test_rate_limits_and_5xx_are_retried_and_make_one_file(drive):
    """Drive's 403 rate limits, the 429 its backend may answer instead (developers.google.com/
    workspace/drive/api/guides/limits), and 5xx: each retried."""
    storage = drive.storage()
    drive.faults({"match": "GET /drive/v3/files", "code": 403, "reason": "userRateLimitExceeded", "count": 2},
                 {"match": "GET /drive/v3/files", "code": 429, "reason": "rateLimitExceeded", "count": 1},
                 {"match": "POST /upload", "code": 403, "reason": "rateLimitExceeded", "count": 1},
                 {"match": "POST /upload", "code": 429, "reason": "rateLimitExceeded", "count": 1},
                 {"match": "POST /upload", "code": 500, "reason": "internalError", "count": 1},
                 {"match": "POST /upload", "code": 503, "reason": "backendError", "count": 1})
    assert storage.create(f"{CASE}/a.txt", b"x") is True
    assert len(cases(drive)[f"{CASE}/a.txt"]) == 1
    faults = requests.get(f"{drive.url}/_emulator/faults", timeout=5).json()["faults"]
    assert [fault["count"] for fault in faults] == [0] * 6  # every one met


def test_a_5xx_that_lasts_says_drives_status_not_the_clients_url_and_repr(drive):
    """The card shows the failure in the requester's words: HTTP 500 and Drive's reason, never the
    client's ``<HttpError 500 when requesting https://…>`` (a URL and a repr in front of a person)."""
    from ackflow.i18n import speaker_for

    storage = drive.storage()
    drive.faults({"match": "/drive/v3/files", "code": 500, "reason": "backendError", "count": 50})
    with pytest.raises(TransientError) as failed:
        storage.create(f"{CASE}/a.txt", b"x")
    japanese, english = failed.value.render(speaker_for("ja")), failed.value.render(speaker_for("en"))
    assert "HTTP 500、backendError" in japanese and "Google ドライブ" in japanese
    assert "Google Drive answered HTTP 500 (backendError)" in english
    for said in (japanese, english):
        assert "http" not in said and "HttpError" not in said and "requesting" not in said, said


def test_a_write_whose_answer_is_lost_is_found_by_its_key_not_made_twice(drive):
    storage = drive.storage(timeout=1.0)
    drive.faults({"match": "POST /upload", "stall": 3, "count": 1})  # done on Drive, answered too late
    assert storage.create(f"{CASE}/a.txt", b"x") is True
    time.sleep(2.5)
    assert len(cases(drive)[f"{CASE}/a.txt"]) == 1


def test_a_drive_that_keeps_failing_is_a_transient_failure(drive):
    drive.faults({"match": "/drive/v3/files", "code": 503, "count": 100})
    with pytest.raises(TransientError, match="Drive: could not"):
        drive.storage(retries=2).create(f"{CASE}/a.txt", b"x")


def test_a_parent_folder_the_service_account_cannot_see_says_whom_to_add(drive):
    drive.shared_drive("other-drive", "経理", members=["someone@example.com"])
    hidden = drive.seed(name="cases", mimeType=FOLDER, parents=["other-drive"])
    from ackflow.i18n import speaker_for

    with pytest.raises(PermanentError) as refused:
        drive.storage(hidden["id"]).create(f"{CASE}/a.txt", b"x")
    assert drive.member in str(refused.value) and "member" in str(refused.value)
    assert "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in str(refused.value)
    japanese = refused.value.render(speaker_for("ja"))  # said to the person who asked, in Japanese
    assert f"{drive.member} を共有ドライブのメンバー（コンテンツ管理者）に追加" in japanese, japanese
    assert hidden["id"] in japanese and "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in japanese, japanese
    assert tree(drive.url, hidden["id"]) == {}


def test_a_trashed_parent_folder_is_a_clear_permanent_failure(drive):
    parent = drive.seed(name="cases", mimeType=FOLDER, parents=[seeding.SHARED_DRIVE])
    storage = drive.storage(parent["id"])
    storage.create(f"{CASE}/a.txt", b"x")
    drive.service.files[parent["id"]]["trashed"] = True
    with pytest.raises(PermanentError, match="in the trash"):
        drive.storage(parent["id"]).create("2026-002_ACME_x/a.txt", b"x")


@pytest.mark.parametrize("with_store", [False, True], ids=["key-search", "reserved-ids"])
@pytest.mark.parametrize("removal", ["trash", "delete"])
def test_a_parent_folder_trashed_or_deleted_after_a_case_says_what_to_fix_and_makes_nothing(drive, docs, removal,
                                                                                           with_store):
    """The parent of earlier cases is trashed or deleted (with them) in Drive: the next case, and a
    retry of the earlier one whose folder id the store still names, fail for good saying which
    setting and whom to check, and make nothing anywhere in the shared drive."""
    parent = drive.seed(name="cases", mimeType=FOLDER, parents=[seeding.SHARED_DRIVE])
    options = {"docs": docs} if with_store else {}
    drive.storage(parent["id"], **options).create(f"{CASE}/a.txt", b"x")
    if removal == "trash":
        drive.service.files[parent["id"]]["trashed"] = True
    else:
        drive.service.delete(parent["id"], None, True)
    before = {f["id"] for f in drive.files()}
    for path in ("2026-002_ACME_x/a.txt", f"{CASE}/a.txt", f"{CASE}/b.txt"):
        with pytest.raises(PermanentError) as refused:
            drive.storage(parent["id"], **options).create(path, b"y")
        said = str(refused.value)
        assert parent["id"] in said and "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in said, said
        if removal == "delete":  # gone, or never visible: Drive answers 404 to both
            assert drive.member in said and "member" in said, said
        else:
            assert "in the trash" in said, said
    assert {f["id"] for f in drive.files()} == before  # nothing half-made, in the trash or out of it


def test_the_template_folder_is_copied_with_native_files_kept_native(drive):
    storage = drive.storage()
    template = storage.template(seeding.TEMPLATE_FOLDER, 10**8)
    texts = {**NAMES, "client": "ACME"}
    first = render_tree(template, storage, CASE, NAMES, texts)
    made = cases(drive)
    memo = made[f"{CASE}/02_設計/2026-001_打合せメモ"][0]
    assert memo["mimeType"] == "application/vnd.google-apps.document"  # files.copy: still a Google Doc
    assert made[f"{CASE}/04_納品"][0]["mimeType"] == FOLDER
    assert "案件 2026-001" in storage.read(f"{CASE}/README.txt").decode()  # text files filled in
    assert made[f"{CASE}/README.txt"][0]["mimeType"] == "text/plain"
    again = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, texts)
    assert again["created"] == [] and sorted(again["kept"]) == sorted(first["created"])
    assert all(len(items) == 1 for items in cases(drive).values())


def test_names_drive_allows_but_a_path_does_not_become_safe_components(drive):
    storage = drive.storage()
    drive.seed(name="図面/改訂 A", parents=[seeding.TEMPLATE_FOLDER], mimeType="application/pdf",
               content_base64=base64.b64encode(b"%PDF").decode())
    for name in ("\u202egnp.exe", unicodedata.normalize("NFD", "ガイド.pdf")):  # a bidi override, NFD
        drive.seed(name=name, parents=[seeding.TEMPLATE_FOLDER], mimeType="application/pdf",
                   content_base64=base64.b64encode(b"%PDF").decode())
    render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES)
    listed = storage.list(CASE)
    assert {f"{CASE}/図面／改訂 A", f"{CASE}/\ufffdgnp.exe", f"{CASE}/ガイド.pdf"} <= set(listed), listed
    assert cases(drive)[f"{CASE}/図面／改訂 A"][0]["mimeType"] == "application/pdf"  # named as listed
    render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES)
    assert storage.list(CASE) == listed  # found again by those names: nothing made twice


def test_the_longest_client_and_title_make_names_every_filesystem_takes_once_each(drive, docs):
    """A 200-character title and a 60-character client (the most a command takes: 600 and 180 bytes
    in kanji) in the case folder's name and in the template's names (a Google Doc's and a text
    file's): each name at most 255 bytes on Drive and as a path (the office syncs the shared drive
    to Windows PCs), the case folder's 120; made once, however often the step runs."""
    from workers.office.names import safe_component

    client, title = safe_component("顧" * 60), safe_component("件" * 200)
    drive.seed(name="${case}_${client}_${title}_見積依頼書.txt", parents=[seeding.TEMPLATE_FOLDER],
               mimeType="text/plain", content_base64=base64.b64encode(b"${title}").decode())
    drive.seed(name="${client}_${title}_打合せ", parents=[seeding.TEMPLATE_FOLDER],
               mimeType="application/vnd.google-apps.document")
    names = {**NAMES, "client": client, "title": title}
    folder = safe_component(f"2026-001_{client}_{title}")
    storage = drive.storage(docs=docs)
    first = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, folder, names, names)
    made = cases(drive)
    assert len(folder.encode()) <= 120 and folder in made
    assert all(len(item["name"].encode()) <= 255 for items in made.values() for item in items)
    long_names = [p for p in made if p.count("/") == 1 and p.split("/")[-1].startswith(("2026-001_顧", "顧"))]
    assert len(long_names) == 2, long_names  # the text file cut to 255 bytes keeping ".txt", the Google Doc
    assert storage.read(next(p for p in long_names if p.endswith(".txt"))) == title.encode()
    again = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, folder, names, names)
    assert again["created"] == [] and sorted(again["kept"]) == sorted(first["created"])
    assert all(len(items) == 1 for items in cases(drive).values())


def test_names_a_filesystem_takes_but_drives_query_language_quotes_are_found_again_not_made_twice(drive, docs):
    """The reverse of the above: names fine on a disk that Drive's search must quote (', \\, "),
    or that look like its query language, typed as a client and a title."""
    from workers.office.steps import folder_name

    storage = drive.storage(docs=docs)
    for number, (client, title) in enumerate((("O'Reilly", "it's"), ("a\\b", "c\\'d"),
                                              ("x' or name contains 'a", '"q" and trashed = true')), start=1):
        folder = folder_name(f"2026-00{number}", client, title)
        for _ in range(2):
            storage.create(f"{folder}/a'b.txt", b"1")
            storage.ensure_folder(f"{folder}/sub'folder")
        assert storage.read(f"{folder}/a'b.txt") == b"1" and storage.exists(f"{folder}/a'b.txt")
    first = folder_name("2026-001", "O'Reilly", "it's")
    assert drive.storage().create(f"{first}/a'b.txt", b"2") is False  # a client without the store: by key
    assert {path: len(items) for path, items in cases(drive).items() if len(items) > 1} == {}
    assert len([p for p in cases(drive) if "/" not in p]) == 3


@pytest.mark.parametrize("bad, complaint", [
    ({"name": "ショートカット", "mimeType": "application/vnd.google-apps.shortcut",
      "shortcutDetails": {"targetId": "x", "targetMimeType": "application/pdf"}}, "shortcut"),
    ({"name": "scan.tiff", "mimeType": "image/tiff", "size": 2 * 1024**3}, "2,147,483,648 bytes"),
])
def test_a_template_with_a_shortcut_or_a_huge_file_is_refused_before_anything_is_made(drive, bad, complaint):
    drive.seed(parents=[seeding.TEMPLATE_FOLDER], **bad)
    storage = drive.storage()
    with pytest.raises(PermanentError, match=complaint):
        render_tree(storage.template(seeding.TEMPLATE_FOLDER, 100 * 1024**2), storage, CASE, NAMES, NAMES)
    assert cases(drive) == {}


def test_a_template_deeper_than_a_path_may_be_is_refused_before_anything_is_made(drive):
    """Drive takes names of any length at any depth; a path in the case folders is at most 900 bytes
    (Cloud Storage's object names, a Windows PC's sync). Four folders of 241 bytes each in the
    template: refused whole, as a shortcut is, never after the first fifteen items are made."""
    parent = seeding.TEMPLATE_FOLDER
    for level in range(4):
        parent = drive.seed(name=f"{level}" + "深" * 80, parents=[parent], mimeType=FOLDER)["id"]
    drive.seed(name="x.txt", parents=[parent], mimeType="text/plain")
    storage = drive.storage()
    with pytest.raises(PermanentError, match="longer than 900 bytes") as refused:
        render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES,
                    DRIVE_TEMPLATE_SETTING)
    said = str(refused.value)
    assert "(ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER) holds “0" + "深" * 80 + "/" in said, said  # what to fix, where
    assert cases(drive) == {}


def test_a_template_folder_in_another_shared_drive_is_read_from_that_drive(drive):
    """The office may keep its template in a shared drive of its own (the worker a member there too):
    read from there, not searched for in the case folders' drive, where it would look empty and every
    case would be made without it."""
    drive.shared_drive("template-drive", "テンプレート")
    template = drive.seed(name="案件テンプレート", mimeType=FOLDER, parents=["template-drive"])
    drive.seed(name="README.txt", parents=[template["id"]], mimeType="text/plain",
               content_base64=base64.b64encode(b"${case}").decode())
    drive.seed(name="${case}_メモ", parents=[template["id"]], mimeType="application/vnd.google-apps.document")
    storage = drive.storage()
    render_tree(storage.template(template["id"], 10**8), storage, CASE, NAMES, NAMES)
    assert storage.read(f"{CASE}/README.txt") == b"2026-001"
    assert cases(drive)[f"{CASE}/2026-001_メモ"][0]["mimeType"] == "application/vnd.google-apps.document"


def test_a_template_folder_the_service_account_cannot_see_names_the_template_setting(drive):
    drive.shared_drive("template-drive", "テンプレート", members=["someone@example.com"])
    hidden = drive.seed(name="案件テンプレート", mimeType=FOLDER, parents=["template-drive"])
    with pytest.raises(PermanentError) as refused:
        drive.storage().template(hidden["id"], 10**8)
    said = str(refused.value)
    assert drive.member in said and hidden["id"] in said and "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER" in said, said
    assert "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" not in said, said  # the parent folder is fine
    assert cases(drive) == {}


def test_a_worker_removed_from_the_shared_drive_is_told_of_the_parent_folder_first(drive):
    """The worker was a member (its client remembers the drive) and no longer is: the template is
    the first thing it cannot see, but what to fix is the membership of the case folders' drive."""
    storage = drive.storage()
    storage.create(f"{CASE}/a.txt", b"x")
    drive.shared_drive(seeding.SHARED_DRIVE, seeding.SHARED_DRIVE_NAME, members=["boss@example.com"])
    with pytest.raises(PermanentError) as refused:
        storage.template(seeding.TEMPLATE_FOLDER, 10**8)
    assert "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in str(refused.value) and drive.member in str(refused.value)


def test_the_links_open_in_a_browser(drive):
    storage = drive.storage()
    storage.create(f"{CASE}/03_見積/見積書.pdf", b"%PDF-1.4 estimate", "application/pdf")
    page = requests.get(storage.link(CASE), timeout=5)
    assert page.status_code == 200 and "03_見積" in page.text
    document = requests.get(storage.link(f"{CASE}/03_見積/見積書.pdf"), timeout=5)
    assert document.content == b"%PDF-1.4 estimate" and document.headers["Content-Type"] == "application/pdf"


# Drive's search may lag its writes (the stand-in's search lag): a key search then misses what an
# attempt made a moment ago. With the job store each key's id is reserved before the item is made.

@pytest.mark.parametrize("store, copies", [(True, 1), (False, 2)])
def test_with_search_lagging_a_write_whose_answer_is_lost_is_made_once_only_with_reserved_ids(drive, docs, store,
                                                                                            copies):
    drive.search_lag(60)
    storage = drive.storage(timeout=1.0, docs=docs if store else None)
    drive.faults({"match": "POST /upload", "stall": 3, "count": 1})  # done on Drive, answered too late
    assert storage.create(f"{CASE}/a.txt", b"x") is True
    time.sleep(2.5)
    assert len(cases(drive)[f"{CASE}/a.txt"]) == copies  # without the store, the lag makes a duplicate


@pytest.mark.parametrize("store", [True, False])
def test_with_search_lagging_a_retried_template_step_makes_one_of_each_only_with_reserved_ids(drive, docs, store):
    drive.search_lag(60)
    storage = drive.storage(docs=docs if store else None)
    first = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES)
    second = drive.storage(docs=docs if store else None)  # another worker retrying the step
    again = render_tree(second.template(seeding.TEMPLATE_FOLDER, 10**8), second, CASE, NAMES, NAMES)
    duplicated = {path for path, items in cases(drive).items() if len(items) > 1}
    if store:
        assert duplicated == set() and again["created"] == [] and sorted(again["kept"]) == sorted(first["created"])
        assert storage.link(CASE) == cases(drive)[CASE][0]["webViewLink"]  # found by its id, not by search
        memo = cases(drive)[f"{CASE}/02_設計/2026-001_打合せメモ"][0]
        assert memo["mimeType"] == "application/vnd.google-apps.document"  # a native copy: via a holding folder
    else:
        assert CASE in duplicated  # the lag bites: search alone cannot tell a retry what was made


def test_reserved_ids_are_shared_by_workers_and_one_per_key(drive, docs):
    one, two = drive.storage(docs=docs), drive.storage(docs=docs)
    folder = one.ensure_folder(CASE)
    assert two.ensure_folder(CASE)["id"] == folder["id"]
    assert docs.get("drive_ids", one.key(CASE))["id"] == folder["id"]
    assert docs.get("drive_ids", one.key(CASE))["path"] == CASE


@pytest.mark.parametrize("removal", ["trash", "delete"])
def test_an_item_trashed_or_deleted_since_is_made_again_with_a_new_id(drive, docs, removal):
    storage = drive.storage(docs=docs)
    storage.create(f"{CASE}/a.txt", b"first")
    old = cases(drive)[f"{CASE}/a.txt"][0]["id"]
    if removal == "trash":
        drive.service.files[old]["trashed"] = True
    else:
        drive.service.delete(old, None, True)
    assert storage.create(f"{CASE}/a.txt", b"second") is True
    made = cases(drive)[f"{CASE}/a.txt"]
    assert len(made) == 1 and made[0]["id"] != old and storage.read(f"{CASE}/a.txt") == b"second"
    assert docs.get("drive_ids", storage.key(f"{CASE}/a.txt")) == {**docs.get("drive_ids", storage.key(
        f"{CASE}/a.txt")), "id": made[0]["id"], "replaced": old}


# Drive takes no generated id for a Google Docs file (a copy of one included): such a copy is made in
# a holding folder of its own, claimed in the store, then moved into place; a holding folder whose
# answer was lost is trashed with what is in it. No search decides anything.

DOC = "application/vnd.google-apps.document"
MEMO = f"{CASE}/02_設計/打合せメモ"


def template_doc(drive) -> str:
    return next(f["id"] for f in drive.files() if f["mimeType"] == DOC)


def assert_one_native_copy_in_place(drive, docs, storage) -> dict:
    made = cases(drive)[MEMO]
    assert len(made) == 1 and made[0]["mimeType"] == DOC
    assert made[0]["appProperties"] == {"ackflowKey": storage.key(MEMO), "ackflowCase": "2026-001"}
    live = [f for f in drive.files() if not f["trashed"]]
    assert [f for f in live if "ackflowHold" in f.get("appProperties", {})] == []  # no holding folder left
    assert [f["id"] for f in live if f["mimeType"] == DOC and f["name"] == "打合せメモ"] == [made[0]["id"]]
    assert docs.get("drive_ids", storage.key(MEMO))["id"] == made[0]["id"]
    assert "hold" not in docs.get("drive_ids", storage.key(MEMO)) and docs.get("drive_holds", storage.key(MEMO)) is None
    return made[0]


def test_with_search_lagging_a_native_copy_whose_answer_is_lost_is_made_once(drive, docs):
    drive.search_lag(60)
    storage = drive.storage(timeout=1.0, docs=docs)
    drive.faults({"match": "/copy", "stall": 3, "count": 1})  # done on Drive, answered too late
    assert storage.copy(template_doc(drive), MEMO, DOC) is True
    time.sleep(2.5)
    memo = assert_one_native_copy_in_place(drive, docs, storage)
    lost = [f for f in drive.files() if f["mimeType"] == DOC and f["id"] != memo["id"] and f["name"] == "打合せメモ"]
    assert len(lost) == 1 and lost[0]["trashed"]  # what the lost answer made went to the trash with its folder
    assert storage.copy(template_doc(drive), MEMO, DOC) is False and storage.link(MEMO) == memo["webViewLink"]


def test_a_native_copy_claimed_but_not_moved_is_put_in_place_by_the_retry(drive, docs):
    drive.search_lag(60)
    drive.faults({"match": "PATCH /drive/v3/files", "code": 503, "count": 100})  # the move never gets through
    with pytest.raises(TransientError):
        drive.storage(docs=docs, retries=1).copy(template_doc(drive), MEMO, DOC)
    assert MEMO not in cases(drive) and "hold" in docs.get("drive_ids", drive.storage().key(MEMO))
    requests.delete(f"{drive.url}/_emulator/faults", timeout=5)
    retry = drive.storage(docs=docs)  # another worker retrying the step
    assert retry.copy(template_doc(drive), MEMO, DOC) is False  # the claimed copy, moved into place
    assert_one_native_copy_in_place(drive, docs, retry)


def test_two_workers_copying_one_native_file_at_once_leave_one_copy(drive, docs):
    drive.search_lag(60)
    drive.faults({"match": "/copy", "stall": 2, "count": 2})  # both copies are on their way together
    source, results = template_doc(drive), []
    workers = [threading.Thread(target=lambda: results.append(drive.storage(docs=docs).copy(source, MEMO, DOC)))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [True, True]  # each was told the copy is there
    memo = assert_one_native_copy_in_place(drive, docs, drive.storage(docs=docs))
    both = [f for f in drive.files() if f["mimeType"] == DOC and f["name"] == "打合せメモ"]
    assert [f["trashed"] for f in both if f["id"] != memo["id"]] == [True]  # the second claim's copy: trashed


def test_four_deliveries_of_the_folder_step_at_once_with_search_lagging_make_one_of_each(drive, tmp_path):
    """Duplicated deliveries that all run the step (a lease that ran out while the first was still
    at work): four workers, each with its own client and store connection, copy the whole template
    into one case at the same moment while Drive's search shows none of it: one folder and one copy
    of each file, no holding folder left."""
    from ackflow.store.sqlite import SqliteDocuments

    drive.search_lag(600)
    template = drive.storage().template(seeding.TEMPLATE_FOLDER, 10**8)
    SqliteDocuments(tmp_path / "shared.db").close()  # its tables, made once before the workers open it
    start, failures = threading.Barrier(4, timeout=60), []

    def deliver() -> None:
        try:
            store = SqliteDocuments(tmp_path / "shared.db")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
            start.abort()  # the others stop waiting for this one
            return
        try:
            start.wait()
            render_tree(template, drive.storage(docs=store), CASE, NAMES, NAMES)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            store.close()

    workers = [threading.Thread(target=deliver, daemon=True) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 200
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(worker.is_alive() for worker in workers) and failures == [], failures
    made = cases(drive)
    assert {path: len(items) for path, items in made.items() if len(items) > 1} == {}
    assert f"{CASE}/02_設計/2026-001_打合せメモ" in made and f"{CASE}/README.txt" in made
    assert [f for f in drive.files() if not f["trashed"] and "ackflowHold" in f.get("appProperties", {})] == []


def test_every_item_is_marked_with_the_step_that_made_it_and_a_document_with_its_id(drive, docs):
    """Besides its key and case, an item carries the step that made it (``ackflowStep``) and, for an
    issued document, its id (``ackflowDocument``; not on a folder made on the way to it), also a
    native copy that went through a holding folder; lookups stay by key alone."""
    from workers.office.storage import marked

    storage = drive.storage(docs=docs)
    pdf = f"{CASE}/03_見積/見積書_2026-001_v1.pdf"
    with marked(step="estimate"), marked(document="quotation:2026-001-v1"):
        assert storage.create(pdf, b"%PDF-1.4", "application/pdf") is True
    with marked(step="folder"):
        assert storage.copy(template_doc(drive), MEMO, DOC) is True  # Drive takes no chosen id: held first
    with marked(step="portal", document="x" * 200):  # cut to what Drive takes (124 bytes, key and value)
        storage.create(f"{CASE}/01_受領資料/a.txt", b"a")
    made = cases(drive)
    keys = {path: {"ackflowKey": storage.key(path), "ackflowCase": "2026-001"} for path in made}
    assert made[pdf][0]["appProperties"] == {**keys[pdf], "ackflowStep": "estimate",
                                             "ackflowDocument": "quotation:2026-001-v1"}
    for folder in (CASE, f"{CASE}/03_見積"):  # made on the way to the document: no document id
        assert made[folder][0]["appProperties"] == {**keys[folder], "ackflowStep": "estimate"}
    assert made[MEMO][0]["appProperties"] == {**keys[MEMO], "ackflowStep": "folder"}
    assert [f for f in drive.files() if not f["trashed"] and "ackflowHold" in f.get("appProperties", {})] == []
    cut = made[f"{CASE}/01_受領資料/a.txt"][0]["appProperties"]["ackflowDocument"]
    assert cut == "x" * (124 - len("ackflowDocument"))
    assert made[f"{CASE}/01_受領資料"][0]["appProperties"] == {**keys[f"{CASE}/01_受領資料"], "ackflowStep": "portal"}
    for again in (storage, drive.storage()):  # by the reserved id, and by the key search alone
        assert again.create(pdf, b"%PDF-1.4 other", "application/pdf") is False
        assert again.link(pdf) == made[pdf][0]["webViewLink"] and again.read(pdf) == b"%PDF-1.4"
    assert {path: len(items) for path, items in cases(drive).items()} == {path: 1 for path in made}


def test_the_check_before_a_case_number_reads_only_and_refuses_what_making_the_folder_would(drive):
    """``check`` (run before ``newcase`` takes a number) passes on a usable parent folder and refuses,
    as the folder step would, one the worker cannot see, one in the trash, and a shared drive the
    worker was removed from; it makes and changes nothing in Drive."""
    before = drive.files()
    drive.storage().check()
    with pytest.raises(PermanentError) as unseen:
        drive.storage("no-such-folder").check()
    assert "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in str(unseen.value) and drive.member in str(unseen.value)
    trashed = drive.seed(name="cases", mimeType=FOLDER, parents=[seeding.SHARED_DRIVE])
    drive.service.files[trashed["id"]]["trashed"] = True
    with pytest.raises(PermanentError, match="in the trash"):
        drive.storage(trashed["id"]).check()
    drive.shared_drive(seeding.SHARED_DRIVE, seeding.SHARED_DRIVE_NAME, members=["boss@example.com"])
    with pytest.raises(PermanentError, match="ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER"):
        drive.storage().check()
    assert [f for f in drive.files() if f["id"] != trashed["id"]] == before


# -- the worker's role in the shared drive: a Content manager makes cases; a Viewer only reads -------
@pytest.mark.parametrize(("role", "said"), [
    ("reader", "is a Viewer or Commenter"), ("commenter", "is a Viewer or Commenter"), ("writer", "is a Contributor"),
    ("fileOrganizer", None), ("organizer", None), ("a list of emails", None)])
def test_the_check_before_a_case_number_refuses_a_role_below_content_manager_naming_the_role_to_give(
        drive, role, said):
    """Drive's ``capabilities`` of the parent folder for the worker (one read) tell a Viewer,
    Commenter or Contributor from a Content manager; a list of emails is Content managers."""
    members = [drive.member] if role == "a list of emails" else {drive.member: role}
    drive.shared_drive(seeding.SHARED_DRIVE, seeding.SHARED_DRIVE_NAME, members=members)
    before = drive.files()
    if said is None:
        drive.storage().check()
    else:
        with pytest.raises(PermanentError) as refused:
            drive.storage().check()
        text = str(refused.value)
        assert said in text and drive.member in text and "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in text, text
        assert "give ackflow-worker@" in text and "the Content manager role" in text, text
    assert drive.files() == before


def test_a_viewer_that_writes_anyway_is_refused_at_once_saying_to_make_it_a_content_manager(drive):
    """Past the check (the role changed since): the create is Drive's 403, a permanent failure at
    the first refusal (no retries, no backoff), and nothing is made; reading still works."""
    drive.storage().create(f"{CASE}/README.txt", b"made before")
    drive.shared_drive(seeding.SHARED_DRIVE, seeding.SHARED_DRIVE_NAME, members={drive.member: "reader"})
    storage = drive.storage(backoff=10)  # a retry would take seconds
    assert storage.read(f"{CASE}/README.txt") == b"made before" and storage.list(CASE) == [f"{CASE}/README.txt"]
    before = drive.files()
    started = time.monotonic()
    with pytest.raises(PermanentError) as refused:
        storage.create(f"{CASE}/01_受領資料/a.txt", b"x")
    assert time.monotonic() - started < 5
    text = str(refused.value)
    assert "insufficientFilePermissions" in text and "Make it a Content manager of the shared drive" in text, text
    assert drive.member in text, text
    assert drive.files() == before


def test_a_template_in_a_drive_where_the_worker_is_a_viewer_is_copied_into_the_case_folders(drive, docs):
    """Reading the template takes only a Viewer of its drive; copies go into the case folders' drive
    (a native Google Docs file too: made in a holding folder, moved into place)."""
    drive.shared_drive("template-drive", "テンプレート", members={drive.member: "reader"})
    template = drive.seed(name="案件テンプレート", mimeType=FOLDER, parents=["template-drive"])
    drive.seed(name="README.txt", parents=[template["id"]], mimeType="text/plain",
               content_base64=base64.b64encode(b"${case}").decode())
    drive.seed(name="図面.pdf", parents=[template["id"]], mimeType="application/pdf",
               content_base64=base64.b64encode(b"%PDF-1.4").decode())
    drive.seed(name="${case}_メモ", parents=[template["id"]], mimeType="application/vnd.google-apps.document")
    storage = drive.storage(docs=docs)
    storage.check()
    render_tree(storage.template(template["id"], 10**8), storage, CASE, NAMES, NAMES)
    made = cases(drive)
    assert storage.read(f"{CASE}/README.txt") == b"2026-001" and storage.read(f"{CASE}/図面.pdf") == b"%PDF-1.4"
    assert made[f"{CASE}/2026-001_メモ"][0]["mimeType"] == "application/vnd.google-apps.document"
    assert len(tree(drive.url, template["id"])) == 3  # the template as it was


def test_a_saved_mail_keeps_its_type_though_its_bytes_go_up_as_octet_stream(drive):
    """The client's multipart upload cannot carry a ``message/rfc822`` part of 8-bit bytes (its MIME
    generator fails), so the media goes as octet-stream; the file's type is the metadata's."""
    raw = "Subject: 見積\r\nContent-Transfer-Encoding: 8bit\r\n\r\nお願いします\r\n".encode()
    storage = drive.storage()
    assert storage.create(f"{CASE}/01_受領資料/メール/受信メール.eml", raw, "message/rfc822") is True
    (made,) = cases(drive)[f"{CASE}/01_受領資料/メール/受信メール.eml"]
    assert made["mimeType"] == "message/rfc822"
    assert storage.read(f"{CASE}/01_受領資料/メール/受信メール.eml") == raw


@pytest.mark.parametrize("with_store", [False, True], ids=["key-search", "reserved-ids"])
def test_a_name_a_person_gave_in_decomposed_form_is_the_same_name_not_a_second_item(drive, docs, with_store):
    """A Mac (Drive for desktop, an old HFS+ disk) names files in NFD: "ガイド" as カ+゛. Paths are
    NFC, and ``list`` shows that file at its NFC path; ``exists``, ``read`` and "is something there
    already" must find it there too, not search Drive for the NFC spelling only and make a second
    folder or file beside the person's."""
    storage = drive.storage(**({"docs": docs} if with_store else {}))
    decomposed = drive.seed(name=unicodedata.normalize("NFD", "2026-002_ガス工業_配管"), mimeType=FOLDER,
                            parents=[seeding.PARENT_FOLDER])
    drive.seed(name=unicodedata.normalize("NFD", "図面ガイド.pdf"), parents=[decomposed["id"]],
               mimeType="application/pdf", content_base64=base64.b64encode(b"by a person").decode())
    folder = "2026-002_ガス工業_配管"  # NFC, as every path is
    assert storage.list(folder) == [f"{folder}/図面ガイド.pdf"]
    assert storage.exists(f"{folder}/図面ガイド.pdf") and storage.read(f"{folder}/図面ガイド.pdf") == b"by a person"
    assert storage.ensure_folder(folder)["id"] == decomposed["id"]
    assert storage.create(f"{folder}/図面ガイド.pdf", b"by Ackflow", "application/pdf") is False
    assert storage.link(folder) == f"{drive.url}/drive/folders/{decomposed['id']}"
    assert [len(items) for items in cases(drive).values()] == [1, 1], cases(drive)


@pytest.mark.parametrize("restricted", ["a Google Doc", "a PDF", "a text file", "the shared drive"])
def test_a_template_file_a_viewer_may_not_copy_is_refused_before_anything_is_made(drive, docs, restricted):
    """The template's shared drive lets the worker view (as the docs say is enough), but a file in it,
    or the whole drive, has "viewers and commenters may not download, print or copy"
    (``copyRequiresWriterPermission``): Drive would refuse the copy, or the text file's download,
    after the case folder and the files before it were made. Refused up front instead, naming the
    file and what to change; nothing made."""
    from ackflow.i18n import speaker_for

    drive.shared_drive("template-drive", "テンプレート", members={drive.member: "reader"})
    if restricted == "the shared drive":
        requests.put(f"{drive.url}/_emulator/drives/template-drive", json={
            "name": "テンプレート", "members": {drive.member: "reader"},
            "restrictions": {"copyRequiresWriterPermission": True}}, timeout=5).raise_for_status()
    template = drive.seed(name="案件テンプレート", mimeType=FOLDER, parents=["template-drive"])
    drive.seed(name="00_はじめに.pdf", parents=[template["id"]], mimeType="application/pdf",
               content_base64=base64.b64encode(b"%PDF-1.4").decode())
    kind = {"a Google Doc": ("打合せメモ", "application/vnd.google-apps.document"),
            "a PDF": ("図面.pdf", "application/pdf"), "a text file": ("README.txt", "text/plain"),
            "the shared drive": ("図面.pdf", "application/pdf")}[restricted]
    content = {} if kind[1].startswith("application/vnd.google-apps.") else {
        "content_base64": base64.b64encode(b"x").decode()}
    drive.seed(name=kind[0], parents=[template["id"]], mimeType=kind[1], **content,
               copyRequiresWriterPermission=restricted != "the shared drive")
    storage = drive.storage(docs=docs)
    with pytest.raises(PermanentError) as refused:
        render_tree(storage.template(template["id"], 10**8), storage, CASE, NAMES, NAMES, DRIVE_TEMPLATE_SETTING)
    said = str(refused.value)
    first = "00_はじめに.pdf" if restricted == "the shared drive" else kind[0]  # every file restricted: the first
    assert first in said and drive.member in said and "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER" in said, said
    japanese = refused.value.render(speaker_for("ja"))
    assert "コピーできません" in japanese and first in japanese and drive.member in japanese, japanese
    assert cases(drive) == {}
    drive.shared_drive("template-drive", "テンプレート", members={drive.member: "writer"})  # a Contributor there
    render_tree(storage.template(template["id"], 10**8), storage, CASE, NAMES, NAMES, DRIVE_TEMPLATE_SETTING)
    assert f"{CASE}/{kind[0]}" in cases(drive)


def test_a_folder_of_more_than_a_page_is_read_to_its_last_page(drive):
    """Drive answers at most 1,000 items a page: the adapter follows ``nextPageToken`` to the end,
    in a listing and in a name search (a name Drive cannot be asked for, "/" in it, lists the folder)."""
    storage = drive.storage()
    folder = storage.ensure_folder(CASE)
    for number in range(1000):
        drive.service.create({"name": f"scan-{number:04}.pdf", "parents": [folder["id"]]}, b"x", "application/pdf",
                             None, True)
    drive.service.create({"name": "図面/改訂 B.pdf", "parents": [folder["id"]]}, b"by a person", "application/pdf",
                         None, True)  # the 1,001st: on the second page
    listed = storage.list(CASE)
    assert len(listed) == 1001 and listed[-1] == f"{CASE}/図面／改訂 B.pdf"
    assert storage.create(f"{CASE}/図面／改訂 B.pdf", b"by Ackflow") is False
    assert storage.read(f"{CASE}/図面／改訂 B.pdf") == b"by a person"


@pytest.mark.parametrize("reason, said_en, said_ja", [
    ("storageQuotaExceeded", "organization that owns the shared drive is full", "保存容量がいっぱい"),
    ("teamDriveFileLimitExceeded", "as many items as Google Drive allows", "上限まで"),
    ("numChildrenInNonRootLimitExceeded", "as many items as Google Drive allows", "上限まで"),
])
def test_a_full_shared_drive_says_so_not_to_move_the_folder_or_change_the_role(drive, reason, said_en, said_ja):
    """Drive's documented 403s for a full organization's storage (``storageQuotaExceeded``, the
    reason a service account's own My Drive also gets) and for a shared drive or folder holding as
    many items as Drive allows: the parent folder is in a shared drive and the worker is a Content
    manager there, so saying to move the folder into one or to change the role would be wrong.
    Said for good (no retry frees space), in the person's language; nothing made."""
    from ackflow.i18n import speaker_for

    storage = drive.storage()
    folder = storage.ensure_folder(CASE)
    drive.faults({"match": "POST /upload", "code": 403, "reason": reason, "count": 1,
                  "message": "The user's Drive storage quota has been exceeded."})
    with pytest.raises(PermanentError) as refused:
        storage.create(f"{CASE}/a.pdf", b"%PDF", "application/pdf")
    english, japanese = refused.value.render(speaker_for("en")), refused.value.render(speaker_for("ja"))
    assert said_en in english and said_ja in japanese, (english, japanese)
    for said in (english, japanese):
        assert "Content manager" not in said and "コンテンツ管理者" not in said, said
        assert "put the case folders' parent folder" not in said, said
    assert [item["id"] for item in drive.files() if folder["id"] in item.get("parents", [])] == []


def test_a_google_doc_named_as_a_folder_is_not_taken_for_it_nor_a_second_folder_made(drive):
    """A Google Doc has no extension: a person may name one "03_見積", as a folder of the template is
    named, in a case folder that also has their folder of that name (Drive allows both). The folder
    is the folder: found, not made again; a file in it found through it."""
    storage = drive.storage()
    case = storage.ensure_folder(CASE)
    drive.seed(name="03_見積", parents=[case["id"]], mimeType="application/vnd.google-apps.document")
    folder = drive.seed(name="03_見積", parents=[case["id"]], mimeType=FOLDER)
    drive.seed(name="見積書.pdf", parents=[folder["id"]], mimeType="application/pdf",
               content_base64=base64.b64encode(b"by a person").decode())
    assert storage.ensure_folder(f"{CASE}/03_見積")["id"] == folder["id"]
    assert storage.exists(f"{CASE}/03_見積/見積書.pdf") and storage.read(f"{CASE}/03_見積/見積書.pdf") == b"by a person"
    assert storage.create(f"{CASE}/03_見積/見積書.pdf", b"by Ackflow") is False
    assert storage.create(f"{CASE}/03_見積/別紙.pdf", b"by Ackflow") is True
    assert cases(drive)[f"{CASE}/03_見積/別紙.pdf"][0]["parents"] == [folder["id"]]
    assert len([i for i in cases(drive)[f"{CASE}/03_見積"] if i["mimeType"] == FOLDER]) == 1


def test_a_template_text_file_not_in_utf8_is_copied_as_it_is_not_left_half_made(drive, docs):
    """A CSV saved by Excel in Japan is Shift_JIS (what Excel opens without a byte-order mark): its
    ``${…}`` cannot be filled in as UTF-8 text, and failing there left the case folder half made and
    the step failing with a Python decode error on every retry. Copied as it is instead, byte for
    byte, the rest of the template made."""
    data = "案件番号,${case}\r\n顧客,${client}\r\n".encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    drive.seed(name="00_台帳.csv", parents=[seeding.TEMPLATE_FOLDER], mimeType="text/csv",
               content_base64=base64.b64encode(data).decode())
    storage = drive.storage(docs=docs)
    made = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES,
                       DRIVE_TEMPLATE_SETTING)
    assert f"{CASE}/00_台帳.csv" in made["created"] and storage.read(f"{CASE}/00_台帳.csv") == data
    assert storage.read(f"{CASE}/README.txt").startswith("案件 2026-001".encode())  # UTF-8 text filled in
    again = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES,
                        DRIVE_TEMPLATE_SETTING)
    assert again["created"] == [] and all(len(items) == 1 for items in cases(drive).values())


@pytest.mark.parametrize("mistake", ["the same folder", "the parent inside the template"])
def test_a_template_folder_that_is_or_holds_the_case_folders_parent_is_refused(drive, mistake):
    """The two folder ids set alike (a copy-paste slip), or the case folders kept inside the template:
    every case would copy the cases before it into itself. Refused before anything is made, saying
    which settings to tell apart."""
    from ackflow.i18n import speaker_for

    if mistake == "the same folder":
        template, storage = seeding.PARENT_FOLDER, drive.storage()
        drive.storage().create("2026-000_old_case/a.txt", b"x")
    else:
        template = seeding.TEMPLATE_FOLDER
        inside = drive.seed(name="案件", mimeType=FOLDER, parents=[seeding.TEMPLATE_FOLDER])
        storage = drive.storage(inside["id"])
    before = {f["id"] for f in drive.files()}
    with pytest.raises(PermanentError) as refused:
        render_tree(storage.template(template, 10**8), storage, CASE, NAMES, NAMES, DRIVE_TEMPLATE_SETTING)
    said = str(refused.value)
    assert "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER" in said and "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in said, said
    assert "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER" in refused.value.render(speaker_for("ja"))
    assert {f["id"] for f in drive.files()} == before


@pytest.mark.parametrize("twin, mime_type", [("README.txt", "text/plain"), ("図面.pdf", "application/pdf"),
                                             ("02_設計", "application/pdf")],
                         ids=["a second README.txt", "two PDFs of one name", "a file named as a folder"])
def test_two_template_items_that_would_be_one_path_are_refused_not_one_dropped(drive, twin, mime_type):
    """Drive lets one folder hold two items of one name (README.txt uploaded twice, or a file named
    as a folder is): one would be dropped in silence, or a folder's contents left out. Refused
    before anything is made, naming it; two folders of one name are one folder (below)."""
    from ackflow.i18n import speaker_for

    for content in ((b"%PDF a", b"%PDF b") if twin == "図面.pdf" else (b"second",)):
        drive.seed(name=twin, parents=[seeding.TEMPLATE_FOLDER], mimeType=mime_type,
                   content_base64=base64.b64encode(content).decode())
    storage = drive.storage()
    with pytest.raises(PermanentError) as refused:
        render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES,
                    DRIVE_TEMPLATE_SETTING)
    said = str(refused.value)
    assert twin in said and "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER" in said, said
    japanese = refused.value.render(speaker_for("ja"))
    assert twin in japanese and "二つあります" in japanese, japanese
    assert cases(drive) == {}


def test_two_template_folders_of_one_name_are_one_folder_with_both_contents(drive):
    second = drive.seed(name="02_設計", parents=[seeding.TEMPLATE_FOLDER], mimeType=FOLDER)
    drive.seed(name="追加.txt", parents=[second["id"]], mimeType="text/plain",
               content_base64=base64.b64encode(b"${case}").decode())
    storage = drive.storage()
    render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES, DRIVE_TEMPLATE_SETTING)
    assert storage.read(f"{CASE}/02_設計/追加.txt") == b"2026-001"
    assert len(cases(drive)[f"{CASE}/02_設計"]) == 1


def test_two_template_names_cut_alike_for_a_long_client_and_title_are_both_made_once(drive, docs):
    """Names filled in with the longest client and title are cut to 255 bytes, their ends first:
    two that differ only at the end would be one name. Both are made, the later numbered, the same
    on every run; neither is dropped, and the case is not refused for a title it was given."""
    from workers.office.names import safe_component

    client, title = safe_component("顧" * 60), safe_component("件" * 200)
    for tail in ("見積依頼書", "図面リスト"):
        drive.seed(name=f"${{case}}_${{client}}_${{title}}_{tail}.txt", parents=[seeding.TEMPLATE_FOLDER],
                   mimeType="text/plain", content_base64=base64.b64encode(tail.encode()).decode())
    names = {**NAMES, "client": client, "title": title}
    folder = safe_component(f"2026-001_{client}_{title}")
    storage = drive.storage(docs=docs)
    first = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, folder, names, names)
    made = sorted(p for p in first["created"] if p.endswith(".txt") and "顧" in p.split("/")[-1])
    assert len(made) == 2 and all(len(p.split("/")[-1].encode()) <= 255 for p in made), made
    assert sorted(storage.read(p) for p in made) == sorted(t.encode() for t in ("見積依頼書", "図面リスト"))
    assert any(p.endswith(" (2).txt") for p in made), made
    again = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, folder, names, names)
    assert again["created"] == [] and all(len(items) == 1 for items in cases(drive).values())


def test_a_template_file_deleted_while_the_case_is_made_is_a_retry_that_reads_the_template_again(drive, docs):
    """The step reads the template, then copies its files: a file a person deletes in between made
    the copy's 404 a permanent failure telling the office to check the case folders' parent folder
    and the service account's membership, neither of which was wrong. Now a retry, whose new read
    of the template no longer has the file; everything else is made once."""
    doomed = drive.seed(name="古い見積雛形.pdf", parents=[seeding.TEMPLATE_FOLDER], mimeType="application/pdf",
                        content_base64=base64.b64encode(b"%PDF").decode())
    storage = drive.storage(docs=docs)
    template = storage.template(seeding.TEMPLATE_FOLDER, 10**8)
    session = requests.Session()
    token = session.post(f"{drive.url}/token", data={"assertion": "x." + base64.urlsafe_b64encode(
        b'{"iss": "person@example.com"}').decode() + ".y"}).json()["access_token"]
    session.delete(f"{drive.url}/drive/v3/files/{doomed['id']}?supportsAllDrives=true",
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    with pytest.raises(TransientError) as gone:
        render_tree(template, storage, CASE, NAMES, NAMES, DRIVE_TEMPLATE_SETTING)
    assert "古い見積雛形.pdf" in str(gone.value) and "PARENT_FOLDER" not in str(gone.value)
    made = render_tree(storage.template(seeding.TEMPLATE_FOLDER, 10**8), storage, CASE, NAMES, NAMES,
                       DRIVE_TEMPLATE_SETTING)
    assert f"{CASE}/README.txt" in made["created"] + made["kept"]
    assert f"{CASE}/古い見積雛形.pdf" not in cases(drive)
    assert all(len(items) == 1 for items in cases(drive).values())
