"""Validly signed hostile requests to the worker's other paths: ``/mail`` (Gmail's notifications,
pushed by a Pub/Sub push subscription: functions/workers/office/mail/push.py) and ``/sweep``
(Cloud Scheduler's call).

``/mail`` reads Pub/Sub's envelope ``{"message": {"data": base64(JSON), "messageId": …},
"subscription": …}`` with Gmail's ``{"emailAddress", "historyId"}`` inside. What must come back:
400 for anything that is not such a push (wrong shapes, ``data`` not base64 or not JSON or of the
wrong types, a history id that is not a number, bodies over 64 kB), 413 over the worker's 256 kB;
200 ``ignored`` for another mailbox; 200 ``ok`` for a notification of the request mailbox, however
odd its other fields (its message id, subscription, attributes: a sync reads the mailbox, never
the notification). Never 503: the push documents 503 for a mail held by another delivery or
Gmail, Chat or the store unavailable, and the fuzz sends one request at a time to services that
are up, so a 503 here is a hostile body that made the flow fail.

``/sweep`` reads no body (worker.py answers it before a task is parsed): whatever is sent, the
answer is the sweep's report (200) or 413 for a body over 256 kB; never a 5xx (the store is up).
"""

from __future__ import annotations

import base64
import json
import random
from urllib.parse import quote

from ackflow.app.http import MAX_BODY
from workers.office.mail.push import MAX_ENVELOPE

from .corpus import RAW, hostile_string, hostile_value
from .events import Case

RAW_IDS = ('"\\ud800"', '"x\\udfffy"', '"\\udc00\\ud800"', '{"id": "\\ud800"}', '["\\udbff"]', "NaN", "1e999",
           *RAW)  # raw message ids: mostly unpaired surrogates (the store cannot encode them)
SWEEP_REPORT = frozenset({"resent", "released", "started", "reshown", "errors", "tasks", "backlogged"})
TRACE_HEADERS = ("", "/", "x" * 7000, "abc/def;o=1", "0" * 32 + "/" + "9" * 40 + ";o=1", "ä/ö", "\u202e/1",
                 "%s%n/1", "../../x")
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", "", "ä/ö")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _headers(rng: random.Random) -> dict:
    headers = {}
    if rng.random() < 0.3:
        headers["X-Cloud-Trace-Context"] = rng.choice(TRACE_HEADERS)
    if rng.random() < 0.2:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
    if rng.random() < 0.1:
        headers["X-CloudTasks-TaskRetryCount"] = rng.choice(("-1", "9" * 50, "x"))
    if rng.random() < 0.05:
        headers["Content-Encoding"] = rng.choice(("gzip", "deflate", "br", "x"))
    return {k: v.encode() if not v.isascii() else v for k, v in headers.items()}


def _path(rng: random.Random, name: str) -> str:
    """Mostly the path itself; sometimes as a prefix or a trailing slash would reach it."""
    query = quote(hostile_string(rng)[:50], safe="")
    return rng.choice((name, name, name, name, f"{name}/", f"x/{name}", f"{name}?{query}"))


def status_is(*wanted: str):
    """A check of a 200's JSON: its ``status`` is one of ``wanted``."""
    def check(body) -> str | None:
        if isinstance(body, dict) and body.get("status") in wanted:
            return None
        return f"answered {json.dumps(body, ensure_ascii=False)[:200]}, expected the status {' or '.join(wanted)}"
    return check


def sweep_report(body) -> str | None:
    """A check of a 200's JSON: the sweep's report (the request was a sweep, not a task or a push)."""
    if isinstance(body, dict) and set(body) == SWEEP_REPORT:
        return None
    return f"answered {json.dumps(body, ensure_ascii=False)[:200]}, not the sweep's report"


