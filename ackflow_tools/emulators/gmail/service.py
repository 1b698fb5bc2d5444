"""The state of the Gmail stand-in: mailboxes with messages, labels, a history log and a watch.

Each change to a mailbox (a mail arriving, labels added or removed) bumps the mailbox's history id
and is kept as a history record, as Gmail does; ``history.list`` reads from that log. Records older
than ``history_retention`` are dropped (and can be dropped on demand), after which a start id from
before them is answered with 404, as Gmail answers an id it no longer knows. A watched mailbox
publishes ``{"emailAddress", "historyId"}`` to its Pub/Sub topic after each change it filters in.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import requests

from ..web import GoogleError

log = logging.getLogger(__name__)

SYSTEM_LABELS = ("INBOX", "UNREAD", "SENT", "DRAFT", "SPAM", "TRASH", "STARRED", "IMPORTANT",
                 "CATEGORY_PERSONAL", "CATEGORY_UPDATES")
WATCH_DAYS = 7
# Gmail's usage limits (developers.google.com/workspace/gmail/api/reference/quota): a mailbox may
# spend 15,000 quota units a minute, each method its own number of units
USER_RATE_LIMIT = 15_000
UNITS = {"getProfile": 1, "history.list": 2, "labels.list": 1, "labels.create": 5, "labels.delete": 5,
         "messages.list": 5, "messages.get": 5, "messages.attachments.get": 5, "messages.modify": 5,
         "messages.batchModify": 50, "watch": 100, "stop": 50}


@dataclass
class Mailbox:
    address: str
    history_id: int = 1000
    messages: dict[str, dict] = field(default_factory=dict)  # id -> raw (base64), labelIds, …
    order: list[str] = field(default_factory=list)  # ids, oldest first
    history: list[dict] = field(default_factory=list)
    oldest_history: int = 1000  # a start id below this is no longer known (404)
    labels: dict[str, dict] = field(default_factory=dict)
    watch: dict | None = None
    next_label: int = 1

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("address", "history_id", "messages", "order", "history",
                                               "oldest_history", "labels", "watch", "next_label")}


class GmailService:
    def __init__(self, path: str | Path | None = None, *, pubsub_url: str = "", history_retention: float = 7 * 86400,
                 max_message_bytes: int = 36 * 1024 * 1024, user_rate_limit: int = USER_RATE_LIMIT,
                 rate_window: float = 60.0):
        self.path = Path(path) if path else None
        self.pubsub_url = pubsub_url.rstrip("/")
        self.history_retention = history_retention
        self.max_message_bytes = max_message_bytes
        self.user_rate_limit = user_rate_limit  # quota units per window per mailbox (0: no limit)
        self.rate_window = rate_window
        self.spent: dict[str, deque] = {}  # address -> (time, units) within the window
        self.lock = threading.RLock()
        self.boxes: dict[str, Mailbox] = {}
        self.published: list[dict] = []  # notifications sent (or that failed), for inspection
        self.http = requests.Session()
        self.http.trust_env = False
        if self.path and self.path.exists():
            for address, data in json.loads(self.path.read_text()).items():
                self.boxes[address] = Mailbox(**data)

    def save(self) -> None:
        if self.path:
            data = {address: box.to_dict() for address, box in self.boxes.items()}
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, ensure_ascii=False))
            temporary.replace(self.path)

    # -- mailboxes ---------------------------------------------------------------------------------
    def ensure(self, address: str) -> Mailbox:
        with self.lock:
            address = address.lower()
            if address not in self.boxes:
                box = Mailbox(address)
                for name in SYSTEM_LABELS:
                    box.labels[name] = {"id": name, "name": name, "type": "system"}
                self.boxes[address] = box
                self.save()
            return self.boxes[address]

    def box(self, user_id: str, authorized: str | None = None) -> Mailbox:
        """The mailbox ``user_id`` names (``me``: the one the token was issued for)."""
        address = (authorized if user_id == "me" else user_id) or ""
        box = self.boxes.get(address.lower())
        if box is None:
            raise GoogleError("NOT_FOUND", "Requested entity was not found.")
        if authorized and authorized.lower() != box.address:
            raise GoogleError("PERMISSION_DENIED", "Delegation denied for " + authorized)
        return box

    def charge(self, box: Mailbox, method: str) -> None:
        """Spend the units ``method`` costs from the mailbox's quota, or answer as Gmail answers a
        mailbox over its rate: 403, reason ``userRateLimitExceeded`` (retry with backoff)."""
        if not self.user_rate_limit:
            return
        now = time.monotonic()
        with self.lock:
            spent = self.spent.setdefault(box.address, deque())
            while spent and spent[0][0] <= now - self.rate_window:
                spent.popleft()
            units = UNITS.get(method, 5)
            if sum(u for _, u in spent) + units > self.user_rate_limit:
                message = ("User-rate limit exceeded. Rate of requests for user exceed configured project quota. "
                           "Retry after a while.")
                raise GoogleError("PERMISSION_DENIED", message, errors=[
                    {"domain": "usageLimits", "reason": "userRateLimitExceeded", "message": message}])
            spent.append((now, units))

    def _record(self, box: Mailbox, **change) -> int:
        box.history_id += 1
        box.history.append({"id": str(box.history_id), "at": time.time(), **change})
        cutoff = time.time() - self.history_retention
        while box.history and box.history[0]["at"] < cutoff:
            box.oldest_history = int(box.history.pop(0)["id"])
        return box.history_id

    # -- mail arriving ---------------------------------------------------------------------------
    def deliver(self, address: str, raw: bytes, label_ids: tuple[str, ...] = ("INBOX", "UNREAD"),
                internal_date_source: str = "receivedTime") -> dict:
        """A mail arrives in ``address``: stored, a history record made, the watch notified. Its
        ``internalDate`` is the time it arrived, as Gmail's is for a mail received by SMTP (the
        sender's ``Date`` header says what the sender likes); ``dateHeader`` takes the header when
        valid, as Gmail's ``messages.import`` may (``internalDateSource``)."""
        if len(raw) > self.max_message_bytes:
            raise GoogleError("INVALID_ARGUMENT", f"Message too large ({len(raw)} bytes).")
        if internal_date_source not in ("receivedTime", "dateHeader"):
            raise GoogleError("INVALID_ARGUMENT", f"Invalid value for internalDateSource: {internal_date_source}")
        with self.lock:
            box = self.ensure(address)
            number = len(box.order) + 1
            message_id = f"{int(time.time() * 1000):x}{number:06x}"[-16:]
            internal = int(time.time() * 1000)
            parsed = message_from_bytes(raw, policy=compat32)
            date = parsed.get("Date")
            if date and internal_date_source == "dateHeader":
                try:
                    from email.utils import parsedate_to_datetime

                    internal = int(parsedate_to_datetime(str(date)).timestamp() * 1000)
                except (TypeError, ValueError, IndexError, OverflowError):
                    pass
            message = {"id": message_id, "threadId": message_id, "labelIds": list(label_ids),
                       "raw": base64.urlsafe_b64encode(raw).decode(), "internalDate": str(internal),
                       "sizeEstimate": len(raw)}
            box.messages[message_id] = message
            box.order.append(message_id)
            history_id = self._record(box, messagesAdded=[{"message": self.stub(message)}],
                                      messages=[{"id": message_id, "threadId": message_id}])
            message["historyId"] = str(history_id)
            self.save()
            watched = self._watched(box, label_ids)
        if watched:
            self.notify(box.address)
        return message

    def _watched(self, box: Mailbox, label_ids) -> bool:
        watch = box.watch
        if not watch or watch["expiration"] < time.time() * 1000:
            return False
        wanted = set(watch.get("labelIds") or [])
        if not wanted:
            return True
        hit = bool(wanted & set(label_ids))
        return not hit if watch.get("labelFilterBehavior") == "exclude" else hit

    def notify(self, address: str) -> dict:
        """Publish the mailbox's current history id to its watch topic, as Gmail does."""
        with self.lock:
            box = self.boxes[address.lower()]
            if not box.watch:
                raise GoogleError("FAILED_PRECONDITION", f"{address} is not watched.")
            topic, history_id = box.watch["topicName"], box.history_id
        data = json.dumps({"emailAddress": box.address, "historyId": history_id}).encode()
        entry = {"topic": topic, "historyId": history_id, "ok": False}
        try:
            response = self.http.post(f"{self.pubsub_url}/v1/{topic}:publish", timeout=10,
                                      json={"messages": [{"data": base64.b64encode(data).decode()}]})
            entry["ok"] = response.ok
            if not response.ok:
                entry["error"] = response.text[:300]
        except requests.RequestException as exc:
            entry["error"] = str(exc)
        if not entry["ok"]:
            log.warning("could not publish to %s: %s", topic, entry.get("error"))
        self.published.append(entry)
        return entry

    @staticmethod
    def stub(message: dict) -> dict:
        return {"id": message["id"], "threadId": message["threadId"], "labelIds": list(message["labelIds"])}

    # -- the API ---------------------------------------------------------------------------------
    def watch(self, box: Mailbox, body: dict) -> dict:
        topic = body.get("topicName") or ""
        if not topic.startswith("projects/") or "/topics/" not in topic:
            raise GoogleError("INVALID_ARGUMENT", "Invalid topicName does not match projects/*/topics/*")
        if self.pubsub_url:
            try:
                found = self.http.get(f"{self.pubsub_url}/v1/{topic}", timeout=10)
            except requests.RequestException as exc:
                raise GoogleError("UNAVAILABLE", f"Pub/Sub unreachable: {exc}") from exc
            if found.status_code == 404:
                raise GoogleError("NOT_FOUND", f"Resource not found (resource={topic.rsplit('/', 1)[-1]}).")
        behavior = body.get("labelFilterBehavior") or body.get("labelFilterAction") or "include"
        with self.lock:
            expiration = int((time.time() + WATCH_DAYS * 86400) * 1000)
            box.watch = {"topicName": topic, "labelIds": list(body.get("labelIds") or []),
                         "labelFilterBehavior": behavior.lower(), "expiration": expiration,
                         "renewed": box.watch["renewed"] + 1 if box.watch else 0}
            self.save()
            return {"historyId": str(box.history_id), "expiration": str(expiration)}

    def stop(self, box: Mailbox) -> None:
        with self.lock:
            box.watch = None
            self.save()

    def history(self, box: Mailbox, start: str | None, label: str | None, types: list[str], page_size: int,
                page_token: str | None) -> dict:
        if not start or not str(start).isdigit():
            raise GoogleError("INVALID_ARGUMENT", "startHistoryId is required (a positive integer).")
        start_id = int(start)
        with self.lock:
            if start_id < box.oldest_history:
                raise GoogleError("NOT_FOUND", "Requested entity was not found.")
            offset = int(page_token) if page_token and page_token.isdigit() else 0
            records = [r for r in box.history if int(r["id"]) > start_id]
            out = []
            kinds = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
                     "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved"}
            unknown = [t for t in types if t not in kinds]
            if unknown:
                raise GoogleError("INVALID_ARGUMENT", f"Invalid value for historyTypes: {unknown[0]}")
            wanted = [kinds[t] for t in types] or list(kinds.values())
            for record in records:
                kept = {"id": record["id"], "messages": record.get("messages", [])}
                for kind in wanted:
                    if kind not in record:
                        continue
                    items = record[kind]
                    if label:
                        items = [i for i in items if label in i["message"].get("labelIds", [])]
                    if items:
                        kept[kind] = items
                if label and len(kept) == 2:
                    continue
                if types and len(kept) == 2:
                    continue
                out.append(kept)
            page = out[offset:offset + page_size]
            body = {"historyId": str(box.history_id)}
            if page:
                body["history"] = page
            if offset + page_size < len(out):
                body["nextPageToken"] = str(offset + page_size)
            return body

    def list_messages(self, box: Mailbox, labels: list[str], query: str, page_size: int,
                      page_token: str | None) -> dict:
        after = _query_after(query)
        with self.lock:
            ids = [i for i in reversed(box.order)  # newest first, as Gmail lists
                   if set(labels) <= set(box.messages[i]["labelIds"])
                   and int(box.messages[i]["internalDate"]) / 1000 >= after]
            offset = int(page_token) if page_token and page_token.isdigit() else 0
            page = ids[offset:offset + page_size]
            body: dict = {"resultSizeEstimate": len(ids)}
            if page:
                body["messages"] = [{"id": i, "threadId": box.messages[i]["threadId"]} for i in page]
            if offset + page_size < len(ids):
                body["nextPageToken"] = str(offset + page_size)
            return body

    def message(self, box: Mailbox, message_id: str) -> dict:
        message = box.messages.get(message_id)
        if message is None:
            raise GoogleError("NOT_FOUND", "Requested entity was not found.")
        return message

    def modify(self, box: Mailbox, message_id: str, add: list[str], remove: list[str]) -> dict:
        self.batch_modify(box, [message_id], add, remove)
        with self.lock:
            return self.stub(self.message(box, message_id))

    def batch_modify(self, box: Mailbox, message_ids: list[str], add: list[str], remove: list[str]) -> None:
        """Change the labels of one or more mails (``messages.batchModify``: at most 1,000): one
        history record for the whole change, listing each mail changed."""
        if not message_ids or len(message_ids) > 1000:
            raise GoogleError("INVALID_ARGUMENT", "ids must name 1 to 1000 messages")
        with self.lock:
            messages = [self.message(box, message_id) for message_id in dict.fromkeys(message_ids)]
            for label in [*add, *remove]:
                if label not in box.labels:
                    raise GoogleError("INVALID_ARGUMENT", f"Invalid label: {label}")
            change: dict = {"labelsAdded": [], "labelsRemoved": []}
            changed = []
            for message in messages:
                before = set(message["labelIds"])
                labels = [x for x in message["labelIds"] if x not in remove]
                labels += [x for x in add if x not in labels]
                message["labelIds"] = labels
                added, removed = set(labels) - before, before - set(labels)
                if added:
                    change["labelsAdded"].append({"message": self.stub(message), "labelIds": sorted(added)})
                if removed:
                    change["labelsRemoved"].append({"message": self.stub(message), "labelIds": sorted(removed)})
                if added or removed:
                    changed.append(message)
            change = {kind: items for kind, items in change.items() if items}
            if change:
                history_id = str(self._record(box, messages=[{"id": m["id"], "threadId": m["threadId"]}
                                                             for m in changed], **change))
                for message in changed:
                    message["historyId"] = history_id
            self.save()
            watched = any(self._watched(box, m["labelIds"]) for m in changed)
        if watched:
            self.notify(box.address)

    def create_label(self, box: Mailbox, body: dict) -> dict:
        name = (body.get("name") or "").strip()
        if not name:
            raise GoogleError("INVALID_ARGUMENT", "Invalid label name")
        with self.lock:
            if any(label["name"].lower() == name.lower() for label in box.labels.values()):
                raise GoogleError("ALREADY_EXISTS", "Label name exists or conflicts")
            label_id = f"Label_{box.next_label}"
            box.next_label += 1
            label = {"id": label_id, "name": name, "type": "user",
                     "messageListVisibility": body.get("messageListVisibility", "show"),
                     "labelListVisibility": body.get("labelListVisibility", "labelShow")}
            box.labels[label_id] = label
            self.save()
            return label

    def delete_label(self, box: Mailbox, label_id: str) -> None:
        """Delete a user label, and take it off every mail that has it, as Gmail does."""
        with self.lock:
            label = box.labels.get(label_id)
            if label is None:
                raise GoogleError("NOT_FOUND", "Requested entity was not found.")
            if label["type"] == "system":
                raise GoogleError("INVALID_ARGUMENT", f"Invalid delete request for system label: {label_id}")
            del box.labels[label_id]
            for message in box.messages.values():
                if label_id in message["labelIds"]:
                    message["labelIds"] = [x for x in message["labelIds"] if x != label_id]
            self.save()

    def expire_history(self, address: str) -> int:
        """Forget every history record (as Gmail does after about a week): older start ids get 404."""
        with self.lock:
            box = self.boxes[address.lower()]
            box.history.clear()
            box.oldest_history = box.history_id
            self.save()
            return box.history_id


def _query_after(query: str) -> float:
    """The subset of Gmail's search syntax used here: ``newer_than:Nd`` / ``Nh`` and ``after:EPOCH``."""
    after = 0.0
    for word in (query or "").split():
        key, _, value = word.partition(":")
        if key == "newer_than" and value[:-1].isdigit() and value[-1:] in ("d", "h", "m", "y"):
            unit = {"h": 3600, "d": 86400, "m": 30 * 86400, "y": 365 * 86400}[value[-1]]
            after = max(after, time.time() - int(value[:-1]) * unit)
        elif key == "after" and value.isdigit():
            after = max(after, float(value))
        elif word:
            raise GoogleError("INVALID_ARGUMENT", f"The local Gmail service does not search {word!r} "
                                                  "(only newer_than: and after:).")
    return after
