"""One catalog, two languages: texts, plurals, money and dates in the person's form and time zone."""

from __future__ import annotations

import datetime as dt
import importlib.machinery
import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ackflow.i18n import Day, Speaker, language_of, speaker_for

ROOT = Path(__file__).resolve().parents[2]
JA = Speaker("ja", "Asia/Tokyo")
EN = Speaker("en", "Europe/London")


def test_languages_from_what_chat_sends():
    assert language_of("ja") == language_of("ja-JP") == language_of("ja_JP") == "ja"
    assert language_of("en-US") == "en"
    assert language_of("fr-FR") is None and language_of(None) is None and language_of(3) is None
    assert speaker_for("fr-FR", default_language="ja").language == "ja"
    assert speaker_for(None, "Not/AZone", default_time_zone="Asia/Tokyo").time_zone == "Asia/Tokyo"
    assert speaker_for("en-GB", "America/New_York", "android").platform == "ANDROID"


def test_money_is_integer_yen_with_grouping():
    assert JA.yen(430000) == EN.yen(430000) == "¥430,000"
    assert JA.yen(0) == "¥0" and JA.yen(-1200) == "-¥1,200"


def test_dates_read_as_each_language_writes_them():
    assert JA.date(dt.date(2026, 12, 1)) == "2026年12月1日(火)"
    assert EN.date("2026-12-01") == "1 Dec 2026"


def test_moments_are_in_the_persons_time_zone_never_utc():
    moment = dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC).timestamp()
    assert JA.moment(moment) == "2026年12月1日(火) 0:30"  # already the next day in Tokyo
    assert EN.moment(moment) == "30 Nov 2026, 15:30"
    assert Speaker("en", "America/Los_Angeles").moment(moment) == "30 Nov 2026, 7:30"
    assert JA.today(moment) == dt.date(2026, 12, 1)


def test_texts_come_from_the_catalog():
    assert JA.duration(125) == "2 分" and EN.duration(125) == "2 min"
    assert JA._("{n} s", n=3) == "3 秒"


def _catalog_tool():
    loader = importlib.machinery.SourceFileLoader("catalog_tool", str(ROOT / "scripts" / "catalog"))
    spec = importlib.util.spec_from_loader("catalog_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_catalog_is_extracted_translated_and_compiled():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "catalog"), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_catalog_tool_runs_as_development_md_writes_it_from_a_shell_without_the_virtualenv(tmp_path):
    # `scripts/catalog check` after ./scripts/dev: its shebang's python3 is the system's, without
    # Babel (here: this Python without site-packages, -S); it runs again with the checkout's .venv
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "catalog", checkout / "scripts" / "catalog")
    without_babel = [sys.executable, "-S", str(checkout / "scripts" / "catalog"), "help"]
    refused = subprocess.run(without_babel, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "needs Babel" in refused.stderr and "dev extra" in refused.stderr  # no .venv: what to do
    venv_python = checkout / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    venv_python.chmod(0o755)
    ran = subprocess.run(without_babel, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2 and "scripts/catalog extract" in ran.stderr, ran.stderr  # its usage: it ran


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda po: po.replace('msgstr "{n} 秒"', 'msgstr "{m} 秒"'), "placeholders differ"),
    (lambda po: po.replace('msgstr "{n} 秒"', 'msgstr ""'), "untranslated"),
])
def test_the_check_catches_a_broken_translation(tmp_path, monkeypatch, change, complaint):
    tool = _catalog_tool()
    locale = tmp_path / "locale"
    shutil.copytree(tool.LOCALE, locale)
    po = locale / "ja" / "LC_MESSAGES" / "ackflow.po"
    po.write_text(change(po.read_text()))
    monkeypatch.setattr(tool, "LOCALE", locale)
    monkeypatch.setattr(tool, "POT", locale / "ackflow.pot")
    assert any(complaint in line for line in tool.problems())


