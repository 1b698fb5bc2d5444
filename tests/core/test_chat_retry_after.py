"""The wait a Chat 429 names (``Retry-After``), as the adapter reads it: what it blocks the whole
space's budget for, in every instance, and what a result is handed over to the queue for. A value
no Chat would mean (not finite, a year) must neither block a space for ever nor break the hand-over
(a task's schedule time is at most 30 days ahead in Cloud Tasks)."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
from google.api_core import exceptions

from ackflow.chat.rest import MAX_RETRY_AFTER, retry_after


def throttled(value: str) -> exceptions.TooManyRequests:
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = value
    return exceptions.TooManyRequests("quota exceeded", response=response)


def test_a_named_wait_is_honoured():
    assert retry_after(throttled("12")) == 12.0
    assert 25 <= retry_after(throttled(email.utils.formatdate(time.time() + 30, usegmt=True))) <= 31


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan", "1e999"])
def test_a_wait_that_is_not_a_number_of_seconds_is_not_honoured_the_caller_backs_off(value):
    assert retry_after(throttled(value)) is None


# (an HTTP date a year ahead is made in the test: a parameter made at collection differs between
# pytest-xdist's workers when they collect in different seconds, and the run stops)
@pytest.mark.parametrize("value", ["86400", "1e12", "a year ahead"])
def test_a_wait_of_days_is_bounded(value):
    if value == "a year ahead":
        value = email.utils.formatdate(time.time() + 365 * 86400, usegmt=True)
    assert retry_after(throttled(value)) == MAX_RETRY_AFTER
