"""Hostile presses on the mail cards' buttons and the open-a-case form, validly signed: the cards
the worker really posted in the office space (read from the local Chat service), pressed as Chat
sends each button (Open a case: a dialog request; Ignore: a click; a card drawn before the form
existed: a plain press), and the form's Next, Add line and Remove as its real buttons send them.

The tricks: a forged mail id (another's last letter changed, upper case, cut short, a mailbox's or
a client domain's record, hostile strings), a real mail pressed from another space, a mail already
ignored or opened, a form opened by someone else or bound to another mail, the wrong event type,
hostile form inputs (huge, control and bidi characters, every input type, missing fields), and
Run and Cancel of the confirmations the form answers with, by the requester and by others.

The oracle (``check``), from the store before and after each press: a mail's record changes only
as the press may change it (Ignore by someone allowed, in the mail space, of a mail not opened
nor being opened; a valid Next binding the confirmation its answer shows), a job only from a Run by
its requester (or an admin) of the mail's current confirmation, and every answer says something a
person can read (a mail it cannot know of is said so, never a fallback apology).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass

from ackflow_tools.devtools.stack import MAIL_SPACE
from ackflow_tools.emulators.chat.events import build_event
from ackflow_tools.emulators.chat.feed import changes
from tests.support.mail import request_due
from tests.support.markup import message_of
from workers.office.mail.records import MAIL, box_id
from workers.office.mail.texts import TEXTS

from .corpus import STRINGS, hostile_string, hostile_value
from .events import ALICE, BOB, CAROL, Case, _dump, _other_last, buttons

PREFIX = "mailcard/"
# a user whose display name is hostile (the card says who ignored a mail)
MALLORY = {"name": "users/2004", "displayName": "\u202eyrollaM <b>" + "金" * 200, "email": "mallory@example.com",
           "type": "HUMAN"}
USERS = (ALICE, ALICE, BOB, CAROL, MALLORY)
FOREIGN = ("spaces/fuzz", "spaces/fuzz-dm", "spaces/office-evil", "spaces/OFFICE")
INPUT_NAMES = ("client", "client.new", "title", "due", "portal", "item.1.0", "item.1.1", "item.1.2", "item.1.3",
               "item.2.0", "item.13.0", "mail", "b.mail", "by", "")
PLAUSIBLE = {"client": ("ACME", "山田製作所"), "title": ("金型 A-12", "見積のお願い"), "portal": ("", "PO-1042"),
             "item.1.0": ("金型設計", ""), "item.1.1": ("1", ""), "item.1.2": ("350000", ""), "item.1.3": ("", "8%")}
# jobs the presses may make in a run: each writes its messages and the mail's card in the office
# space, whose Chat write budget (50 a minute) the cards of new mails share; past it a push
# rightly answers 503 (Chat cannot take the card now), which the fuzz's pushes must not meet
MAX_MAIL_JOBS = 8
# what the webhook answers when a handler raised: never an answer to a press
FALLBACK = ("something went wrong on my side", "こちらで問題が起きたため")


@dataclass
class Press:
    """What a mail press is, for the oracle."""

    kind: str  # ignore, open (dialog), press (plain click), submit, add, remove, cancel-dialog, run, cancel
    rid: str | None  # the real mail it names (None: forged, foreign or none)
    user: dict
    space: str
    by: str = ""  # submit: who the form says opened it
    confirmation: str = ""  # run, cancel: the confirmation pressed
    token_ok: bool = True
    named: bool = True  # it names a mail (a mail parameter, not empty)


@dataclass
class Bound:
    rid: str
    confirmation: str
    token: str
    function: str
    params: dict
    requester: dict


def _pairs(action: dict) -> dict:
    return {p.get("key"): p.get("value") for p in action.get("parameters") or []}


def _function(button: dict) -> tuple[str, dict]:
    action = (button.get("onClick") or {}).get("action") or {}
    return action.get("function", ""), _pairs(action)


def dialog_of(body) -> dict | None:
    """The dialog card of an answer (classic ``DIALOG``, add-on ``pushCard``/``updateCard``)."""
    if not isinstance(body, dict):
        return None
    classic = (((body.get("actionResponse") or {}).get("dialogAction") or {}).get("dialog") or {}).get("body")
    if classic:
        return classic
    for navigation in (body.get("action") or {}).get("navigations") or []:
        for key in ("pushCard", "updateCard"):
            if key in navigation:
                return navigation[key]
    return None


def dialog_buttons(card: dict):
    footer = (card.get("fixedFooter") or {}).get("primaryButton")
    if footer:
        yield footer
    yield from buttons({"card": card})


def confirmation_of(body) -> tuple[str, str, str, dict] | None:
    """The Run button of a confirmation card in the answer: (confirmation, token, function, params)."""
    if not isinstance(body, dict):
        return None
    for card in message_of(body).get("cardsV2") or []:
        if not str(card.get("cardId", "")).startswith("confirm-"):
            continue
        for button in buttons(card):
            function, params = _function(button)
            if "run" in (function, params.get("actionName")) and params.get("confirmation"):
                return params["confirmation"], params.get("token", ""), function, params
    return None


def said(body) -> str:
    """Everything an answer shows a person, as JSON text ("" when it shows nothing)."""
    if not isinstance(body, dict):
        return ""
    shown = [message_of(body).get("text"), message_of(body).get("cardsV2"), dialog_of(body),
             ((body.get("actionResponse") or {}).get("dialogAction") or {}).get("actionStatus"),
             ((body.get("action") or {}).get("notification"))]
    for navigation in (body.get("action") or {}).get("navigations") or []:
        shown.append(navigation)
    return "".join(json.dumps(item, ensure_ascii=False) for item in shown if item)


class MailCardFuzzer:
    def __init__(self, rng: random.Random, fmt: str, endpoint_url: str, runtime, chat_url: str, http):
        self.rng = rng
        self.fmt = fmt
        self.endpoint_url = endpoint_url
        self.runtime = runtime
        self.docs = runtime.store.docs
        self.chat_url = chat_url
        self.http = http
        self.cards: dict[str, dict] = {}  # mail record → its card's buttons ("open", "ignore": (function, params))
        self.forms: dict[str, tuple[str, dict, list[str]]] = {}  # mail → a real Next: function, params, inputs
        self.bound: list[Bound] = []  # confirmations the form answered with
        self.ignored: set[str] = set()  # mails ignored by a press that might
        self.jobs: Counter = Counter()  # mail → jobs made from its confirmations
        self.presses: Counter = Counter()
        self.script_failures: list[str] = []
        self.unknown = {self._say("unknown_mail", lang) for lang in ("en", "ja")}
        due = request_due()  # a month ahead: a case may not be due in the past
        self.due_ms = int(dt.datetime(due.year, due.month, due.day, tzinfo=dt.UTC).timestamp() * 1000)

    @staticmethod
    def _say(key: str, language: str) -> str:
        from workers.office.mail.texts import say

        return say(key, language)

    # -- what is out there ------------------------------------------------------------------------
    def refresh(self) -> None:
        """The buttons of every mail card in the office space (the first drawn of each: a stale
        card's buttons are pressed too)."""
        for change in changes(self.http, self.chat_url, MAIL_SPACE):
            message = change.get("message") or {}
            rid = str(message.get("clientAssignedMessageId", ""))
            if not rid.startswith("client-mail-"):
                continue
            found = {}
            for card in message.get("cardsV2") or []:
                for button in buttons(card):
                    function, params = _function(button)
                    name = params.get("actionName", function)
                    if name in ("mail-open", "mail-ignore") or function in ("mail-open", "mail-ignore"):
                        found["open" if "mail-open" in (name, function) else "ignore"] = (function, params)
            known = self.cards.setdefault(rid.removeprefix("client-"), {"message": message.get("name", "")})
            for key, value in found.items():
                known.setdefault(key, value)

    def snapshot(self) -> dict:
        """Each mail record's state a press may change, with the state of its bound confirmation."""
        rows = self.docs.query(MAIL, [], "updated_at", True, 100_000)
        state = {}
        for row in rows:
            if row.get("kind") != "mail":
                continue
            bound = self.runtime.store.docs.get("confirmations", row["confirmation"]) \
                if row.get("confirmation") else None
            state[row["id"]] = {"status": row.get("status"), "confirmation": row.get("confirmation"),
                                "ignored_by": row.get("ignored_by"), "case": row.get("case"),
                                "bound": (bound or {}).get("status"), "job": (bound or {}).get("job_id")}
        return state

    def newest_job(self) -> str | None:
        rows = self.docs.query("jobs", [], "created_at", True, 1)
        return rows[0]["id"] if rows else None

    # -- the presses ---------------------------------------------------------------------------------
    def next_case(self) -> Case:
        self.refresh()
        roll = self.rng.random()
        if roll < 0.25:
            case = self.ignore()
        elif roll < 0.45:
            case = self.open()
        elif roll < 0.55:
            case = self.open(plain=True)
        elif roll < 0.85:
            case = self.submit()
        else:
            case = self.decide()
        return case

    def _rid(self) -> tuple[str, str | None]:
        """A mail id to press with: a real one (mostly), or forged; and the real one it is, if any."""
        real = sorted(self.cards)
        rng = self.rng
        if real and rng.random() < 0.65:
            rid = rng.choice(real)
            return rid, rid
        base = rng.choice(real) if real else "mail-" + "0" * 20
        forged = rng.choice((_other_last(base), base.upper(), base[:-1], base + "0", f" {base}", f"{base}\u200b",
                             base.replace("mail-", "mail_"), box_id(self.runtime.services.office_settings.mailbox),
                             "domain-" + base[5:], "", "mail-", hostile_string(rng), base + "x" * 200,
                             rng.choice(STRINGS)))
        if forged in real:
            return forged, forged
        return forged, None

    def _space(self, rid: str | None) -> tuple[str, str | None]:
        if self.rng.random() < 0.15:
            return self.rng.choice(FOREIGN), None  # a real mail's button, pressed from another space
        return MAIL_SPACE, rid

    def _user(self) -> dict:
        return copy.deepcopy(self.rng.choice(USERS))

    def _event(self, user: dict, space: str, function: str, params: dict, dialog: str | None = None,
               inputs: dict | None = None, message: str = "") -> dict:
        message = {"name": message or f"{space}/messages/b{self.rng.randrange(10**9)}", "sender": {"type": "BOT"},
                   "thread": {"name": f"{space}/threads/t1"}, "space": {"name": space}}
        return build_event("CARD_CLICKED", self.fmt, user=user, space={"name": space, "type": "ROOM",
                                                                       "spaceType": "SPACE"},
                           message=message, function=function, parameters=params, form_inputs=inputs,
                           dialog=dialog)

    def _button(self, rid: str, which: str) -> tuple[str, dict]:
        """The button of ``rid``'s card (as posted), else one as the app draws it."""
        card = self.cards.get(rid) or {}
        if which in card:
            function, params = card[which]
            return function, dict(params)
        name = f"mail-{which}"
        params = {"mail": rid, **({"form": "newcase"} if which == "open" else {})}
        if self.fmt == "addon":
            return self.endpoint_url, {**params, "actionName": name}
        return name, params

    def _params(self, params: dict, rid_key: str, rid: str, harmless: tuple[str, ...]) -> tuple[dict, str]:
        """``params`` with the mail id replaced, dropped now and then, or with a parameter the press
        does not read set to a hostile value (``harmless``)."""
        params = dict(params)
        params[rid_key] = rid
        roll = self.rng.random()
        trick = ""
        if roll < 0.08:
            params.pop(rid_key, None)
            trick = f" without {rid_key}"
        elif roll < 0.11:  # a parameter's value is a string in both formats: 400
            params[rid_key] = self.rng.choice(([rid], {"id": rid}, 7, None, True, 1e308))
            trick = f" {rid_key} typed"
        elif roll < 0.14:
            key = self.rng.choice(harmless)
            params[key] = hostile_string(self.rng)
            trick = f" + {key}"
        return params, trick

    def ignore(self) -> Case:
        rid, real = self._rid()
        space, real = self._space(real)
        user = self._user()
        function, params = self._button(real or rid, "ignore")
        params, trick = self._params(params, "mail", rid, ("form", "confirmation", "job", "b.mail", "by", "step"))
        if params.get("mail") != rid:
            real = None
        dialog = None
        if self.rng.random() < 0.08:  # the wrong event type for the button
            dialog = self.rng.choice(("REQUEST_DIALOG", "SUBMIT_DIALOG", "CANCEL_DIALOG"))
            real = None if dialog != "CANCEL_DIALOG" else real
        event = self._event(user, space, function, params, dialog)
        press = Press("ignore" if dialog is None else f"ignore as {dialog}", real, user, space)
        return self._case(f"ignore{trick}{' foreign' if space != MAIL_SPACE else ''}", event, press)

    def open(self, plain: bool = False) -> Case:
        """Open a case: the dialog it asks for (or, ``plain``, a press of a card drawn before the form)."""
        rid, real = self._rid()
        space, real = self._space(real)
        user = self._user()
        function, params = self._button(real or rid, "open")
        if plain:
            params.pop("form", None)
        params, trick = self._params(params, "mail", rid, ("confirmation", "job", "b.mail", "by", "step"))
        if params.get("mail") != rid:
            real = None
        kind = "press" if plain else "open"
        if not plain and self.rng.random() < 0.1:
            params["form"] = self.rng.choice(("estimate", "echo", "", hostile_string(self.rng)))
            trick += " another form"
            kind = "open another form"
        event = self._event(user, space, function, params, None if plain else "REQUEST_DIALOG")
        press = Press(kind, real, user, space)
        return self._case(f"{'press' if plain else 'open'}{trick}{' foreign' if space != MAIL_SPACE else ''}",
                          event, press)

    def _form(self, rid: str) -> tuple[str, dict, list[str]]:
        """The Next button of ``rid``'s form as the app drew it (learnt), else as it draws it."""
        if rid in self.forms:
            function, params, names = self.forms[rid]
            return function, dict(params), list(names)
        params = {"form": "newcase", "by": ALICE["name"], "n.item": "1", "b.mail": rid, "step": "submit"}
        if self.fmt == "addon":
            return self.endpoint_url, {**params, "actionName": "form"}, list(PLAUSIBLE) + ["due"]
        return "form", params, list(PLAUSIBLE) + ["due"]

    def _inputs(self, names: list[str]) -> tuple[dict, str]:
        rng = self.rng
        inputs, notes = {}, []
        for name in names:
            roll = rng.random()
            if roll < 0.1:
                notes.append(f"no {name}")
                continue
            if name == "due" and roll < 0.6:
                inputs[name] = {"dateInput": {"msSinceEpoch": str(rng.choice(
                    (self.due_ms, self.due_ms, 1796083200000, 0, -62135596800000, 253402300799999, 1)))}}
            elif roll < 0.55:
                inputs[name] = [rng.choice(PLAUSIBLE.get(name, ("2026-12-24",)))]
            elif roll < 0.85:
                value = hostile_string(rng)
                inputs[name] = [value[:rng.choice((50, 5_000, 60_000))]]
                notes.append(f"hostile {name}")
            else:
                inputs[name] = rng.choice((
                    {"stringInputs": {"value": []}}, {"stringInputs": {"value": ["a", "b"]}},
                    {"stringInputs": {"value": ["x"] * 100}}, {"dateInput": {"msSinceEpoch": "1796083200000"}},
                    {"timeInput": {"hours": 25, "minutes": 0}}, {"dateTimeInput": {"msSinceEpoch": "1"}}))
                notes.append(f"shape {name}")
        if rng.random() < 0.2:
            extra = rng.choice(INPUT_NAMES)
            inputs[extra or "x"] = [hostile_string(rng)[:200]]
            notes.append(f"extra {extra}")
        return inputs, ", ".join(notes[:4])

    def submit(self) -> Case:
        """The open-a-case form's Next (or Add line, Remove), as its button sends it, with hostile inputs."""
        rng = self.rng
        rid, real = self._rid()
        space, real = self._space(real)
        user = self._user()
        function, params, names = self._form(real or rid)
        params, trick = self._params(params, "b.mail", rid, ("confirmation", "job", "mail", "text"))
        if params.get("b.mail") != rid:
            real = None
        params["by"] = user["name"] if rng.random() < 0.75 else rng.choice((ALICE, BOB, MALLORY))["name"]
        step = rng.choice(("submit", "submit", "submit", "add", "remove", hostile_string(rng)))
        params["step"] = step
        if step == "remove":
            params.update(param="item", line=rng.choice(("1", "2", "0", hostile_string(rng))))
        if rng.random() < 0.1:
            params["n.item"] = rng.choice(("0", "13", "99999", "-1", hostile_string(rng)))
        if rng.random() < 0.05:
            params["form"] = rng.choice(("estimate", "echo", hostile_string(rng)))
            real = None
        inputs, notes = self._inputs(names)
        kind = step if step in ("submit", "add", "remove") else "step"
        dialog = "SUBMIT_DIALOG" if rng.random() < 0.93 else rng.choice(("REQUEST_DIALOG", "CANCEL_DIALOG"))
        event = self._event(user, space, function, params, dialog, inputs)
        press = Press(kind if dialog == "SUBMIT_DIALOG" else "other-dialog", real, user, space, by=params["by"])
        name = f"submit {kind}{trick}{' foreign' if space != MAIL_SPACE else ''}"
        return self._case(f"{name} ({notes})" if notes else name, event, press)

    def decide(self) -> Case:
        """Run or Cancel of a confirmation the form answered with: by its requester, an admin, or
        someone else; with its token, or another."""
        rng = self.rng
        if not self.bound:
            return self.submit()
        bound = rng.choice(self.bound)
        action = rng.choice(("run", "run", "run", "cancel"))
        deciders = (bound.requester, bound.requester, BOB, ALICE, CAROL)
        if action == "run" and sum(self.jobs.values()) >= MAX_MAIL_JOBS:  # only those whose Run makes nothing
            deciders = tuple(u for u in (ALICE, BOB) if u["email"] != bound.requester["email"])
        user = copy.deepcopy(rng.choice(deciders))
        params, function = dict(bound.params), bound.function
        if action == "cancel":
            if self.fmt == "addon":
                params["actionName"] = "cancel"
            else:
                function = "cancel"
        token_ok = True
        trick = rng.random()
        if trick < 0.15:
            params["token"] = _other_last(params.get("token") or "t")
            token_ok = False
        elif trick < 0.25 and len(self.bound) > 1:
            other = rng.choice(self.bound)
            params["token"] = other.token
            token_ok = other.confirmation == bound.confirmation
        space = MAIL_SPACE if rng.random() < 0.9 else rng.choice(FOREIGN)
        event = self._event(user, space, function, params)
        press = Press(action, bound.rid, user, space, confirmation=bound.confirmation, token_ok=token_ok)
        who = "requester" if user["email"] == bound.requester["email"] else \
            "admin" if user["email"] == CAROL["email"] else "other"
        return self._case(f"{action} by {who}{'' if token_ok else ' wrong token'}", event, press)

    def _case(self, name: str, event: dict, press: Press, *, mutate: bool = True) -> Case:
        """The press as a request. ``mutate``: now and then a hostile value put in the user or the
        message (never in the script's presses: it checks what a real press gets; a wrong type
        there is a 400 that failed a step of the script in about one full-scale run of two)."""
        params = (event.get("common") or event.get("commonEventObject") or {}).get("parameters") or {}
        press.named = bool(params.get("b.mail" if press.kind in ("submit", "add", "remove") else "mail"))
        if mutate and self.rng.random() < 0.05:  # a hostile value somewhere in the user or the message
            target = event if self.fmt == "classic" else event["chat"]
            key = self.rng.choice(("user", "message"))
            holder = target.get(key) if key in target else (target.get("buttonClickedPayload") or {}).get(key)
            if isinstance(holder, dict):
                holder[self.rng.choice(("displayName", "thread", "extra"))] = hostile_value(self.rng)
                name += f" + hostile {key}"  # a value of the wrong type is a 400; a string, read as given
        self.presses[press.kind.split(" ")[0]] += 1
        body = _dump(event)
        return Case(f"{PREFIX}{name}"[:200], body, user=press.user, mail=press)

    # -- the script: what the office does with two fresh cards, and what it must not be able to do --
    def script(self, a: str, b: str):
        """Presses on the cards of mails ``a`` and ``b`` in an order that reaches every state (a
        generator: it yields a case and is sent back (status, JSON answer)). What the oracle of each
        press cannot know (that a valid form asks, that Run makes a job) is checked here."""
        self.refresh()
        fail = self.script_failures.append
        for rid in (a, b):
            if "open" not in self.cards.get(rid, {}) or "ignore" not in self.cards.get(rid, {}):
                fail(f"no card with both buttons for mail {rid}: {self.cards.get(rid)}")
                return
        alice, bob = copy.deepcopy(ALICE), copy.deepcopy(BOB)

        def press(kind, rid, user, space=MAIL_SPACE, **params):
            function, base = self._button(rid, "open" if kind in ("open", "press") else "ignore")
            if kind == "press":
                base.pop("form", None)
            event = self._event(user, space, function, {**base, **params}, "REQUEST_DIALOG" if kind == "open" else None)
            named = params.get("mail", rid)
            return self._case(f"script {kind} by {user['displayName']}", event, Press(
                kind, named if space == MAIL_SPACE else None, user, space), mutate=False)

        def submit(rid, user, by, values):
            function, params, _ = self._form(rid)
            params = {**params, "by": by["name"], "step": "submit"}
            event = self._event(user, MAIL_SPACE, function, params, "SUBMIT_DIALOG", values)
            return self._case(f"script submit by {user['displayName']} of {by['displayName']}'s form", event,
                              Press("submit", rid, user, MAIL_SPACE, by=by["name"]), mutate=False)

        def run(bound, user, action="run"):
            params, function = dict(bound.params), bound.function
            if action == "cancel":
                params, function = ({**params, "actionName": "cancel"}, function) if self.fmt == "addon" else \
                    (params, "cancel")
            event = self._event(user, MAIL_SPACE, function, params)
            return self._case(f"script {action} by {user['displayName']}", event, Press(
                action, bound.rid, user, MAIL_SPACE, confirmation=bound.confirmation), mutate=False)

        valid = {"client": ["ACME"], "title": ["金型 A-12"], "due": {"dateInput": {"msSinceEpoch": str(self.due_ms)}},
                 "item.1.0": ["金型設計"], "item.1.1": ["1"], "item.1.2": ["350000"]}
        status, body = yield press("open", a, alice)
        if a not in self.forms:
            fail(f"“open a case” of mail {a} opened no form bound to it: {status} {said(body)[:300]} {str(body)[:300]}")
            return
        yield submit(a, bob, alice, valid)  # Alice's form, sent by Bob
        yield submit(a, alice, alice, {**valid, "title": ["金" * 60_000]})
        yield submit(a, alice, alice, {**valid, "client": ["\u202eEMCA\u2066\x00\x07"]})
        status, body = yield submit(a, alice, alice, valid)
        first, first_said = confirmation_of(body), f"{status} {said(body)[:300]} {str(body)[:300]}"
        status, body = yield submit(a, alice, alice, {**valid, "title": ["金型 A-12 改"]})
        second = confirmation_of(body)
        if not first or not second or first[0] == second[0]:
            fail(f"two valid submits of mail {a}'s form asked {first and first[0]}, then {second and second[0]}: "
                 f"{first_said} / {status} {said(body)[:300]} {str(body)[:300]}")
            return
        one, two = (next(x for x in self.bound if x.confirmation == c[0]) for c in (first, second))
        yield run(two, bob)  # not his
        yield run(one, alice)  # replaced by the second
        yield press("press", a, bob)  # an old card's plain press: the pending one, not a new one
        status, body = yield run(two, alice)
        if not self.jobs[a]:
            fail(f"Alice's Run of mail {a}'s confirmation made no job: {status} {said(body)[:300]} {str(body)[:600]}")
        yield press("ignore", a, bob)  # a case is being opened from it
        yield press("open", a, bob)
        yield press("press", a, alice)
        yield run(two, alice)  # again: the same job
        yield submit(a, alice, alice, valid)
        yield press("ignore", b, bob)
        yield press("ignore", b, alice, space="spaces/fuzz")  # its button, pressed from another space
        yield press("ignore", b, alice)
        status, body = yield press("open", b, alice)  # "open a case anyway"
        if b not in self.forms:
            fail(f"“open a case” of ignored mail {b} opened no form: {status} {said(body)[:300]} {str(body)[:300]}")
        yield submit(b, alice, alice, valid)
        yield press("open", b, alice, space="spaces/fuzz-dm")
        yield press("open", b, alice, mail=a)  # b's button with a's id: a's form, "already opening"

    # -- learning from answers -----------------------------------------------------------------------
    def observe(self, case: Case, status: int, body) -> None:
        press: Press = case.mail
        if status != 200 or not isinstance(body, dict):
            return
        card = dialog_of(body)
        if card and press.rid and press.kind == "open":
            for button in dialog_buttons(card):
                function, params = _function(button)
                if params.get("step") == "submit" and params.get("b.mail") == press.rid:
                    from tests.support.dialogs import inputs_of

                    self.forms[press.rid] = (function, params, sorted(inputs_of(card)))
        found = confirmation_of(body)
        if found and press.rid and len(self.bound) < 100:
            confirmation, token, function, params = found
            self.bound.append(Bound(press.rid, confirmation, token, function, params, press.user))

    # -- the oracle ----------------------------------------------------------------------------------
    def check(self, case: Case, status: int, body, before: dict, newest_job: str | None) -> list[str]:
        """What is wrong with a press's effect on the store and its answer ([] when nothing)."""
        press: Press = case.mail
        after = self.snapshot()
        problems = []
        asked = confirmation_of(body) if status == 200 else None
        for rid, old in before.items():
            new = after.get(rid)
            if new is None:
                problems.append(f"mail {rid}'s record is gone")
                continue
            if new == old:
                continue
            why = self._change(press, rid, old, new, asked)
            if why:
                problems.append(f"mail {rid}: {why} ({_short(old)} → {_short(new)})")
        job = self.newest_job()
        if job != newest_job:
            data = self.runtime.store.docs.get("jobs", job) or {}
            bound = next((b for b in self.bound if b.confirmation == data.get("confirmation_id")), None)
            if press.kind != "run" or bound is None or data.get("confirmation_id") != press.confirmation:
                problems.append(f"job {job} ({data.get('type')}) made by a {press.kind} press")
            elif not self._may_decide(press.user, bound.requester) or not press.token_ok:
                problems.append(f"job {job} made by a Run of {press.user['email']} on {bound.requester['email']}'s "
                                f"confirmation (token {'right' if press.token_ok else 'wrong'})")
            elif before.get(bound.rid, {}).get("confirmation") != bound.confirmation:
                problems.append(f"job {job} made from {bound.confirmation}, no longer the mail's confirmation")
            elif data.get("params", {}).get("mail") != bound.rid:
                problems.append(f"job {job} is for mail {data.get('params', {}).get('mail')}, not {bound.rid}")
            else:
                self.jobs[bound.rid] += 1
                if self.jobs[bound.rid] > 1:
                    problems.append(f"mail {bound.rid} became {self.jobs[bound.rid]} jobs")
        if status == 200:
            problems += self._readable(press, body)
        return problems

    def _may_decide(self, user: dict, requester: dict) -> bool:
        return self.runtime.access.may_decide(user["email"], requester["email"])

    def _allowed(self, press: Press) -> bool:
        return press.space == MAIL_SPACE and self.runtime.access.allows("newcase", press.user["email"], press.space)

    def _change(self, press: Press, rid: str, old: dict, new: dict, asked) -> str | None:
        """Why this change of ``rid``'s record is not one the press may make (None: it may)."""
        background = {k: v for k, v in new.items() if k not in ("status", "case", "bound", "job")}
        if old["bound"] == "CONFIRMED" and new["status"] == "OPENED" and background == \
                {k: v for k, v in old.items() if k not in ("status", "case", "bound", "job")}:
            return None  # the job a Run made saved the mail meanwhile (its last step)
        if rid != press.rid:
            return f"changed by a {press.kind} press of {press.rid or 'no real mail'}"
        if press.kind == "ignore":
            if not self._allowed(press):
                return "ignored by a press that may not"
            if old["status"] not in ("PROPOSED", "PROPOSING", "IGNORED"):
                return f"ignored when {old['status']}"
            if old["bound"] == "CONFIRMED":
                return f"ignored while a case is being opened from it (job {old['job']})"
            wanted = {**old, "status": "IGNORED", "ignored_by": press.user.get("displayName") or press.user["email"]}
            if new != {**wanted, "ignored_by": new["ignored_by"]} or not str(new["ignored_by"]).startswith(
                    wanted["ignored_by"][:50]):
                return "not just ignored by the person who pressed"
            self.ignored.add(rid)
            return None
        if press.kind in ("submit", "press"):
            if asked is None:
                return f"changed by a {press.kind} that asked no confirmation"
            if not self._allowed(press) or (press.kind == "submit" and press.by != press.user["name"]):
                return f"bound by a {press.kind} that may not"
            if old["status"] == "OPENED" or old["bound"] == "CONFIRMED":
                return "bound again after its case was asked for"
            if new["confirmation"] != asked[0] or {**new, "confirmation": None, "bound": None} != \
                    {**old, "confirmation": None, "bound": None}:
                return "not just bound to the confirmation the answer shows"
            return None
        if press.kind == "cancel" and new == {**old, "bound": "CANCELLED"}:
            if self._may_decide(press.user, self._requester(old["confirmation"])) and press.token_ok:
                return None
            return "its confirmation cancelled by someone who may not"
        if press.kind == "run" and new == {**old, "bound": new["bound"], "job": new["job"]} and \
                new["bound"] in ("CONFIRMED", "CANCELLED"):
            if self._may_decide(press.user, self._requester(old["confirmation"])) and press.token_ok:
                return None  # run (or closed: refused at Run)
            return "its confirmation decided by someone who may not"
        return f"changed by a {press.kind} press"

    def _requester(self, confirmation: str) -> dict:
        found = next((b.requester for b in self.bound if b.confirmation == confirmation), None)
        return found or {"email": ""}

    def _readable(self, press: Press, body) -> list[str]:
        text = said(body)
        if not text.strip('"{}[] '):
            return [f"a {press.kind} press answered nothing a person can read: {json.dumps(body)[:200]}"]
        if any(words in text for words in FALLBACK):
            return [f"a {press.kind} press answered with the fallback apology (a handler raised)"]
        if press.rid is None and press.named and press.kind in ("ignore", "press", "open") and \
                not any(words in text for words in self.unknown):  # (no mail id at all: the plain form)
            return [f"a {press.kind} press of no real mail did not say so: {text[:200]}"]
        return []

    def expected_status(self, rid: str) -> set[str]:
        """What a mail's record may say at the end of the run, after the presses that might change it."""
        allowed = {"PROPOSED"}
        if rid in self.ignored:
            allowed.add("IGNORED")
        if self.jobs[rid]:
            allowed.add("OPENED")
        return allowed


def _short(state: dict) -> str:
    return f"{state['status']}, {state['confirmation'] or 'unbound'} {state['bound'] or ''}".strip()


__all__ = ["MailCardFuzzer", "PREFIX", "Press", "TEXTS"]
