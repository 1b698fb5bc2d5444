"""Logging: one JSON line per event in Cloud Logging's structured format, or text in a terminal.

Fields passed as ``extra={"job_id": ..., "step": ..., "attempt": ...}`` become top-level keys; the
request's trace (``X-Cloud-Trace-Context``) links the lines of one request in Cloud Logging.
Never log tokens, headers or message bodies.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

TRACE = contextvars.ContextVar("ackflow_trace", default=None)
FIELDS = ("job_id", "job_type", "step", "attempt", "space", "user", "task", "status", "event", "latency_ms")
SEVERITY = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL"}


class CloudLoggingFormatter(logging.Formatter):
    def __init__(self, project: str = ""):
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": SEVERITY.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "logger": record.name,
        }
        for name in FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        trace = TRACE.get()
        if trace and self.project:
            entry["logging.googleapis.com/trace"] = f"projects/{self.project}/traces/{trace}"
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if hasattr(record, n))
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            line += f"  [{extras}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "json", level: str = "INFO", project: str = "") -> None:
    """Route the ``ackflow`` loggers to stdout in the chosen format (idempotent)."""
    logger = logging.getLogger("ackflow")
    handler = next((h for h in logger.handlers if getattr(h, "_ackflow", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stdout)
        handler._ackflow = True
        logger.addHandler(handler)
        logger.propagate = False
    handler.setFormatter(CloudLoggingFormatter(project) if fmt == "json" else TextFormatter())
    logger.setLevel(level)


def trace_from(header: str | None) -> str | None:
    """The trace id of ``X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1``."""
    if not header:
        return None
    return header.split("/", 1)[0] or None
