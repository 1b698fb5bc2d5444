"""The office's case sheet, kept with gspread: one row per case, found by its case number.

The header row is created when the sheet is empty; columns are found by their header (English or
Japanese labels), missing ones are added at the end, and columns a person added are left alone.
A retry finds the row by case number and updates it, so a case never gets two rows.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import L_, N_, Msg

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
CELL_LIMIT = 50_000  # characters Sheets takes in one cell; a longer value is refused with a 400

# key -> (label written in a new sheet, labels recognised in an existing one)
COLUMNS = {
    "case": ("案件番号", {"案件番号", "case", "case number", "case no"}),
    "client": ("顧客", {"顧客", "client", "customer"}),
    "title": ("件名", {"件名", "title", "subject"}),
    "status": ("状況", {"状況", "status"}),
    "due": ("納期", {"納期", "due", "due date"}),
    "folder": ("フォルダ", {"フォルダ", "folder", "folder link"}),
    "estimate": ("見積", {"見積", "estimate", "estimate link"}),
    "requester": ("依頼者", {"依頼者", "requested by", "requester"}),
    "created": ("作成日時", {"作成日時", "作成", "created"}),
    "updated": ("更新日時", {"更新日時", "更新", "updated"}),
    "invoice": ("請求書", {"請求書", "invoice", "invoice link"}),
    "history": ("経緯", {"経緯", "history"}),
}

# The documents tab: every issued estimate and invoice, by its number. Date, amount and client are
# the keys by which electronically issued documents must be searchable (電子帳簿保存法).
DOCUMENT_COLUMNS = {
    "number": ("書類番号", {"書類番号", "number", "document number", "no"}),
    "kind": ("種類", {"種類", "kind", "type"}),
    "date": ("発行日", {"発行日", "date", "issued"}),
    "client": ("取引先", {"取引先", "client", "customer"}),
    "amount": ("金額（税込）", {"金額（税込）", "金額", "amount", "total"}),
    "tax": ("消費税", {"消費税", "tax"}),
    "case": ("案件番号", {"案件番号", "case", "case number"}),
    "replaces": ("訂正対象", {"訂正対象", "replaces"}),
    "service": ("発行元", {"発行元", "service"}),
    "link": ("リンク", {"リンク", "link"}),
    "state": ("状態", {"状態", "state"}),  # 発行済, or 未発行: a number taken by a job that failed (filing.py)
    "job": ("ジョブ", {"ジョブ", "job", "job id"}),
}


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    from gspread.utils import rowcol_to_a1

    return rowcol_to_a1(1, index)[:-1]


def _endpoint_client(base: str):
    """gspread's own HTTP client with its 429/5xx backoff, sending to ``base`` instead of Google."""
    from gspread.http_client import BackOffHTTPClient

    class Client(BackOffHTTPClient):
        def request(self, method, endpoint, *args, **kwargs):
            endpoint = endpoint.replace("https://sheets.googleapis.com", base.rstrip("/"), 1)
            return super().request(method, endpoint, *args, **kwargs)

    return Client


@dataclass
class SheetRow:
    number: int
    values: dict[str, str]
    link: str


