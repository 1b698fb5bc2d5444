"""The Mailbox port on the Gmail API v1, through the official client (``google-api-python-client``
with the discovery document it bundles: no network to build it).

Access is a service account with domain-wide delegation for the one mailbox (``subject``), scope
``gmail.modify``: the narrowest scope with which Gmail lets an app put a label on a message (it
also reads; nothing here trashes, deletes or sends). With a key file the account signs its own
grant; without one (on Google Cloud) the grant is signed through the IAM Credentials API by the
function's own service account, which then needs roles/iam.serviceAccountTokenCreator on itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import L_, N_, Msg

from .mailbox import AccessRefused, Changes, HistoryGone, Mail, MailboxThrottled, MailGone, Part, Watch

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/gmail.modify"
TOKEN_URI = "https://oauth2.googleapis.com/token"
MAX_PARTS = 300
MAX_DEPTH = 25
MAX_HEADER = 256 * 1024  # characters kept of one header value (a To: of thousands of addresses)


def _bytes(data: str | None) -> bytes:
    return base64.urlsafe_b64decode((data or "") + "=" * (-len(data or "") % 4))


class GmailMailbox:
    def __init__(self, address: str, *, endpoint: str = "", credentials_file: str = "", service_account: str = "",
                 timeout: float = 30.0, service=None):
        self.address = address
        self.endpoint = endpoint.rstrip("/")
        self.credentials_file = credentials_file
        self.service_account = service_account
        self.timeout = timeout
        self._given = service
        self._local = threading.local()  # httplib2 connections are not thread-safe: one client per thread
        self._credentials_made = None
        self._labels: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- the client ------------------------------------------------------------------------------
    def _credentials(self):
        from google.oauth2 import service_account

        if self.credentials_file:
            return service_account.Credentials.from_service_account_file(
                self.credentials_file, scopes=[SCOPE], subject=self.address)
        import google.auth
        from google.auth import iam
        from google.auth.transport.requests import Request

        source, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        email = self.service_account or getattr(source, "service_account_email", "")
        if not email or email == "default":
            source.refresh(Request())
            email = getattr(source, "service_account_email", "")
        if not email:
            raise PermanentError(N_("Gmail: no service account to delegate from; set "
                                    "ACKFLOW_OFFICE_GMAIL_SERVICE_ACCOUNT"))
        signer = iam.Signer(Request(), source, email)
        return service_account.Credentials(signer, email, TOKEN_URI, scopes=[SCOPE], subject=self.address)

    def _api(self):
        if self._given is not None:
            return self._given.users()
        service = getattr(self._local, "service", None)
        if service is None:
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            with self._lock:  # one set of credentials (one token) shared by the threads
                if self._credentials_made is None:
                    self._credentials_made = self._credentials()
            http = google_auth_httplib2.AuthorizedHttp(self._credentials_made, http=httplib2.Http(timeout=self.timeout))
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            service = self._local.service = build("gmail", "v1", http=http, static_discovery=True,
                                                  cache_discovery=False, client_options=options)
        return service.users()

    @contextlib.contextmanager
    def _call(self, action: Msg, *, gone: type[Exception] | None = None):
        """Gmail's errors as the step errors they are: worth a retry, or not; ``action`` (``L_``) is
        said in the language of whoever reads the failure."""
        from google.auth import exceptions as auth_exceptions
        from googleapiclient import errors

        try:
            yield
        except errors.HttpError as exc:
            status = exc.resp.status
            if status == 404 and gone is not None:
                raise gone(f"Gmail: {action}: not found") from exc
            if status == 429 or (status == 403 and _rate_limited(exc)):  # usage limits: a wait, not a setting
                raise MailboxThrottled(N_("Gmail: could not {action} ({status}); will try again"), action=action,
                                     status=status) from exc
            if status in (401, 403):
                raise AccessRefused(N_("Gmail refused to {action} for {address} ({status}): check the domain-wide "
                                       "delegation of the service account (docs/deploy.md)"),
                                    action=action, address=self.address, status=status) from exc
            if status >= 500:
                raise TransientError(N_("Gmail: could not {action} ({status}); will try again"), action=action,
                                     status=status) from exc
            raise PermanentError(N_("Gmail: could not {action} ({status}): {problem}"), action=action, status=status,
                                 problem=str(exc.reason)) from exc
        except auth_exceptions.RefreshError as exc:
            raise AccessRefused(N_("Gmail: no access to {address}: {problem}. Check the domain-wide delegation in "
                                   "the Admin console (docs/deploy.md)"), address=self.address,
                                problem=str(exc)) from exc
        except (auth_exceptions.TransportError, OSError, TimeoutError) as exc:
            raise TransientError(N_("Gmail unreachable ({action}): {problem}"), action=action,
                                 problem=str(exc)) from exc

    # -- the port --------------------------------------------------------------------------------
    def watch(self, topic: str) -> Watch:
        body = {"topicName": topic, "labelIds": ["INBOX"], "labelFilterBehavior": "include"}
        with self._call(L_("watch the mailbox")):
            answer = self._api().watch(userId="me", body=body).execute()
        return Watch(str(answer["historyId"]), int(answer["expiration"]) / 1000)

    def current_history(self) -> str:
        with self._call(L_("read the mailbox profile")):
            return str(self._api().getProfile(userId="me").execute()["historyId"])

    def changes(self, start: str, limit: int) -> Changes:
        added: list[str] = []
        seen: set[str] = set()
        token = None
        last = start
        with self._call(L_("read the mailbox history"), gone=HistoryGone):
            while True:
                page = self._api().history().list(userId="me", startHistoryId=start, labelId="INBOX",
                                                  historyTypes=["messageAdded", "labelAdded"], maxResults=500,
                                                  pageToken=token).execute()
                for record in page.get("history", []):
                    fresh = [mail_id for mail_id in dict.fromkeys(_entered(record)) if mail_id not in seen]
                    if added and len(added) + len(fresh) > limit:  # (a record is taken whole, even past the
                        return Changes(tuple(added), last, complete=False)  # limit: else it is never taken)
                    added += fresh
                    seen.update(fresh)
                    last = str(record["id"])
                token = page.get("nextPageToken")
                if not token:
                    return Changes(tuple(added), str(page.get("historyId") or last))

    def recent(self, days: int, limit: int, after: float = 0) -> list[str]:
        ids: list[str] = []
        token = None
        query = f"newer_than:{int(days)}d" + (f" after:{int(after)}" if after > 0 else "")  # after: epoch seconds
        with self._call(L_("list recent mail")):
            while len(ids) < limit:
                page = self._api().messages().list(userId="me", labelIds=["INBOX"], q=query,
                                                   maxResults=min(500, limit - len(ids)), pageToken=token).execute()
                ids += [m["id"] for m in page.get("messages", [])]
                token = page.get("nextPageToken")
                if not token:
                    break
        return list(reversed(ids[:limit]))  # Gmail lists newest first

    def get(self, mail_id: str) -> Mail:
        with self._call(L_("read mail {mail}", mail=mail_id), gone=MailGone):
            message = self._api().messages().get(userId="me", id=mail_id, format="full").execute()
        parts: list[Part] = []
        truncated = _leaves(message.get("payload") or {}, parts, 0)
        payload = message.get("payload") or {}
        return Mail(id=message["id"], history_id=str(message.get("historyId", "")),
                    size=int(message.get("sizeEstimate") or 0),
                    received_at=int(message.get("internalDate") or 0) / 1000,
                    headers=_headers(payload.get("headers")), parts=tuple(parts),
                    labels=tuple(message.get("labelIds") or ()), truncated=truncated)

    def raw(self, mail_id: str) -> bytes:
        with self._call(L_("read mail {mail}", mail=mail_id), gone=MailGone):
            message = self._api().messages().get(userId="me", id=mail_id, format="raw").execute()
        return _bytes(message.get("raw"))

    def attachment(self, mail_id: str, handle: str) -> bytes:
        with self._call(L_("read an attachment of mail {mail}", mail=mail_id), gone=MailGone):
            answer = self._api().messages().attachments().get(userId="me", messageId=mail_id, id=handle).execute()
        return _bytes(answer.get("data"))

    def add_labels(self, mail_id: str, add: list[str], remove: list[str] = ()) -> None:
        for last in (False, True):
            body = {"addLabelIds": [self._label_id(n) for n in add],
                    "removeLabelIds": [self._label_id(n) for n in remove]}
            try:
                with self._call(L_("label mail {mail}", mail=mail_id), gone=MailGone):
                    self._api().messages().modify(userId="me", id=mail_id, body=body).execute()
                return
            except PermanentError as exc:
                # 400 "Invalid label": a label someone deleted in Gmail since this client read its id;
                # read the labels again (making it anew) once
                if last or isinstance(exc, AccessRefused):
                    raise
                log.info("Gmail refused to label mail %s (%s); reading the labels again", mail_id, exc)
                self._labels.clear()

    def _label_id(self, name: str) -> str:
        """The id of the label ``name``, made if the mailbox has none of that name (Gmail's names
        conflict whatever their letter case: a person's ``ackflow/処理済`` is the one used)."""
        from googleapiclient import errors

        key = name.casefold()
        if key in self._labels:
            return self._labels[key]
        with self._call(L_("list labels")):
            labels = self._api().labels().list(userId="me").execute().get("labels", [])
        found = {label["name"].casefold(): label["id"] for label in labels}
        if key not in found:
            body = {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}
            with self._call(L_("create the label {name}", name=name)):
                try:
                    found[key] = self._api().labels().create(userId="me", body=body).execute()["id"]
                except errors.HttpError as exc:
                    if exc.resp.status != 409:  # made meanwhile by another worker: read it back
                        raise
                    labels = self._api().labels().list(userId="me").execute().get("labels", [])
                    found = {label["name"].casefold(): label["id"] for label in labels}
            if key not in found:
                raise TransientError(N_("Gmail: the label {name} vanished while it was made"), name=name)
        self._labels.update(found)
        return self._labels[key]


RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded",
                "RATE_LIMIT_EXCEEDED"}


