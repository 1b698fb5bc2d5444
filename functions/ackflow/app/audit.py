"""The audit log: who did what to a job, a dead letter or a queue, from which surface, and how it
ended. Written after the action (done, or refused with the reason); a store that cannot take the
entry is logged and does not undo or fail an action that has already happened."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import AckflowError, StoreUnavailable
from ..ids import new_id
from ..jobs.model import AuditEntry

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)


def record(runtime: Runtime, action: str, target: str, by: str, *, outcome: str = "done", job_id: str = "",
           surface: str = "", detail: str = "") -> AuditEntry | None:
    entry = AuditEntry(id=new_id("a", 16), at=runtime.clock(), actor=by[:200], action=action, target=target[:200],
                       outcome=outcome[:300], job_id=job_id, surface=surface, detail=detail[:500])
    try:
        return runtime.store.record_audit(entry)
    except StoreUnavailable as exc:
        log.error("audit entry not recorded (%s %s by %s): %s", action, target, by, exc)
        return None


@contextmanager
def recorded(runtime: Runtime, action: str, target: str, by: str, *, job_id: str = "",
             surface: str = "") -> Iterator[dict]:
    """Record the action in the block: done, or refused with the error it raised (re-raised).
    The block may put a ``detail`` (and the ``job_id`` it learnt) in the dict it is given."""
    notes: dict = {}
    try:
        yield notes
    except AckflowError as exc:
        record(runtime, action, target, by, outcome=f"refused: {exc}", job_id=job_id, surface=surface)
        raise
    record(runtime, action, target, by, job_id=notes.get("job_id", job_id), surface=surface,
           detail=notes.get("detail", ""))
