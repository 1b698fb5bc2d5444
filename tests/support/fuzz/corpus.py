"""The hostile material the fuzzer draws from: strings, values of every JSON type, raw JSON text
that Python's json module handles badly, and command lines a person (or an attacker) might type."""

from __future__ import annotations

import copy
import random

from tests.support.markup import HOSTILE

STRINGS = (
    *HOSTILE,
    "", " ", "\t", "\n\n\n", "\r\n", "\x00", "\x07\x1b[31mred\x1b[0m", "\x7f", "\u0085", "\u2028\u2029",
    "\u202egnp.exe", "\u2066isolate\u2069", "\u200b\u200d\ufeff", "\ufffe\uffff", "\U0010ffff", "e\u0301" * 50,
    "𝕬𝖈𝖐", "👩‍👩‍👧‍👦", "ｅｃｈｏ", "「金型 A-12」", "¥1万", "２０２６－０１－０１", "١٢٣", "金" * 300,
    "{text}", "{0}", "{__class__}", "%s%s%n", "${7*7}", "{{7*7}}", "' OR 1=1 --", '"; DROP TABLE docs; --',
    "../../etc/passwd", "a/b/c", "spaces/x/messages/y", "__name__", ".", "..", "~", "/", "\\",
    "=HYPERLINK(\"https://example.net\")", "users/all", "spaces/AAAA", "client-jzzz", "jzzzzzzzzzz",
    "c" + "z" * 12, "null", "true", "[]", "{}", "NaN", "1e999", "-0", "99999999999999999999999999", "0x10",
    "A" * 5000, "あ" * 3000,
    # what Firestore names no document by or refuses in a field's name: a path of two parts, a
    # reserved name, more than 1,500 bytes
    "a/b", "users/x/y", "____", "__x__", "é" * 800,
)

VALUES = (None, True, False, 0, -1, 1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**40, 1.5, -0.0, 1e308, 5e-324,
          "", "x", [], {}, [None], [1, "a", {}], {"": None}, {"a": {"b": {"c": []}}}, ["x"] * 200,
          {"name": "spaces/x"}, {"key": "confirmation", "value": "c1"},
          # what Firestore refuses in a document: a reserved or too long field name, an array in an
          # array, maps nested deeper than 20
          {"__x__": 1}, {"k" * 1600: 1}, [[1]], {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {
              "l": {"m": {"n": {"o": {"p": {"q": {"r": {"s": {"t": {"u": {"v": 1}}}}}}}}}}}}}}}}}}}}}})

# Raw JSON text spliced in where a value was: the json module raises something other than a
# ValueError on some of these (RecursionError), or accepts what no Chat event holds (NaN, 1e999).
RAW = (
    "1" + "0" * 5000, "-" + "9" * 4400, "1e999", "-1e999", "NaN", "Infinity", "-Infinity",
    '"\\ud800"', '"x\\udfffy"', '"\\udc00\\ud800"', '"\\u0000"',
    "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000, "[" * 60 + "]" * 60, "[" * 990 + "]" * 990,
)

COMMANDS = ("echo", "sleep", "fail", "newcase", "estimate", "case", "status", "jobs", "cancel", "retry", "help",
            "/echo", "/status", "ECHO", "ｅｃｈｏ", "nosuchcommand", "tick", "nap", "--help", "", "'", '"')
OPTIONS = ("--times", "--always", "--due", "--portal", "--item", "--unknown", "--", "—due", "–times", "--times=1",
           "--always=yes", "--item=", "--due=2026-02-30")
ARGS = ("1", "0", "-1", "300", "301", "1e999", "99999999999999999999999", "NaN", "1.5", "１２", "2026-12-01",
        "2026-001", "ACME", '"unclosed', "'unclosed", '""', "「見積」", "“smart quotes”", "a:1:100", "金型:1:350000",
        "x:y:z", "a:1e999999:1", "a:NaN:1", "a:Infinity:1", "a:1:" + "9" * 4400, "all", "jzzzzzzzzzz",
        "czzzzzzzzzzzz")


def hostile_string(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.08:
        return rng.choice("aあ<&\"'\\ ") * rng.choice((10_000, 50_000, 120_000))  # long, one "word"
    if pick < 0.25:
        return "".join(rng.choice(STRINGS) for _ in range(rng.randint(2, 4)))
    return rng.choice(STRINGS)


def hostile_value(rng: random.Random):
    """A string or a value of another type; a fresh copy, so mutating it changes nothing shared."""
    return hostile_string(rng) if rng.random() < 0.5 else copy.deepcopy(rng.choice(VALUES))


def command_line(rng: random.Random) -> str:
    """A command as typed: mostly well-formed, often with hostile arguments, sometimes broken."""
    roll = rng.random()
    if roll < 0.25:
        return f"echo {hostile_string(rng)}"
    if roll < 0.35:
        return rng.choice(("sleep 3", "fail --times 1", "fail --always", 'newcase ACME "金型 A-12" --due 12/1',
                           'estimate 2026-001 --item "設計:1:350000"', 'newcase ACME A-12 --item "a:1e999999:1"',
                           'estimate 2026-001 --item "a:NaN:1"', "help", "jobs", "jobs all"))
    words = [rng.choice(COMMANDS)]
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        if kind < 0.3:
            words.append(rng.choice(OPTIONS))
        elif kind < 0.7:
            words.append(rng.choice(ARGS))
        else:
            value = hostile_string(rng)
            words.append(f'"{value}"' if rng.random() < 0.5 else value)
    return " ".join(words)
