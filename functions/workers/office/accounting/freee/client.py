"""Calls to freee's APIs, with its answers turned into the project's errors.

| freee answers | becomes |
|---|---|
| 2xx | the JSON body |
| 401 | the access token is dropped and refreshed once; a second 401 is a ``GrantMissing`` (authorize again) |
| 403 | ``PermanentError``: the app or the authorizing user may not do this in freee |
| 404 on a lookup | ``None`` |
| 429 | waited out in the step when freee asks for a few seconds (``Retry-After``), else ``TransientError`` |
| 5xx, a timeout, no connection | ``TransientError``: the queue retries (a create is looked up by number first) |
| other 4xx | ``FreeeRefused`` (a ``PermanentError``) with freee's own messages |
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import N_, texts

from .tokens import FreeeTokens, GrantMissing, say

MAX_WAIT = 5.0  # seconds of Retry-After waited inside a step; beyond that the queue's backoff takes over
RATE_RETRIES = 2
TIMEOUT = 20.0

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "forbidden": N_("freee refused to {action}: the app or the person who authorized it lacks the "
                    "permission (freee: {detail})"),
    "rate": N_("freee's rate limit was reached while trying to {action}; the job will try again"),
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


def _messages(response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [response.text[:200]]
    found = [m for error in body.get("errors", []) if isinstance(error, dict) for m in error.get("messages", [])]
    return [str(m) for m in found] or [str(body)[:200]]


class FreeeApi:
    def __init__(self, base_url: str, tokens: FreeeTokens, company_id: int | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, session=None):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._company_id = company_id
        self.sleep = sleep
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
        import requests

        refreshed = False
        rate_retries = 0
        while True:
            token = self.tokens.access_token()
            try:
                response = self.session.request(method, self.base_url + path, params=params, json=body,
                                                headers={"Authorization": f"Bearer {token}",
                                                         "Accept": "application/json"}, timeout=TIMEOUT)
            except requests.RequestException as exc:
                raise TransientError(_say("unreachable", action=action, detail=type(exc).__name__)) from exc
            status = response.status_code
            if 200 <= status < 300:
                return response.json()
            if status == 401:
                self.tokens.invalidate(token)
                if refreshed:
                    raise GrantMissing(say("grant_gone"))
                refreshed = True
                continue
            if status == 403:
                raise PermanentError(_say("forbidden", action=action, detail="; ".join(_messages(response))))
            if status == 404 and missing_ok:
                return None
            if status == 429:
                wait = _retry_after(response)
                if rate_retries < RATE_RETRIES and wait <= MAX_WAIT:
                    rate_retries += 1
                    self.sleep(wait)
                    continue
                raise TransientError(_say("rate", action=action))
            if status >= 500:
                raise TransientError(_say("down", action=action, status=status))
            messages = _messages(response)
            raise FreeeRefused(_say("refused", action=action, detail="; ".join(messages)), status, messages)


def _retry_after(response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return MAX_WAIT + 1  # an HTTP date: longer than is worth waiting here
