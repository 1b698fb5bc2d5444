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
import datetime as dt
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
# a line that starts a block scalar (``notes: |``, ``- >-``, ``- key: |``): the lines below it, deeper
# than its key (or its ``-`` when it has none), are its text
YAML_BLOCK_START = re.compile(r"^( *)(- +)?((?:\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^#'\"\s][^#'\"]*?): +)?"
                              r"(?:[!&]\S* +)*[|>][-+0-9]* *(?:#.*)?$")
YAML_PLAIN_UNSAFE = set(":#,[]{}&*!|>'\"%@`\\\t")  # what can end, start or change a YAML plain scalar
# what a YAML stream may not hold as it is (PyYAML refuses the file): escaped in "…", else replaced
YAML_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# a plain scalar a YAML 1.1 or 1.2 reader takes for something other than text (a bool, null, a
# number, a date, a merge key), unless it reads back as the same text (below)
YAML_NOT_TEXT = re.compile(r"(?i:y|n|yes|no|true|false|on|off|null|~|<<|=|[-+]?\.(?:inf|nan))"
                           r"|[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?"  # 1_000, 1.10, 1e3
                           r"|[-+]?0[boxBOX][0-9a-fA-F_]+|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")  # 0x1F, 0o17; 2026-1-1
YAML_SAME_TEXT = re.compile(r"0|[1-9][0-9]{0,17}|[0-9]{4}-[0-9]{2}-[0-9]{2}")  # 2026, 2026-12-01: read as written


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
            return _fill_yaml(text, values).encode("utf-8")
    return Template(text).safe_substitute(values).encode("utf-8")


def _markdown_text(value: str) -> str:
    """A value as Markdown text: shown as written, never markup, wherever it stands in a line; no more
    backslashes than that needs (``2026-001``, ``ACME精機 (株)`` stay as they are, as a person
    reading the file as text sees it). The spaces and tabs it starts or ends with are left out: at a
    line's start they would indent it into a list item or a code block, or move a ``-`` past the
    escape (`` - x``, ``    x``), at its end make a line break (``x  ``); Markdown shows none."""
    value = value.strip(" \t")
    return MARKDOWN_LINE_START.sub(r"\1\\", MARKDOWN_INLINE.sub(r"\\\1", value), count=1)


def _fill_yaml(text: str, values: dict[str, str]) -> str:
    """A YAML template filled in as each place reads a value: inside a double-quoted scalar escaped
    as JSON escapes a string (YAML's double quotes take the same escapes), inside a single-quoted
    one its quotes doubled, in a comment as written, in a block scalar (``notes: |``) as written,
    its text being literal, and in a plain scalar (``title: ${title}``, ``line: ${case} 受付``,
    ``${client}: x``, ``[${client}]``) as written when the scalar filled in is still plain text that
    reads as itself, else that whole scalar as a double-quoted string (a title ``a: b``, ``x # y``,
    ``yes`` or ``010`` stays the title). A place is read from the template: a quote opens a quoted
    scalar only where a scalar starts (``Bob's ${title}`` is plain), and a quoted scalar may span
    lines; a plain one is read line by line. What YAML cannot hold as a character (a control
    character in a display name) is escaped in double quotes and replaced with U+FFFD elsewhere."""
    filled, block, state = [], None, ("", 0)  # block: the indentation a block scalar's lines are deeper than
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if block is not None and (not body.strip() or len(body) - len(body.lstrip(" ")) > block):
            filled.append(_yaml_block_line(body, values) + ending)  # a block scalar's text: literal
            continue
        block = None
        started = YAML_BLOCK_START.match(body) if state == ("", 0) else None
        if started:
            block = len(started.group(1)) + (len(started.group(2) or "") if started.group(3) else 0)
        body, state = _yaml_line(body, values, state)
        filled.append(body + ending)
    return "".join(filled)


def _yaml_printable(value: str) -> str:
    return YAML_NON_PRINTABLE.sub("\ufffd", value)


