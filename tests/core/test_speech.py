"""Whose language, which time zone: from the event (both formats), else what is known of the person
(kept in the store), else the deployment's; a job speaks as its requester was spoken to; every
command has its Japanese name, and an unknown one gets the nearest."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from ackflow.app import views
from ackflow.app.runtime import Runtime
from ackflow.app.speech import speaker_of, speaker_of_job, with_known_client
from ackflow.app.webhook import Webhook
from ackflow.chat.events import MalformedEvent, parse_event
from ackflow.chat.replies import response_json
from ackflow.errors import StoreUnavailable
from ackflow.i18n import ENGLISH, L_, Msg, Speaker
from ackflow.jobs.model import Job, Requester, StepState
from ackflow.settings import Settings
from workers.job_types import build_registry

DATA = Path(__file__).parent.parent / "data" / "events"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def runtime(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "a.db"), language="ja", time_zone="Asia/Tokyo")
    return Runtime(settings, registry=build_registry(settings))


def classic(text: str, **common) -> dict:
    event = load("classic/message.json")
    event["message"]["text"] = event["message"]["argumentText"] = text
    event["common"] = {**{k: v for k, v in event["common"].items() if k not in common}, **common}
    event["common"] = {k: v for k, v in event["common"].items() if v is not None}
    return event


def addon(text: str, **common) -> dict:
    event = load("addon/message.json")
    event["chat"]["messagePayload"]["message"]["text"] = text
    event["chat"]["messagePayload"]["message"]["argumentText"] = text
    event["commonEventObject"].update(common)
    event["commonEventObject"] = {k: v for k, v in event["commonEventObject"].items() if v is not None}
    return event


def said(runtime, body: dict) -> str:
    event = parse_event(body)
    answer = Webhook(runtime).answer(event)
    return html.unescape(json.dumps(response_json(answer, event.format, "https://a/"), ensure_ascii=False))


# -- the event says ---------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [classic, addon], ids=["classic", "addon"])
def test_both_formats_carry_the_persons_language_zone_and_platform(build):
    event = parse_event(build("help", userLocale="en-GB", timeZone={"id": "Europe/London", "offset": 0},
                              platform="ANDROID"))
    assert (event.locale, event.time_zone, event.platform) == ("en-GB", "Europe/London", "ANDROID")


@pytest.mark.parametrize("common", [{"userLocale": 3}, {"timeZone": {"id": ["Asia/Tokyo"]}}, {"platform": {}},
                                    {"timeZone": 9}])
def test_a_client_field_of_the_wrong_type_makes_the_event_malformed(common):
    with pytest.raises(MalformedEvent):
        parse_event(classic("help", **common))
    with pytest.raises(MalformedEvent):
        parse_event(addon("help", **common))


def test_hostile_client_values_fall_back_and_never_reach_a_zone_lookup(runtime):
    for locale, zone in (("x" * 10_000, "../../etc/passwd"), ("ja\u202e", "Asia/Tokyo\x00"), ("", "Not/AZone")):
        event = parse_event(classic("help", userLocale=locale, timeZone={"id": zone}))
        speaker = speaker_of(runtime, with_known_client(runtime, event))
        assert speaker.time_zone == "Asia/Tokyo" and speaker.language in ("ja", "en")


@pytest.mark.parametrize("build", [classic, addon], ids=["classic", "addon"])
def test_help_in_japanese_and_in_english(runtime, build):
    japanese = said(runtime, build("ヘルプ", userLocale="ja", timeZone={"id": "Asia/Tokyo"}))
    assert "できること" in japanese and "新規案件 顧客 件名 [納期：日付]" in japanese
    assert "What I can do" not in japanese
    english = said(runtime, build("help", userLocale="en-US", timeZone={"id": "America/New_York"}))
    assert "What I can do" in english and "newcase CLIENT TITLE [--due YYYY-MM-DD]" in english
    assert "できること" not in english


# -- else what is known of the person, else the deployment's ----------------------------------------
def test_a_person_is_remembered_for_events_that_say_nothing(runtime):
    said(runtime, classic("help", userLocale="en-US", timeZone={"id": "America/Chicago"}))
    quiet = with_known_client(runtime, parse_event(classic("help", userLocale=None, timeZone=None)))
    assert speaker_of(runtime, quiet) == Speaker("en", "America/Chicago", "WEB")
    assert "What I can do" in said(runtime, classic("help", userLocale=None, timeZone=None))
    # a stranger who says nothing gets the deployment's language and zone
    stranger = classic("help", userLocale=None, timeZone=None)
    stranger["user"]["name"] = "users/42"
    known = with_known_client(runtime, parse_event(stranger))
    assert speaker_of(runtime, known) == Speaker("ja", "Asia/Tokyo", "WEB")
    # a part an event leaves out keeps its last value
    said(runtime, classic("help", userLocale="ja", timeZone=None))
    assert runtime.people.get(quiet.user.name).language == "ja"
    assert runtime.people.get(quiet.user.name).time_zone == "America/Chicago"


def test_an_event_that_says_language_and_zone_is_answered_without_waiting_for_the_store(runtime):
    """Keeping what the event said needs nothing read back: the answer does not wait for the store
    (a fresh Firestore instance's first help paid for opening the store). A later look-up of the
    person in this process waits for it and finds it."""
    import threading

    docs = runtime.store.docs
    read, release, reading = docs.get, threading.Event(), threading.Event()

    def slow(collection, doc_id):
        if collection == "people":
            reading.set()
            release.wait(60)
        return read(collection, doc_id)

    docs.get = slow
    answers: list[str] = []
    asking = threading.Thread(target=lambda: answers.append(
        said(runtime, classic("help", userLocale="en-US", timeZone={"id": "America/Chicago"}))))
    try:
        asking.start()
        asking.join(20)
        assert answers and "What I can do" in answers[0]  # answered while the store is still being read
        assert reading.wait(10) and not release.is_set()
    finally:
        release.set()
        docs.get = read
    quiet = with_known_client(runtime, parse_event(classic("help", userLocale=None, timeZone=None)))
    assert speaker_of(runtime, quiet) == Speaker("en", "America/Chicago", "WEB")


def test_a_store_that_fails_while_keeping_a_language_in_the_background_is_only_logged(runtime, caplog):
    def down(fn):
        raise StoreUnavailable("deadline exceeded")

    runtime.people.docs.transaction = down
    with caplog.at_level("WARNING", logger="ackflow.store.people"):
        assert "What I can do" in said(runtime, classic("help", userLocale="en-US", timeZone={"id": "UTC"}))
        assert runtime.people.get("users/112233445566778899001").language == ""  # waits for the attempt
    assert any("could not keep the person's language" in r.getMessage() for r in caplog.records)


def test_closing_the_runtime_waits_for_a_language_still_being_kept(tmp_path):
    """The webhook keeps a person's language on a thread of its own; closing the runtime (a test's
    teardown, a process's end) while that write is under way closed the SQLite connection in use
    and crashed the process. Close waits for it, and the write lands."""
    import threading

    settings = Settings(sqlite_path=str(tmp_path / "a.db"), language="ja", time_zone="Asia/Tokyo")
    runtime = Runtime(settings, registry=build_registry(settings))
    docs = runtime.store.docs
    transaction, writing, release = docs.transaction, threading.Event(), threading.Event()

    def slow(fn):
        writing.set()
        release.wait(30)
        return transaction(fn)

    docs.transaction = slow
    with_known_client(runtime, parse_event(classic("help", userLocale="en-US", timeZone={"id": "America/Chicago"})))
    assert writing.wait(10)
    closing = threading.Thread(target=runtime.close)
    closing.start()
    closing.join(1)
    assert closing.is_alive()  # waiting for the write, not closing under it
    release.set()
    closing.join(20)
    assert not closing.is_alive()
    again = Runtime(settings, registry=build_registry(settings))
    assert again.people.get("users/112233445566778899001").language == "en"
    again.close()


def test_remembering_writes_only_what_changed(runtime):
    people, now = runtime.people, 1000.0
    writes = []
    transaction = people.docs.transaction
    people.docs.transaction = lambda fn: writes.append(1) or transaction(fn)
    for _ in range(3):
        people.remember("users/7", "ja", "Asia/Tokyo", now)
    people.remember("users/7", "en", "Asia/Tokyo", now)
    assert len(writes) == 2
    assert people.remember("not a user name", "ja", "Asia/Tokyo", now).language == ""
    assert people.remember("users/../../x", "ja", "Asia/Tokyo", now).language == ""


def test_a_store_that_does_not_answer_leaves_the_deployments_way(runtime, monkeypatch):
    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(runtime.people, "get", down)
    event = parse_event(classic("help", userLocale=None, timeZone=None))
    assert speaker_of(runtime, with_known_client(runtime, event)).language == "ja"


# -- jobs --------------------------------------------------------------------------------------------
def test_a_job_speaks_as_its_requester_was_spoken_to(runtime):
    def job(requester: Requester) -> Job:
        return Job("j1", "echo", {"text": "x"}, requester, "spaces/s", None, "ackflow-default", (StepState("echo"),),
                   0.0, 0.0)

    assert speaker_of_job(runtime, job(Requester("users/1", language="en", time_zone="Europe/Paris"))) == \
        Speaker("en", "Europe/Paris")
    assert speaker_of_job(runtime, job(Requester("system"))) == Speaker("ja", "Asia/Tokyo")  # periodic jobs
    stored = Requester("users/1", "a@b", "A", "en", "UTC")
    assert Requester.from_dict(stored.to_dict()) == stored
    assert Requester.from_dict({"name": "users/1"}) == Requester("users/1")  # stored before languages were kept


def test_the_confirmation_keeps_the_language_the_person_was_answered_in(runtime):
    said(runtime, classic("echo こんにちは", userLocale="ja", timeZone={"id": "Asia/Tokyo"}))
    [confirmation] = runtime.store.docs.query("confirmations", [], "created_at", True, 10)
    assert confirmation["requester"]["language"] == "ja" and confirmation["requester"]["time_zone"] == "Asia/Tokyo"


# -- names -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "expected"), [
    ("新規案", "「新規案件」のことですか？"), ("ヘルプ？", "「ヘルプ」のことですか？"),
    ("見積もり", "「見積」のことですか？"),
])
def test_an_unknown_command_gets_the_nearest_names_in_the_persons_language(runtime, typed, expected):
    assert expected in said(runtime, classic(typed))


def test_an_unknown_command_in_english(runtime):
    answer = said(runtime, classic("newcsae ACME x", userLocale="en"))
    assert "I don't know the command “newcsae”. Did you mean “newcase”" in answer  # the nearest first


@pytest.mark.parametrize(("typed", "expected"), [
    # an English name typed by a Japanese reader: the Japanese name first, the English one beside it
    ("newcas", "「新規案件」（newcase）、「案件」（case）、「案件一覧」（cases）のことですか？"),
    ("hepl", "ありません。「ヘルプ」（help）"),  # the nearest first (hold may follow)
    # hiragana typed before the IME converted it: read as katakana
    ("へるぷ", "「ヘルプ」のことですか？"),
])
def test_a_japanese_reader_is_suggested_the_japanese_names(runtime, typed, expected):
    answer = said(runtime, classic(typed, userLocale="ja"))
    assert expected in answer, answer


@pytest.mark.parametrize(("typed", "expected"), [
    # a command's reading sent before the IME converted it to its kanji: 見積 typed as みつもり (the
    # nearest first; a reading near another's, じゅちゅう and しっちゅう, names both)
    ("みつもり", "ありません。「見積」のことですか？"), ("せいきゅう", "ありません。「請求」のことですか？"),
    ("しんきあんけん", "ありません。「新規案件」"), ("にゅうきん", "ありません。「入金」のことですか？"),
    ("じゅちゅう", "ありません。「受注」"), ("のうひん", "ありません。「納品」のことですか？"),
    ("あんけんいちらん", "ありません。「案件一覧」"), ("とりけし", "ありません。「取消」のことですか？"),
    ("さいじっこう", "ありません。「再実行」のことですか？"), ("じょうきょう", "ありません。「状況」のことですか？"),
])
def test_a_command_typed_by_its_reading_is_suggested_by_its_name(runtime, typed, expected):
    answer = said(runtime, classic(typed, userLocale="ja"))
    assert expected in answer, answer


@pytest.mark.parametrize(("typed", "expected"), [
    # the everyday words for what a builtin does (キャンセル is what the office says, 中止 is the card's
    # own button): they got “no such command” and nothing else, and やり直し (redo) got 取消 (cancel)
    ("キャンセル", "「取消」のことですか？"), ("きゃんせる", "「取消」のことですか？"),
    ("中止", "「取消」のことですか？"),
    ("ステータス", "「状況」のことですか？"), ("リトライ", "「再実行」のことですか？"),
    ("やり直し", "「再実行」のことですか？"), ("？", "「ヘルプ」（help）のことですか？"),
])
def test_an_everyday_word_for_a_command_is_suggested_that_command_alone(runtime, typed, expected):
    answer = said(runtime, classic(typed, userLocale="ja"))
    assert expected in answer, answer


def test_an_english_reader_is_suggested_the_english_names_even_for_a_japanese_word(runtime):
    answer = said(runtime, classic("へるぷ", userLocale="en"))
    assert "Did you mean “help”?" in answer and "ヘルプ" not in answer.split("Did you mean")[1].split("?")[0]


@pytest.mark.parametrize(("typed", "locale", "title"), [
    # the word after help is no command: it was looked up as one, and me got “did you mean resume”
    ("help me", "en", "What I can do"), ("help me", "ja", "できること"), ("help please", "en", "What I can do"),
    ("ヘルプ お願いします", "ja", "できること"), ("ヘルプ お願い", "ja", "できること"),
])
def test_help_with_words_that_name_no_command_is_the_help_card_without_a_guess(runtime, typed, locale, title):
    answer = said(runtime, classic(typed, userLocale=locale))
    assert title in answer
    for guess in ("Did you mean", "のことですか", "I don't know the command", "というコマンドはありません"):
        assert guess not in answer, answer


@pytest.mark.parametrize(("typed", "locale", "expected"), [
    ("help estimat", "en", "I don't know the command “estimat”. Did you mean “estimate”?"),
    ("help jbos", "en", "Did you mean “jobs”?"), ("ヘルプ 見積もり", "ja", "「見積」のことですか？"),
    ("ヘルプ みつもり", "ja", "「見積」のことですか？"),
])
def test_help_with_a_typo_of_a_command_still_suggests_it(runtime, typed, locale, expected):
    assert expected in said(runtime, classic(typed, userLocale=locale))


def test_sleep_takes_its_seconds_written_with_a_unit(runtime):
    assert "30 秒待ちます" in said(runtime, classic("sleep 30秒", userLocale="ja"))
    assert "Sleep for 30 s" in said(runtime, classic("sleep 30s", userLocale="en"))
    assert "30 秒待ちます" in said(runtime, classic("sleep 30 秒", userLocale="ja"))  # the unit a word of its own
    assert "Sleep for 30 s" in said(runtime, classic("sleep 30 seconds", userLocale="en"))
    refused = said(runtime, classic("sleep 30分", userLocale="ja"))  # minutes: not read as 30 seconds
    assert "秒数は「分」を付けずに数字だけで書いてください" in refused and "12 のように" not in refused


def test_fails_options_have_japanese_names_in_japanese_help(runtime):
    japanese = said(runtime, classic("ヘルプ fail", userLocale="ja"))
    assert "fail [回数：N] [常に]" in japanese and "例: fail 回数：2" in japanese
    assert "--times" not in japanese and "--always" not in japanese
    assert "fail [回数：N] [常に]" in said(runtime, classic("ヘルプ", userLocale="ja"))
    english = said(runtime, classic("help fail", userLocale="en"))
    assert "fail [--times N] [--always]" in english and "Example: fail --times 2" in english
    assert "3 回失敗" not in said(runtime, classic("fail 回数：3回", userLocale="ja"))  # read as 3, confirmed
    assert "回数：N と 常に はどちらか一方だけ" in said(runtime, classic("fail 回数：3 常に", userLocale="ja"))


def test_the_confirmation_title_has_no_space_before_wo(runtime):
    answer = said(runtime, classic("新規案件 ACME 金型", userLocale="ja"))
    assert "新規案件を実行しますか？" in answer and "新規案件 を" not in answer


# -- a command that does not split -------------------------------------------------------------------
def reply_of(runtime, body: dict) -> dict:
    event = parse_event(body)
    return response_json(Webhook(runtime).answer(event), event.format, "https://a/")


@pytest.mark.parametrize("typed", ["新規案件 ACME「x", "新規案件「x", "newcase ACME 'x", "ｎｅｗｃａｓｅ ACME「x"])
def test_an_unclosed_quote_after_a_job_type_gets_its_usage_example_and_form(runtime, typed):
    reply = reply_of(runtime, classic(typed, userLocale="ja"))
    lines = reply["text"].splitlines()
    assert lines[0] == "読み取れませんでした: 引用符が閉じていません。"
    assert lines[1].startswith("使い方: 新規案件 顧客 件名") and lines[2].startswith("例: 新規案件 ")
    [button] = [b for c in reply["cardsV2"] for s in c["card"]["sections"] for w in s["widgets"]
                for b in w.get("buttonList", {}).get("buttons", [])]
    assert button["text"] == "フォームで入力" and button["onClick"]["action"]["interaction"] == "OPEN_DIALOG"
    parameters = {p["key"]: p["value"] for p in button["onClick"]["action"]["parameters"]}
    assert parameters["form"] == "newcase"


def test_a_command_too_long_to_read_names_its_usage_in_english_too(runtime):
    reply = reply_of(runtime, classic("sleep " + "x" * 40_000, userLocale="en"))
    lines = reply["text"].splitlines()
    assert lines[0].startswith("I could not read that: the command is too long (40,006 characters")
    assert lines[1:] == ["Usage: sleep SECONDS", "Example: sleep 5"] and reply["cardsV2"]


def test_an_unclosed_quote_after_an_own_command_gives_its_usage(runtime):
    reply = reply_of(runtime, classic("状況 「j", userLocale="ja"))
    assert reply["text"] == "読み取れませんでした: 引用符が閉じていません。\n使い方: 状況 ジョブID"


@pytest.mark.parametrize("typed", ["nosuch「x", "「x", "ヘルプ「"])
def test_an_unclosed_quote_without_a_known_command_gets_the_help_card(runtime, typed):
    answer = said(runtime, classic(typed, userLocale="ja"))
    assert "読み取れませんでした: 引用符が閉じていません。" in answer and "できること" in answer
    assert "新規案件 顧客 件名" in answer  # what can be written, with its words


def test_an_unclosed_quote_gives_no_usage_of_a_command_the_person_may_not_use(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "a.db"), language="ja",
                        command_access={"newcase": {"users": ["someone.else@example.com"]}})
    runtime = Runtime(settings, registry=build_registry(settings))
    answer = said(runtime, classic("新規案件 ACME「x", userLocale="ja"))
    assert "引用符が閉じていません" in answer and "使い方" not in answer and "フォームで入力" not in answer


def test_texts_said_later_and_sentences():
    text = L_("{label} is empty", label=L_("client name"))
    assert isinstance(text, Msg) and str(text) == "client name is empty"
    assert text.render(Speaker("ja")) == "顧客名が空です"
    assert Speaker("ja").sentences("一。", "二。") == "一。二。" and ENGLISH.sentences("One.", "Two.") == "One. Two."
    assert views.builtin_name("retry", Speaker("ja")) == "再実行" and views.builtin_name("retry", ENGLISH) == "retry"


@pytest.mark.parametrize("build", [classic, addon], ids=["classic", "addon"])
def test_help_with_a_command_shows_that_one_with_an_example_in_the_readers_language(runtime, build):
    """On a phone the whole list is long: ヘルプ 請求 (by any of its names) shows how to write 請求,
    what it does, an example and its form's button; an unknown one gets the nearest names."""
    japanese = said(runtime, build("ヘルプ　請求", userLocale="ja", timeZone={"id": "Asia/Tokyo"}))
    assert "使い方: 請求 案件番号" in japanese and "例: 請求 2026-" in japanese and "OPEN_DIALOG" in japanese
    assert "できること" not in japanese and "新規案件 顧客 件名" not in japanese  # not the whole list
    english = said(runtime, build("help invoice", userLocale="en-US"))
    assert "Usage: invoice CASE" in english and "Example: invoice " in english and "What I can do" not in english
    builtin = said(runtime, build("ヘルプ 状況", userLocale="ja"))
    assert "使い方: 状況 ジョブID" in builtin and "できること" not in builtin
    unknown = said(runtime, build("ヘルプ せいきゅ", userLocale="ja"))
    assert "請求" in unknown and "できること" in unknown
    assert "できること" in said(runtime, build("ヘルプ ヘルプ", userLocale="ja"))
