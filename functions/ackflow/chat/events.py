"""Chat interaction events, in either format, parsed into one ChatEvent.

Classic events carry a top-level ``type``; Workspace add-on events carry ``commonEventObject`` and
``chat`` with exactly one ``...Payload``. The rest of the app sees only ChatEvent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class MalformedEvent(ValueError):
    """The body is not a Chat event we can read."""


class EventKind(str, Enum):
    MESSAGE = "MESSAGE"
    CLICK = "CARD_CLICKED"
    ADDED = "ADDED_TO_SPACE"
    REMOVED = "REMOVED_FROM_SPACE"
    COMMAND = "APP_COMMAND"
    OTHER = "OTHER"


class EventFormat(str, Enum):
    CLASSIC = "classic"
    ADDON = "addon"


@dataclass(frozen=True)
class ChatUser:
    name: str
    display_name: str = ""
    email: str = ""
    type: str = "HUMAN"

    @classmethod
    def from_json(cls, data: dict | None) -> ChatUser:
        data = data or {}
        return cls(data.get("name", ""), data.get("displayName", ""), data.get("email", ""),
                   data.get("type", "HUMAN"))


@dataclass(frozen=True)
class ChatEvent:
    kind: EventKind
    format: EventFormat
    user: ChatUser
    space: str
    space_type: str = ""
    thread: str | None = None
    message_name: str | None = None
    text: str = ""  # what the person wrote, without the @mention
    command_name: str | None = None  # a slash command's name, without the slash
    command_id: int | None = None
    command_type: str | None = None
    action: str | None = None  # the clicked button's action
    parameters: dict[str, str] = field(default_factory=dict)
    raw_type: str = ""

    @property
    def is_dm(self) -> bool:
        return self.space_type in ("DIRECT_MESSAGE", "DM")


_ADDON_PAYLOADS = {
    "messagePayload": EventKind.MESSAGE,
    "buttonClickedPayload": EventKind.CLICK,
    "addedToSpacePayload": EventKind.ADDED,
    "removedFromSpacePayload": EventKind.REMOVED,
    "appCommandPayload": EventKind.COMMAND,
    "widgetUpdatedPayload": EventKind.OTHER,
}


def parse_event(body: object) -> ChatEvent:
    if not isinstance(body, dict):
        raise MalformedEvent("the event is not a JSON object")
    if "type" in body:
        return _classic(body)
    if "chat" in body and "commonEventObject" in body:
        return _addon(body)
    raise MalformedEvent("neither a classic event (type) nor an add-on event (commonEventObject, chat)")


def _space(space: object) -> tuple[str, str]:
    if not isinstance(space, dict) or not isinstance(space.get("name"), str):
        raise MalformedEvent("the event has no space")
    return space["name"], space.get("spaceType") or space.get("type", "")


def _message_bits(message: dict | None) -> dict:
    if not message:
        return {}
    if not isinstance(message, dict):
        raise MalformedEvent("message is not an object")
    text = message.get("argumentText")
    if text is None:
        text = message.get("text", "")
    bits = {"message_name": message.get("name"), "text": str(text).strip(),
            "thread": (message.get("thread") or {}).get("name")}
    slash = message.get("slashCommand")
    if slash:
        bits["command_id"] = _int(slash.get("commandId"))
        bits["command_name"] = _slash_name(message)
    return bits


def _slash_name(message: dict) -> str | None:
    for annotation in message.get("annotations") or []:
        command = (annotation.get("slashCommand") or {}).get("commandName")
        if command:
            return command.lstrip("/")
    first = str(message.get("text", "")).split(maxsplit=1)
    if first and first[0].startswith("/"):
        return first[0][1:]
    return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _classic(body: dict) -> ChatEvent:
    raw_type = str(body.get("type"))
    try:
        kind = EventKind(raw_type)
    except ValueError:
        kind = EventKind.OTHER
    space, space_type = _space(body.get("space") or (body.get("message") or {}).get("space"))
    bits = _message_bits(body.get("message"))
    action, parameters = None, {}
    if kind == EventKind.CLICK:
        common = body.get("common") or {}
        action = (body.get("action") or {}).get("actionMethodName") or common.get("invokedFunction")
        parameters = dict(common.get("parameters") or {})
        for item in (body.get("action") or {}).get("parameters") or []:
            parameters.setdefault(item.get("key"), item.get("value"))
        action = parameters.get("actionName", action)
    if kind == EventKind.COMMAND:
        meta = body.get("appCommandMetadata") or {}
        bits["command_id"] = _int(meta.get("appCommandId"))
        bits["command_type"] = meta.get("appCommandType")
    return ChatEvent(kind=kind, format=EventFormat.CLASSIC, user=ChatUser.from_json(body.get("user")),
                     space=space, space_type=space_type, action=action, parameters=parameters,
                     raw_type=raw_type, **bits)


def _addon(body: dict) -> ChatEvent:
    chat = body.get("chat")
    common = body.get("commonEventObject")
    if not isinstance(chat, dict) or not isinstance(common, dict):
        raise MalformedEvent("chat and commonEventObject must be objects")
    payloads = [k for k in chat if k in _ADDON_PAYLOADS]
    if len(payloads) != 1:
        raise MalformedEvent("an add-on event must carry exactly one payload")
    key = payloads[0]
    payload = chat[key] or {}
    space, space_type = _space(chat.get("space") or payload.get("space"))
    bits = _message_bits(payload.get("message"))
    parameters = {str(k): str(v) for k, v in (common.get("parameters") or {}).items()}
    action = parameters.get("actionName") if key in ("buttonClickedPayload", "widgetUpdatedPayload") else None
    if key == "appCommandPayload":
        meta = payload.get("appCommandMetadata") or {}
        bits["command_id"] = _int(meta.get("appCommandId"))
        bits["command_type"] = meta.get("appCommandType")
        if bits.get("thread") is None:
            bits["thread"] = (payload.get("thread") or {}).get("name")
    return ChatEvent(kind=_ADDON_PAYLOADS[key], format=EventFormat.ADDON,
                     user=ChatUser.from_json(chat.get("user")), space=space, space_type=space_type,
                     action=action, parameters=parameters, raw_type=key, **bits)
