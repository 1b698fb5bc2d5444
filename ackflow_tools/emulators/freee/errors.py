"""The freee stand-in's answers that are not 2xx, in freee's shapes."""

from __future__ import annotations


class FreeeError(Exception):
    """An answer in freee's error shape: ``{"status_code": 400, "errors": [{"type", "messages"}]}``, or
    (``shape="access_denied"``) the 請求書 API's ``{"error": "access_denied", "message": …}``; ``code``
    as freee adds it to some (``expired_access_token``, ``user_do_not_have_permission``…)."""

    def __init__(self, status: int, kind: str, message: str, *, code: str | None = None,
                 headers: dict | None = None, shape: str = "errors"):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.shape = shape

    def body(self) -> dict:
        if self.shape == "access_denied":  # the 請求書 API's accessDeniedError
            body = {"error": self.kind, "message": self.message}
        else:
            body = {"status_code": self.status, "errors": [{"type": self.kind, "messages": [self.message]}]}
        if self.code:
            body["code"] = self.code
        return body


class OAuthError(Exception):
    """An answer of the token endpoint: ``{"error": "invalid_grant", "error_description": …}``."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
