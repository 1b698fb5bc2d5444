"""A dialog in front of the app, for the browser chat's test: the app does not open dialogs yet,
so this small endpoint stands where Chat sends events and does what a command with parameters
will do (Google's documented dialog flow), passing everything else to the real webhook unchanged.

``/sleep`` without a number opens a dialog (selection, text and date inputs); its Submit is turned
into the command ``sleep N`` and sent to the webhook as a MESSAGE event with the same bearer token
(a classic, project-number token is for the app, whatever its URL), whose answer (the confirmation
card) is the dialog's answer, which closes it."""

from __future__ import annotations

import json

import requests
from werkzeug.wrappers import Request, Response

DIALOG = {
    "header": {"title": "Sleep", "subtitle": "How long?"},
    "sections": [{"widgets": [
        {"selectionInput": {"name": "seconds", "label": "Seconds", "type": "RADIO_BUTTON",
                            "items": [{"text": "2 s", "value": "2", "selected": False},
                                      {"text": "3 s", "value": "3", "selected": True}]}},
        {"textInput": {"name": "note", "label": "Note", "hintText": "shown nowhere"}},
        {"dateTimePicker": {"name": "when", "label": "Remind me", "type": "DATE_ONLY"}},
    ]}],
    "fixedFooter": {"primaryButton": {"text": "Submit", "onClick": {"action": {
        "function": "submitSleep", "parameters": [{"key": "form", "value": "sleep"}]}}}},
}


class DialogFront:
    def __init__(self, webhook_url: str):
        self.webhook_url = webhook_url
        self.submitted: list[dict] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        event = json.loads(request.get_data() or b"{}")
        token = request.headers.get("Authorization", "")
        message = event.get("message") or {}
        if event.get("type") == "MESSAGE" and message.get("text", "").strip() == "/sleep":
            body = {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": DIALOG}}}}
        elif event.get("type") == "CARD_CLICKED" and event.get("isDialogEvent"):
            inputs = event["common"]["formInputs"]
            self.submitted.append(inputs)
            seconds = inputs["seconds"]["stringInputs"]["value"][0]
            typed = {k: v for k, v in message.items() if k not in ("slashCommand", "annotations")}
            command = dict(event, type="MESSAGE", message={**typed, "text": f"sleep {seconds}",
                                                           "argumentText": f"sleep {seconds}"})
            for key in ("action", "isDialogEvent", "dialogEventType"):
                command.pop(key, None)
            command["common"] = {k: v for k, v in event["common"].items()
                                 if k not in ("formInputs", "invokedFunction", "parameters")}
            body = self._forward(command, token)
        else:
            body = self._forward(event, token)
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)

    def _forward(self, event: dict, token: str) -> dict:
        answer = requests.post(self.webhook_url, json=event, headers={"Authorization": token}, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content.strip() else {}
