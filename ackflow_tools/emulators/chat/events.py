"""Interaction events as Google Chat sends them to an HTTP app, in both formats.

Classic format: a top-level ``type`` (MESSAGE, CARD_CLICKED, ADDED_TO_SPACE, REMOVED_FROM_SPACE,
APP_COMMAND) with ``message``, ``user``, ``space``, ``action`` and ``common``. Workspace add-on
format: ``commonEventObject`` plus ``chat`` holding exactly one ``...Payload``.

The person's client goes in ``common`` / ``commonEventObject``: ``userLocale``, ``timeZone`` (its
id and the offset from UTC now, in milliseconds) and ``platform`` (WEB, IOS, ANDROID). A dialog
event carries ``isDialogEvent`` and ``dialogEventType`` (classic: at the top; add-on: in the
payload), and a submitted dialog's inputs are ``formInputs`` beside the parameters.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from .service import rfc3339

CLASSIC = "classic"
ADDON = "addon"
FORMATS = (CLASSIC, ADDON)

PAYLOAD_KEYS = {
    "MESSAGE": "messagePayload",
    "CARD_CLICKED": "buttonClickedPayload",
    "ADDED_TO_SPACE": "addedToSpacePayload",
    "REMOVED_FROM_SPACE": "removedFromSpacePayload",
    "APP_COMMAND": "appCommandPayload",
    "WIDGET_UPDATED": "widgetUpdatedPayload",
}

PLATFORMS = ("WEB", "IOS", "ANDROID")


@dataclass(frozen=True)
class Client:
    """What a person's Chat client tells apps about them."""

    locale: str = "ja"
    time_zone: str = "Asia/Tokyo"
    platform: str = "WEB"

    def common(self) -> dict:
        from zoneinfo import ZoneInfo

        offset = dt.datetime.now(ZoneInfo(self.time_zone)).utcoffset() or dt.timedelta()
        zone = {"id": self.time_zone, "offset": int(offset.total_seconds() * 1000)}
        return {"userLocale": self.locale, "timeZone": zone, "platform": self.platform, "hostApp": "CHAT"}

    def to_dict(self) -> dict:
        return {"locale": self.locale, "timeZone": self.time_zone, "platform": self.platform}


def client_of(data: dict, base: Client) -> Client:
    """``base`` with what ``data`` sets (``locale``, ``timeZone``, ``platform``), checked as Chat would."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    locale = data.get("locale", base.locale)
    zone = data.get("timeZone", base.time_zone)
    platform = data.get("platform", base.platform)
    if not isinstance(locale, str) or not 2 <= len(locale) <= 35:
        raise ValueError("locale must be a language tag such as ja or en-US")
    try:
        ZoneInfo(zone if isinstance(zone, str) else "")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timeZone must be an IANA time zone such as Asia/Tokyo, not {zone!r}") from exc
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}")
    return Client(locale, zone, platform)


def space_summary(space: dict) -> dict:
    summary = {k: space[k] for k in ("name", "type", "spaceType", "displayName") if k in space}
    if space.get("spaceType") == "DIRECT_MESSAGE":
        summary["singleUserBotDm"] = True
    return summary


def build_event(kind: str, fmt: str, *, user: dict, space: dict, message: dict | None = None,
                function: str | None = None, parameters: dict | None = None,
                form_inputs: dict | None = None, app_command: dict | None = None,
                interaction_add: bool = False, dialog: str | None = None, client: Client | None = None) -> dict:
    """``dialog``: the dialog event type (REQUEST_DIALOG, SUBMIT_DIALOG, CANCEL_DIALOG), if any."""
    if kind not in PAYLOAD_KEYS:
        raise ValueError(f"unknown event kind {kind}")
    common = (client or Client()).common()
    if fmt == ADDON:
        return _addon_event(kind, user=user, space=space, message=message, function=function,
                            parameters=parameters, form_inputs=form_inputs, common=common,
                            app_command=app_command, interaction_add=interaction_add, dialog=dialog)
    return _classic_event(kind, user=user, space=space, message=message, function=function, common=common,
                          parameters=parameters, form_inputs=form_inputs, app_command=app_command, dialog=dialog)


def _dialog_fields(dialog: str | None) -> dict:
    return {"isDialogEvent": True, "dialogEventType": dialog} if dialog else {"isDialogEvent": False}


def _classic_event(kind, *, user, space, message, function, parameters, form_inputs, app_command, common,
                   dialog=None):
    event: dict = {
        "type": kind,
        "eventTime": rfc3339(time.time()),
        "user": user,
        "space": space_summary(space),
        "common": common,
    }
    if kind == "REMOVED_FROM_SPACE":
        del event["common"]  # the app is gone; Chat sends no client context
    if message is not None:
        event["message"] = message
    if kind in ("MESSAGE", "APP_COMMAND", "ADDED_TO_SPACE"):
        event["configCompleteRedirectUrl"] = "https://chat.google.com/api/bot_config_complete?token=local"
    if kind == "CARD_CLICKED":
        params = parameters or {}
        event["action"] = {
            "actionMethodName": function,
            "parameters": [{"key": k, "value": v} for k, v in params.items()],
        }
        event["common"]["invokedFunction"] = function
        event["common"]["parameters"] = dict(params)
        event.update(_dialog_fields(dialog))
        if form_inputs:
            event["common"]["formInputs"] = _form_inputs(form_inputs)
    elif dialog:  # a slash command that opens a dialog
        event.update(_dialog_fields(dialog))
    if kind == "APP_COMMAND":
        event["appCommandMetadata"] = app_command
    return event


def _addon_event(kind, *, user, space, message, function, parameters, form_inputs, app_command, common,
                 interaction_add, dialog=None):
    if parameters:
        common["parameters"] = dict(parameters)
    if function:
        common["invokedFunction"] = function
    if form_inputs:
        common["formInputs"] = _form_inputs(form_inputs)
    summary = space_summary(space)
    payload: dict
    if kind == "MESSAGE":
        payload = {"message": message, "space": summary,
                   "configCompleteRedirectUri": "https://chat.google.com/api/bot_config_complete?token=local"}
    elif kind == "CARD_CLICKED":
        payload = {"message": message, "space": summary, **_dialog_fields(dialog)}
    elif kind == "ADDED_TO_SPACE":
        payload = {"space": summary, "interactionAdd": interaction_add}
    elif kind == "REMOVED_FROM_SPACE":
        payload = {"space": summary}
    elif kind == "APP_COMMAND":
        payload = {"appCommandMetadata": app_command, "space": summary, **_dialog_fields(dialog)}
        if message is not None:
            payload["message"] = message
            payload["thread"] = message.get("thread")
    else:
        payload = {"space": summary, "message": message}
    return {
        "commonEventObject": common,
        "authorizationEventObject": {},
        "chat": {
            "user": user,
            "space": summary,
            "eventTime": rfc3339(time.time()),
            PAYLOAD_KEYS[kind]: payload,
        },
    }


def _form_inputs(values: dict) -> dict:
    """``{"name": "text" | [values]}`` as string inputs; a value already in Chat's shape (a dict
    with ``stringInputs``, ``dateInput``, ``timeInput`` or ``dateTimeInput``) is kept as it is."""
    return {k: v if isinstance(v, dict) else {"stringInputs": {"value": [v] if isinstance(v, str) else list(v)}}
            for k, v in values.items()}
