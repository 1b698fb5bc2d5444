"""Interaction events as Google Chat sends them to an HTTP app, in both formats.

Classic format: a top-level ``type`` (MESSAGE, CARD_CLICKED, ADDED_TO_SPACE, REMOVED_FROM_SPACE,
APP_COMMAND) with ``message``, ``user``, ``space``, ``action`` and ``common``. Workspace add-on
format: ``commonEventObject`` plus ``chat`` holding exactly one ``...Payload``.
"""

from __future__ import annotations

import time

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

DEFAULT_COMMON = {"userLocale": "ja", "timeZone": {"id": "Asia/Tokyo", "offset": 32400000}}


def space_summary(space: dict) -> dict:
    summary = {k: space[k] for k in ("name", "type", "spaceType", "displayName") if k in space}
    if space.get("spaceType") == "DIRECT_MESSAGE":
        summary["singleUserBotDm"] = True
    return summary


def build_event(kind: str, fmt: str, *, user: dict, space: dict, message: dict | None = None,
                function: str | None = None, parameters: dict | None = None,
                form_inputs: dict | None = None, app_command: dict | None = None,
                interaction_add: bool = False, dialog: bool = False) -> dict:
    if kind not in PAYLOAD_KEYS:
        raise ValueError(f"unknown event kind {kind}")
    if fmt == ADDON:
        return _addon_event(kind, user=user, space=space, message=message, function=function,
                            parameters=parameters, form_inputs=form_inputs,
                            app_command=app_command, interaction_add=interaction_add, dialog=dialog)
    return _classic_event(kind, user=user, space=space, message=message, function=function,
                          parameters=parameters, form_inputs=form_inputs, app_command=app_command, dialog=dialog)


def _classic_event(kind, *, user, space, message, function, parameters, form_inputs, app_command, dialog=False):
    event: dict = {
        "type": kind,
        "eventTime": rfc3339(time.time()),
        "user": user,
        "space": space_summary(space),
        "common": {**DEFAULT_COMMON, "hostApp": "CHAT"},
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
        event["isDialogEvent"] = dialog
        if dialog:
            event["dialogEventType"] = "SUBMIT_DIALOG"
        if form_inputs:
            event["common"]["formInputs"] = _form_inputs(form_inputs)
    if kind == "APP_COMMAND":
        event["appCommandMetadata"] = app_command
    return event


def _addon_event(kind, *, user, space, message, function, parameters, form_inputs, app_command,
                 interaction_add, dialog=False):
    common = {**DEFAULT_COMMON, "hostApp": "CHAT", "platform": "WEB"}
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
        payload = {"message": message, "space": summary, "isDialogEvent": dialog}
        if dialog:
            payload["dialogEventType"] = "SUBMIT_DIALOG"
    elif kind == "ADDED_TO_SPACE":
        payload = {"space": summary, "interactionAdd": interaction_add}
    elif kind == "REMOVED_FROM_SPACE":
        payload = {"space": summary}
    elif kind == "APP_COMMAND":
        payload = {"appCommandMetadata": app_command, "space": summary, "isDialogEvent": False}
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
