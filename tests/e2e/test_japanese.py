"""The office speaks Japanese, end to end on the local stack in both event formats: a person whose
Chat client says userLocale ja and Asia/Tokyo gets help in Japanese, types a new case as an IME
types it and gets a Japanese card, and the job's progress and result come back in Japanese (times
in Tokyo); an English speaker in the same deployment still gets English; bad input gets a clear
reply in the person's language, never a 5xx, and nothing is created."""

from __future__ import annotations

import html
import json
import time

import pytest

from ackflow.i18n import Speaker
from ackflow.jobs.model import JobStatus
from ackflow.jobs.typed import parse_date
from ackflow_tools.emulators.chat.userside import find_button, iter_buttons
from tests.support.office import running_office

JA = {"locale": "ja", "timeZone": "Asia/Tokyo", "platform": "WEB"}
EN = {"locale": "en-US", "timeZone": "America/New_York", "platform": "WEB"}
TOKYO = Speaker("ja", "Asia/Tokyo")


@pytest.fixture(scope="module", params=["classic", "addon"])
def office(request, tmp_path_factory):
    with running_office(tmp_path_factory.mktemp(f"japanese-{request.param}"), "embedded", request.param) as pipeline:
        yield pipeline


def text(message: dict) -> str:
    return html.unescape(json.dumps(message, ensure_ascii=False))


def reply_to(office, words: str, space: str, client: dict) -> dict:
    answer = office.send(words, space=space, **client)
    assert "error" not in answer and answer.get("status") == 200, answer
    return answer["reply"]["message"]


def test_help_in_japanese_and_in_english(office):
    japanese = text(reply_to(office, "ヘルプ", "spaces/help-ja", JA))
    assert "できること" in japanese and "新規案件 顧客 件名 [納期：日付]" in japanese and "状況 ジョブID" in japanese
    english = text(reply_to(office, "help", "spaces/help-en", EN))
    assert "What I can do" in english and "newcase CLIENT TITLE [--due YYYY-MM-DD]" in english
    assert "できること" not in english


def test_a_new_case_typed_as_an_ime_types_it_runs_and_answers_in_japanese(office):
    space = "spaces/ime"
    card = reply_to(office, "新規案件 ACME「プレス金型 A-12」 ：納期 １２月１日", space, JA)
    due = parse_date("12月1日", TOKYO.today(time.time()))
    shown = text(card)
    assert "新規案件 を実行しますか？" in shown and "ACME の新しい案件を作成します: 「プレス金型 A-12」" in shown
    assert f'"topLabel": "納期", "text": "{TOKYO.date(due)}"' in shown  # 2026年12月1日(火)
    assert find_button(card, "実行") and find_button(card, "中止")

    clicked = office.click(card, "実行", space=space, **JA)
    assert "error" not in clicked, clicked
    assert "受付済み · ジョブ" in text(clicked["reply"]["message"])
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert job.params["client"] == "ACME" and job.params["title"] == "プレス金型 A-12"
    assert job.params["due"] == due.isoformat()
    assert (job.requester.language, job.requester.time_zone) == ("ja", "Asia/Tokyo")

    result = text(office.job_message(job))
    assert f"新規案件 · ジョブ {job.id}" in result and "✅ 完了" in result and "案件番号" in result
    labels = {b["text"] for b in iter_buttons(office.job_message(job)) if "openLink" in b.get("onClick", {})}
    assert {"フォルダーを開く", "見積書を開く (PDF)", "案件シートの行を開く"} <= labels, labels  # in Japanese
    assert not [label for label in labels if "Open" in label], labels

    details = text(reply_to(office, f"状況 {job.id}", space, JA))
    moment = TOKYO.moment(job.created_at)  # when it was asked, on Tokyo's clock (never UTC)
    assert moment in details and "手順 1: 案件番号" in details and "完了、1 回" in details


def test_an_estimate_that_fails_says_why_in_japanese(office):
    space = "spaces/estimate-ja"
    card = reply_to(office, "新規案件 ACME 見積の失敗", space, JA)
    office.click(card, "実行", space=space, **JA)
    made = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=90)
    assert made.status == JobStatus.SUCCEEDED, made.last_error
    case = made.result["case"]

    card = reply_to(office, f"見積 {case} 変更：9=設計:1:100", space, JA)  # v1 has the default lines, not nine
    office.click(card, "実行", space=space, **JA)
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.FAILED and job.steps[0].attempts == 1  # permanent: no retries
    shown = text(office.job_message(job))
    assert "v1 に 9 行目はありません（" in shown and f"行）。「案件 {case}」で明細を確認してください" in shown, shown
    assert "has no line" not in shown
    log = (office.stack.workdir / "logs" / "worker.log").read_text()  # logs are for developers: English
    assert "v1 has no line 9" in log and "行目はありません" not in log


def test_an_english_speaker_in_the_same_office_gets_english(office):
    card = reply_to(office, 'newcase ACME "Die set" --due 2026-12-01', "spaces/english", EN)
    shown = text(card)
    assert "Run newcase?" in shown and "Open a new case for ACME: “Die set”" in shown and "1 Dec 2026" in shown
    assert find_button(card, "Run") and not find_button(card, "実行")


@pytest.mark.parametrize(("typed", "japanese", "english"), [
    ("新規案件 ACME 金型 納期：2月30日", "その日付は存在しません", "that day does not exist"),
    ("見積 2026-001 明細：設計:1:99999999999999999円", "の単価は 1 円以上 9,999,999,999 円以下",
     "must be a whole number of yen from 1 to ¥9,999,999,999"),
    ("ＡＣＭＥ１２３ｘｙ　漢字ｶﾀｶﾅ　🚀🎉", "というコマンドはありません", "I don't know the command"),
    ("新規案件 🚀\u202eevil\u202c 「閉じていない", "引用符が閉じていません", "a quotation mark is not closed"),
    ("新規案件 ACME " + "金" * 10_000, "件名が長すぎます（10,000 文字。最大 200 文字）",
     "TITLE is too long (10,000 characters; at most 200)"),
    ("sleep 99999999999999999999", "秒数は 1〜300 にしてください", "SECONDS must be from 1 to 300"),
    ("新規案", "「新規案件」のことですか？", "Did you mean"),
])
def test_bad_input_gets_a_clear_reply_in_the_persons_language_and_creates_nothing(office, typed, japanese, english):
    before = office.counts()
    for client, expected in ((JA, japanese), (EN, english)):
        answer = office.send(typed, space="spaces/bad", **client)
        assert answer.get("status") == 200 and "error" not in answer, answer  # never a 5xx
        assert expected in text(answer["reply"]["message"]), (client["locale"], text(answer["reply"]["message"]))
    assert office.counts() == before  # no confirmation, no job
