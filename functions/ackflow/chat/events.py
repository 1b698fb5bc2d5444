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
MAX_INPUTS = 300  # form inputs in one dialog submit (a card holds at most 100 widgets)
MAX_INPUT_NAME = 100
MAX_INPUT_VALUES = 100  # values of one input (a multi-select)
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999  # milliseconds since 1970 of years 1 to 9999
DIALOG_EVENTS = ("REQUEST_DIALOG", "SUBMIT_DIALOG", "CANCEL_DIALOG")


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
class FormInput:
    """One input of a submitted dialog, as Chat sends it in ``formInputs``: the strings of a text
    or selection input, or a date picker's milliseconds since 1970 (UTC midnight for a date)."""

    values: tuple[str, ...] = ()
    ms: int | None = None  # dateInput / dateTimeInput
    time: tuple[int, int] | None = None  # timeInput (hours, minutes)


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
    dialog: str | None = None  # REQUEST_DIALOG, SUBMIT_DIALOG or CANCEL_DIALOG for a dialog event
    form: dict[str, FormInput] = field(default_factory=dict)  # a submitted dialog's inputs
    locale: str = ""  # the person's client: common.userLocale, timeZone.id, platform
    time_zone: str = ""
    platform: str = ""

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


def _bool(value: object, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedEvent(f"{what} is not true or false")
    return value


def _ms(value: object, what: str) -> int | None:
    """Milliseconds since 1970, a number or a string of digits (int64 travels as a string in JSON)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit() and len(text) <= 17):
            raise MalformedEvent(f"{what} is not a number of milliseconds")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_MS <= value <= MAX_MS:
        raise MalformedEvent(f"{what} is not a number of milliseconds")
    return value


def _form_input(item: object) -> FormInput:
    item = _obj(item, "a form input")
    strings = _list(_obj(item.get("stringInputs"), "stringInputs").get("value"), "stringInputs.value")
    if len(strings) > MAX_INPUT_VALUES:
        raise MalformedEvent("a form input holds more values than any dialog gives")
    values = tuple(_str(v, "a form input value") for v in strings)
    ms = _ms(_obj(item.get("dateInput"), "dateInput").get("msSinceEpoch"), "dateInput.msSinceEpoch")
    if ms is None:
        ms = _ms(_obj(item.get("dateTimeInput"), "dateTimeInput").get("msSinceEpoch"), "dateTimeInput.msSinceEpoch")
    time_input = _obj(item.get("timeInput"), "timeInput")
    time = None
    if time_input:
        hours, minutes = time_input.get("hours", 0), time_input.get("minutes", 0)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (hours, minutes)) \
                or not (0 <= hours < 24 and 0 <= minutes < 60):
            raise MalformedEvent("timeInput is not a time of day")
        time = (hours, minutes)
    return FormInput(values, ms, time)


def _form_inputs(value: object) -> dict[str, FormInput]:
    """``formInputs`` of a dialog submit, typed; names are bounded (they are ours, or forged)."""
    inputs = _obj(value, "formInputs")
    if len(inputs) > MAX_INPUTS:
        raise MalformedEvent("formInputs holds more inputs than any dialog has")
    if any(not name or len(name) > MAX_INPUT_NAME for name in inputs):
        raise MalformedEvent("a form input's name is empty or longer than any dialog gives")
    return {name: _form_input(item) for name, item in inputs.items()}


def _client(common: dict) -> dict:
    """The person's client as Chat describes it: language, time zone, platform (bounded strings)."""
    locale = _str(common.get("userLocale"), "userLocale")[:35]
    zone = common.get("timeZone")
    zone_id = _str(_obj(zone, "timeZone").get("id"), "timeZone.id") if isinstance(zone, dict) else \
        _str(zone, "timeZone")
    return {"locale": locale, "time_zone": zone_id[:64], "platform": _str(common.get("platform"), "platform")[:16]}


def _dialog(holder: dict) -> dict:
    """``isDialogEvent`` and ``dialogEventType`` (classic: top level; add-on: in the payload)."""
    if not _bool(holder.get("isDialogEvent"), "isDialogEvent"):
        return {}
    kind = _str(holder.get("dialogEventType"), "dialogEventType")
    return {"dialog": kind} if kind in DIALOG_EVENTS else {}


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
    common = _obj(body.get("common"), "common")
    extra = {**_client(common), **_dialog(body)}
    if "formInputs" in common:
        extra["form"] = _form_inputs(common.get("formInputs"))
    if kind == EventKind.CLICK:
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
                     raw_type=raw_type, **extra, **bits)


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
    extra = {**_client(common), **_dialog(payload)}
    if "formInputs" in common:
        extra["form"] = _form_inputs(common.get("formInputs"))
    if key == "appCommandPayload":
        _app_command(bits, payload.get("appCommandMetadata"))
        if bits.get("thread") is None:
            bits["thread"] = _opt_str(_obj(payload.get("thread"), "thread").get("name"), "thread.name")
    return ChatEvent(kind=_ADDON_PAYLOADS[key], format=EventFormat.ADDON,
                     user=ChatUser.from_json(chat.get("user")), space=space, space_type=space_type,
                     action=action, parameters=parameters, raw_type=key, **extra, **bits)
