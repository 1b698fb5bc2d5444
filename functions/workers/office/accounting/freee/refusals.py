"""What a refusal from freee means, and what the office does about it.

A 403 is either freee's access limit or a permission the app lacks, and freee documents nothing
that tells them apart. Its API references say only: "freeeは一定期間に過度のアクセスを検知した場合、
APIアクセスをコントロールする場合があります。その際のhttp status codeは403となります。制限がかかって
から10分程度が過ぎると再度使用することができるようになります。" (会計 API and 請求書 API, "API使用制限";
github.com/freee/freee-api-schema); the 403 bodies the schemas describe (``{"status_code",
"errors"}`` or ``{"error", "message", "code"}``) are the same for both, and no header is named. So
the client asks once more, with the cheapest call any grant may make (``PROBE``, the person who
authorized the app: no company, no office data): refused too, freee is limiting the app, and the
step waits for the limit to lift (``RetryLater``); answered, the app lacks the permission for this
call, and the job fails with what to allow.

A 401 ``user_do_not_have_permission`` is the other permission: the role in freee of the person who
authorized the app (freee's "HTTPステータスコード400台エラー時のチェックポイント").
"""

from __future__ import annotations

from ackflow.errors import PermanentError, RetryLater, StepFailed, TransientError
from ackflow.i18n import ENGLISH, N_, texts

PROBE = "/api/1/users/me"
LIMIT_WAIT = 660.0  # freee lifts the limit about ten minutes after it began, which was before our refusal
LIMIT_FOR = 3600.0  # how long a step keeps waiting for freee to take the app again before the job fails

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "limited": N_("freee is limiting this app's access for a while (it refused to {action}, and refused "
                  "a check of the connection too); the job will try again in {wait}"),
    "still_limited": N_("freee has kept limiting this app's access for over {wait} (it refused to {action}); "
                        "wait until freee takes it again, then press Retry"),
    "app_permission": N_("freee refused to {action}: the freee app lacks the permission to {access} "
                         "{resource}. An administrator allows it in the freee app store (アプリ管理 → the "
                         "app → 権限設定), runs `ackflow freee authorize` again, then presses Retry (freee: "
                         "{detail})"),
    "user_role": N_("freee refused to {action}: the person who authorized the app lacks the role for it "
                    "in freee. An administrator of the company gives that person the permission (freee: 設定 "
                    "→ メンバー招待・権限管理 → メンバー管理), or someone who has it runs `ackflow freee "
                    "authorize`; then press Retry (freee: {detail})"),
    "unsure": N_("freee refused to {action} (HTTP 403) and its connection could not be checked ({detail}); "
                 "the job will try again"),
    # what, in the app store's 権限設定, a call needs
    "quotations": N_("quotations (見積書) in freee請求書"),
    "invoices": N_("invoices (請求書) in freee請求書"),
    "partners": N_("partners (取引先) in freee会計"),
    "read": N_("read"),
    "write": N_("write"),
}


_say = texts(TEXTS)


class Wait:
    """A length of time, said in the words of whoever it reaches (11 min, 11 分)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def render(self, speaker) -> str:
        return speaker.duration(self.seconds)

    def __str__(self) -> str:
        return self.render(ENGLISH)
RESOURCES = (("/iv/quotations", "quotations"), ("/iv/invoices", "invoices"), ("/api/1/partners", "partners"))


def limited(action) -> RetryLater:
    return RetryLater(_say("limited", action=action, wait=Wait(LIMIT_WAIT)), after=LIMIT_WAIT, within=LIMIT_FOR,
                      gave_up=_say("still_limited", action=action, wait=Wait(LIMIT_FOR)))


def forbidden(probe: int | str, method: str, path: str, action, detail: str) -> StepFailed:
    """The error a 403 to ``method path`` becomes, given what the connection check answered: its
    HTTP status, or why it got none."""
    if probe in (403, 429):
        return limited(action)
    if isinstance(probe, str) or probe == 401 or probe >= 500:  # no answer to go by: ask again soon
        return TransientError(_say("unsure", action=action, detail=probe if isinstance(probe, str)
                                   else f"HTTP {probe}"))
    # answered (or refused for a reason of its own): the app may call freee, but not this
    key = next((name for prefix, name in RESOURCES if path.startswith(prefix)), None)
    resource = _say(key) if key else path
    return PermanentError(_say("app_permission", action=action, access=_say("read" if method == "GET" else "write"),
                               resource=resource, detail=detail))


def user_role(action, detail: str) -> PermanentError:
    return PermanentError(_say("user_role", action=action, detail=detail))
