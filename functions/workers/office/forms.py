"""What the office's forms open with: the estimate form shows the latest version's lines (with what
was typed after ``/estimate CASE`` applied), its recipient and validity, and is submitted as the
whole new version (``--replace``). Called by the webhook when a form opens: reads the store only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ackflow.app.formspec import MAX_LINES
from ackflow.errors import UsageError

from .cases import CASE_RE, CASES
from .estimating import kept_lines, line_text, rules_of, split_list
from .ledger import estimate_number, get

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

log = logging.getLogger(__name__)


def estimate_form(runtime: Runtime, values: dict, bound: dict) -> dict:
    """The estimate form's values for the case typed: its latest version's lines, edited as typed
    (``--change``, ``--remove``; ``--item`` lines after them), to be issued as they stand. A case
    without a version, or with more lines than a form holds, opens as typed."""
    case = values.get("case")
    if not isinstance(case, str) or not CASE_RE.fullmatch(case):
        return values
    record = runtime.store.docs.get(CASES, case) or {}
    versions = [e["version"] for e in record.get("estimates", []) if isinstance(e.get("version"), int)]
    previous = get(runtime.store.docs, "quotation", estimate_number(case, max(versions))) if versions else None
    if previous is None:
        return values
    settings = runtime.services.office_settings
    rules = rules_of(settings)
    try:
        lines = kept_lines(previous.lines, change=split_list(values.get("change"), ";"),
                           remove=[int(n) for n in split_list(values.get("remove"), ",") if n.isdigit()],
                           rules=rules, version=previous.version or max(versions), case=case)
    except UsageError:  # the typed changes do not fit this version: the form opens as typed, and says so on Next
        return values
    items = [line_text(line, rules) for line in lines] + [str(v) for v in values.get("item") or [] if v]
    if len(items) > MAX_LINES:
        log.info("estimate %s has %d lines, more than a form holds; the form opens as typed", case, len(items))
        return values
    today = dt.datetime.fromtimestamp(runtime.clock(), ZoneInfo(settings.timezone)).date().isoformat()
    valid = previous.valid_until if previous.valid_until and previous.valid_until >= today else None
    return {**values, "item": items, "change": None, "remove": None, "replace": True,
            "base": previous.version or max(versions),
            "to": values.get("to") or previous.recipient, "valid_until": values.get("valid_until") or valid}
