"""The pages behind the stand-in's ``webViewLink`` s, so link buttons open in a browser: a folder's
listing, a file's contents (served inline with its type, but never as a page that runs: a
sandbox, and HTML or SVG as text, as Drive keeps users' files off its own origin), a placeholder
for Google Docs files."""

from __future__ import annotations

from html import escape

from werkzeug.wrappers import Request, Response

from ..files import UNTRUSTED_FILE_HEADERS, disposition, served_type, shown
from .service import FOLDER, NATIVE, DriveService

PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} li{{margin:.4em 0}} small{{color:#666}}</style></head>
<body><p><small>Local Drive stand-in</small></p><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response(PAGE.format(title=escape(shown(title)), body=body), status=status, mimetype="text/html")


def add_pages(app, service: DriveService) -> None:
    def item_or_404(file_id: str):
        with service.lock:
            return service.files.get(file_id)

    def folder(request: Request, file_id: str):
        item = item_or_404(file_id)
        if item is None or item["mimeType"] != FOLDER:
            return _page("Not found", "<p>No such folder.</p>", 404)
        with service.lock:
            children = sorted((f for f in service.files.values() if file_id in f.get("parents", [])
                               and not f.get("trashed")), key=lambda f: (f["mimeType"] != FOLDER, f["name"]))
            links = [(service.resource(f)["webViewLink"], f) for f in children]
        rows = "".join(f'<li><a href="{escape(link)}">{"📁 " if f["mimeType"] == FOLDER else ""}'
                       f'{escape(shown(f["name"]))}</a></li>' for link, f in links)
        parents = item.get("parents") or []
        up = f'<p><a href="/drive/folders/{escape(parents[0])}">↑</a></p>' if parents else ""
        return _page(item["name"], f"{up}<ul>{rows or '<li><small>(empty)</small></li>'}</ul>")

    def view(request: Request, file_id: str):
        item = item_or_404(file_id)
        if item is None or item["mimeType"] == FOLDER:
            return _page("Not found", "<p>No such file.</p>", 404)
        if item["mimeType"].startswith(NATIVE):
            return _page(item["name"], f"<p>{escape(item['mimeType'])}: a Google Workspace file (the stand-in "
                                       "keeps no contents for it).</p>")
        data = service.blobs.get(file_id, b"")
        return Response(data, content_type=served_type(item["mimeType"]),
                        headers={"Content-Disposition": disposition(item["name"]),
                                 **UNTRUSTED_FILE_HEADERS})

    app.add("GET", r"/drive/folders/([^/]+)", folder)
    app.add("GET", r"/file/d/([^/]+)/view", view)
    for kind in ("document", "spreadsheets", "presentation"):
        app.add("GET", rf"/{kind}/d/([^/]+)/edit", view)
