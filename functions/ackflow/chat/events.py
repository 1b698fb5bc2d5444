"""Chat interaction events, in either format, parsed into one ChatEvent.

Classic events carry a top-level ``type``; Workspace add-on events carry ``commonEventObject`` and
``chat`` with exactly one ``...Payload``. The rest of the app sees only ChatEvent.

Every field is read with the type Chat gives it; a field of another type makes the event
malformed (``MalformedEvent``), never an AttributeError deep in a handler. A space must be named
as Chat names spaces, since its name becomes a path of the Chat API when the job reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

MAX_NAME = 320  # characters of a user's resource name or email (an address is at most 254)
MAX_DISPLAY_NAME = 100


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
    def from_json(cls, data: object) -> ChatUser:
        data = _obj(data, "user")
        name, email = _str(data.get("name"), "user.name"), _str(data.get("email"), "user.email")
        if len(name) > MAX_NAME or len(email) > MAX_NAME:
            raise MalformedEvent("user.name or user.email is longer than any Chat gives")
        display_name = _str(data.get("displayName"), "user.displayName")
        if len(display_name) > MAX_DISPLAY_NAME:  # shown in cards: kept to what a card line holds
            display_name = display_name[: MAX_DISPLAY_NAME - 1] + "…"
        return cls(name, display_name, email, _str(data.get("type"), "user.type") or "HUMAN")


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
SPACE_NAME = re.compile(r"spaces/[A-Za-z0-9_-]{1,128}")
MAX_COMMAND_ID = 2**31 - 1


def parse_event(body: object) -> ChatEvent:
    if not isinstance(body, dict):
        raise MalformedEvent("the event is not a JSON object")
    if "type" in body:
        return _classic(body)
    if "chat" in body and "commonEventObject" in body:
        return _addon(body)
    raise MalformedEvent("neither a classic event (type) nor an add-on event (commonEventObject, chat)")


# -- typed reads: the type Chat sends, or MalformedEvent ------------------------------------------
def _obj(value: object, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEvent(f"{what} is not a list")
    return value


def _str(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{what} is not a string")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return _str(value, what) or None


def _int(value: object, what: str) -> int | None:
    """A command id: a number or a string of digits (Chat sends both); None if it names nothing."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MalformedEvent(f"{what} is not a number")
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 10):
            return None
        value = int(value)
    return value if 0 <= value <= MAX_COMMAND_ID else None


def _strings(value: object, what: str) -> dict[str, str]:
    """A map of string parameters (``common.parameters``, ``commonEventObject.parameters``)."""
    params = _obj(value, what)
    if not all(isinstance(v, str) for v in params.values()):
        raise MalformedEvent(f"{what} holds a value that is not a string")
    return dict(params)


def _space(space: object) -> tuple[str, str]:
    space = _obj(space, "space")
    name = space.get("name")
    if not isinstance(name, str) or not SPACE_NAME.fullmatch(name):
        raise MalformedEvent("the event has no space, or not one named spaces/…")
    return name, _str(space.get("spaceType"), "space.spaceType") or _str(space.get("type"), "space.type")


def _message_bits(value: object) -> dict:
    message = _obj(value, "message")
    if not message:
        return {}
    text = message.get("argumentText")
    if text is None:
        text = message.get("text")
    bits = {"message_name": _opt_str(message.get("name"), "message.name"),
            "text": _str(text, "message.text").strip(),
            "thread": _opt_str(_obj(message.get("thread"), "message.thread").get("name"), "message.thread.name")}
    slash = _obj(message.get("slashCommand"), "message.slashCommand")
    if slash:
        bits["command_id"] = _int(slash.get("commandId"), "slashCommand.commandId")
        bits["command_name"] = _slash_name(message)
    return bits


def _slash_name(message: dict) -> str | None:
    for annotation in _list(message.get("annotations"), "message.annotations"):
        slash = _obj(_obj(annotation, "annotation").get("slashCommand"), "annotation.slashCommand")
        command = _str(slash.get("commandName"), "slashCommand.commandName")
        if command:
            return command.lstrip("/")
    first = _str(message.get("text"), "message.text").split(maxsplit=1)
    if first and first[0].startswith("/"):
        return first[0][1:]
    return None


def _app_command(bits: dict, meta: object) -> None:
    meta = _obj(meta, "appCommandMetadata")
    bits["command_id"] = _int(meta.get("appCommandId"), "appCommandMetadata.appCommandId")
    bits["command_type"] = _opt_str(meta.get("appCommandType"), "appCommandMetadata.appCommandType")


def _classic(body: dict) -> ChatEvent:
    raw_type = _str(body.get("type"), "type")
    try:
        kind = EventKind(raw_type)
    except ValueError:
        kind = EventKind.OTHER
    message = _obj(body.get("message"), "message")
    space, space_type = _space(body.get("space") or message.get("space"))
    bits = _message_bits(message)
    action, parameters = None, {}
    if kind == EventKind.CLICK:
        common = _obj(body.get("common"), "common")
        clicked = _obj(body.get("action"), "action")
        action = _opt_str(clicked.get("actionMethodName"), "action.actionMethodName") or \
            _opt_str(common.get("invokedFunction"), "common.invokedFunction")
        parameters = _strings(common.get("parameters"), "common.parameters")
        for item in _list(clicked.get("parameters"), "action.parameters"):
            item = _obj(item, "action parameter")
            parameters.setdefault(_str(item.get("key"), "parameter key"), _str(item.get("value"), "parameter value"))
        action = parameters.get("actionName", action)
    if kind == EventKind.COMMAND:
        _app_command(bits, body.get("appCommandMetadata"))
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
    payload = _obj(chat[key], key)
    space, space_type = _space(chat.get("space") or payload.get("space"))
    bits = _message_bits(payload.get("message"))
    parameters = _strings(common.get("parameters"), "commonEventObject.parameters")
    action = parameters.get("actionName") if key in ("buttonClickedPayload", "widgetUpdatedPayload") else None
    if key == "appCommandPayload":
        _app_command(bits, payload.get("appCommandMetadata"))
        if bits.get("thread") is None:
            bits["thread"] = _opt_str(_obj(payload.get("thread"), "thread").get("name"), "thread.name")
    return ChatEvent(kind=_ADDON_PAYLOADS[key], format=EventFormat.ADDON,
                     user=ChatUser.from_json(chat.get("user")), space=space, space_type=space_type,
                     action=action, parameters=parameters, raw_type=key, **bits)
