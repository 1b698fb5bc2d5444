"""The user side of the local Chat service: what a person does in a space becomes an event that is
signed, POSTed to the app's endpoint as Google Chat would, and the app's synchronous answer is
applied to the space (a new message, or an update of the clicked message).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field

import requests

from ackflow.auth.signing import LocalSigner

from ..web import GoogleError
from .events import ADDON, CLASSIC, FORMATS, build_event
from .service import ChatService, canonical_message

CHAT_ISSUER = "chat@system.gserviceaccount.com"
GOOGLE_ISSUER = "https://accounts.google.com"
APP_TIMEOUT = 30.0  # Chat shows an error when an app does not answer within 30 seconds


@dataclass
class AppEndpoint:
    """How the app is configured in the Chat API console."""

    url: str = ""
    audience: str = "project-number"  # or "endpoint-url"
    project_number: str = "123456789012"
    format: str = CLASSIC
    display_name: str = "Ackflow"
    slash_commands: dict[str, int] = field(default_factory=dict)  # "/echo" -> command id
    timeout: float = APP_TIMEOUT

    def addon_signer_email(self) -> str:
        return f"service-{self.project_number}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"

    def to_dict(self) -> dict:
        return {
            "url": self.url, "audience": self.audience, "projectNumber": self.project_number,
            "format": self.format, "displayName": self.display_name,
            "slashCommands": self.slash_commands, "timeout": self.timeout,
        }

    def update(self, data: dict) -> None:
        mapping = {"url": "url", "audience": "audience", "projectNumber": "project_number",
                   "format": "format", "displayName": "display_name",
                   "slashCommands": "slash_commands", "timeout": "timeout"}
        for key, value in data.items():
            if key not in mapping:
                raise GoogleError("INVALID_ARGUMENT", f"Unknown app setting {key}.")
            setattr(self, mapping[key], value)
        if self.audience not in ("project-number", "endpoint-url"):
            raise GoogleError("INVALID_ARGUMENT", "audience must be project-number or endpoint-url.")
        if self.format not in FORMATS:
            raise GoogleError("INVALID_ARGUMENT", f"format must be one of {', '.join(FORMATS)}.")


class UserSide:
    def __init__(self, service: ChatService, app: AppEndpoint, chat_signer: LocalSigner,
                 google_signer: LocalSigner):
        self.service = service
        self.app = app
        self.chat_signer = chat_signer
        self.google_signer = google_signer
        self.http = requests.Session()

    # -- what a person does ----------------------------------------------------------------------
    def send_message(self, space: str, user: dict, text: str, *, thread: str | None = None,
                     mention: bool = False, fmt: str | None = None) -> dict:
        self.service.ensure_space(space)
        message = self._compose(user, text, mention)
        posted = self.service.insert_user_message(space, message, thread)
        fmt = fmt or self.app.format
        slash = posted.get("slashCommand")
        if slash and fmt == ADDON:
            # Add-on apps receive slash commands as appCommandPayload; classic apps as MESSAGE.
            meta = {"appCommandId": int(slash["commandId"]), "appCommandType": "SLASH_COMMAND"}
            return self._deliver("APP_COMMAND", space, user, posted, fmt, app_command=meta)
        return self._deliver("MESSAGE", space, user, posted, fmt)

    def app_command(self, space: str, user: dict, command_id: int, text: str = "",
                    command_type: str = "SLASH_COMMAND", fmt: str | None = None) -> dict:
        """APP_COMMAND: a slash or quick command, delivered with ``appCommandMetadata``."""
        self.service.ensure_space(space)
        message = None
        if command_type == "SLASH_COMMAND":
            message = self.service.insert_user_message(space, self._compose(user, text, False), None)
        meta = {"appCommandId": command_id, "appCommandType": command_type}
        return self._deliver("APP_COMMAND", space, user, message, fmt, app_command=meta)

    def click(self, space: str, user: dict, message_name: str, button: str,
              fmt: str | None = None, form_inputs: dict | None = None, dialog_action: dict | None = None) -> dict:
        """A button pressed on a message, or (``dialog_action``: the ``onClick.action`` of a
        button in a dialog the message's app opened, as the Chat client holds it) a dialog
        submitted, with its ``formInputs``."""
        message = self.service.get_message(message_name)
        action = dialog_action if dialog_action is not None else find_button(message, button)
        if action is None:
            raise GoogleError("NOT_FOUND", f"No button {button!r} on {message_name}.")
        params = {p["key"]: p["value"] for p in action.get("parameters", [])}
        return self._deliver("CARD_CLICKED", space, user, message, fmt,
                             function=action.get("function"), parameters=params,
                             form_inputs=form_inputs, dialog=dialog_action is not None)

    def add_to_space(self, space: str, user: dict, fmt: str | None = None,
                     display_name: str | None = None, space_type: str = "SPACE") -> dict:
        self.service.ensure_space(space, display_name, space_type)
        return self._deliver("ADDED_TO_SPACE", space, user, None, fmt)

    def remove_from_space(self, space: str, user: dict, fmt: str | None = None) -> dict:
        self.service.ensure_space(space)
        return self._deliver("REMOVED_FROM_SPACE", space, user, None, fmt)

    # -- mechanics -------------------------------------------------------------------------------
    def _compose(self, user: dict, text: str, mention: bool) -> dict:
        message: dict = {"sender": user, "text": text, "argumentText": text, "annotations": []}
        app_user = self.service.app.as_user()
        if mention:
            tag = f"@{self.app.display_name}"
            message["text"] = f"{tag} {text}"
            message["argumentText"] = f" {text}"
            message["annotations"].append({
                "type": "USER_MENTION", "startIndex": 0, "length": len(tag),
                "userMention": {"user": app_user, "type": "MENTION"},
            })
        command, _, rest = message["text"].partition(" ")
        if command.startswith("/") and command in self.app.slash_commands:
            command_id = str(self.app.slash_commands[command])
            message["argumentText"] = f" {rest}" if rest else ""
            message["slashCommand"] = {"commandId": command_id}
            message["annotations"].append({
                "type": "SLASH_COMMAND", "startIndex": 0, "length": len(command),
                "slashCommand": {"bot": app_user, "type": "INVOKE", "commandName": command,
                                 "commandId": command_id, "triggersDialog": False},
            })
        if not message["annotations"]:
            del message["annotations"]
        return message

    def token(self, fmt: str) -> str:
        """A bearer token for an event in format ``fmt``, as Chat would sign it for this app."""
        if fmt == ADDON:
            return self.google_signer.id_token(
                issuer=GOOGLE_ISSUER, audience=self.app.url, email=self.app.addon_signer_email())
        if self.app.audience == "endpoint-url":
            return self.google_signer.id_token(issuer=GOOGLE_ISSUER, audience=self.app.url, email=CHAT_ISSUER)
        now = int(time.time())
        return self.chat_signer.sign(
            {"iss": CHAT_ISSUER, "aud": self.app.project_number, "iat": now, "exp": now + 3600})

    def _deliver(self, kind: str, space: str, user: dict, message: dict | None, fmt: str | None,
                 **details) -> dict:
        fmt = fmt or self.app.format
        if fmt not in FORMATS:
            raise GoogleError("INVALID_ARGUMENT", f"format must be one of {', '.join(FORMATS)}.")
        if not self.app.url:
            raise GoogleError("FAILED_PRECONDITION", "No app endpoint is configured.")
        space_doc = self.service.ensure_space(space)
        event = build_event(kind, fmt, user=user, space=space_doc, message=message, **details)
        token = self.token(fmt)
        if fmt == ADDON:
            event["authorizationEventObject"] = {"systemIdToken": token}
        result: dict = {"event": event, "format": fmt}
        started = time.perf_counter()
        try:
            response = self.http.post(
                self.app.url, data=json.dumps(event), timeout=self.app.timeout,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                         "User-Agent": "Google-Dynamite"},
            )
        except requests.Timeout:
            return self._fail(space, result, f"{self.app.display_name} is not responding (no answer in "
                                             f"{self.app.timeout:g} s).", started)
        except requests.RequestException as exc:
            return self._fail(space, result, f"{self.app.display_name} is unreachable: {exc}", started)
        result["latencyMs"] = (time.perf_counter() - started) * 1000
        result["status"] = response.status_code
        if response.status_code != 200:
            return self._fail(space, result, f"{self.app.display_name} answered HTTP "
                                             f"{response.status_code}: {response.text[:300]}", None)
        try:
            body = response.json() if response.content.strip() else {}
        except ValueError:
            return self._fail(space, result, "The app's answer is not JSON.", None)
        result["response"] = body
        try:
            result["reply"] = self._apply(kind, fmt, space, message, body)
        except GoogleError as exc:
            return self._fail(space, result, f"The app's answer was refused: {exc.message}", None)
        return result

    def _fail(self, space: str, result: dict, error: str, started: float | None) -> dict:
        if started is not None:
            result["latencyMs"] = (time.perf_counter() - started) * 1000
        result["error"] = error
        self.service.note(space, "app-error", {"error": error})
        return result

    def _apply(self, kind: str, fmt: str, space: str, message: dict | None, body: dict) -> dict:
        """Apply the synchronous answer: a new message in the thread, or an update in place."""
        if not body:
            return {"action": "none"}
        dialog = _dialog_answer(body)
        if dialog is not None:
            return dialog
        if fmt == ADDON:
            action = ((body.get("hostAppDataAction") or {}).get("chatDataAction") or {})
            if "createMessageAction" in action:
                reply, update = action["createMessageAction"].get("message") or {}, False
            elif "updateMessageAction" in action:
                reply, update = action["updateMessageAction"].get("message") or {}, True
            else:
                raise GoogleError("INVALID_ARGUMENT", "Unsupported add-on response (expected "
                                  "hostAppDataAction.chatDataAction create/updateMessageAction).")
        else:
            reply = copy.deepcopy(body)
            response_type = (reply.pop("actionResponse", None) or {}).get("type", "NEW_MESSAGE")
            if response_type not in ("NEW_MESSAGE", "UPDATE_MESSAGE", "TYPE_UNSPECIFIED"):
                raise GoogleError("UNIMPLEMENTED", f"actionResponse {response_type} is not supported locally.")
            update = response_type == "UPDATE_MESSAGE"
        canonical_message(reply)  # the same validation the API applies
        if update:
            if kind != "CARD_CLICKED" or message is None:
                raise GoogleError("INVALID_ARGUMENT", "UPDATE_MESSAGE answers only a button click.")
            if message["sender"].get("type") != "BOT":
                raise GoogleError("PERMISSION_DENIED", "An app can only update its own messages.")
            mask = [k for k in ("text", "cardsV2") if k in reply] or ["text", "cardsV2"]
            updated = self.service.update_message(message["name"], reply, mask, False, api_call=False)
            return {"action": "updated", "message": updated}
        thread = (message or {}).get("thread", {}).get("name")
        if thread is None:
            thread = f"{space}/threads/{int(time.time() * 1000)}"
        created = self.service.insert_app_reply(space, reply, thread)
        return {"action": "created", "message": created}


def _dialog_answer(body: dict) -> dict | None:
    """A dialog opened (classic ``actionResponse.type DIALOG`` with ``dialogAction.dialog``, add-on
    ``action.navigations[].pushCard``) or closed (``dialogAction.actionStatus``, ``endNavigation``):
    the Chat client shows or closes it; nothing is posted in the space."""
    action_response = body.get("actionResponse") or {}
    if action_response.get("type") == "DIALOG":
        dialog_action = action_response.get("dialogAction") or {}
        if "dialog" in dialog_action:
            return {"action": "dialog", "dialog": dialog_action["dialog"].get("body") or {}}
        return {"action": "dialog-closed", "status": dialog_action.get("actionStatus")}
    for navigation in (body.get("action") or {}).get("navigations") or []:
        if "pushCard" in navigation or "updateCard" in navigation:
            return {"action": "dialog", "dialog": navigation.get("pushCard") or navigation.get("updateCard")}
        if "endNavigation" in navigation:
            return {"action": "dialog-closed", "status": None}
    return None


def find_button(message: dict, label: str) -> dict | None:
    """The ``onClick.action`` of the button whose text is ``label`` (case-insensitive)."""
    wanted = label.strip().lower()
    for button in iter_buttons(message):
        if button.get("text", "").strip().lower() == wanted:
            return (button.get("onClick") or {}).get("action")
    return None


def iter_buttons(message: dict):
    for card in message.get("cardsV2", []):
        body = card.get("card", {})
        for section in body.get("sections", []):
            for widget in section.get("widgets", []):
                yield from widget.get("buttonList", {}).get("buttons", [])
                if "button" in widget.get("decoratedText", {}):
                    yield widget["decoratedText"]["button"]
        footer = body.get("fixedFooter", {})
        for key in ("primaryButton", "secondaryButton"):
            if key in footer:
                yield footer[key]
