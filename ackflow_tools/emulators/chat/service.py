"""The bot side of the local Chat service: ``spaces.messages`` as an app calls it, plus a feed of
changes that lets a terminal (``ackflow chat``) follow a space as it happens.

Messages are validated with the Chat API's own protobuf types, so a card the real API would
refuse (an unknown field, a wrong type) is refused here too.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass

from google.apps import chat_v1
from google.protobuf import json_format

from ..web import GoogleError
from .quota import WriteQuotas
from .storage import ChatStorage

# Chat API: "The maximum message size (including any text or cards) is 32,000 bytes."
MAX_MESSAGE_BYTES = 32_000

MessagePb = chat_v1.Message.pb()

CLIENT_ID_RE = re.compile(r"^client-[a-z0-9-]{1,56}$")
UPDATABLE = {"text", "attachment", "cards", "cards_v2", "accessory_widgets", "quoted_message_metadata"}
REPLY_OPTIONS = {
    "MESSAGE_REPLY_OPTION_UNSPECIFIED": 0,
    "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD": 1,
    "REPLY_MESSAGE_OR_FAIL": 2,
}


def new_id(length: int = 11) -> str:
    """A random id in Chat's alphabet (A–Z a–z 0–9 _ -): URL-safe base64 of random bytes, one call
    for the whole id (a ``secrets.choice`` per character cost a fifth of a message write)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(length)).decode()[:length]


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}Z"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def canonical_message(body: dict) -> dict:
    """Validate ``body`` as a Chat Message and return it in the API's canonical JSON."""
    try:
        pb = json_format.ParseDict(body, MessagePb())
    except json_format.ParseError as exc:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}") from exc
    return json_format.MessageToDict(pb)


def render(message: dict, ints_for_enums: bool) -> dict:
    """The stored (canonical) JSON, with enums as numbers when the client asked for that.

    Walks the JSON beside the Message descriptor instead of a protobuf round trip: the same
    output, a fraction of the cost on the hot path of every write.
    """
    if not ints_for_enums:
        return message
    return _enum_numbers(message, MessagePb.DESCRIPTOR)


_FIELDS: dict = {}


def _json_fields(descriptor) -> dict:
    fields = _FIELDS.get(descriptor.full_name)
    if fields is None:
        fields = _FIELDS[descriptor.full_name] = {f.json_name: f for f in descriptor.fields}
    return fields


def _enum_numbers(value: dict, descriptor) -> dict:
    fields = _json_fields(descriptor)
    out = {}
    for key, item in value.items():
        field = fields.get(key)
        out[key] = item if field is None else _field_value(item, field)
    return out


def _field_value(item, field):
    from google.protobuf.descriptor import FieldDescriptor

    if isinstance(item, list):
        return [_field_value(element, field) for element in item]
    if field.type == FieldDescriptor.TYPE_ENUM and isinstance(item, str):
        number = field.enum_type.values_by_name.get(item)
        return number.number if number is not None else item
    if field.type == FieldDescriptor.TYPE_MESSAGE and isinstance(item, dict):
        message_type = field.message_type
        if message_type.GetOptions().map_entry:
            value_field = message_type.fields_by_name["value"]
            return {k: _field_value(v, value_field) for k, v in item.items()}
        if message_type.full_name.startswith("google.protobuf."):
            return item  # well-known types have their own JSON forms
        return _enum_numbers(item, message_type)
    return item


@dataclass
class AppIdentity:
    name: str = "users/app"
    display_name: str = "Ackflow"

    def as_user(self) -> dict:
        return {"name": self.name, "displayName": self.display_name, "type": "BOT"}