def _yaml_double(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (without its quotes)."""
    return YAML_NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF
                                  else f"\\U{ord(m.group()):08x}", json.dumps(value, ensure_ascii=False)[1:-1])


def _yaml_block_line(line: str, values: dict[str, str]) -> str:
    """A line of a block scalar filled in: its values as written, one at the line's start without
    the spaces it starts with (they would be the block's indentation)."""
    out, at = [], 0
    for match in Template.pattern.finditer(line):
        out.append(line[at:match.start()])
        at = match.end()
        key = match.group("named") or match.group("braced")
        if key not in values:
            out.append(match.group(0) if not match.group("escaped") else "$")
            continue
        value = _yaml_printable(values[key])
        out.append(value.lstrip(" ") if not "".join(out).strip(" ") else value)
    out.append(line[at:])
    return "".join(out)


def _yaml_plain_text(filled: str, values: list[str]) -> bool:
    """Whether a plain scalar filled in with ``values`` is read back as the text it is."""
    return bool(filled) and filled == filled.strip() and filled[0] not in YAML_PLAIN_UNSAFE | set("-?") \
        and not filled.startswith("...") and not any(YAML_PLAIN_UNSAFE & set(value) for value in values) \
        and not any(YAML_NON_PRINTABLE.search(value) for value in values) \
        and (not YAML_NOT_TEXT.fullmatch(filled) or _yaml_same_text(filled))


def _yaml_same_text(scalar: str) -> bool:
    if not YAML_SAME_TEXT.fullmatch(scalar):
        return False
    if "-" in scalar:
        try:
            dt.date.fromisoformat(scalar)
        except ValueError:  # 2026-99-99: no date, and PyYAML refuses the file
            return False
    return True


def _yaml_line(line: str, values: dict[str, str], state: tuple[str, int]) -> tuple[str, tuple[str, int]]:
    """One line (without its line break) filled in, starting in ``state``: inside ``"`` or ``'``
    (a quoted scalar from the line before) or not (""), and the depth of the flow collections
    (``[``, ``{``) open; returns the state it ends in."""
    atoms: list = []  # the line's characters, and its placeholders with a value (re.Match)
    at = 0
    for match in Template.pattern.finditer(line):
        atoms.extend(line[at:match.start()])
        key = match.group("named") or match.group("braced")
        if key in values:
            atoms.append(match)
        else:  # $$, a name not given, or a stray $: as safe_substitute leaves them
            atoms.extend(match.group(0) if not match.group("escaped") else "$")
        at = match.end()
    atoms.extend(line[at:])

    def char(index: int) -> str:  # a placeholder reads as a letter of a plain scalar
        if index < 0 or index >= len(atoms):
            return ""
        return atoms[index] if isinstance(atoms[index], str) else "x"

    def value(atom) -> str:
        return values[atom.group("named") or atom.group("braced")]

    quote, flow = state
    out: list[str] = []
    index = 0
    while index < len(atoms):
        atom, c = atoms[index], char(index)
        if quote == '"':
            if not isinstance(atom, str):
                out.append(_yaml_double(value(atom)))
            elif c == "\\" and index + 1 < len(atoms) and isinstance(atoms[index + 1], str):
                out.append(c + atoms[index + 1])
                index += 1
            else:
                out.append(c)
                quote = "" if c == '"' else quote
        elif quote == "'":
            if not isinstance(atom, str):
                out.append(_yaml_printable(value(atom)).replace("'", "''"))
            elif c == "'" and char(index + 1) == "'":
                out.append("''")
                index += 1
            else:
                out.append(c)
                quote = "" if c == "'" else quote
        elif quote == "#":
            out.append(_yaml_printable(value(atom)) if not isinstance(atom, str) else atom)
        elif c in (" ", "\t"):
            out.append(c)
        elif c == "#" and char(index - 1) in ("", " ", "\t"):
            quote = "#"
            out.append(c)
        elif c in "\"'":
            quote = c
            out.append(c)
        elif c in "[{" and isinstance(atom, str):
            flow += 1
            out.append(c)
        elif c in "]}" and isinstance(atom, str):
            flow = max(0, flow - 1)
            out.append(c)
        elif c == "," and flow:
            out.append(c)
        elif c in "-?:" and isinstance(atom, str) and (char(index + 1) in ("", " ", "\t")
                                                        or (flow and char(index + 1) in ",[]{}")):
            out.append(c)  # an indicator: a sequence's entry, a key, a value
        elif c in "&*!|>%" and isinstance(atom, str):  # an anchor, alias, tag, block or directive: as it is
            while index < len(atoms) and char(index) not in (" ", "\t"):
                out.append(atoms[index] if isinstance(atoms[index], str) else _yaml_printable(value(atoms[index])))
                index += 1
            continue
        else:  # a plain scalar: to a ": ", a " #", the line's end or (in a flow) a flow indicator
            end = index
            while end < len(atoms):
                c = char(end)
                if isinstance(atoms[end], str) and (
                        (c == ":" and (char(end + 1) in ("", " ", "\t") or (flow and char(end + 1) in ",[]{}")))
                        or (c == "#" and char(end - 1) in (" ", "\t")) or (flow and c in ",[]{}")):
                    break
                end += 1
            while end > index and char(end - 1) in (" ", "\t"):
                end -= 1
            scalar = atoms[index:end]
            placed = [value(atom) for atom in scalar if not isinstance(atom, str)]
            text = "".join(atom if isinstance(atom, str) else value(atom) for atom in scalar)
            out.append(text if not placed or _yaml_plain_text(text, placed) else f'"{_yaml_double(text)}"')
            index = end
            continue
        index += 1
    return "".join(out), ("" if quote == "#" else quote, flow)


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
