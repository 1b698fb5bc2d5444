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

from ackflow.i18n import Speaker, speaker_for
from ackflow.jobs.model import JobStatus
from ackflow.jobs.typed import parse_date
from ackflow_tools.emulators.chat.userside import find_button, iter_buttons
from tests.support.mail import request_due
from tests.support.office import running_office

JA = {"locale": "ja", "timeZone": "Asia/Tokyo", "platform": "WEB"}
EN = {"locale": "en-US", "timeZone": "America/New_York", "platform": "WEB"}
TOKYO = Speaker("ja", "Asia/Tokyo")


@pytest.fixture(scope="module", params=["classic", "addon"])
def office(request, tmp_path_factory):
    # the office's deployment speaks Japanese (ACKFLOW_LANGUAGE=ja, as it sets it): its periodic jobs do
    with running_office(tmp_path_factory.mktemp(f"japanese-{request.param}"), "embedded", request.param,
                        language="ja") as pipeline:
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
    assert "新規案件を実行しますか？" in shown and "ACME の新しい案件を作成します: 「プレス金型 A-12」" in shown
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
    assert {"フォルダを開く", "見積書を開く（PDF）", "案件シートの行を開く"} <= labels, labels  # in Japanese
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

    # v1 has the default lines, not nine: refused at once, in place of the card (the previous
    # version's lines are read before the card), in Japanese, no job
    refused = text(reply_to(office, f"見積 {case} 変更：9=設計:1:100", space, JA))
    assert "「見積」は実行しませんでした" in refused and "v1 に 9 行目はありません（" in refused, refused
    assert f"行）。「案件 {case}」で明細を確認してください" in refused and "has no line" not in refused

    # what only the job can find (the PDF's font has no 𠮷): the job fails at once and says why
    card = reply_to(office, f"見積 {case} 明細：追加:1:100 宛先：𠮷野家", space, JA)
    office.click(card, "実行", space=space, **JA)
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.FAILED and job.steps[0].attempts == 1  # permanent: no retries
    shown = text(office.job_message(job))
    assert "書類のフォントでは、名前（宛名または発行者）の 𠮷 を印字できません" in shown, shown
    assert "cannot print" not in shown
    log = (office.stack.workdir / "logs" / "worker.log").read_text()  # logs are for developers: English
    assert "cannot print 𠮷" in log and "印字できません" not in log


@pytest.mark.parametrize(("client", "row"), [
    (JA, '"topLabel": "明細", "text": "設計 × 1 @ ¥350,000<br>部品 A × 2 @ ¥1,200 = ¥2,400（8%・軽減税率）<br>'
         '小計（税抜）: ¥352,400"'),
    (EN, '"topLabel": "Line items", "text": "設計 × 1 @ ¥350,000<br>部品 A × 2 @ ¥1,200 = ¥2,400 (8%, reduced rate)<br>'
         'Subtotal before tax: ¥352,400"'),
], ids=["ja", "en"])
def test_line_items_are_shown_as_money_before_run(office, client, row):
    card = reply_to(office, "新規案件 ACME 金型 納期:12/1 明細:設計:1:35万円 明細:「部品 A:2:¥1,200:8%」",
                    f"spaces/items-{client['locale'][:2]}", client)
    shown = text(card)
    assert row in shown and "35万円" not in shown, shown
    assert "設計 × 1 @ ¥350,000" in card["fallbackText"]


@pytest.mark.parametrize("platform", ["WEB", "IOS", "ANDROID"])
def test_a_phone_gets_the_short_form_of_a_card_through_the_webhook(office, platform):
    """``common.platform`` (classic) and ``commonEventObject.platform`` (add-on), as the local Chat
    service sends them to the webhook: on IOS and ANDROID the help leaves out its last section and a
    confirmation card its subtitle (what the card is for stays); the web gets both."""
    whole = platform == "WEB"
    client, space = {**JA, "platform": platform}, f"spaces/phone-{platform.lower()}"
    footer = TOKYO._("Write a command as a message (in a space, @mention me first). Arguments with spaces go in "
                     "quotes.")
    shown = text(reply_to(office, "ヘルプ", space, client))
    assert "新規案件 顧客 件名 [納期：日付]" in shown and (footer in shown) is whole, shown
    card = reply_to(office, "新規案件 ACME 金型", space, client)
    shown = text(card)
    assert "新規案件を実行しますか？" in shown and find_button(card, "実行"), shown
    assert ("案件を登録します: 案件番号" in shown) is whole, shown  # newcase's help line, the card's subtitle


def test_an_english_speaker_in_the_same_office_gets_english(office):
    due = request_due()  # a month ahead: a case's due date is never in the past
    card = reply_to(office, f'newcase ACME "Die set" --due {due}', "spaces/english", EN)
    shown = text(card)
    assert "Run newcase?" in shown and "Open a new case for ACME: “Die set”" in shown
    assert speaker_for("en").date(due) in shown  # 1 Dec 2026
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


# ASCII words a Japanese reader may meet on purpose, each for a reason:
ALLOWED = {
    "ACME",  # the client's name, as typed
    "Alice",  # the requester's display name
    "Ackflow", "Google", "Chat", "PDF",  # product and format names
    "newcase", "help",  # “英語の名前（newcase、help など）も使えます”: the English names, named as such
    "echo", "sleep", "fail",  # developer job types without Japanese names: the names a person types
    "times", "always",  # fail's options (--times N, --always), a developer's job type
    "ID", "j",  # ジョブID, as Japanese writes it; job ids start with j
    "N",  # a number's placeholder: 削除：N[,N…], 見積版：N
}