def test_no_text_is_marked_inside_an_f_string():
    """Babel's extractor does not read inside f-strings (one STRING token before Python 3.12), so a
    ``speaker._("…")`` there never reaches the catalog and Japanese readers get English: the case
    card's "accepted" and "correction" did. Mark the text outside and join the pieces."""
    import io
    import re
    import tokenize

    marked = re.compile(r"\{[^{}]*\b(?:_|n_|L_|N_)\(\s*['\"]")  # a literal: a variable's text is marked elsewhere
    found = []
    for folder in ("functions", "ackflow_tools"):
        for path in (ROOT / folder).rglob("*.py"):
            for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
                if token.type == tokenize.STRING and re.match(r"(?i)[rb]*f", token.string) \
                        and marked.search(token.string):
                    found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string[:80]}")
    assert found == []


def test_every_marked_text_is_in_the_japanese_catalog():
    """Each literal marked in the code reaches the catalog in the form it is looked up: a plural
    as a plural. Babel's extractor reads a call with a marked call inside it (``n_("…", "…", n,
    error=_("…"))``) as the inner keyword's, so the outer text was stored as a singular, gettext's
    plural lookup missed it, and every failed job's card was in English for Japanese readers."""
    import ast

    from ackflow.i18n import _catalog

    japanese = _catalog("ja")._catalog  # the compiled catalog: msgid, or (msgid, n) for plurals
    missing = []
    for folder in ("functions", "ackflow_tools"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                texts = [a.value for a in node.args[:2 if name == "n_" else 1]
                         if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if name not in ("_", "N_", "L_", "n_") or not texts:
                    continue
                key = (texts[0], 0) if name == "n_" else texts[0]
                if key not in japanese:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({texts[0][:60]!r})")
    assert missing == [], ("not in the compiled Japanese catalog: scripts/catalog extract, update, translate "
                           "the new msgids in ja/ackflow.po, compile (docs/development.md, Translations)")


def test_japanese_texts_write_parentheses_and_option_names_as_japanese_text_does():
    """Full-width （） beside Japanese (the form's 「顧客(一覧にない場合)」 sat next to 「税率（軽減税率なら
    8%）」), and an option named inside a sentence in 「」 as the person types it (「明細：」で, not
    明細：で, which reads as a broken sentence)."""
    import re

    from ackflow.i18n import _catalog

    kana_kanji = "\u3040-\u30ff\u4e00-\u9fff"
    halfwidth = re.compile(rf"[{kana_kanji}]\(|\)[{kana_kanji}]")
    options = "明細|変更|削除|置換|日付|金額|納期|宛先|見積版|追加発行|訂正元"
    bare_option = re.compile(rf"(?<![「『])({options})：[でをにがは]")
    wrong = [text for text in _catalog("ja")._catalog.values()
             if isinstance(text, str) and (halfwidth.search(text) or bare_option.search(text))]
    assert wrong == []


def test_a_failed_job_and_its_details_read_in_japanese():
    from ackflow.app import views
    from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    job_type = registry.get("newcase")
    steps = tuple(StepState(s.name, status=StepStatus.FAILED if i == 1 else StepStatus.SUCCEEDED, attempts=3)
                  for i, s in enumerate(job_type.steps[:2]))
    job = Job(id="j1", type="newcase", params={"client": "ACME", "title": "金型"}, requester=Requester("users/1"),
              space="spaces/x", thread=None, queue=job_type.queue, steps=steps, created_at=0, updated_at=0,
              status=JobStatus.FAILED, current=1, finished_at=5)
    line = views.job_state_line(job, job_type, 10, JA)
    assert "失敗" in line and "3 回" in line and "原因不明のエラー" in line and "Failed" not in line
    details = json.dumps(views.job_details(job, job_type, 10, JA).card.sections, default=str, ensure_ascii=False)
    assert "顧客: ACME" in details and "client: ACME" not in details


def test_the_jobs_list_counts_retries_not_the_steps_a_job_ran():
    """一覧: a new case of six steps run once each said “完了 · … · 6 回”, which reads as six tries;
    it says nothing of attempts unless a step was tried again, and then how many times."""
    from ackflow.app import views
    from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    job_type = registry.get("newcase")

    def listed(*attempts: int) -> str:
        steps = tuple(StepState(s.name, status=StepStatus.SUCCEEDED, attempts=n)
                      for s, n in zip(job_type.steps, attempts, strict=True))
        job = Job(id="j1", type="newcase", params={}, requester=Requester("users/1", display_name="山田"),
                  space="spaces/x", thread=None, queue=job_type.queue, steps=steps, created_at=0, updated_at=0,
                  status=JobStatus.SUCCEEDED, current=len(steps), finished_at=5)
        return {language: views.jobs_list([job], "", 60, speaker_for(language), registry).card.sections[0]
                .widgets[0].value for language in ("ja", "en")}

    assert listed(1, 1, 1, 1, 1, 1) == {"ja": "完了 · 60 秒前 · 山田", "en": "SUCCEEDED · 60 s ago · 山田"}
    assert listed(1, 3, 1, 2, 1, 1) == {"ja": "完了 · 60 秒前 · 山田 · 再試行 3 回",
                                        "en": "SUCCEEDED · 60 s ago · 山田 · 3 retries"}


def test_how_long_ago_a_job_was_asked_for_is_said_in_whole_seconds():
    """状況 and 一覧 said “（9.8 秒前）” and “120 ミリ秒前”: a stopwatch's reading where a clock's is meant."""
    from ackflow.app import views
    from ackflow.jobs.model import Job, JobStatus, Requester

    job = Job(id="j1", type="echo", params={}, requester=Requester("users/1", display_name="山田"),
              space="spaces/x", thread=None, queue="default", steps=(), created_at=0, updated_at=0,
              status=JobStatus.RUNNING, current=0)
    details = json.dumps(views.job_details(job, None, 9.8, JA).card.sections, default=str, ensure_ascii=False)
    assert "（10 秒前）" in details and "9.8" not in details
    listed = views.jobs_list([job], "", 0.12, JA).card.sections[0].widgets[0].value
    assert listed.endswith("· 1 秒前 · 山田"), listed
    assert JA.ago(600) == JA.duration(600) == "10 分"


def test_the_jobs_list_names_a_job_its_schedule_started_in_the_readers_language():
    """一覧: a periodic job's requester is stored as ``scheduler``, which the list said as it is in
    a Japanese chat; it says 定期実行 (as the job's own card does)."""
    from ackflow.app import views
    from ackflow.app.sweep import scheduled_job
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    slot = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
    job = scheduled_job(registry.get("reminder"), slot, None, 0)
    said = {language: views.jobs_list([job], "", 60, speaker_for(language), registry).card.sections[0]
            .widgets[0].value for language in ("ja", "en")}
    assert said == {"ja": "待機中 · 60 秒前 · 定期実行", "en": "QUEUED · 60 s ago · scheduled"}, said


def test_a_flag_and_a_parameter_left_out_are_said_in_words_not_json():
    """「追加の請求書: true」: the confirmation card of ``invoice C --again`` showed the flag as JSON
    (and the console a parameter left out as ``null``)."""
    from ackflow.app import views
    from ackflow.jobs.model import Confirmation, Requester
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    invoice = registry.get("invoice")
    asked = Confirmation(id="c1", token="t1", job_type="invoice", params={"case": "2026-001", "again": True},
                         requester=Requester("users/1"), space="spaces/x", thread=None, created_at=0, expires_at=60)
    for language, yes, no in (("ja", "はい", "いいえ"), ("en", "Yes", "No")):
        speaker = speaker_for(language)
        card = json.dumps(views.confirmation_card(asked, invoice, 60, speaker).card.sections, default=str,
                          ensure_ascii=False)
        assert "true" not in card and yes in card, (language, card)
        assert views.shown_value(invoice, "again", False, speaker) == no
        assert views.shown_value(registry.get("fail"), "times", None, speaker) == "—"


def test_a_retry_is_said_as_japanese_writes_a_delay():
    # “約 8.0 秒 後に”: a space between the duration and 後
    assert JA._("Attempt {attempt} failed: {error}\nTrying again in about {delay}.", attempt=2, error="x",
                delay=JA.duration(8)).endswith("約 8 秒後にもう一度試します。")


def test_no_result_label_reads_in_japanese_as_a_cases_status():
    # a 入金 card once said "受付: ¥420,592" for the amount received: 受付 is the status of a new case
    from ackflow.settings import Settings
    from workers.job_types import build_registry
    from workers.office.cases import STAGES

    speaker = Speaker("ja")
    statuses = set(STAGES) | {"失注", "保留"}
    registry = build_registry(Settings())
    clashes = {(jt.name, key): jt.result_label(key, speaker) for jt in registry for key in jt.result_labels
               if jt.result_label(key, speaker) in statuses}
    assert clashes == {}
    assert registry.get("paid").result_label("received", speaker) == "入金済み"


def test_a_confirmation_says_an_amount_once():
    # 入金's card once read "案件 2026-001 の入金 ¥420,592 円を記録します" (and "¥420,592 yen")
    import re

    from ackflow.settings import Settings
    from workers.job_types import build_registry

    samples = {"str": "2026-001", "int": 1, "float": 1.0, "date": "2026-12-01", "yen": 420592, "flag": False}
    said = []
    for job_type in build_registry(Settings()):
        if any(p.kind == "yen" for p in job_type.params):
            values = {p.name: [] if p.repeated else samples[p.kind] for p in job_type.params}
            said += [job_type.confirmation_text(values, speaker) for speaker in (JA, EN)]
    assert said and all("¥420,592" in text for text in said)
    assert [text for text in said if re.search(r"¥[\d,]+\s*(円|yen)", text)] == []


def test_a_date_in_a_failure_kept_for_later_reads_as_each_reader_writes_dates():
    """The office's refusals inside a job (an estimate valid until before its issue date, an
    invoice due before it) name dates; kept in the job's record, they are read later in each
    reader's language: 2026年12月1日(火), 1 Dec 2026, never 2026-12-01."""
    from ackflow.app.audit import restored, stored
    from workers.office.estimating import _say as estimate_says
    from workers.office.invoicing import _say as invoice_says

    for failure in (estimate_says("validity", date=Day("2026-11-30"), issued=Day(dt.date(2026, 12, 1))),
                    invoice_says("due_before", due=Day("2026-11-30"), issued=Day(dt.date(2026, 12, 1)))):
        kept = restored(json.loads(json.dumps(stored(failure))))
        japanese, english = kept.render(speaker_for("ja")), kept.render(speaker_for("en"))
        assert "2026年11月30日(月)" in japanese and "2026年12月1日(火)" in japanese, japanese
        assert "30 Nov 2026" in english and "1 Dec 2026" in english, english
        assert "2026-1" not in japanese + english


def test_a_step_with_nothing_to_do_is_shown_as_not_needed_not_as_done():
    """状況 of a case opened without a portal order or a mail said the portal and mail steps were
    完了 (done), though nothing was fetched or saved."""
    from ackflow.app import views
    from ackflow.jobs.context import nothing_to_do
    from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    job_type = build_registry(Settings()).get("newcase")
    outputs = [{"case": "2026-001"}] * 4 + [nothing_to_do({"case": "2026-001"})] * 2
    steps = tuple(StepState(s.name, status=StepStatus.SUCCEEDED, attempts=1, output=o)
                  for s, o in zip(job_type.steps, outputs, strict=True))
    assert [s.had_nothing_to_do for s in steps] == [False] * 4 + [True] * 2
    job = Job(id="j1", type="newcase", params={}, requester=Requester("users/1"), space="spaces/x", thread=None,
              queue=job_type.queue, steps=steps, created_at=0, updated_at=5, status=JobStatus.SUCCEEDED,
              current=len(steps), finished_at=5)
    for speaker, done, not_needed in ((JA, "完了", "不要"), (speaker_for("en"), "SUCCEEDED", "not needed")):
        fields = [w for section in views.job_details(job, job_type, 10, speaker).card.sections
                  for w in section.widgets if getattr(w, "label", "").startswith(("手順", "step "))]
        shown = [f.value for f in fields]
        assert len(shown) == 6 and all(done in v for v in shown[:4]), shown
        assert shown[4:] == [not_needed, not_needed], shown  # not “不要、1 回”: the attempt only looked


def test_a_jobs_parameters_are_listed_as_each_reader_lists_them():
    """状況's parameters were joined with “, ” in Japanese too, beside a line's values joined with “; ”."""
    from ackflow.app import views
    from ackflow.jobs.model import Job, JobStatus, Requester, StepState
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    job_type = build_registry(Settings()).get("estimate")
    params = {"case": "2026-001", "item": ["設計:1:1000", "試作:2:500"], "to": "ACME"}
    job = Job(id="j1", type="estimate", params=params,
              requester=Requester("users/1"), space="spaces/x", thread=None, queue=job_type.queue,
              steps=tuple(StepState(s.name) for s in job_type.steps), created_at=0, updated_at=0,
              status=JobStatus.QUEUED)

    def parameters(speaker) -> str:
        return next(w.value for section in views.job_details(job, job_type, 10, speaker).card.sections
                    for w in section.widgets if getattr(w, "label", "") in ("パラメーター", "parameters"))

    japanese, english = parameters(JA), parameters(speaker_for("en"))
    assert "2026-001、" in japanese and "; " in japanese and ", " not in japanese, japanese
    assert "2026-001, " in english and "、" not in english, english


@pytest.mark.parametrize("say", [
    lambda: EN._("no data for {month}", folder="x"),
    lambda: JA.n_("{count} file in {month}", "{count} files in {month}", 2, folder="x"),
    lambda: str(__import__("ackflow.errors", fromlist=["PermanentError"]).PermanentError(
        "no data for {month}", folder="x")),
])
def test_a_text_whose_placeholder_is_not_given_says_which_text_and_which_values(say):
    """A step's ``PermanentError(N_("no data for {month}"), folder=…)`` failed with a bare
    ``KeyError: 'month'``, which reads like ``ctx.params["month"]`` and names no text."""
    with pytest.raises(KeyError) as raised:  # still a KeyError, for the callers that fall back on one
        say()
    said = f"{type(raised.value).__name__}: {raised.value}"  # as a failed step's card shows it
    assert "for {month}'" in said or "in {month}'" in said, said  # the text
    assert "{month}" in said and "folder" in said, said  # what it lacks, and what it was given


def untitled_inputs(registry) -> list[str]:
    """The form inputs a job type declares without a ``title``: labelled with the parameter's
    English name (Mode), in a Japanese reader's form too, and nothing says so."""
    return [f"{job_type.name}: Param({param.name!r}) has no title=N_(...)" for job_type in registry
            if not job_type.schedule for param in job_type.params if param.in_form and not param.title]


def test_every_input_of_a_form_has_a_title_to_translate():
    from ackflow.jobs.params import Param
    from ackflow.jobs.registry import JobType, Registry, Step
    from ackflow.queues import load_queues
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    assert untitled_inputs(build_registry(Settings())) == []
    untitled = Registry(load_queues(Settings().queues_file))
    untitled.add(JobType("archive", "h", (Step("s", lambda ctx: {}),), params=(Param("mode"),)))
    assert untitled_inputs(untitled) == ["archive: Param('mode') has no title=N_(...)"]


def test_japanese_texts_ask_with_a_full_width_question_mark_and_parenthesise_after_a_space_too():
    """The console's confirmations asked 「ジョブ … を再実行しますか?」 with an ASCII ?, where the chat
    asks 「…のことですか？」; and 「失敗 (再試行)」, 「再送しました (現在 …)」 slipped past the check
    above by a space before the half-width parenthesis. A state put into a sentence is quoted in
    「」 as the chat quotes it (「キュー … は 一時停止中 です。」 read as a broken sentence)."""
    import re

    from ackflow.i18n import _catalog

    kana_kanji = "\u3040-\u30ff\u4e00-\u9fff"
    ascii_question = re.compile(rf"[{kana_kanji}」）]\?")
    spaced_parenthesis = re.compile(rf"[{kana_kanji}」]\s+\(")
    bare_state = re.compile(r"は \{(state|status)\} です")
    wrong = [text for text in _catalog("ja")._catalog.values()
             if isinstance(text, str) and (ascii_question.search(text) or spaced_parenthesis.search(text)
                                          or bare_state.search(text))]
    assert wrong == []


def test_every_step_has_a_title_to_translate():
    """A step without a title was shown by its name: “実行中 · 手順 1/1: sleep” on a Japanese card."""
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    untitled = [f"{job_type.name}: Step({step.name!r})" for job_type in build_registry(Settings())
                for step in job_type.steps if not step.title]
    assert untitled == []


def test_japanese_usage_lines_quote_values_as_the_office_types_them():
    """明細：「品名:数量:単価」 but 変更："行番号=品名:…" in the same help line: one value in 「」, the next in
    ASCII quotes. Both are read; help writes them the one way a Japanese IME types them."""
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    ja = Speaker("ja", "Asia/Tokyo")
    quoted = [job_type.usage_for(ja) for job_type in build_registry(Settings()) if '"' in job_type.usage_for(ja)]
    assert quoted == []


def test_a_parameter_and_its_result_are_named_alike():
    """echo's card said “テキスト: hello” and its result “文字: hello”, the same text named two ways."""
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    ja = Speaker("ja", "Asia/Tokyo")
    echo = build_registry(Settings()).get("echo")
    assert ja._(echo.params[0].title) == ja._(echo.result_labels["text"])


def test_a_jobs_details_list_its_parameters_in_the_order_its_card_asked_them():
    """状況 showed “パラメーター: 納期: …、顧客: ACME、件名: 金型”, in the order the store kept them,
    where the confirmation card asked 顧客, 件名, 納期."""
    from ackflow.app import views
    from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    job_type = build_registry(Settings()).get("newcase")
    job = Job(id="j1", type="newcase", params={"due": "2026-12-01", "item": [], "client": "ACME", "title": "金型"},
              requester=Requester("users/1"), space="spaces/x", thread=None, queue=job_type.queue,
              steps=tuple(StepState(s.name, status=StepStatus.SUCCEEDED) for s in job_type.steps), created_at=0,
              updated_at=0, status=JobStatus.SUCCEEDED, current=len(job_type.steps), finished_at=5)
    details = json.dumps(views.job_details(job, job_type, 10, JA).card.sections, default=str, ensure_ascii=False)
    assert "顧客: ACME、件名: 金型、納期: 2026年12月1日(火)" in details, details


@pytest.mark.parametrize("message", ["Cancelled by {who}; nothing was run.", "Ignored by {who}",
                                     "{who} asked for a case (job {job})"])
def test_a_colleague_is_named_with_san_where_the_space_reads_what_they_did(message):
    """“Dev User が取り消しました” on a card the whole space reads, beside “依頼した Dev User さんか管理者
    だけです” from the same app: a colleague is named with さん in Chat, as the office names them."""
    assert "{who} さんが" in JA._(message)
