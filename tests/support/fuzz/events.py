"""Validly signed hostile Chat events: real events (as the local Chat service builds them) with
fields mutated, retyped, blown up, nested deep or spliced with raw JSON that Python reads badly;
and clicks with forged or foreign confirmations, or by someone other than the requester.

The fuzzer learns from the answers (``observe``): a confirmation card it got back joins a pool
that later clicks use, some as the requester should (exactly these may make a job), others as an
intruder would (these must never make one).

Cancel and Retry of the jobs that Run clicks made (``job_action``): as the job's card renders
its Retry button, typed, or as slash commands; by the requester (allowed), by someone else, with
another person's job id, a forged id or a job parameter of the wrong type.

Dialog events too: forms asked for (a slash command, a Fill in button), submitted with hostile or
forged inputs and parameters (another person's form, a form that does not exist, lines by the
thousand), closed. A valid submit may ask for a confirmation (and is counted as one); nothing else
may make anything.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ackflow_tools.emulators.chat.events import build_event
from tests.support.markup import message_of

from .corpus import RAW, command_line, hostile_string, hostile_value

ALICE = {"name": "users/2001", "displayName": "Alice", "email": "alice@example.com", "type": "HUMAN"}
BOB = {"name": "users/2002", "displayName": "Bob", "email": "bob@example.com", "type": "HUMAN"}
CAROL = {"name": "users/2003", "displayName": "Carol", "email": "carol@example.com", "type": "HUMAN"}  # an admin
SLASH_IDS = {"cancel": "4", "retry": "5"}  # the built-in slash commands (ackflow.app.commands.BUILTIN_IDS)
SPACES = ("spaces/fuzz", "spaces/fuzz-dm")


@dataclass
class Case:
    """One request: what it is (``name``), its bytes, and what may come back."""

    name: str
    body: bytes
    token: str | None = None  # None: the valid token of the run
    statuses: frozenset[int] = frozenset({200, 400, 413})
    user: dict | None = None
    legit_run: str | None = None  # the confirmation this Run click is entitled to turn into a job
    path: str = ""
    headers: dict = field(default_factory=dict)
    expect: Callable[[object], str | None] | None = None  # checks a 200's JSON: None, or what is wrong
    mail: object = None  # a press on a mail card (``mail_cards.Press``): its effect on the store is checked


@dataclass
class Pending:
    confirmation: str
    token: str
    function: str
    params: dict
    requester: dict
    role: str  # "run" (the requester will press Run), "intruder" (only others click it)


def paths_of(value, prefix=()):
    """Every path into a JSON tree (keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            yield from paths_of(item, (*prefix, index))


def _set(tree, path, value):
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value


def _delete(tree, path):
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]