class ChatService:
    def __init__(self, storage: ChatStorage, app: AppIdentity | None = None, quotas: WriteQuotas | None = None):
        self.storage = storage
        self.app = app or AppIdentity()
        self.quotas = quotas or WriteQuotas()
        self.lock = storage.lock
        self.changed = threading.Condition(self.lock)
        self._holds: dict[str, list[float]] = {}
        self._holds_lock = threading.Lock()
        self._refusals: dict[str, list[tuple[str, bool]]] = {}  # space -> (status, cards only), in turn

    # -- spaces and threads ----------------------------------------------------------------------
    def ensure_space(self, name: str, display_name: str | None = None, space_type: str = "SPACE") -> dict:
        if not re.match(r"^spaces/[A-Za-z0-9_-]+$", name):
            raise GoogleError("INVALID_ARGUMENT", f"Invalid space name {name!r}.")
        with self.lock:
            space = self.storage.get_space(name)
            if space is None:
                space = {
                    "name": name,
                    "type": "ROOM" if space_type == "SPACE" else "DM",
                    "spaceType": space_type,
                    "displayName": display_name or name.split("/", 1)[1],
                    "threadKeys": {},
                }
                self.storage.put_space(space)
            return space

    def get_space(self, name: str) -> dict:
        """The space (NOT_FOUND if there is none): reading it creates nothing."""
        with self.lock:
            return self._space(name)

    def _space(self, name: str) -> dict:
        space = self.storage.get_space(name)
        if space is None:
            raise GoogleError("NOT_FOUND", f"Space {name} not found, or the app is not a member of it.")
        return space

    def _thread_exists(self, space: str, thread: str) -> bool:
        row = self.storage.db.execute(
            "SELECT 1 FROM messages WHERE space = ? AND json_extract(doc, '$.thread.name') = ? LIMIT 1",
            (space, thread),
        ).fetchone()
        return row is not None

    def _choose_thread(self, space: dict, body: dict, option: int, thread_key: str | None) -> str:
        new_thread = f"{space['name']}/threads/{new_id()}"
        if option == 0:
            return new_thread  # the API ignores thread and threadKey without a reply option
        wanted = (body.get("thread") or {}).get("name")
        key = thread_key or (body.get("thread") or {}).get("threadKey")
        if wanted:
            if wanted.startswith(space["name"] + "/threads/") and self._thread_exists(space["name"], wanted):
                return wanted
        elif key and key in space["threadKeys"]:
            return space["threadKeys"][key]
        if option == 2:
            raise GoogleError("NOT_FOUND", "Thread not found (messageReplyOption=REPLY_MESSAGE_OR_FAIL).")
        if key and not wanted:
            space["threadKeys"][key] = new_thread
            self.storage.put_space(space)
        return new_thread

    # -- writes by the app -----------------------------------------------------------------------
    def inject_429(self, space: str, count: int) -> None:
        self.quotas.inject(space, count)

    def _check_quota(self, space: str) -> None:
        self.quotas.admit(space)

    def hold(self, space: str, seconds: float, count: int) -> None:
        """The next ``count`` writes to ``space`` are applied ``seconds`` after they arrive (a write
        that lands late, for tests of ordering)."""
        with self._holds_lock:
            self._holds.setdefault(space, []).extend([seconds] * count)

    def refuse(self, space: str, status: str, count: int, cards_only: bool) -> None:
        """The next ``count`` app writes to ``space`` (those carrying cards, if ``cards_only``) are
        refused with ``status`` (e.g. INVALID_ARGUMENT: a card Chat does not take as written;
        UNAUTHENTICATED: the app's credentials refused), for tests of what the app does then.
        ``count`` 0 ends the refusals still pending."""
        with self._holds_lock:
            if count <= 0:  # none: the refusals still pending end
                self._refusals.pop(space, None)
            else:
                self._refusals.setdefault(space, []).extend([(status, cards_only)] * count)

    def _check_refusal(self, space: str, body: dict) -> None:
        with self._holds_lock:
            pending = self._refusals.get(space)
            if not pending or (pending[0][1] and not (body.get("cardsV2") or body.get("cards"))):
                return
            status, _ = pending.pop(0)
        raise GoogleError(status, "Invalid JSON payload received (refused by the local service's fault)."
                          if status == "INVALID_ARGUMENT" else f"Request refused: {status} (a fault of the service).")

    def _check_size(self, message: dict) -> None:
        content = {key: message[key] for key in ("text", "cardsV2", "cards", "fallbackText", "accessoryWidgets")
                   if key in message}
        size = len(json.dumps(content, ensure_ascii=False).encode())
        if size > MAX_MESSAGE_BYTES:
            raise GoogleError("INVALID_ARGUMENT", f"Message is {size} bytes; the maximum message size, including "
                              f"text and cards, is {MAX_MESSAGE_BYTES} bytes.")

    def _arrive(self, space: str) -> None:
        with self._holds_lock:
            held = self._holds.get(space)
            delay = held.pop(0) if held else 0.0
        if delay:
            time.sleep(delay)  # outside the lock: other writes go on meanwhile

    def create_message(self, parent: str, body: dict, *, message_id: str | None = None,
                       request_id: str | None = None, reply_option: str | int | None = None,
                       thread_key: str | None = None) -> dict:
        option = _reply_option(reply_option)
        self._arrive(parent)
        with self.lock:
            space = self._space(parent)
            self._check_quota(parent)
            self._check_refusal(parent, body)
            if request_id:
                existing = self.storage.find_by_request_id(parent, request_id)
                if existing:
                    return existing
            if message_id is not None:
                if not CLIENT_ID_RE.match(message_id):
                    raise GoogleError(
                        "INVALID_ARGUMENT",
                        "messageId must start with 'client-' and contain only lowercase letters, "
                        "digits and hyphens (at most 63 characters).",
                    )
                if self.storage.find_message(parent, message_id):
                    raise GoogleError("ALREADY_EXISTS", f"Message with ID {message_id} already exists.")
            message = canonical_message(body)
            if not message.get("text") and not message.get("cardsV2") and not message.get("cards"):
                raise GoogleError("INVALID_ARGUMENT", "Message cannot be empty: set text or cardsV2.")
            self._check_size(message)
            thread = self._choose_thread(space, body, option, thread_key)
            return self._insert(space, message, thread, self.app.as_user(), message_id, request_id)

    def _insert(self, space: dict, message: dict, thread: str, sender: dict,
                client_id: str | None, request_id: str | None) -> dict:
        now = time.time()
        for output_only in ("name", "sender", "createTime", "lastUpdateTime", "space", "actionResponse"):
            message.pop(output_only, None)
        message.update(
            name=f"{space['name']}/messages/{new_id()}.{new_id()}",
            sender=sender,
            createTime=rfc3339(now),
            thread={"name": thread},
            space={"name": space["name"], "type": space["type"], "spaceType": space["spaceType"]},
        )
        if client_id:
            message["clientAssignedMessageId"] = client_id
        with self.storage.batch():
            self.storage.insert_message(message, now, request_id)
            self._changed(space["name"], "created", message)
        return message

    def insert_user_message(self, space: str, message: dict, thread: str | None) -> dict:
        """A message a person posts (the user side); starts a thread unless one is given."""
        with self.lock:
            space_doc = self.ensure_space(space)
            thread = thread or f"{space}/threads/{new_id()}"
            return self._insert(space_doc, message, thread, message.pop("sender"), None, None)

    def insert_app_reply(self, space: str, message: dict, thread: str) -> dict:
        """The app's synchronous answer to an event, posted in the event's thread."""
        with self.lock:
            return self._insert(self._space(space), message, thread, self.app.as_user(), None, None)

    def _message(self, name: str) -> dict:
        match = re.match(r"^(spaces/[^/]+)/messages/([^/]+)$", name)
        if not match:
            raise GoogleError("INVALID_ARGUMENT", f"Invalid message name {name!r}.")
        message = self.storage.find_message(match.group(1), match.group(2))
        if message is None:
            raise GoogleError("NOT_FOUND", f"Message {name} not found.")
        return message

    def get_message(self, name: str) -> dict:
        with self.lock:
            return self._message(name)

    def list_messages(self, parent: str, page_size: int, offset: int, descending: bool) -> list[dict]:
        with self.lock:
            self._space(parent)
            return self.storage.list_messages(parent, offset, page_size, descending)

    def update_message(self, name: str, body: dict, update_mask: list[str], allow_missing: bool,
                       *, as_app: bool = True, api_call: bool = True) -> dict:
        """``api_call=False``: the app's synchronous answer to a click, which Chat applies without
        an API call (no quota, no hold)."""
        space_name = name.split("/messages/")[0]
        message_id = name.rsplit("/", 1)[-1]
        if api_call:
            self._arrive(space_name)
        with self.lock:
            space = self._space(space_name)
            if api_call:
                self._check_quota(space_name)
                self._check_refusal(space_name, body)
            try:
                current = self._message(name)
            except GoogleError as exc:
                if exc.status != "NOT_FOUND" or not allow_missing:
                    raise
                if not CLIENT_ID_RE.match(message_id):
                    raise GoogleError(
                        "INVALID_ARGUMENT", "allowMissing needs a client-assigned message ID.") from exc
                message = canonical_message(body)
                self._check_size(message)
                # The created message goes where the body asks, falling back to a new thread.
                thread = self._choose_thread(space, body, 1, None)
                return self._insert(space, message, thread, self.app.as_user(), message_id, None)
            if as_app and current["sender"].get("type") != "BOT":
                raise GoogleError("PERMISSION_DENIED", "An app can only update messages it created.")
            if not update_mask:
                raise GoogleError("INVALID_ARGUMENT", "updateMask is required.")
            patch = canonical_message(body)
            paths = sorted(UPDATABLE) if update_mask == ["*"] else [_snake(p) for p in update_mask]
            for path in paths:
                if path not in UPDATABLE:
                    raise GoogleError("INVALID_ARGUMENT", f"Field {path} cannot be updated.")
                json_key = _camel(path)
                if json_key in patch:
                    current[json_key] = patch[json_key]
                else:
                    current.pop(json_key, None)
            self._check_size(current)
            current["lastUpdateTime"] = rfc3339(time.time())
            with self.storage.batch():
                self.storage.update_message(current)
                self._changed(space_name, "updated", current)
            return current

    def delete_message(self, name: str) -> None:
        with self.lock:
            message = self._message(name)
            space = message["space"]["name"]
            self._check_quota(space)
            if message["sender"].get("type") != "BOT":
                raise GoogleError("PERMISSION_DENIED", "An app can only delete messages it created.")
            with self.storage.batch():
                self.storage.delete_message(message["name"])
                self._changed(space, "deleted", message)

    # -- change feed -----------------------------------------------------------------------------
    def _changed(self, space: str, kind: str, message: dict) -> None:
        self.storage.add_change(space, kind, {"message": message})
        self.changed.notify_all()

    def note(self, space: str, kind: str, doc: dict) -> None:
        """Record something that happened in a space that is not a message (an event, an error)."""
        with self.lock:
            self.storage.add_change(space, kind, doc)
            self.changed.notify_all()

    def changes(self, space: str, after: int, wait: float) -> list[dict]:
        deadline = time.time() + wait
        with self.lock:
            while True:
                found = self.storage.changes_after(space, after)
                remaining = deadline - time.time()
                if found or remaining <= 0:
                    return found
                self.changed.wait(remaining)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() if part != "v2" else "V2" for part in rest)


def _reply_option(value) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, int) or str(value).isdigit():
        number = int(value)
        if number not in REPLY_OPTIONS.values():
            raise GoogleError("INVALID_ARGUMENT", f"Unknown messageReplyOption {value}.")
        return number
    if value not in REPLY_OPTIONS:
        raise GoogleError("INVALID_ARGUMENT", f"Unknown messageReplyOption {value}.")
    return REPLY_OPTIONS[value]
