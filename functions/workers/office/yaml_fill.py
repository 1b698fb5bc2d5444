"""Values put into a YAML template as text, wherever the template puts them.

PyYAML's scanner reads the template and says where each scalar is and how it is written (each
placeholder first replaced by a marker that is a plain scalar's text anywhere: ``${client}`` holds
``{``, which inside ``[…]`` starts a flow mapping). A value is then written as its scalar's style
reads text: escaped in ``"…"``, its quotes doubled in ``'…'``, as it is in a block scalar (``|``,
``>``) and in a comment, and in a plain scalar as it is when the scalar filled in still reads as
that text (``2026-010``, ``ACME精機 (株)``), else the whole scalar as one ``"…"`` string (``a: b``,
``x # y``, ``yes``, ``010``, ``2026``: a value is text, never a number, date or bool). What YAML
cannot hold as a character (a control character in a display name) is escaped in ``"…"`` and
replaced with U+FFFD elsewhere. A template that does not read as YAML gets its values as a text
file does.
"""

from __future__ import annotations

import json
import re
from string import Template

# what a YAML stream may not hold as it is (PyYAML refuses the file), besides line breaks, and a BOM
# (a value starting the file with one would lose it to the reader)
NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
MARKER_PLANE = range(0xF0000, 0xFFFFE)  # private use: markers are two of these the template does not hold


def fill_yaml(text: str, values: dict[str, str]) -> str:
    """``text`` (a YAML template) with ``values`` put in as text, ``$$`` as ``$``."""
    import yaml

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom):]
    free = (chr(code) for code in MARKER_PLANE if chr(code) not in text)
    opening, closing = next(free), next(free)
    placed: list[str] = []

    def mark(match: re.Match) -> str:
        key = match.group("named") or match.group("braced")
        if match.group("escaped") is not None:
            return "$"
        if key in values:
            placed.append(values[key])
            return f"{opening}{len(placed) - 1}{closing}"
        return match.group(0)  # a name not given, or a stray $: left as safe_substitute leaves it

    marked = Template.pattern.sub(mark, text)
    marker = re.compile(f"{opening}([0-9]+){closing}")

    def unmarked(part: str, write=_printable) -> str:
        return marker.sub(lambda m: write(placed[int(m.group(1))]), part)

    try:
        tokens = list(yaml.scan(marked, Loader=yaml.SafeLoader))
    except yaml.YAMLError:  # not YAML: each value as it is, on its line
        return bom + unmarked(marked)
    out, at, flow = [], 0, 0
    for token in tokens:
        if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken)):
            flow += 1
        elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)):
            flow = max(0, flow - 1)
        elif isinstance(token, yaml.ScalarToken):
            start, end = token.start_mark.index, token.end_mark.index
            raw = marked[start:end]
            if not marker.search(raw):
                continue
            out.append(unmarked(marked[at:start]))  # what lies between: comments, indicators
            if token.style == '"':
                out.append(unmarked(raw, _double))
            elif token.style == "'":
                out.append(unmarked(raw, lambda value: _printable(value).replace("'", "''")))
            elif token.style in ("|", ">"):
                out.append(_block(raw, marker, placed))
            else:
                filled = unmarked(token.value, lambda value: value)
                out.append(unmarked(raw, lambda value: value) if _reads_as(filled, flow)
                           else f'"{_double(filled)}"')
            at = end
    out.append(unmarked(marked[at:]))
    return bom + "".join(out)


def _printable(value: str) -> str:
    return NON_PRINTABLE.sub("\ufffd", value)


def _double(value: str) -> str:
    """``value`` inside a YAML double-quoted scalar (without its quotes): JSON's escapes, which
    YAML's double quotes take, and ``\\u`` for what JSON leaves as it is and YAML cannot hold."""
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    return NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF
                             else f"\\U{ord(m.group()):08x}", escaped)


def _block(raw: str, marker: re.Pattern, placed: list[str]) -> str:
    """A block scalar's text filled in as it is; a value at a line's start without the spaces it
    starts with (they would change the block's indentation)."""

    def write(match: re.Match) -> str:
        value = _printable(placed[int(match.group(1))])
        line_start = raw.rfind("\n", 0, match.start()) + 1
        return value.lstrip(" \t") if not raw[line_start:match.start()].strip(" ") else value

    return marker.sub(write, raw)


def _reads_as(text: str, flow: int) -> bool:
    """Whether ``text`` written as a plain scalar (in a flow collection or not) reads back as
    that text: asked of PyYAML, which knows what ends a plain scalar and what is a number."""
    import yaml

    if not text or NON_PRINTABLE.search(text) or text != text.strip():
        return False
    try:
        return yaml.safe_load(f"[{text}]" if flow else f"- {text}") == [text]
    except (yaml.YAMLError, ValueError, OverflowError):  # 2026-99-99: a date PyYAML cannot make
        return False
