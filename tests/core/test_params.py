"""Parsing what people type on a phone into typed parameters, with clear complaints."""

from __future__ import annotations

import pytest

from ackflow.errors import UsageError
from ackflow.jobs.params import Param, parse_params, split_words

NEWCASE = (
    Param("client"),
    Param("title", max_length=50),
    Param("due", kind="date", positional=False, required=False),
    Param("count", kind="int", positional=False, required=False, minimum=1, maximum=5),
    Param("urgent", kind="flag", positional=False, required=False),
    Param("item", positional=False, required=False, repeated=True),
)


def parse(text: str) -> dict:
    return parse_params(NEWCASE, split_words(text))


def test_positionals_options_flags_and_repeats():
    values = parse('ACME "Die set A-12" --due 2026-12-01 --count=3 --urgent --item a --item b')
    assert values == {"client": "ACME", "title": "Die set A-12", "due": "2026-12-01", "count": 3,
                      "urgent": True, "item": ["a", "b"]}


def test_defaults_for_what_is_not_given():
    assert parse("ACME title") == {"client": "ACME", "title": "title", "due": None, "count": None,
                                   "urgent": False, "item": []}


def test_phone_punctuation_is_understood():
    # smart quotes, a full-width space from a Japanese keyboard, an em dash for --
    values = parse("ACME\u3000“金型 A-12” —due 2026-12-01")
    assert values["title"] == "金型 A-12"
    assert values["due"] == "2026-12-01"


@pytest.mark.parametrize("text, complaint", [
    ("ACME", "TITLE is missing"),
    ('ACME "open quote', "quotation mark is not closed"),
    ("ACME t --due someday", "--due is not a date I can read: “someday”. Write it like 2026-12-01"),
    ("ACME t --count x", "--count must be a whole number"),
    ("ACME t --count 9", "--count must be from 1 to 5, not 9"),
    ("ACME t --colour red", "unknown option --colour"),
    ("ACME t extra", "unexpected “extra”"),
    ("ACME t --urgent=yes", "--urgent takes no value"),
    ("ACME t --due", "--due needs a value"),
    ("ACME t --count 1 --count 2", "--count is given twice"),
    ("ACME " + "x" * 51, "TITLE is too long"),
    ("ACME 'bell\x07'", "TITLE contains control characters"),
])
def test_mistakes_get_a_clear_message(text, complaint):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert complaint in str(caught.value)


def test_rest_parameter_takes_every_remaining_word():
    values = parse_params((Param("text", rest=True),), split_words("hello  there   world"))
    assert values == {"text": "hello there world"}


def test_usage_lines():
    assert [p.usage() for p in NEWCASE] == [
        "CLIENT", "TITLE", "[--due DUE]", "[--count COUNT]", "[--urgent]", "[--item ITEM ...]"]


def test_a_flag_is_shown_to_a_japanese_speaker_as_the_parser_reads_it():
    # help once offered `[置換]` for estimate's --replace while `置換` alone was refused; then it
    # offered `[置換：]`, a colon with nothing after it; now `置換` alone is read, and `置換：` still is
    from ackflow.i18n import Speaker

    params = (Param("case"), Param("replace", kind="flag", positional=False, required=False, aliases=("置換",)))
    shown = params[1].usage(Speaker("ja"))
    assert shown == "[置換]"
    for typed in (shown.strip("[]"), "置換：", "：置換"):
        assert parse_params(params, split_words("2026-001 " + typed))["replace"] is True