class PushFuzzer:
    """Pub/Sub pushes of Gmail notifications, for ``mailbox`` (the request mailbox) or not."""

    def __init__(self, rng: random.Random, mailbox: str, configured: bool = True):
        self.rng = rng
        self.mailbox = mailbox
        self.handled = "ok" if configured else "ignored"  # a deployment without a mailbox reads none
        self.mail_waiting = False  # set when a mail was delivered: the next notification finds it

    def valid(self) -> bytes:
        """A notification of the request mailbox as Pub/Sub pushes it."""
        data = _json({"emailAddress": self.mailbox, "historyId": str(self.rng.randrange(1, 10**6))})
        return _json({"message": {"data": _b64(data), "messageId": str(self.rng.randrange(10**15))},
                      "subscription": "projects/local-project/subscriptions/gmail-push"})

    def next_case(self) -> Case:
        if self.mail_waiting:  # a new mail: this sync claims it, under the delivery's id (hostile)
            self.mail_waiting = False
            return self._notification(hostile_id=True)
        roll = self.rng.random()
        if roll < 0.3:
            return self._notification()
        if roll < 0.42:
            return self._other_mailbox()
        if roll < 0.72:
            return self._bad_data()
        if roll < 0.92:
            return self._bad_envelope()
        return self._sized()

    def _case(self, name: str, body: bytes, statuses, expect=None) -> Case:
        if len(body) > MAX_BODY:  # a hostile field can make any of them too large
            statuses = {413}
        elif len(body) > MAX_ENVELOPE:
            statuses = {400}
        return Case(f"mail/{name}"[:160], body, statuses=frozenset(statuses), path=_path(self.rng, "mail"),
                    headers=_headers(self.rng), expect=expect)

    def _envelope(self, data: bytes, **message) -> dict:
        """Pub/Sub's envelope, with hostile fields of its own now and then (a sync never reads them)."""
        rng = self.rng
        message = {"data": _b64(data), "messageId": str(rng.randrange(10**15)),
                   "publishTime": "2026-11-29T09:00:00.000Z", **message}
        if rng.random() < 0.3:
            message[rng.choice(("messageId", "message_id", "publishTime", "attributes", "orderingKey"))] = \
                hostile_value(rng)
        envelope = {"message": message, "subscription": "projects/local-project/subscriptions/gmail-push"}
        if rng.random() < 0.2:
            envelope[rng.choice(("subscription", "deliveryAttempt", "extra"))] = hostile_value(rng)
        return envelope

    def _address(self) -> str:
        """The request mailbox as Gmail may write it (addresses are case-insensitive)."""
        return self.rng.choice((self.mailbox, self.mailbox, self.mailbox.upper(), self.mailbox.title()))

    def _history(self):
        return self.rng.choice(("1", "4242", str(2**63), str(2**64 + 1), "9" * 4000, 7, 2**64, 10**40, "0", "007"))

    def _notification(self, hostile_id: bool = False) -> Case:
        data = {"emailAddress": self._address(), "historyId": self._history()}
        if self.rng.random() < 0.2:
            data[hostile_string(self.rng)[:100]] = hostile_value(self.rng)  # fields Gmail does not send
        envelope = self._envelope(_json(data))
        name = "notification"
        if hostile_id and self.rng.random() < 0.5:
            envelope["message"]["messageId"] = hostile_value(self.rng)
            name += " with a mail waiting, hostile id"
        text = _json(envelope)
        if (hostile_id and "hostile" not in name) or self.rng.random() < 0.2:
            # raw JSON Python reads badly (unpaired surrogates, 5,000 digits, 3,000 deep) for a field of the push
            raw = self.rng.choice(RAW_IDS if hostile_id else RAW)
            key = "messageId" if hostile_id else self.rng.choice(("messageId", "publishTime", "subscription"))
            text = text.replace(f'"{key}": '.encode(), f'"{key}": {raw}, "was": '.encode(), 1)
            # 400 when Python cannot read it at all (5,000 digits, 3,000 deep), else as without it
            return self._case(f"{name} + raw {key}", text, {200, 400}, status_is(self.handled))
        return self._case(name, text, {200}, status_is(self.handled))

    def _other_mailbox(self) -> Case:
        address = self.rng.choice((
            "ceo@office.example", "IRAI@office.example.evil", self.mailbox + "\u200b", " " + self.mailbox,
            self.mailbox + "\x00", self.mailbox.replace("i", "\u0131"), "", hostile_string(self.rng)))
        data = {"emailAddress": address, "historyId": self._history()}
        return self._case("another mailbox", _json(self._envelope(_json(data))), {200}, status_is("ignored"))

    def _bad_data(self) -> Case:
        """An envelope whose ``data`` is not Gmail's notification: 400."""
        rng = self.rng
        kind = rng.choice(("not base64", "not json", "wrong type", "bad history", "bad address", "missing"))
        if kind == "not base64":
            envelope = self._envelope(b"")
            envelope["message"]["data"] = rng.choice((
                "!!!", "a", "abc", "====", "eyJh\nIn0=", "eyJhIjox fQ==", "eyJhIjoxfQ", "-_-_", "ä", "\x00",
                _b64(b"{}")[:-1], hostile_string(rng)))
        elif kind == "not json":
            envelope = self._envelope(rng.choice((
                b"", b"not json", bytes([0xff, 0xfe, 0x00]), b"\xef\xbb\xbf{}", b"{", b"[" * 60_000,
                b'{"a":' * 20_000 + b"1" + b"}" * 20_000, b"1" + b"0" * 5000, b'{"emailAddress": "\\ud800"',
                rng.choice(RAW).encode("utf-8", "surrogatepass") + b" trailing")))
        elif kind == "wrong type":
            envelope = self._envelope(_json(rng.choice((None, [], [self.mailbox, 1], "irai", 42, True, {}))))
        elif kind == "bad history":
            history = rng.choice((-1, -(2**63), "-5", "1.5", 1.5, 1e308, "1e5", "", " 1", "1 ", "0x10", "x", None, True,
                                  [], {}, ["1"], {"id": "1"}, "١٢٣x", hostile_string(rng)))
            if isinstance(history, str) and history.isdigit():
                history += "x"
            envelope = self._envelope(_json({"emailAddress": self._address(), "historyId": history}))
        elif kind == "bad address":
            envelope = self._envelope(_json({"emailAddress": rng.choice((None, 1, [self.mailbox], {"a": 1}, True)),
                                             "historyId": "1"}))
        else:
            data = {"emailAddress": self._address(), "historyId": "1"}
            del data[rng.choice(sorted(data))]
            envelope = self._envelope(_json(data))
        if kind == "not json" and rng.random() < 0.3:  # RAW text where data's value was
            text = _json(envelope).replace(f'"data": "{envelope["message"]["data"]}"'.encode(),
                                           f'"data": {rng.choice(RAW)}'.encode("utf-8", "surrogatepass"), 1)
            return self._case("data raw", text, {400})
        return self._case(f"data {kind}", _json(envelope), {400})

    def _bad_envelope(self) -> Case:
        rng = self.rng
        good = _json({"emailAddress": self.mailbox, "historyId": "1"})
        choices = {
            "empty": b"", "null": b"null", "list": b"[]", "string": b'"push"', "number": b"42", "not json": b"push",
            "invalid utf-8": b'{"message": {"data": "\xff"}}', "bom": b"\xef\xbb\xbf" + _json(self._envelope(good)),
            "truncated": _json(self._envelope(good))[:-3], "trailing garbage": _json(self._envelope(good)) + b"}}",
            "deep": b"[" * 100_000 + b"]" * 100_000, "deep object": b'{"message":' * 30_000 + b"1" + b"}" * 30_000,
            "message null": _json({"message": None}), "message list": _json({"message": [{"data": _b64(good)}]}),
            "message string": _json({"message": _b64(good)}), "no message": _json({"data": _b64(good)}),
            "data missing": _json({"message": {"messageId": "1"}}),
            "data typed": _json({"message": {"data": hostile_value(rng)}}),
            "data object": _json({"message": {"data": {"emailAddress": self.mailbox, "historyId": "1"}}}),
            "duplicate keys": b'{"message": {"data": "e30="}, "message": []}',
            "raw": b'{"message": ' + rng.choice(RAW).encode("utf-8", "surrogatepass") + b"}",
        }
        name = rng.choice(sorted(choices))
        body = choices[name]
        if name == "data typed" and isinstance(json.loads(body)["message"]["data"], str):
            body = _json({"message": {"data": [json.loads(body)["message"]["data"]]}})  # a string could decode
        if name == "bom":  # JSON's bytes may begin with one (RFC 8259 lets a reader ignore it): a notification
            return self._case(f"envelope {name}", body, {200, 400}, status_is(self.handled))
        return self._case(f"envelope {name}", body, {400})

    def _sized(self) -> Case:
        """Bodies no push of a notification is: over Pub/Sub's 64 kB here (400), over 256 kB (413)."""
        size = self.rng.choice((70_000, 200_000, 300_000, 2_000_000))
        envelope = self._envelope(_json({"emailAddress": self.mailbox, "historyId": "1"}))
        envelope["message"]["attributes"] = {"pad": "あ" * (size // 3)}
        return self._case(f"{size} bytes", _json(envelope), {400} if size < 256 * 1024 else {413})


def sweep_case(rng: random.Random, real_jobs: list[str]) -> Case:
    """A sweep as Cloud Scheduler calls it, with a body and headers it never sends."""
    job = rng.choice(real_jobs) if real_jobs else "j" + "z" * 10
    bodies = {
        "none": b"", "empty object": b"{}", "scheduler's": _json({"source": "scheduler"}),
        "a task of a real job": _json({"job_id": job, "step": rng.choice((0, 1, 99))}),
        "a push": _json({"message": {"data": _b64(b'{"emailAddress": "x", "historyId": "1"}')}}),
        "hostile value": _json(hostile_value(rng)), "invalid utf-8": b"\xff\xfe\x00",
        "deep": b"[" * 100_000 + b"]" * 100_000, "raw": rng.choice(RAW).encode("utf-8", "surrogatepass"),
        "200 kB": b"x" * 200_000, "300 kB": b"x" * 300_000,
    }
    name = rng.choice(sorted(bodies))
    return Case(f"sweep/{name}", bodies[name], statuses=frozenset({413} if len(bodies[name]) > MAX_BODY else {200}),
                path=_path(rng, "sweep"), headers=_headers(rng), expect=sweep_report)