def _rate_limited(exc) -> bool:
    """Whether Gmail's 403 is one of its usage limits (reason ``userRateLimitExceeded`` and the
    like, or the status RESOURCE_EXHAUSTED), which Gmail says to retry with backoff, rather than
    access refused."""
    try:
        error = json.loads(exc.content).get("error") or {}
    except (ValueError, TypeError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    items = [*(error.get("errors") or []), *(error.get("details") or [])]
    reasons = {str(item.get("reason")) for item in items if isinstance(item, dict)}
    return bool(reasons & RATE_REASONS) or error.get("status") == "RESOURCE_EXHAUSTED"


def _entered(record: dict) -> list[str]:
    """The mails a history record brings into the inbox: those that arrived there, and those a
    label INBOX was added to (a request a person took out of spam, or back from the archive)."""
    arrived = [item["message"]["id"] for item in record.get("messagesAdded", [])]
    moved = [item["message"]["id"] for item in record.get("labelsAdded", []) if "INBOX" in item.get("labelIds", [])]
    return arrived + moved


def _headers(items) -> tuple[tuple[str, str], ...]:
    out = []
    for item in (items or [])[:2000]:
        if isinstance(item, dict):
            out.append((str(item.get("name", ""))[:200], str(item.get("value", ""))[:MAX_HEADER]))
    return tuple(out)


def _leaves(node: dict, out: list[Part], depth: int) -> bool:
    """Flatten the payload tree into leaves; True when some of it was left unread (too deep, too wide)."""
    if depth > MAX_DEPTH or len(out) >= MAX_PARTS:
        return True
    children = node.get("parts") or []
    if children and str(node.get("mimeType", "")).lower() != "message/rfc822":  # an attached mail is one attachment
        truncated = False
        for child in children:
            truncated = _leaves(child, out, depth + 1) or truncated
        return truncated
    body = node.get("body") or {}
    out.append(Part(part_id=str(node.get("partId", "")), mime_type=str(node.get("mimeType", "")).lower()[:100],
                    filename=str(node.get("filename") or "")[:2000], size=int(body.get("size") or 0),
                    headers=_headers(node.get("headers")),
                    data=_bytes(body["data"]) if body.get("data") else None,
                    handle=str(body.get("attachmentId") or "")))
    return False