def test_a_japanese_conversation_meets_no_english(office):
    """Commands, their Japanese names, refusals, usage replies, lists and jobs that fail for the office's
    reasons: every text sent to the Japanese reader, replies and the space's messages, is Japanese but for
    the words ALLOWED and ids, numbers, addresses and links (the test stack's own job types aside)."""
    from ackflow.settings import Settings
    from tests.support.words import WORD, english_words, shown_texts
    from workers.job_types import build_registry

    space = "spaces/no-english"
    shipped = {jt.name for jt in build_registry(Settings())}
    allowed = set(ALLOWED)
    for job_type in office.runtime.registry:  # the test stack's own job types (chain, flaky, …) speak English
        if job_type.name not in shipped:
            allowed |= set(WORD.findall(f"{job_type.usage} {job_type.help}"))
    replies = []

    def say(words: str) -> dict:
        allowed.update(WORD.findall(words))  # what the person typed, quoted back
        answer = office.send(words, space=space, **JA)
        assert answer.get("status") == 200 and "error" not in answer, answer
        replies.append(answer["reply"])
        return answer["reply"]

    def run(words: str):
        card = say(words)["message"]
        clicked = office.click(card, "実行", space=space, **JA)
        assert "error" not in clicked, clicked
        replies.append(clicked["reply"])
        return office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)

    for words in ("ヘルプ", "新規案件", "見積", "受注", "納品", "請求", "入金", "訂正 2026-001 受注", "案件",
                  "状況", "取消", "再実行", "一覧", "一覧 すべて", "状況 jnosuchjob", "案件 2099-999",
                  "新規案件 ACME 金型 納期：2月30日", "入金 2026-001 金額：abc", "納品 2026-001 日付：13月40日",
                  "見積 2026-001 明細：設計:x:100", "案件一覧 取引先=ACME", "案件一覧 状況=受注", "案件一覧 色=赤",
                  "新規案"):
        say(words)
    for form in ("/newcase", "/estimate 2026-001", "/invoice", "/paid"):  # each form: opened, then sent empty
        assert say(form)["action"] == "dialog"
        sent = office.submit_dialog("次へ", {}, space=space, **JA)["reply"]
        assert sent["action"] == "dialog" and "<font color" in json.dumps(sent), sent  # with its errors
        replies.append(sent)
        office.cancel_dialog(space=space, **JA)
    opened = run("新規案件 ACME「英語なし」 納期：12月1日")
    assert opened.status == JobStatus.SUCCEEDED, opened.last_error
    case = opened.result["case"]
    jobs = [opened]
    jobs.append(run(f"見積 {case} 明細：追加:1:100 宛先：𠮷野家"))  # the PDF's font has no 𠮷: the job says so
    # refused at once, in place of the card (said in Japanese, with what to do instead)
    for words in (f"入金 {case} 金額：1000",  # no invoice yet: “請求 {case}” first
                  f"請求 {case}",  # not ordered: “受注 {case}” first
                  f"見積 {case} 変更：9=設計:1:100"):  # v1 has no line 9: “案件 {case}” shows the lines
        assert "cardsV2" not in say(words)["message"]
    jobs.append(run(f"受注 {case}"))
    jobs.append(run(f"請求 {case}"))
    assert "cardsV2" not in say(f"請求 {case}")["message"]  # a second invoice: 追加発行 or 訂正元：
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED,
                                        JobStatus.SUCCEEDED], [(j.type, j.status, j.last_error) for j in jobs]
    for words in (f"案件 {case}", "案件一覧", "案件一覧 状況=請求", f"状況 {jobs[-1].id}", "一覧",
                  f"再実行 {jobs[-1].id}", f"取消 {opened.id}", f"受注 {case} 見積版：7"):
        say(words)
    for job in jobs:
        office.job_message(job)  # each job's final message is in the space
    from ackflow.app.operations import run_periodic_now

    office.send("ヘルプ", space="spaces/office", **JA)  # the office's space, where periodic jobs report
    periodic = [office.wait_job(run_periodic_now(office.runtime, name, "山田", "ja").id, timeout=60)
                for name in ("digest", "reminder")]
    assert [j.status for j in periodic] == [JobStatus.SUCCEEDED] * 2, [j.last_error for j in periodic]
    replies += [office.job_message(job) for job in periodic]  # what the office's space reads (in Japanese)
    ids = sorted((job.id for job in office.runtime.store.list_jobs(limit=1000)), key=len, reverse=True)

    leaks = {}
    said = [m for m in office.messages(space).values() if m.get("sender", {}).get("type") == "BOT"]
    for message in [*replies, *said]:
        for shown in shown_texts(message):
            for job_id in ids:  # ids, with or without a digit (digest-now-ja), wherever they are quoted
                shown = shown.replace(job_id, " ")
            found = english_words(shown, allowed)
            if found:
                leaks[shown[:300]] = found
    assert not leaks, "\n".join(f"{words}: {text}" for text, words in leaks.items())


def test_an_english_reader_still_reads_the_english_names(office):
    space = "spaces/english-names"
    answer = office.send("cases client=Nobody status=ordered", space=space, **EN)
    assert "No open cases (client=Nobody, status=受注)." in text(answer["reply"]["message"])
    usage = text(office.send("ordered", space=space, **EN)["reply"]["message"])
    assert "Usage: ordered CASE_NUMBER [--estimate VERSION] [--date YYYY-MM-DD]" in usage
    assert "Example: ordered 2026-001" in usage and "受注" not in usage
    help_text = text(office.send("help", space=space, **EN)["reply"]["message"])
    assert "cases [client=NAME] [status=STATUS]" in help_text and "取引先" not in help_text
    assert "estimate CASE_NUMBER" in help_text and "[--base VERSION]" in help_text and "[--again]" in help_text
