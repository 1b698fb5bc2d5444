"""What freee refuses besides bad requests: its access limit, and what the app or the person who
authorized it may not do.

- The access limit, as freee's API references describe it (会計 API and 請求書 API, "API使用制限"):
  "freeeは一定期間に過度のアクセスを検知した場合、APIアクセスをコントロールする場合があります。その際の
  http status codeは403となります。制限がかかってから10分程度が過ぎると再度使用することができるように
  なります。" freee publishes neither the threshold nor a body or header of its own for it, so the
  stand-in answers freee's common error shape, every API call alike (the connection check
  ``/api/1/users/me`` too), and a client can tell it from a missing permission only by asking again.
- Permissions: a 403 when the app was not given a permission in the app store (権限設定;
  ``{"error": "access_denied", "message": …}``, the 請求書 API's ``accessDeniedError``), a 401
  ``user_do_not_have_permission`` when the person who authorized it lacks the role in freee, and a
  401 ``re_authorization_required`` for grants made before the app's permissions were widened
  (freee's "HTTPステータスコード400台エラー時のチェックポイント").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import FreeeError

LIMITED = "アクセスが制限されています。しばらく時間をおいてから再度お試しください。"  # the stand-in's words
NO_APP_PERMISSION = "このアプリケーションにはアクセス権限がないエンドポイントです"
NO_USER_PERMISSION = "このAPIにアクセスしたい場合、事業所の管理者にご確認ください。"
REAUTHORIZE = "アプリのバージョンが更新されてデータアクセス範囲が追加されています。再度認可をしてください。"


@dataclass
class AccessLimit:
    """More than ``calls`` API calls within ``window`` seconds, and every call answers 403 for
    ``lockout`` seconds; calls during the lockout do not lengthen it, and counting starts again
    after it. ``calls`` 0: no limit (freee does not publish its threshold)."""

    calls: int = 0
    window: float = 60.0
    lockout: float = 600.0
    locked_until: float = 0.0
    seen: list[float] = field(default_factory=list)

    def lock(self, now: float, seconds: float | None = None) -> None:
        self.locked_until = now + (self.lockout if seconds is None else seconds)
        self.seen = []

    def check(self, now: float) -> None:
        if now < self.locked_until:
            raise FreeeError(403, "status", LIMITED)
        if not self.calls:
            return
        self.seen = [t for t in self.seen if t > now - self.window] + [now]
        if len(self.seen) > self.calls:
            self.lock(now)
            raise FreeeError(403, "status", LIMITED)


@dataclass
class Denial:
    """A call the office's freee refuses for want of a permission: ``who`` is ``app`` (the app's
    権限設定) or ``user`` (the role of the person who authorized it)."""

    path: str  # a regular expression searched in the path
    method: str = ""  # empty: any
    who: str = "app"

    def __post_init__(self) -> None:
        if self.who not in ("app", "user"):
            raise ValueError("who is app or user")
        re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method == method) and re.search(self.path, path) is not None

    def refuse(self) -> FreeeError:
        if self.who == "app":
            return FreeeError(403, "access_denied", NO_APP_PERMISSION, shape="access_denied")
        return FreeeError(401, "unauthorized", NO_USER_PERMISSION, code="user_do_not_have_permission")


def reauthorize() -> FreeeError:
    return FreeeError(401, "unauthorized", REAUTHORIZE, code="re_authorization_required")
