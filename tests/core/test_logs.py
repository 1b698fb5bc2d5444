"""Structured logs for Cloud Logging: severity, message, job fields, trace; no secrets."""

from __future__ import annotations

import io
import json
import logging

from ackflow import logs


def test_json_lines_carry_severity_job_fields_and_trace():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.CloudLoggingFormatter("office-prod"))
    logger = logging.getLogger("ackflow.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = logs.TRACE.set(logs.trace_from("abc123/456;o=1"))
    try:
        logger.warning("step %s failed", "flaky", extra={"job_id": "j1", "step": 1, "attempt": 2})
    finally:
        logs.TRACE.reset(token)
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["severity"] == "WARNING" and entry["message"] == "step flaky failed"
    assert (entry["job_id"], entry["step"], entry["attempt"]) == ("j1", 1, 2)
    assert entry["logging.googleapis.com/trace"] == "projects/office-prod/traces/abc123"


def test_text_format_for_terminals():
    record = logging.LogRecord("ackflow.x", logging.INFO, __file__, 1, "hello", (), None)
    record.job_id = "j2"
    assert "hello" in logs.TextFormatter().format(record) and "job_id=j2" in logs.TextFormatter().format(record)
