"""A local stand-in for the Google Sheets API v4: the REST endpoints gspread uses.

Spreadsheets are grids of strings held in memory (and written to a JSON file when one is given).
It implements spreadsheet metadata, ``values`` get / update / append / batchGet / batchUpdate,
and the ``batchUpdate`` requests ``addSheet`` and ``appendDimension``; plus an OAuth token endpoint,
so a service-account key file whose ``token_uri`` points here works unchanged. A cell takes at most
50,000 characters and an append adds rows to a full grid, as in Sheets. Formulas, formats
and every other request type are not implemented (and answered as such). It knows nothing of
cases or jobs.

``/spreadsheets/d/{id}/edit`` (the editor's path) shows a spreadsheet as a read-only page, so the
links the app puts in cards (``…/edit#gid=0&range=A5``) open in a browser, the row highlighted.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from .web import GoogleError, Router, json_response, read_json

CELL = re.compile(r"^([A-Z]*)(\d*)$")
CELL_LIMIT = 50_000  # characters in one cell: Sheets refuses more


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class Grid:
    def __init__(self, sheet_id: int, title: str, rows: int = 1000, cols: int = 26, cells=None):
        self.sheet_id = sheet_id
        self.title = title
        self.rows = rows
        self.cols = cols
        self.cells: list[list[str]] = cells or []

    def properties(self, index: int) -> dict:
        return {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                "gridProperties": {"rowCount": self.rows, "columnCount": self.cols}}

    def used_rows(self) -> int:
        for number in range(len(self.cells), 0, -1):
            if any(value != "" for value in self.cells[number - 1]):
                return number
        return 0

    def get(self, row: int, col: int) -> str:
        if row <= len(self.cells) and col <= len(self.cells[row - 1]):
            return self.cells[row - 1][col - 1]
        return ""

    def check(self, row: int, col: int, value) -> None:
        """Refuse what Sheets refuses (before anything of the request is written)."""
        if value is not None and len(str(value)) > CELL_LIMIT:
            raise GoogleError("INVALID_ARGUMENT", f"Your input contains more than the maximum of {CELL_LIMIT} "
                                                  "characters in a single cell.")
        if row > self.rows or col > self.cols:
            raise GoogleError("INVALID_ARGUMENT",
                              f"Range exceeds grid limits. Max rows: {self.rows}, max columns: {self.cols}")

    def set(self, row: int, col: int, value) -> None:
        self.check(row, col, value)
        text = "" if value is None else str(value)
        while len(self.cells) < row:
            self.cells.append([])
        line = self.cells[row - 1]
        while len(line) < col:
            line.append("")
        line[col - 1] = text

    def to_dict(self) -> dict:
        return {"sheetId": self.sheet_id, "title": self.title, "rows": self.rows, "cols": self.cols,
                "cells": self.cells}


class SheetsService:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.lock = threading.RLock()
        self.books: dict[str, dict] = {}
        self.value_inputs: list[str] = []  # the valueInputOption of each write, for inspection
        if self.path and self.path.exists():
            for book_id, book in json.loads(self.path.read_text()).items():
                self.books[book_id] = {"title": book["title"],
                                       "sheets": [Grid(g["sheetId"], g["title"], g["rows"], g["cols"], g["cells"])
                                                  for g in book["sheets"]]}

    def save(self) -> None:
        if self.path:
            data = {i: {"title": b["title"], "sheets": [g.to_dict() for g in b["sheets"]]}
                    for i, b in self.books.items()}
            self.path.write_text(json.dumps(data, ensure_ascii=False))

    def create(self, book_id: str, title: str = "Cases", sheet_title: str = "Sheet1") -> None:
        with self.lock:
            self.books[book_id] = {"title": title, "sheets": [Grid(0, sheet_title)]}
            self.save()

    def book(self, book_id: str) -> dict:
        book = self.books.get(book_id)
        if book is None:
            raise GoogleError("NOT_FOUND", "Requested entity was not found.")
        return book

    def metadata(self, book_id: str) -> dict:
        book = self.book(book_id)
        return {"spreadsheetId": book_id,
                "properties": {"title": book["title"], "locale": "ja_JP", "timeZone": "Asia/Tokyo"},
                "sheets": [{"properties": g.properties(i)} for i, g in enumerate(book["sheets"])],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book_id}/edit"}

    # -- A1 notation -----------------------------------------------------------------------------
    def resolve(self, book_id: str, a1: str) -> tuple[Grid, int, int, int, int]:
        """(grid, first row, first col, last row, last col) for an A1 range; open ends → grid size."""
        book = self.book(book_id)
        a1 = unquote(a1)
        if "!" in a1:
            title, _, cells = a1.rpartition("!")
        elif a1.startswith("'") and a1.endswith("'") and len(a1) > 1:  # a quoted sheet name alone: all of it
            title, cells = a1, ""
        else:
            title, cells = (a1, "") if any(g.title == a1 for g in book["sheets"]) else (book["sheets"][0].title, a1)
        if title.startswith("'") and title.endswith("'"):
            title = title[1:-1].replace("''", "'")
        grid = next((g for g in book["sheets"] if g.title == title), None)
        if grid is None:
            raise GoogleError("INVALID_ARGUMENT", f"Unable to parse range: {a1}")
        if not cells:
            return grid, 1, 1, grid.rows, grid.cols
        start, _, end = cells.partition(":")
        first = CELL.match(start)
        last = CELL.match(end or start)
        if not first or not last:
            raise GoogleError("INVALID_ARGUMENT", f"Unable to parse range: {a1}")
        r1 = int(first.group(2)) if first.group(2) else 1
        c1 = column_number(first.group(1)) if first.group(1) else 1
        r2 = int(last.group(2)) if last.group(2) else grid.rows
        c2 = column_number(last.group(1)) if last.group(1) else grid.cols
        if not end:  # a single cell
            r2, c2 = r1, c1
        return grid, r1, c1, r2, c2

    def label(self, grid: Grid, r1: int, c1: int, r2: int, c2: int) -> str:
        title = grid.title if re.match(r"^\w+$", grid.title) else "'" + grid.title.replace("'", "''") + "'"
        return f"{title}!{column_letters(c1)}{r1}:{column_letters(c2)}{r2}"

    # -- values ----------------------------------------------------------------------------------
    def value_input(self, option: str | None) -> None:
        """Writes must say how values are read, as the real API requires (no formulas here)."""
        if option not in ("RAW", "USER_ENTERED"):
            raise GoogleError("INVALID_ARGUMENT", "'valueInputOption' is required: RAW or USER_ENTERED.")
        with self.lock:
            self.value_inputs.append(option)

    def get_values(self, book_id: str, a1: str, major: str = "ROWS") -> dict:
        with self.lock:
            grid, r1, c1, r2, c2 = self.resolve(book_id, a1)
            r2 = min(r2, max(grid.used_rows(), r1 - 1)) if r2 == grid.rows else r2
            rows = [[grid.get(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
            if major == "COLUMNS":
                rows = [list(column) for column in zip(*rows, strict=False)] if rows else []
            rows = [self._trim(line) for line in rows]
            while rows and not rows[-1]:
                rows.pop()
            body = {"range": self.label(grid, r1, c1, r2, c2), "majorDimension": major}
            if rows:
                body["values"] = rows
            return body

    @staticmethod
    def _trim(line: list[str]) -> list[str]:
        while line and line[-1] == "":
            line = line[:-1]
        return line

    def update_values(self, book_id: str, a1: str, values: list[list], major: str = "ROWS") -> dict:
        with self.lock:
            grid, r1, c1, _, _ = self.resolve(book_id, a1)
            if major == "COLUMNS":
                values = [list(column) for column in zip(*values, strict=False)]
            for step in (grid.check, grid.set):  # all of it, or nothing
                for dr, line in enumerate(values):
                    for dc, value in enumerate(line):
                        step(r1 + dr, c1 + dc, value)
            self.save()
            rows = len(values)
            cols = max((len(line) for line in values), default=0)
            return {"spreadsheetId": book_id, "updatedRange": self.label(grid, r1, c1, r1 + max(rows, 1) - 1,
                                                                           c1 + max(cols, 1) - 1),
                    "updatedRows": rows, "updatedColumns": cols, "updatedCells": sum(len(row) for row in values)}

    def append_values(self, book_id: str, a1: str, values: list[list]) -> dict:
        """Appended after the table; rows are added to the grid when it is full, as Sheets does ("adding
        data to the end of the sheet will still insert new rows or columns so the data can be written")."""
        with self.lock:
            grid, _, c1, _, _ = self.resolve(book_id, a1)
            start = grid.used_rows() + 1
            for value in (value for line in values for value in line):
                grid.check(1, 1, value)  # a refused cell grows nothing
            grid.rows = max(grid.rows, start + len(values) - 1)
            grid.cols = max(grid.cols, c1 + max((len(line) for line in values), default=1) - 1)
            table = self.label(grid, 1, c1, max(start - 1, 1), grid.cols)
            updates = self.update_values(book_id, self.label(grid, start, c1, start, c1), values)
            return {"spreadsheetId": book_id, "tableRange": table, "updates": updates}

    # -- structure -------------------------------------------------------------------------------
    def batch_update(self, book_id: str, requests: list[dict]) -> dict:
        with self.lock:
            book = self.book(book_id)
            replies = []
            for request in requests:
                if "addSheet" in request:
                    props = request["addSheet"].get("properties", {})
                    title = props.get("title") or f"Sheet{len(book['sheets']) + 1}"
                    if any(g.title == title for g in book["sheets"]):
                        raise GoogleError("INVALID_ARGUMENT", f'A sheet with the name "{title}" already exists.')
                    grid_props = props.get("gridProperties", {})
                    grid = Grid(max(g.sheet_id for g in book["sheets"]) + 1, title,
                                grid_props.get("rowCount", 1000), grid_props.get("columnCount", 26))
                    book["sheets"].append(grid)
                    replies.append({"addSheet": {"properties": grid.properties(len(book["sheets"]) - 1)}})
                elif "appendDimension" in request:
                    spec = request["appendDimension"]
                    grid = next(g for g in book["sheets"] if g.sheet_id == spec["sheetId"])
                    if spec["dimension"] == "COLUMNS":
                        grid.cols += int(spec["length"])
                    else:
                        grid.rows += int(spec["length"])
                    replies.append({})
                else:
                    raise GoogleError("UNIMPLEMENTED", f"The local Sheets service does not implement {list(request)}.")
            self.save()
            return {"spreadsheetId": book_id, "replies": replies}


BOOK = r"/v4/spreadsheets/([^/:]+)"


def build_app(service: SheetsService) -> Router:
    app = Router()

    def metadata(request: Request, book_id):
        with service.lock:
            return json_response(service.metadata(book_id))

    def get_values(request: Request, book_id, a1):
        return json_response(service.get_values(book_id, a1, request.args.get("majorDimension", "ROWS")))

    def put_values(request: Request, book_id, a1):
        service.value_input(request.args.get("valueInputOption"))
        body = read_json(request)
        return json_response(service.update_values(book_id, body.get("range") or a1, body.get("values", []),
                                                   body.get("majorDimension", "ROWS")))

    def append(request: Request, book_id, a1):
        service.value_input(request.args.get("valueInputOption"))
        return json_response(service.append_values(book_id, a1, read_json(request).get("values", [])))

    def batch_get(request: Request, book_id):
        major = request.args.get("majorDimension", "ROWS")
        ranges = [service.get_values(book_id, r, major) for r in request.args.getlist("ranges")]
        return json_response({"spreadsheetId": book_id, "valueRanges": ranges})

    def batch_values(request: Request, book_id):
        body = read_json(request)
        service.value_input(body.get("valueInputOption"))
        responses = [service.update_values(book_id, item["range"], item.get("values", []),
                                           item.get("majorDimension", "ROWS")) for item in body.get("data", [])]
        return json_response({"spreadsheetId": book_id, "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                              "responses": responses})

    def batch_update(request: Request, book_id):
        return json_response(service.batch_update(book_id, read_json(request).get("requests", [])))

    def token(request: Request):  # OAuth 2.0 token endpoint for service-account JWT grants
        return json_response({"access_token": "local-sheets-token", "expires_in": 3600, "token_type": "Bearer"})

    def create(request: Request, book_id):
        body = read_json(request)
        service.create(book_id, body.get("title", "Cases"), body.get("sheet", "Sheet1"))
        return json_response(service.metadata(book_id))

    app.add("GET", BOOK, metadata)
    app.add("POST", BOOK + r"/values/(.+):append", append)
    app.add("GET", BOOK + r"/values/(.+)", get_values)
    app.add("PUT", BOOK + r"/values/(.+)", put_values)
    app.add("GET", BOOK + r"/values:batchGet", batch_get)
    app.add("POST", BOOK + r"/values:batchUpdate", batch_values)
    app.add("POST", BOOK + r":batchUpdate", batch_update)
    app.add("POST", "/token", token)
    app.add("PUT", r"/_emulator/spreadsheets/([^/:]+)", create)
    app.add("GET", r"/spreadsheets/d/([^/:]+)/edit", lambda request, book_id: _page(service, book_id))
    app.add("GET", "/", lambda request: json_response({"status": "ok", "service": "sheets"}))
    return app


PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse;font-size:14px}}
td,th{{border:1px solid #ccc;padding:4px 6px;white-space:nowrap}} th{{background:#f1f3f4}}
tr.here td{{background:#fff3c4}}</style></head><body><p><small>Local Sheets stand-in</small></p>
<h1>{title}</h1>{body}
<script>var m=/range=[A-Z]*(\\d+)/.exec(location.hash);if(m){{var r=document.querySelectorAll(
'tr[data-row="'+m[1]+'"]');r.forEach(function(e){{e.className='here'}});if(r[0])r[0].scrollIntoView();}}</script>
</body></html>"""


def _page(service: SheetsService, book_id: str) -> Response:
    from html import escape

    with service.lock:
        book = service.books.get(book_id)
        if book is None:
            return Response("No such spreadsheet.", status=404, mimetype="text/plain")
        parts = []
        for grid in book["sheets"]:
            width = max((len(line) for line in grid.cells), default=0)
            head = "".join(f"<th>{column_letters(c)}</th>" for c in range(1, width + 1))
            rows = "".join(
                f'<tr data-row="{n}"><th>{n}</th>' + "".join(f"<td>{escape(grid.get(n, c))}</td>"
                                                         for c in range(1, width + 1)) + "</tr>"
                for n in range(1, grid.used_rows() + 1))
            parts.append(f'<h2 id="gid={grid.sheet_id}">{escape(grid.title)}</h2>'
                         f"<table><tr><th></th>{head}</tr>{rows}</table>")
        return Response(PAGE.format(title=escape(book["title"]), body="".join(parts)), mimetype="text/html")