class EventFuzzer:
    def __init__(self, rng: random.Random, fmt: str, endpoint_url: str):
        self.rng = rng
        self.fmt = fmt
        self.endpoint_url = endpoint_url
        self.pool: list[Pending] = []
        self.intruded: set[str] = set()  # confirmations only intruders clicked
        self.jobs: list[str] = []  # jobs made by legit runs (for hostile retry clicks)
        self.owners: dict[str, dict] = {}  # job id → the person who asked for it (and pressed Run)

    # -- learning from answers -----------------------------------------------------------------
    def observe(self, case: Case, status: int, body: dict | None) -> None:
        if status != 200 or not body or case.user is None:
            return
        message = message_of(body)
        for card in message.get("cardsV2") or []:
            for button in buttons(card):
                action = (button.get("onClick") or {}).get("action") or {}
                params = {p["key"]: p["value"] for p in action.get("parameters", [])}
                if "run" not in (action.get("function"), params.get("actionName")):
                    continue  # the Run button, known by its action: its label is in the person's language
                if "confirmation" in params and len(self.pool) < 200:
                    role = "run" if self.rng.random() < 0.3 else "intruder"
                    self.pool.append(Pending(params["confirmation"], params["token"], action["function"], params,
                                             case.user, role))

    # -- the cases ------------------------------------------------------------------------------
    def next_case(self) -> Case:
        roll = self.rng.random()
        if roll < 0.06 and self.pool:
            return self._pool_click()
        if roll < 0.10 and self.jobs:
            return self._job_case()
        if roll < 0.30:
            return self._message()
        if roll < 0.70:
            return self._mutated(self._message_event(), "message")
        if roll < 0.80:
            return self._mutated(self._forged_click_event(), "click")
        if roll < 0.86:
            return self._raw_body()
        if roll < 0.92:
            case = self._dialog()
            return case if self.rng.random() < 0.6 else self._mutated(json.loads(case.body), case.name)
        kind = self.rng.choice(("ADDED_TO_SPACE", "REMOVED_FROM_SPACE", "APP_COMMAND"))
        return self._mutated(self._event(kind), kind.lower())

    def _event(self, kind: str, user: dict | None = None, message: dict | None = None, **details) -> dict:
        space = {"name": self.rng.choice(SPACES), "type": "ROOM", "spaceType": "SPACE"}
        user = user or (ALICE if self.rng.random() < 0.7 else BOB)
        if kind == "APP_COMMAND" and "app_command" not in details:
            details["app_command"] = {"appCommandId": self.rng.choice((1, 2, 3, 10, 11, 99)),
                                      "appCommandType": "SLASH_COMMAND"}
        # a copy: mutations must never reach the shared users and messages
        return copy.deepcopy(build_event(kind, self.fmt, user=user, space=space, message=message, **details))

    def _message_event(self, text: str | None = None, user: dict | None = None) -> dict:
        text = command_line(self.rng) if text is None else text
        space = self.rng.choice(SPACES)
        message = {"name": f"{space}/messages/m{self.rng.randrange(10**9)}", "text": text, "argumentText": text,
                   "sender": user or ALICE, "thread": {"name": f"{space}/threads/t{self.rng.randrange(10**6)}"},
                   "space": {"name": space}}
        return self._event("MESSAGE", user=user, message=message)

    def _message(self) -> Case:
        user = ALICE if self.rng.random() < 0.7 else BOB
        event = self._message_event(user=user)
        return Case("message/well-formed", _dump(event), user=user)

    def _forged_click_event(self) -> dict:
        params = {"actionName": self.rng.choice(("run", "cancel", "retry", "nope", "")),
                  "confirmation": self.rng.choice(("c" + "z" * 12, hostile_string(self.rng), "")),
                  "token": self.rng.choice(("t", hostile_string(self.rng), ""))}
        if self.rng.random() < 0.3:
            params["job"] = self.rng.choice(self.jobs) if self.jobs and self.rng.random() < 0.5 else \
                hostile_string(self.rng)
        function = self.endpoint_url if self.fmt == "addon" else params["actionName"]
        return self._event("CARD_CLICKED", message=self._bot_message(), function=function, parameters=params)

    def _dialog(self) -> Case:
        """A form asked for, submitted or closed, as Chat sends it, with hostile parts."""
        user = ALICE if self.rng.random() < 0.7 else BOB
        other = BOB if user is ALICE else ALICE
        form = self.rng.choice(FORMS + (hostile_string(self.rng),))
        roll = self.rng.random()
        if roll < 0.2:  # a slash command set to open a dialog
            event = self._message_event(f"/{form} {command_line(self.rng)}", user=user)
            holder = event if self.fmt == "classic" else event["chat"]["messagePayload"]
            holder.update(isDialogEvent=True, dialogEventType="REQUEST_DIALOG")
            return Case("dialog/slash", _dump(event), user=user)
        if roll < 0.35:  # the Fill in button of a usage reply
            params = {"form": form, "text": self.rng.choice((command_line(self.rng), hostile_string(self.rng)))}
            kind, name = "REQUEST_DIALOG", "dialog/fill-in"
        elif roll < 0.45:
            params, kind, name = {"form": form}, "CANCEL_DIALOG", "dialog/cancel"
        else:
            params = {"form": form, "by": (user if self.rng.random() < 0.7 else other)["name"],
                      "step": self.rng.choice(("submit", "submit", "add", "remove", hostile_string(self.rng))),
                      "n.item": self.rng.choice(("1", "2", "12", "13", "99999", "-1", hostile_string(self.rng))),
                      "param": self.rng.choice(("item", "client", hostile_string(self.rng))),
                      "line": self.rng.choice(("1", "2", "0", "999", hostile_string(self.rng)))}
            kind, name = "SUBMIT_DIALOG", "dialog/submit"
        function = self.endpoint_url if self.fmt == "addon" else "form"
        if self.fmt == "addon":
            params["actionName"] = "form"
        inputs = {}
        for field_name in self.rng.sample(INPUTS, self.rng.randint(0, len(INPUTS))):
            if self.rng.random() < 0.15:
                inputs[field_name] = {"dateInput": {"msSinceEpoch": str(self.rng.choice(
                    (0, 1796083200000, -62135596800000, 253402300799999, 10**14)))}}
            else:
                inputs[field_name] = [self.rng.choice(PLAUSIBLE.get(field_name, ("x",)) + (hostile_string(self.rng),))]
        event = self._event("CARD_CLICKED", user=user, message=self._bot_message(), function=function,
                            parameters=params, form_inputs=inputs, dialog=kind)
        return Case(name, _dump(event), user=user)

    def _bot_message(self) -> dict:
        space = self.rng.choice(SPACES)
        return {"name": f"{space}/messages/b{self.rng.randrange(10**9)}", "sender": {"type": "BOT"},
                "thread": {"name": f"{space}/threads/t1"}, "space": {"name": space}}

    def _pool_click(self) -> Case:
        pending = self.rng.choice(self.pool)
        if pending.role == "run":  # always: a run that depends on a second coin makes a seed run none
            self.pool.remove(pending)
            params = dict(pending.params)
            event = self._event("CARD_CLICKED", user=pending.requester, message=self._bot_message(),
                                function=pending.function, parameters=params)
            return Case("click/legit-run", _dump(event), user=pending.requester, legit_run=pending.confirmation)
        # an intruder: someone else with the real token, or the requester with a forged one
        params = dict(pending.params)
        function = pending.function
        trick = self.rng.choice(("other-user", "wrong-token", "other-id", "swapped", "cancel-by-other"))
        user = pending.requester
        if trick in ("other-user", "cancel-by-other"):
            user = BOB if pending.requester["email"] == ALICE["email"] else ALICE
            if trick == "cancel-by-other":
                if self.fmt == "addon":
                    params["actionName"] = "cancel"
                else:
                    function = "cancel"
        elif trick == "wrong-token":
            params["token"] = _other_last(params["token"])
        elif trick == "other-id":
            params["confirmation"] = _other_last(params["confirmation"])
        else:
            other = self.rng.choice(self.pool)
            params["token"] = other.token if other is not pending else "x"
        if pending.role == "intruder":
            self.intruded.add(pending.confirmation)
        event = self._event("CARD_CLICKED", user=user, message=self._bot_message(), function=function,
                            parameters=params)
        return Case(f"click/{trick}", _dump(event), user=user)

    # -- Cancel and Retry of jobs that exist ----------------------------------------------------
    def job_action(self, action: str, how: str, job, user: dict, params: dict | None = None,
                   function: str | None = None) -> Case:
        """``action`` ("cancel" or "retry") of the job ``job`` (any JSON value in a click) by
        ``user``: a click (with ``params`` and ``function`` as a job card renders its button, or
        built as the app builds one), the command typed (``text``), or the slash command."""
        if how == "click":
            if params is None:
                params = {"job": job, **({"actionName": action} if self.fmt == "addon" else {})}
            function = function or (self.endpoint_url if self.fmt == "addon" else action)
            event = self._event("CARD_CLICKED", user=user, message=self._bot_message(), function=function,
                                parameters=params)
        else:
            text = f"{action} {job}" if how == "text" else f"/{action} {job}"
            event = self._message_event(text, user=user)
            if how == "slash":  # as Chat sends a slash command with arguments
                holder = event if self.fmt == "classic" else event["chat"]["messagePayload"]
                message = holder["message"]
                message.update(argumentText=f" {job}", slashCommand={"commandId": SLASH_IDS[action]}, annotations=[{
                    "type": "SLASH_COMMAND", "startIndex": 0, "length": len(action) + 1,
                    "slashCommand": {"type": "INVOKE", "commandName": f"/{action}",
                                     "commandId": SLASH_IDS[action]}}])
        return Case(f"job/{action} {how}", _dump(event), user=user)

    def _job_case(self) -> Case:
        """Cancel or Retry of a real job: by its requester (allowed), by someone else, with another
        person's job id, with a forged id, or with a job parameter of the wrong type."""
        rng = self.rng
        job = rng.choice(self.jobs)
        owner = self.owners.get(job, ALICE)
        other = BOB if owner["email"] == ALICE["email"] else ALICE
        action, how = rng.choice(("retry", "retry", "cancel")), rng.choice(("click", "click", "text", "slash"))
        trick = rng.choice(("own", "other-user", "other-user", "other-job", "forged", "wrong-type"))
        user, target = owner, job
        if trick == "other-user":
            user = other
        elif trick == "other-job":  # the requester of one job, with the id of someone else's
            theirs = [j for j in self.jobs if self.owners.get(j, ALICE)["email"] != owner["email"]]
            target = rng.choice(theirs) if theirs else _other_last(job)
        elif trick == "forged":
            target = rng.choice((_other_last(job), job.upper(), f"{job} ", f" {job}", f"{job}/../{job}", job[:-1],
                                 job + job[-1], "j" + "z" * 10, f"{job}\u0000", hostile_string(rng)))
        elif trick == "wrong-type":
            how = "click"
            target = rng.choice(([job], {"id": job}, {"job": job}, 7, 2**64, None, True, 1e308, [[job]]))
        case = self.job_action(action, how, target, user)
        case.name = f"job/{action} {how} {trick}"
        return case

    # -- mutations ------------------------------------------------------------------------------
    def _mutated(self, event: dict, what: str) -> Case:
        raws: dict[str, str] = {}
        names = []
        for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
            paths = [p for p in paths_of(event) if p]
            path = self.rng.choice(paths)
            op = self.rng.random()
            label = ".".join(map(str, path))
            if op < 0.35:
                _set(event, path, hostile_value(self.rng))
                names.append(f"retype {label}")
            elif op < 0.5:
                _delete(event, path)
                names.append(f"drop {label}")
            elif op < 0.6:
                _set(event, path, {"unexpected": hostile_value(self.rng), "nested": [[[["MESSAGE"]]]]})
                names.append(f"object at {label}")
            elif op < 0.8:
                marker = f"@@raw{len(raws)}@@"
                raws[marker] = self.rng.choice(RAW)
                _set(event, path, marker)
                names.append(f"raw at {label}")
            else:
                _set(event, path, hostile_string(self.rng))
                names.append(f"string at {label}")
        text = json.dumps(event, ensure_ascii=self.rng.random() < 0.5)
        for marker, raw in raws.items():
            text = text.replace(json.dumps(marker), raw)
        return Case(f"{what}/{'; '.join(names)}", text.encode("utf-8", "surrogatepass"))

    def _raw_body(self) -> Case:
        event = _dump(self._message_event())
        choices = {
            "empty": b"", "null": b"null", "list": b"[]", "string": b'"event"', "number": b"42",
            "truncated": event[: self.rng.randrange(1, len(event))], "bom": b"\xef\xbb\xbf" + event,
            "latin-1": event.replace(b"echo", "\xe9cho".encode("latin-1")), "invalid utf-8": event + b"\xff\xfe",
            "trailing garbage": event + b"}}", "duplicate keys": b'{"type": "MESSAGE", "type": ["x"]}',
            "deep": b"[" * 100_000 + b"]" * 100_000, "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
            "big": b'{"type": "MESSAGE", "pad": "' + b"x" * 2_000_000 + b'"}',
            "many keys": json.dumps({f"k{i}": i for i in range(20_000)}).encode(),
        }
        name = self.rng.choice(sorted(choices))
        return Case(f"raw/{name}", choices[name])


