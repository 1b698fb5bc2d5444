"""The boilerplate case folder: a tree whose folder and file names, and the contents of its text
files, are templates (``${case}``, ``${client}``, ``${title}``, ``${due}``, ``${date}``, ``${year}``,
``${requester}``). Binary files (CAD templates, images), and text files that are not UTF-8, are
copied as they are.

The template is a local folder (the default, shipped with the functions) or a Drive folder
(``DriveStorage.template``): there its files are copied with ``files.copy``, so Google Docs and
Sheets in it stay native, and only its text files are read and filled in.
"""

from __future__ import annotations

import csv
import html
import io
import json
import mimetypes
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ackflow.errors import PermanentError
from ackflow.i18n import L_, N_

from .names import MAX_NAME_BYTES, UnsafePath, fit_name, safe_relative_path
from .storage import CaseStorage

TEXT_SUFFIXES = {".txt", ".md", ".csv", ".json", ".html", ".xml", ".ini", ".yaml", ".yml", ".tsv"}


def content_type(name: str) -> str:
    """The MIME type a file of this name is stored with."""
    if Path(name).suffix.lower() == ".md":
        return "text/markdown"
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


@dataclass(frozen=True)
class TemplateEntry:
    """One folder or file of the template: its names from the template's root, and where its
    contents come from (``reader``, or the Drive file ``drive_id`` to copy)."""

    parts: tuple[str, ...]
    folder: bool = False
    reader: Callable[[], bytes] | None = None
    drive_id: str = ""
    mime_type: str = ""
    size: int = 0

    @property
    def text(self) -> bool:
        return not self.folder and Path(self.parts[-1]).suffix.lower() in TEXT_SUFFIXES \
            and not self.mime_type.startswith("application/vnd.google-apps.")


def local_template(root: str | Path) -> list[TemplateEntry]:
    """The template folder of the deployed source, walked. A missing one is a permanent failure:
    no retry brings it back, a deployment does."""
    root = Path(root)
    if not root.is_dir():
        raise PermanentError(N_("The case template folder {folder} (ACKFLOW_OFFICE_TEMPLATE_DIR) is not in the "
                                "deployed source; deploy it, or set ACKFLOW_OFFICE_TEMPLATE_DIR to the folder"),
                             folder=str(root))
    return [TemplateEntry(p.relative_to(root).parts, folder=p.is_dir(),
                          reader=None if p.is_dir() else p.read_bytes, size=0 if p.is_dir() else p.stat().st_size)
            for p in sorted(root.rglob("*"))]


def render_name(name: str, values: dict[str, str]) -> str:
    """A template file or folder name with the values put in, cut to what a filesystem takes (255
    bytes, its extension kept: ``${client}_${title}_見積依頼書.docx`` with a long client and title).
    The values are safe components already (``names.safe_component``), so the result cannot leave
    its folder; checked anyway."""
    rendered = fit_name(Template(name).safe_substitute(values))
    if "/" in rendered or "\\" in rendered or rendered in ("", ".", ".."):
        raise UnsafePath(rendered, L_("a name in it is empty, “.” or “..”"))
    return rendered


def numbered(target: str, number: int) -> str:
    """``target`` with `` (number)`` before its extension, its name cut to fit (a name cut alike
    with another's: ``…_件件件 (2).txt``)."""
    parent, _, name = target.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    suffix = f".{extension}" if dot and stem and 0 < len(extension) <= 10 else ""
    stem = name[: len(name) - len(suffix)]
    mark = f" ({number}){suffix}"
    while len((stem + mark).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return f"{parent}/{stem.rstrip(' .')}{mark}" if parent else f"{stem.rstrip(' .')}{mark}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel and Sheets read as the start of a formula


LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # str.splitlines' breaks
# Markdown: what makes markup anywhere in a line (links, images, HTML, emphasis, code, entities,
# table cells, a heading's closing #), and what does only at a line's start (a list, quote, heading,
# rule, setext underline, ``1.``); CommonMark lets any ASCII punctuation be backslash-escaped
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~&#])")
MARKDOWN_LINE_START = re.compile(r"^(\d{1,9}(?=[.)])|(?=[-+=>]))")


def fill_in(data: bytes, values: dict[str, str], name: str = "") -> bytes:
    """A template text file with the values put in, each written as the file's kind reads text: in a
    CSV or TSV a cell of its own that is never a formula (a client ``=HYPERLINK(…),1`` is one cell,
    shown as written), escaped in HTML and XML, inside a string in JSON, backslash-escaped in
    Markdown (a title ``[確認](https://…)`` is not a link), quoted as its place in YAML needs, and
    on one line in every other kind (no value starts a line of an INI's keys or sections). The values
    come from Chat and mails. One that is not UTF-8 (a CSV Excel saved as Shift_JIS, as it does in
    Japan) cannot be read as text: it is copied as it is, its ``${…}`` left, rather than failing the
    case folder half made."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if not any(match.group("escaped") or (match.group("named") or match.group("braced")) in values
               for match in Template.pattern.finditer(text)):  # nothing to fill in: the file as it is
        return data
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _fill_table(text, values, "," if suffix == ".csv" else "\t").encode("utf-8")
    if suffix in (".html", ".xml"):
        values = {key: html.escape(str(value)) for key, value in values.items()}
    elif suffix == ".json":
        values = {key: json.dumps(str(value), ensure_ascii=False)[1:-1] for key, value in values.items()}
    else:
        values = {key: LINE_BREAKS.sub(" ", str(value)) for key, value in values.items()}
        if suffix == ".md":
            values = {key: _markdown_text(value) for key, value in values.items()}
        elif suffix in (".yaml", ".yml"):
            from .yaml_fill import fill_yaml

            return fill_yaml(text, values).encode("utf-8")
    return Template(text).safe_substitute(values).encode("utf-8")


def _markdown_text(value: str) -> str:
    """A value as Markdown text: shown as written, never markup, wherever it stands in a line; no more
    backslashes than that needs (``2026-001``, ``ACME精機 (株)`` stay as they are, as a person
    reading the file as text sees it). The spaces and tabs it starts or ends with are left out: at a
    line's start they would indent it into a list item or a code block, or move a ``-`` past the
    escape (`` - x``, ``    x``), at its end make a line break (``x  ``); Markdown shows none."""
    value = value.strip(" \t")
    return MARKDOWN_LINE_START.sub(r"\1\\", MARKDOWN_INLINE.sub(r"\\\1", value), count=1)


def _fill_table(text: str, values: dict[str, str], delimiter: str) -> str:
    """A CSV (or TSV) template filled in cell by cell and written again as one: a value with the
    delimiter, a quote or a line break stays in its cell; one a spreadsheet would run as a formula
    (``=``, ``+``, ``-``, ``@``, a tab or CR first) gets a ``'`` before it, as OWASP advises. In a
    cell the template itself made a formula, a value's quotes are doubled (text inside its string)."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""  # Excel's UTF-8 CSV: kept before everything
    body = text[len(bom):]
    newline = "\r\n" if "\r\n" in body else "\n"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    for row in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter):
        cells = []
        for cell in row:
            if cell.startswith(FORMULA_START):  # the template's own formula: values inside its strings
                cells.append(Template(cell).safe_substitute({k: str(v).replace('"', '""') for k, v in values.items()}))
                continue
            filled = Template(cell).safe_substitute(values)
            cells.append("'" + filled if filled.startswith(FORMULA_START) else filled)
        writer.writerow(cells)
    filled = out.getvalue()
    if not body.endswith(("\n", "\r")):
        filled = filled.removesuffix(newline)
    return bom + filled