class CaseSheet:
    def __init__(self, spreadsheet_id: str, tab: str, *, endpoint: str = "", credentials_file: str = "",
                 client=None, columns: dict | None = None, key: str = "case"):
        self.spreadsheet_id = spreadsheet_id
        self.tab = tab
        self.column_spec = columns or COLUMNS  # key -> (label written, labels recognised)
        self.key = key  # the column rows are found by
        self.endpoint = endpoint
        self.credentials_file = credentials_file
        self._client = client
        self._worksheet = None
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------------
    def _gspread(self):
        import gspread
        from google.auth.exceptions import DefaultCredentialsError
        from gspread.http_client import BackOffHTTPClient

        http_client = _endpoint_client(self.endpoint) if self.endpoint else BackOffHTTPClient
        try:
            if self.credentials_file:  # a service-account key file: the local alternative
                from google.oauth2.service_account import Credentials

                credentials = Credentials.from_service_account_file(self.credentials_file, scopes=SCOPES)
            else:  # the worker's own service account in the cloud
                import google.auth

                credentials, _ = google.auth.default(scopes=SCOPES)
        except (DefaultCredentialsError, ValueError, OSError) as exc:
            raise PermanentError(N_("no usable Google credentials for the case sheet ({problem}); check "
                                    "ACKFLOW_OFFICE_SHEETS_CREDENTIALS_FILE or the worker's service account"),
                                 problem=str(exc)) from exc
        return gspread.Client(credentials, http_client=http_client)

    def worksheet(self):
        import gspread

        with self._lock:
            if self._worksheet is None:
                with _calls(L_("open the case sheet")):
                    client = self._client or self._gspread()
                    spreadsheet = client.open_by_key(self.spreadsheet_id)
                    try:
                        self._worksheet = spreadsheet.worksheet(self.tab)
                    except gspread.WorksheetNotFound:
                        self._worksheet = self._add_tab(spreadsheet)
            return self._worksheet

    def _add_tab(self, spreadsheet):
        """The tab made, or the one another worker made meanwhile: Sheets refuses a second tab of a
        name with a 400 ("A sheet with the name … already exists"), which is then no refusal at all."""
        import gspread

        try:
            return spreadsheet.add_worksheet(self.tab, rows=1000, cols=len(self.column_spec))
        except gspread.exceptions.APIError as refused:
            try:
                return spreadsheet.worksheet(self.tab)
            except gspread.WorksheetNotFound:
                raise refused from None

    # -- columns ---------------------------------------------------------------------------------
    def columns(self) -> dict[str, int]:
        """Where each known column is (1-based), adding the header row or missing headers."""
        sheet = self.worksheet()
        with _calls(L_("read the case sheet's header")):
            header = sheet.row_values(1)
            found: dict[str, int] = {}
            for index, label in enumerate(header, start=1):
                key = next((k for k, (_, aliases) in self.column_spec.items() if label.strip().lower() in aliases),
                           None)
                if key and key not in found:
                    found[key] = index
            missing = [k for k in self.column_spec if k not in found]
            if missing:
                start = len(header) + 1
                labels = [self.column_spec[k][0] for k in missing]
                if start + len(labels) - 1 > sheet.col_count:
                    sheet.add_cols(start + len(labels) - 1 - sheet.col_count)
                sheet.update([labels], f"{column_letter(start)}1:{column_letter(start + len(labels) - 1)}1")
                for offset, key in enumerate(missing):
                    found[key] = start + offset
            return found

    # -- rows ------------------------------------------------------------------------------------
    def find(self, case: str) -> SheetRow | None:
        columns = self.columns()
        sheet = self.worksheet()
        with _calls(L_("search the case sheet")):
            cases = sheet.col_values(columns[self.key])
            if case not in cases[1:]:
                return None
            number = cases.index(case, 1) + 1
            row = sheet.row_values(number)
        values = {k: (row[i - 1] if i - 1 < len(row) else "") for k, i in columns.items()}
        return SheetRow(number, values, self.link(number))

    def upsert(self, case: str, values: dict[str, str],
               merge: dict[str, Callable[[str, str], str]] | None = None) -> SheetRow:
        """Create the case's row, or update only the given columns of it. Values are written as
        they are (RAW): a client name starting with "=" stays text, never becomes a formula; one
        longer than a cell takes is cut (``fit``). ``merge[key](in the sheet, given)`` says what to
        write in that column of an existing row (e.g. a status that only moves forward)."""
        columns = self.columns()
        sheet = self.worksheet()
        values = {key: fit(value) for key, value in {**values, self.key: case}.items()}
        existing = self.find(case)
        if existing is not None:
            for key, rule in (merge or {}).items():
                if key in values:
                    values[key] = rule(existing.values.get(key, ""), values[key])
        with _calls(L_("write the case sheet")):
            if existing is None:
                width = max(columns.values())
                row = [""] * width
                for key, value in values.items():
                    row[columns[key] - 1] = value
                sheet.append_row(row, value_input_option="RAW", table_range="A1")
                existing = self.find(case)
                if existing is None:
                    raise TransientError(N_("the case sheet did not show the new row for {case}"), case=case)
                return existing
            updates = [{"range": f"{column_letter(columns[k])}{existing.number}", "values": [[v]]}
                       for k, v in values.items() if k != self.key]
            if updates:
                sheet.batch_update(updates, value_input_option="RAW")
        merged = {**existing.values, **values}
        return SheetRow(existing.number, merged, existing.link)

    def link(self, row: int) -> str:
        """The row in the Sheets editor (the local Sheets service serves the same path as a page)."""
        sheet = self.worksheet()
        base = self.endpoint.rstrip("/") if self.endpoint else "https://docs.google.com"
        return f"{base}/spreadsheets/d/{self.spreadsheet_id}/edit#gid={sheet.id}&range=A{row}"


def fit(value):
    """A value as a cell takes it: text over 50,000 characters cut, with "…" at the end."""
    if isinstance(value, str) and len(value) > CELL_LIMIT:
        return value[:CELL_LIMIT - 1] + "…"
    return value


@contextlib.contextmanager
def _calls(action: Msg):
    """gspread, google-auth and network errors as the step errors they are: worth a retry, or not;
    ``action`` (``L_``) is said in the language of the person who asked."""
    import gspread
    import requests
    from google.auth import exceptions as auth_exceptions

    retry = N_("could not {action}: {problem}")
    try:
        yield
    except gspread.exceptions.SpreadsheetNotFound as exc:
        raise PermanentError(N_("could not {action}: the case sheet was not found; share it with the worker's "
                                "service account and check ACKFLOW_OFFICE_SHEET_ID"), action=action) from exc
    except gspread.exceptions.APIError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", 0)
        if status in (401, 403, 404):
            raise PermanentError(N_("could not {action} (HTTP {status}); share the case sheet with the worker's "
                                    "service account and check ACKFLOW_OFFICE_SHEET_ID"),
                                 action=action, status=status) from exc
        if status == 400:  # what was sent is refused: sending it again would be too
            raise PermanentError(N_("could not {action}: the case sheet refused it ({problem})"), action=action,
                                 problem=str(exc)) from exc
        raise TransientError(retry, action=action, problem=str(exc)) from exc
    except auth_exceptions.RefreshError as exc:
        if getattr(exc, "retryable", False):
            raise TransientError(retry, action=action, problem=str(exc)) from exc
        raise PermanentError(N_("could not {action}: Google refused the worker's credentials ({problem})"),
                             action=action, problem=str(exc)) from exc
    except (requests.RequestException, auth_exceptions.TransportError) as exc:
        raise TransientError(retry, action=action, problem=str(exc)) from exc