FORMS = ("sleep", "echo", "newcase", "estimate", "nap", "fail", "tick", "help", "status", "nosuch", "")
INPUTS = ("seconds", "text", "client", "client.new", "title", "due", "portal", "times", "always", "case",
          "item.1.0", "item.1.1", "item.1.2", "item.2.0", "item.2.1", "item.2.2", "item.13.0", "owner")
PLAUSIBLE = {"seconds": ("1", "２"), "text": ("hello",), "client": ("ACME", ""), "client.new": ("",),
             "title": ("金型 A-12",), "case": ("2026-001",), "item.1.0": ("金型設計",), "item.1.1": ("1",),
             "item.1.2": ("350000",)}


def _other_last(text: str) -> str:
    """``text`` with its last character changed (never to itself)."""
    return text[:-1] + ("z" if text[-1] != "z" else "y")


def buttons(card: dict):
    for section in (card.get("card") or {}).get("sections") or []:
        for widget in section.get("widgets") or []:
            yield from (widget.get("buttonList") or {}).get("buttons") or []


def is_run(button: dict) -> bool:
    """A Run button (実行 to a Japanese speaker): known by its action, whatever its label's language."""
    action = (button.get("onClick") or {}).get("action") or {}
    params = {p.get("key"): p.get("value") for p in action.get("parameters") or []}
    return "run" in (action.get("function"), params.get("actionName"))


def _dump(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")