LOCAL_TEMPLATE_SETTING = "ACKFLOW_OFFICE_TEMPLATE_DIR"
DRIVE_TEMPLATE_SETTING = "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER"


def plan_tree(template: str | Path | list[TemplateEntry], folder: str, name_values: dict[str, str],
              setting: str = LOCAL_TEMPLATE_SETTING) -> list[tuple[TemplateEntry, str]]:
    """Each entry of the template with the path it gets in ``folder``, every one checked as the
    storage adapters check a path. Makes nothing: ``newcase`` runs it before it takes a case number
    too. A path too long, as a deep Drive template makes, is refused naming the template's entry and
    its ``setting``: the office fixes the template, not the case. So are two entries that would be
    one path (Drive allows two items of one name), unless both are folders, which become one; two
    files whose names differ but are cut alike (a long client and title filled in) are both made,
    the later numbered (``… (2).txt``), the same on every run."""
    entries = template if isinstance(template, list) else local_template(template)
    planned = [(entry, "/".join([folder, *(render_name(part, name_values) for part in entry.parts)]))
               for entry in entries]
    safe_relative_path(folder)  # the case folder's own name: the client's and the title's
    folders: dict[str, bool] = {}  # each target path: whether a folder is made there
    filled: dict[str, str] = {}  # each target path: its entry's names filled in, before cutting
    for index, (entry, target) in enumerate(planned):
        whole = unicodedata.normalize("NFC", "/".join(Template(part).safe_substitute(name_values)
                                                      for part in entry.parts))
        try:
            target = safe_relative_path(target)
            number = 2
            while not entry.folder and target in filled and filled[target] != whole:  # cut alike: numbered
                target = safe_relative_path(numbered(planned[index][1], number))
                number += 1
        except UnsafePath as refused:
            shown = "/".join(entry.parts)
            raise PermanentError(
                N_("The case template ({setting}) holds “{entry}”, which cannot be made in the case folder "
                   "“{folder}”: {reason}. Shorten the names in the template or nest its folders less deeply "
                   "(a shorter client name or title also helps)."),
                setting=setting, entry=shown if len(shown) <= 200 else shown[:199] + "…",
                folder=folder, reason=refused.text.values["reason"]) from refused
        if target in folders and not (folders[target] and entry.folder):  # two folders of a name: one folder
            shown = target.partition("/")[2]
            raise PermanentError(
                N_("The case template ({setting}) holds two items that would both be “{entry}” in the case "
                   "folder (Drive lets one folder hold two items of one name): one would be left out. Rename or "
                   "remove one of them"), setting=setting, entry=shown if len(shown) <= 200 else shown[:199] + "…")
        folders[target], filled[target] = entry.folder, whole
        planned[index] = (entry, target)
    return planned


def render_tree(template: str | Path | list[TemplateEntry], storage: CaseStorage, folder: str,
                name_values: dict[str, str], text_values: dict[str, str],
                setting: str = LOCAL_TEMPLATE_SETTING) -> dict[str, list[str]]:
    """Copy the template into ``folder``: new files are written, existing ones are left alone.
    ``name_values`` go into file and folder names and must be safe path components
    (``names.safe_component``); ``text_values`` go into the text files as written. Every name is
    rendered before anything is made, so a bad template makes nothing."""
    planned = plan_tree(template, folder, name_values, setting)
    storage.ensure_folder(folder)
    created, kept = [], []
    for entry, target in planned:
        if entry.folder:
            storage.ensure_folder(target)
            continue
        copy = getattr(storage, "copy", None)
        if entry.drive_id and not entry.text and copy is not None:
            made = copy(entry.drive_id, target, entry.mime_type)
        else:
            data = entry.reader() if entry.reader else b""
            if entry.text:
                data = fill_in(data, text_values, target)
            made = storage.create(target, data, content_type(target))
        (created if made else kept).append(target)
    return {"created": created, "kept": kept}
