"""The user side of the local Chat service: what a person does in a space becomes an event that is
signed, POSTed to the app's endpoint as Google Chat would, and the app's synchronous answer is
applied to the space (a new message, or an update of the clicked message) or to the person's
dialog (opened, drawn again, closed: ``dialogs.py``).

Each person's client (language, time zone, platform) goes with their events: a default for the
service, one per person (``set_client``), or given with one action.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field

import requests

from ackflow.auth.signing import LocalSigner

from ..web import GoogleError
from .dialogs import DialogDesk, OpenDialog, dialog_answer, find_dialog_button
from .events import ADDON, CLASSIC, FORMATS, Client, build_event, client_of
from .service import ChatService, canonical_message, new_id

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
    dialog_commands: list[str] = field(default_factory=list)  # slash commands set to "Opens a dialog"
    timeout: float = APP_TIMEOUT

    def addon_signer_email(self) -> str:
        return f"service-{self.project_number}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"

    def to_dict(self) -> dict:
        return {
            "url": self.url, "audience": self.audience, "projectNumber": self.project_number,
            "format": self.format, "displayName": self.display_name,
            "slashCommands": self.slash_commands, "dialogCommands": self.dialog_commands, "timeout": self.timeout,
        }

    def update(self, data: dict) -> None:
        mapping = {"url": "url", "audience": "audience", "projectNumber": "project_number",
                   "format": "format", "displayName": "display_name",
                   "slashCommands": "slash_commands", "dialogCommands": "dialog_commands", "timeout": "timeout"}
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
                 google_signer: LocalSigner, client: Client | None = None):
        self.service = service
        self.app = app
        self.chat_signer = chat_signer
        self.google_signer = google_signer
        self.http = requests.Session()
        self.default_client = client or Client()
        self.clients: dict[str, Client] = {}  # user name -> their client
        self.dialogs = DialogDesk()

    # -- who is where, on what ------------------------------------------------------------------
    def client(self, user: dict, overrides: dict | None = None) -> Client:
        """The person's client, with what one action sets (``locale``, ``timeZone``, ``platform``)."""
        base = self.clients.get(user.get("name", ""), self.default_client)
        try:
            return client_of(overrides or {}, base)
        except ValueError as exc:
            raise GoogleError("INVALID_ARGUMENT", str(exc)) from exc

    def set_client(self, user_name: str, settings: dict) -> Client:
        self.clients[user_name] = self.client({"name": user_name}, settings)
        return self.clients[user_name]

    # -- what a person does ----------------------------------------------------------------------
    def send_message(self, space: str, user: dict, text: str, *, thread: str | None = None,
                     mention: bool = False, fmt: str | None = None, client: dict | None = None) -> dict:
        """Post ``text``; a slash command set to open a dialog posts nothing and asks for the dialog."""
        self.service.ensure_space(space)
        seen_by = self.client(user, client)
        message = self._compose(user, text, mention)
        fmt = fmt or self.app.format
        slash = message.get("slashCommand")
        if slash and _slash_name(message) in self.app.dialog_commands:
            message = {**message, "name": f"{space}/messages/{new_id()}.{new_id()}", "space": {"name": space}}
            meta = {"appCommandId": int(slash["commandId"]), "appCommandType": "SLASH_COMMAND"}
            if fmt == ADDON:
                return self._deliver("APP_COMMAND", space, user, message, fmt, app_command=meta,
                                     dialog="REQUEST_DIALOG", client=seen_by)
            return self._deliver("MESSAGE", space, user, message, fmt, dialog="REQUEST_DIALOG", client=seen_by)
        posted = self.service.insert_user_message(space, message, thread)
        if slash and fmt == ADDON:
            # Add-on apps receive slash commands as appCommandPayload; classic apps as MESSAGE.
            meta = {"appCommandId": int(slash["commandId"]), "appCommandType": "SLASH_COMMAND"}
            return self._deliver("APP_COMMAND", space, user, posted, fmt, app_command=meta, client=seen_by)
        return self._deliver("MESSAGE", space, user, posted, fmt, client=seen_by)

    def app_command(self, space: str, user: dict, command_id: int, text: str = "",
                    command_type: str = "SLASH_COMMAND", fmt: str | None = None, client: dict | None = None) -> dict:
        """APP_COMMAND: a slash or quick command, delivered with ``appCommandMetadata``."""
        self.service.ensure_space(space)
        message = None
        if command_type == "SLASH_COMMAND":
            message = self.service.insert_user_message(space, self._compose(user, text, False), None)
        meta = {"appCommandId": command_id, "appCommandType": command_type}
        return self._deliver("APP_COMMAND", space, user, message, fmt, app_command=meta,
                             client=self.client(user, client))

    def click(self, space: str, user: dict, message_name: str, button: str,
              fmt: str | None = None, form_inputs: dict | None = None, dialog_action: dict | None = None,
              client: dict | None = None) -> dict:
        """A button pressed on a message (one with ``interaction: OPEN_DIALOG`` asks for a dialog),
        or, with ``dialog_action`` (a button's ``onClick.action`` as a Chat client would hold it),
        a dialog submitted with its ``formInputs``."""
        if dialog_action is not None:
            return self.submit_dialog(space, user, action=dialog_action, form_inputs=form_inputs, fmt=fmt,
                                      client=client, message_name=message_name)
        message = self.service.get_message(message_name)
        action = find_button(message, button)
        if action is None:
            raise GoogleError("NOT_FOUND", f"No button {button!r} on {message_name}.")
        params = {p["key"]: p["value"] for p in action.get("parameters", [])}
        opens = action.get("interaction") == "OPEN_DIALOG"
        return self._deliver("CARD_CLICKED", space, user, message, fmt, function=action.get("function"),
                             parameters=params, form_inputs=form_inputs,
                             dialog="REQUEST_DIALOG" if opens else None, client=self.client(user, client))

    def submit_dialog(self, space: str, user: dict, *, button: str | None = None, action: dict | None = None,
                      form_inputs: dict | None = None, fmt: str | None = None, client: dict | None = None,
                      message_name: str | None = None) -> dict:
        """Press ``button`` in the person's open dialog, sending its ``formInputs``. An explicit
        ``action`` is sent as it is, open dialog or not: what a replayed or forged submit looks like."""
        opened = self.dialogs.get(space, user.get("name", ""))
        if action is None:
            if opened is None:
                raise GoogleError("FAILED_PRECONDITION", "No dialog is open for this user in this space.")
            action = find_dialog_button(opened.card, button or "")
            if action is None:
                raise GoogleError("NOT_FOUND", f"The open dialog has no button {button!r}.")
        if not isinstance(action, dict):
            raise GoogleError("INVALID_ARGUMENT", "A dialog's button action must be an object.")
        origin = opened.origin if opened else None
        if origin is None and message_name:
            try:
                origin = self.service.get_message(message_name)
            except GoogleError:
                origin = None
        params = {str(p.get("key", "")): str(p.get("value", "")) for p in action.get("parameters") or []}
        return self._deliver("CARD_CLICKED", space, user, origin, fmt or (opened.format if opened else None),
                             function=action.get("function"), parameters=params, form_inputs=form_inputs or {},
                             dialog="SUBMIT_DIALOG", client=self.client(user, client))

    def cancel_dialog(self, space: str, user: dict, fmt: str | None = None, client: dict | None = None) -> dict:
        """Close the open dialog with its close icon: the app hears CANCEL_DIALOG; it closes anyway."""
        opened = self.dialogs.get(space, user.get("name", ""))
        if opened is None:
            raise GoogleError("FAILED_PRECONDITION", "No dialog is open for this user in this space.")
        result = self._deliver("CARD_CLICKED", space, user, opened.origin, fmt or opened.format,
                               dialog="CANCEL_DIALOG", client=self.client(user, client))
        self.dialogs.close(space, user.get("name", ""))
        return result

    def open_dialog(self, space: str, user_name: str) -> dict:
        opened = self.dialogs.get(space, user_name)
        if opened is None:
            raise GoogleError("NOT_FOUND", "No dialog is open for this user in this space.")
        return {"dialog": opened.card, "format": opened.format, "origin": (opened.origin or {}).get("name")}

    def add_to_space(self, space: str, user: dict, fmt: str | None = None,
                     display_name: str | None = None, space_type: str = "SPACE", client: dict | None = None) -> dict:
        self.service.ensure_space(space, display_name, space_type)
        return self._deliver("ADDED_TO_SPACE", space, user, None, fmt, client=self.client(user, client))

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
                "slashCommand": {"bot": app_user, "type": "INVOKE", "commandName": command, "commandId": command_id,
                                 "triggersDialog": command in self.app.dialog_commands},
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
        dialog = details.get("dialog")
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
            if dialog:
                result["reply"] = self._apply_dialog(dialog, fmt, space, user, message, body)
            else:
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
        if dialog_answer(body, fmt) is not None:
            raise GoogleError("INVALID_ARGUMENT", "A dialog can only be opened in answer to a dialog request "
                              "(a slash command set to open one, or a button with interaction OPEN_DIALOG).")
        reply, update = self._message_of(body, fmt)
        canonical_message(reply)  # the same validation the API applies
        if update:
            return {"action": "updated", "message": self._update(kind, message, reply)}
        return {"action": "created", "message": self._post(space, message, reply)}

    def _message_of(self, body: dict, fmt: str) -> tuple[dict, bool]:
        """The message an answer carries, and whether it updates the clicked one."""
        if fmt == ADDON:
            action = ((body.get("hostAppDataAction") or {}).get("chatDataAction") or {})
            if "createMessageAction" in action:
                return action["createMessageAction"].get("message") or {}, False
            if "updateMessageAction" in action:
                return action["updateMessageAction"].get("message") or {}, True
            raise GoogleError("INVALID_ARGUMENT", "Unsupported add-on response (expected "
                              "hostAppDataAction.chatDataAction create/updateMessageAction).")
        reply = copy.deepcopy(body)
        response_type = (reply.pop("actionResponse", None) or {}).get("type", "NEW_MESSAGE")
        if response_type not in ("NEW_MESSAGE", "UPDATE_MESSAGE", "TYPE_UNSPECIFIED"):
            raise GoogleError("UNIMPLEMENTED", f"actionResponse {response_type} is not supported locally.")
        return reply, response_type == "UPDATE_MESSAGE"

    def _update(self, kind: str, message: dict | None, reply: dict) -> dict:
        if kind != "CARD_CLICKED" or message is None:
            raise GoogleError("INVALID_ARGUMENT", "UPDATE_MESSAGE answers only a button click.")
        if message["sender"].get("type") != "BOT":
            raise GoogleError("PERMISSION_DENIED", "An app can only update its own messages.")
        mask = [k for k in ("text", "cardsV2") if k in reply] or ["text", "cardsV2"]
        return self.service.update_message(message["name"], reply, mask, False, api_call=False)

    def _post(self, space: str, message: dict | None, reply: dict) -> dict:
        thread = ((message or {}).get("thread") or {}).get("name")
        if thread is None:
            thread = f"{space}/threads/{int(time.time() * 1000)}"
        return self.service.insert_app_reply(space, reply, thread)

    def _apply_dialog(self, dialog: str, fmt: str, space: str, user: dict, message: dict | None,
                      body: dict) -> dict:
        """Apply an answer to a dialog event to the person's dialog (and the space, for a message)."""
        who = user.get("name", "")
        answer = dialog_answer(body, fmt) if body else None
        if dialog == "CANCEL_DIALOG":  # closed whatever the app says; a notice it gives is shown
            self.dialogs.close(space, who)
            return {"action": "dialog-closed", "notice": (answer or {}).get("notice", "")}
        if dialog == "REQUEST_DIALOG":
            if answer is None or answer["action"] != "dialog":
                raise GoogleError("INVALID_ARGUMENT", "A dialog request must be answered with a dialog.")
            self.dialogs.put(space, who, OpenDialog(answer["dialog"], fmt, message, user))
            return answer
        if answer is None:  # a message: Chat closes the dialog and posts it (or updates the origin)
            reply, update = self._message_of(body, fmt)
            canonical_message(reply)
            self.dialogs.close(space, who)
            if update:
                return {"action": "updated", "message": self._update("CARD_CLICKED", message, reply),
                        "dialogClosed": True}
            return {"action": "created", "message": self._post(space, message, reply), "dialogClosed": True}
        opened = self.dialogs.get(space, who)
        if answer["action"] == "dialog":
            self.dialogs.put(space, who, OpenDialog(answer["dialog"], fmt, opened.origin if opened else message, user))
        elif answer["action"] == "dialog-closed":
            self.dialogs.close(space, who)
        return answer


def _slash_name(message: dict) -> str | None:
    for annotation in message.get("annotations", []):
        if annotation.get("type") == "SLASH_COMMAND":
            return annotation["slashCommand"]["commandName"]
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
            yield from _widget_buttons(section.get("widgets", []))
        footer = body.get("fixedFooter", {})
        for key in ("primaryButton", "secondaryButton"):
            if key in footer:
                yield footer[key]


def _widget_buttons(widgets: list):
    for widget in widgets:
        yield from widget.get("buttonList", {}).get("buttons", [])
        if "button" in widget.get("decoratedText", {}):
            yield widget["decoratedText"]["button"]
        for column in widget.get("columns", {}).get("columnItems", []):
            yield from _widget_buttons(column.get("widgets", []))
