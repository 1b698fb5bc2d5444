"""A read-only http server of the local case folders (``ackflow dev`` with storage=local), so the
link buttons on cards open a folder or a PDF in a browser or on a phone, as Drive or Cloud Storage
links do in the cloud.

``GET /cases/<path>``: a folder is a listing page, a file is sent inline with its type. Only what
is under the root is served: no ``..``, no symlink out of it, no hidden or half-written files.
"""

from __future__ import annotations

import mimetypes
import unicodedata
from html import escape
from pathlib import Path
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

PREFIX = "/cases"
ACTIVE = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript",
          "application/javascript"}
# Files come from outside (mail attachments, portal downloads): whatever their type says, a browser
# never runs them on this origin (Drive serves them from another domain; locally, a sandbox).
UNTRUSTED_FILE_HEADERS = {"X-Content-Type-Options": "nosniff",
                          "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; "
                                                     "style-src 'unsafe-inline'"}


def served_type(mimetype: str) -> str:
    """The type a stored file is served as: a page or an image that could run script as its text."""
    base = mimetype.split(";", 1)[0].strip().lower()
    kind = "text/plain" if base in ACTIVE else (mimetype or "application/octet-stream")
    if kind.startswith("text/") and "charset" not in kind:
        kind += "; charset=utf-8"
    return kind


def shown(name: str) -> str:
    """A file's name as a page shows it: a control or format character (a bidi override that would
    show ``invoice\u202egpj.exe`` as ``invoiceexe.jpg``, a zero-width one) as U+FFFD, the emoji
    joiner and variation selector kept, as the office's own names keep them."""
    return "".join("\ufffd" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\u200d\ufe0f"
                   else ch for ch in name)


def disposition(name: str) -> str:
    """``Content-Disposition`` for a stored file opened in a browser, under a name a browser may
    save it by: no path separators (Drive allows "/" in names), control, bidi or zero-width
    characters, never "." or "..", and encoded as RFC 8187 says (every byte outside its
    ``attr-char`` %-escaped, "/" included)."""
    saved = shown(name).replace("\ufffd", "").replace("/", "_").replace("\\", "_").strip()
    if saved in ("", ".", ".."):
        saved = "file"
    return f"inline; filename*=UTF-8''{quote(saved, safe='')}"


PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} li{{margin:.4em 0}} small{{color:#666}}</style></head>
<body><p><small>Local case folders</small></p><h1>{title}</h1>{body}</body></html>"""


class CaseFiles:
    def __init__(self, root: str | Path, prefix: str = PREFIX):
        self.root = Path(root).resolve()
        self.prefix = prefix.rstrip("/")

    def __call__(self, environ, start_response):
        return self.answer(Request(environ))(environ, start_response)

    def answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("read only", status=405, mimetype="text/plain")
        if request.path in ("/", ""):
            return Response('{"status": "ok", "service": "files"}', mimetype="application/json")
        if request.path != self.prefix and not request.path.startswith(self.prefix + "/"):
            return _missing()
        relative = unquote(request.path[len(self.prefix):]).strip("/")
        target = self._resolve(relative)
        if target is None:
            return _missing()
        if target.is_dir():
            return self._listing(target, relative)
        kind = served_type(mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        return Response(target.read_bytes(), content_type=kind,
                        headers={"Content-Disposition": disposition(target.name),
                                 **UNTRUSTED_FILE_HEADERS})

    def _resolve(self, relative: str) -> Path | None:
        parts = [p for p in relative.split("/") if p]
        if any(p in (".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        try:
            target = (self.root.joinpath(*parts)).resolve()
            if target != self.root and self.root not in target.parents:
                return None  # a symlink out of the root
            return target if target.exists() else None
        except OSError:  # a name or path longer than the filesystem takes: no such file
            return None

    def _listing(self, folder: Path, relative: str) -> Response:
        entries = sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                         key=lambda p: (not p.is_dir(), p.name))
        base = f"{self.prefix}/{quote(relative)}".rstrip("/")
        rows = "".join(f'<li><a href="{escape(base)}/{escape(quote(p.name))}">{"📁 " if p.is_dir() else ""}'
                       f"{escape(shown(p.name))}</a></li>" for p in entries)
        up = ""
        if relative:
            parent = relative.rsplit("/", 1)[0] if "/" in relative else ""
            up = f'<p><a href="{escape(self.prefix)}/{escape(quote(parent))}">↑</a></p>'
        title = relative.rsplit("/", 1)[-1] or "cases"
        body = f"{up}<ul>{rows or '<li><small>(empty)</small></li>'}</ul>"
        return Response(PAGE.format(title=escape(shown(title)), body=body), mimetype="text/html")


def _missing() -> Response:
    return Response("Not found.", status=404, mimetype="text/plain")
