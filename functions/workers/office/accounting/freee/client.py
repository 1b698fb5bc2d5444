"""Calls to freee's APIs, with its answers turned into the project's errors.

| freee answers | becomes |
|---|---|
| 2xx | the JSON body |
| 401 ``user_do_not_have_permission`` | ``PermanentError``: the authorizing person's role (``refusals``) |
| 401 ``re_authorization_required`` | ``GrantMissing``: the app's permissions changed, authorize again |
| other 401 | the access token is dropped and refreshed once; a second 401 is a ``GrantMissing`` (authorize again) |
| 403 | asked again with a connection check (``refusals``): refused too, freee's access limit, ``RetryLater`` \
(about ten minutes); answered, a permission the app lacks, ``PermanentError`` naming it |
| 404 on a lookup | ``None`` |
| 429 | waited out in the step when freee asks for a few seconds (``Retry-After``, or the reset time of the \
``X-RateLimit-*`` limit used up, which is what freee documents); a longer wait is a ``RetryLater`` of that long; \
without either, ``TransientError`` (the queue's backoff) |
| 5xx, a timeout, no connection | ``TransientError``: the queue retries (a create is looked up by number first) |
| other 4xx | ``FreeeRefused`` (a ``PermanentError``) with freee's own messages |
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from ackflow.errors import PermanentError, RetryLater, TransientError
from ackflow.i18n import N_, texts

from . import refusals
from .tokens import FreeeTokens, GrantMissing, say

MAX_WAIT = 5.0  # seconds of Retry-After waited inside a step; beyond that the queue's backoff takes over
RATE_RETRIES = 2
TIMEOUT = 20.0
RATE_LIMITS = ("-minute", "", "-day")  # freee's X-RateLimit-* headers: per minute, per hour, per day

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "rate": N_("freee's rate limit was reached while trying to {action}; the job will try again"),
    "rate_later": N_("freee's rate limit was reached while trying to {action}; the job will try again in "
                     "{wait}, when freee said it may"),
    "rate_gave_up": N_("freee's rate limit was reached while trying to {action} and lifts only in {wait}; "
                       "press Retry after that"),
    "down": N_("freee could not {action} (HTTP {status}); the job will try again"),
    "unreachable": N_("freee did not answer while trying to {action} ({detail}); the job will try again"),
    "refused": N_("freee refused to {action}: {detail}"),
}


_say = texts(TEXTS)


class FreeeRefused(PermanentError):
    def __init__(self, message: str, status: int, messages: list[str]):
        super().__init__(message)
        self.status = status
        self.messages = messages


def _body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _messages(response) -> list[str]:
    """freee's own words, from either of its error shapes (``errors[].messages``, or ``message``)."""
    body = _body(response)
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    found = [m for error in errors if isinstance(error, dict) for m in error.get("messages", [])]
    found += [body[key] for key in ("message", "messages") if isinstance(body.get(key), str)]
    return [str(m) for m in found] or [(str(body) if body else response.text)[:200]]


class FreeeApi:
    def __init__(self, base_url: str, tokens: FreeeTokens, company_id: int | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time, session=None):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._company_id = company_id
        self.sleep = sleep
        self.clock = clock
        self._session = session

    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    @property
    def company_id(self) -> int:
        company = self._company_id or self.tokens.company_id()
        if not company:
            raise GrantMissing(say("not_connected"))
        return company

    def get(self, path: str, action: str, params: dict | None = None, *, missing_ok: bool = False) -> dict | None:
        return self.call("GET", path, action, params={"company_id": self.company_id, **(params or {})},
                         missing_ok=missing_ok)

    def post(self, path: str, action: str, body: dict) -> dict:
        return self.call("POST", path, action, body={"company_id": self.company_id, **body})

    def call(self, method: str, path: str, action: str, *, params: dict | None = None, body: dict | None = None,
             missing_ok: bool = False) -> dict | None:
        refreshed = False
        rate_retries = 0
        while True:
            token = self.tokens.access_token()
            response = self._send(method, path, action, token, params, body)
            status = response.status_code
            if 200 <= status < 300:
                return response.json()
            if status == 401:
                code = _body(response).get("code")
                if code == "user_do_not_have_permission":
                    raise refusals.user_role(action, "; ".join(_messages(response)))
                if code == "re_authorization_required":
                    raise GrantMissing(say("reauthorize"))
                self.tokens.invalidate(token)
                if refreshed:
                    raise GrantMissing(say("grant_gone"))
                refreshed = True
                continue
            if status == 403:
                raise refusals.forbidden(self._check(token), method, path, action, "; ".join(_messages(response)))
            if status == 404 and missing_ok:
                return None
            if status == 429:
                wait = self._retry_after(response)
                if rate_retries < RATE_RETRIES and (wait is None or wait <= MAX_WAIT):
                    rate_retries += 1
                    self.sleep(1.0 if wait is None else wait)
                    continue
                if wait is None or wait <= MAX_WAIT:
                    raise TransientError(_say("rate", action=action))
                raise RetryLater(_say("rate_later", action=action, wait=refusals.Wait(wait)), after=wait,
                                 within=refusals.LIMIT_FOR,
                                 gave_up=_say("rate_gave_up", action=action, wait=refusals.Wait(wait)))
            if status >= 500:
                raise TransientError(_say("down", action=action, status=status))
            messages = _messages(response)
            raise FreeeRefused(_say("refused", action=action, detail="; ".join(messages)), status, messages)

    def _send(self, method: str, path: str, action, token: str, params: dict | None, body: dict | None):
        import requests

        try:
            return self.session.request(method, self.base_url + path, params=params, json=body,
                                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                        timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise TransientError(_say("unreachable", action=action, detail=type(exc).__name__)) from exc

    def _check(self, token: str) -> int | str:
        """After a 403: the status freee answers to the connection check (``refusals.PROBE``), or
        why there was none."""
        import requests

        try:
            return self.session.get(self.base_url + refusals.PROBE, timeout=TIMEOUT,
                                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
                                    ).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    def _retry_after(self, response) -> float | None:
        """Seconds until freee takes calls again: ``Retry-After`` (a number, or an HTTP date) when
        given, else when the limit it exhausted resets (``_rate_reset``), or None when it says neither."""
        value = response.headers.get("Retry-After")
        if value is None:
            return self._rate_reset(response)
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            return max(parsedate_to_datetime(value).timestamp() - self.clock(), 0.0)
        except (TypeError, ValueError):
            return None

    def _rate_reset(self, response) -> float | None:
        """freee's 429 names no Retry-After; its headers say, per limit (a minute, an hour, a day),
        what is left (``X-Ratelimit-Remaining-Minute``…) and when it resets, an ISO time
        (``X-Ratelimit-Reset-Minute: 2018-01-01T12:00:00.000000Z``; 請求書 API reference, "API使用制限").
        The wait is until the latest reset of the limits used up (header names in any case)."""
        headers = {key.lower(): value for key, value in response.headers.items()}
        resets = []
        for suffix in RATE_LIMITS:
            if headers.get(f"x-ratelimit-remaining{suffix}", "").strip() != "0":
                continue
            try:
                reset = dt.datetime.fromisoformat(headers.get(f"x-ratelimit-reset{suffix}", "").strip())
            except ValueError:
                continue
            if reset.tzinfo is None:
                reset = reset.replace(tzinfo=dt.UTC)
            resets.append(max(reset.timestamp() - self.clock(), 0.0))
        return max(resets) if resets else None
