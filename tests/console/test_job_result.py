"""A job's result on its console page reads as the chat's result card does: the job type's labels
in the reader's language, dates in words, links as links; the stored JSON folded under "As stored",
as the parameters are."""

from __future__ import annotations

import html
import re
import time

from ackflow.app.views import job_message
from ackflow.chat.cards import Field
from ackflow.i18n import speaker_for
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow_tools.console.app import ConsoleConfig, create_app

JA = speaker_for("ja", "Asia/Tokyo")
FOLDER = "https://drive.google.com/drive/folders/1AbC?usp=sharing&x=<y>"


def _done(runtime, job_id: str, job_type: str, result: dict) -> Job:
    now = time.time()
    job = Job(id=job_id, type=job_type, params={}, requester=Requester("users/1", "dev@example.com"),
              space="spaces/s", thread=None, queue="ackflow-default", steps=(StepState("s"),), created_at=now,
              updated_at=now, status=JobStatus.SUCCEEDED, result=result)
    runtime.store.create_job(job)
    return job


def page(runtime, job_id: str, language: str = "ja") -> str:
    app = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language=language))
    return app.test_client().get(f"/jobs/{job_id}").get_data(as_text=True)


def outside_the_fold(text: str) -> str:
    return re.sub(r'<details class="raw">.*?</details>', "", text, flags=re.S)


def shown(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def test_a_japanese_page_names_the_result_as_the_chat_card_does_and_folds_the_json(runtime):
    job = _done(runtime, "jcase1", "delivered", {"case": "2026-001", "status": "delivered",
                                                  "delivered_on": "2026-12-01"})
    body = page(runtime, job.id)
    result = re.search(r'data-test="result-list">(.*?)</dl>', body, re.S)
    assert result, body
    assert f"<dt>{JA._('delivered on')}</dt><dd class=\"lines\">2026年12月1日(火)</dd>" in result.group(1)
    assert f"<dt>{JA._('case')}</dt>" in result.group(1)
    assert '"delivered_on"' not in outside_the_fold(body) and "2026-12-01" not in shown(outside_the_fold(body))
    raw = re.search(r'<details class="raw"><summary>[^<]+</summary><pre class="params" data-test="result">(.*?)</pre>',
                    body, re.S)
    assert raw and '"delivered_on": "2026-12-01"' in html.unescape(raw.group(1))
    card = job_message(job, next(t for t in runtime.registry if t.name == "delivered"), JA).card
    in_chat = [(w.label, w.value) for section in card.sections for w in section.widgets if isinstance(w, Field)]
    on_page = [(html.unescape(label), html.unescape(value))
               for label, value in re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]*)</dd>", result.group(1))]
    assert on_page == in_chat  # as the chat's result card shows them


def test_result_links_are_links_labelled_as_the_cards_buttons_and_values_stay_text(runtime):
    job = _done(runtime, "jcase2", "newcase", {"case": "2026-002 <b>", "folder_link": FOLDER,
                                                "documents": 2, "skipped": ["<script>x</script>"]})
    body = page(runtime, job.id)
    links = re.findall(r'<a class="button" href="([^"]+)"[^>]*>([^<]+)</a>', body)
    assert (html.escape(FOLDER), JA._("Open the folder")) in links
    fold_free = outside_the_fold(body)
    assert "<b>" not in fold_free.split('data-test="result-list"')[1] and "<script>x" not in fold_free
    assert "2026-002 &lt;b&gt;" in fold_free and FOLDER not in shown(re.sub(r'href="[^"]*"', "", fold_free))


def test_a_result_with_no_labels_shows_its_keys_as_the_card_does_not_json(runtime):
    _done(runtime, "jflaky", "flaky", {"printed": "図面"})
    body = outside_the_fold(page(runtime, "jflaky"))
    assert "<dt>printed</dt><dd class=\"lines\">図面</dd>" in body and '"printed"' not in body
