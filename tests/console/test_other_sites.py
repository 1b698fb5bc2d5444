"""A page of another site, open in the operator's Chromium beside the console, makes the browser ask
for console URLs (a fetch, an image, a script): the console answers it nothing but a refusal, so
the page cannot time the console's searches (docs/console.md, "Safety"), while the console's own
pages, and their live parts, are answered as before."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Response

from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow_tools.console.app import ConsoleConfig, create_app
from ackflow_tools.emulators.web import ServerThread
from tests.support.browser import browser, require_chromium

pytestmark = pytest.mark.slow

HOSTILE = """<!doctype html><meta charset="utf-8"><title>another site</title><body><script>
const console_ = %r;
async function timed(path) {
  const started = performance.now();
  await fetch(console_ + path, {mode: "no-cors", credentials: "include"}).catch(() => {});
  return performance.now() - started;
}
window.done = (async () => {
  for (const path of ["/jobs?requester=a@example.com", "/jobs?requester=b@example.com", "/jobs?q=金型",
                      "/jobs.json", "/api/changes"]) { await timed(path); }
  await new Promise((resolve) => {
    const image = new Image(); image.onload = image.onerror = resolve; image.src = console_ + "/jobs?q=見積";
  });
  await new Promise((resolve) => {
    const script = document.createElement("script"); script.onload = script.onerror = resolve;
    script.src = console_ + "/jobs.json?q=見積"; document.body.appendChild(script);
  });
  return true;
})();
</script>"""


@pytest.fixture
def console(runtime):
    """The console on a port of its own, with what it answered each request (its path, status and
    the browser's Sec-Fetch-Site)."""
    now = time.time()
    for n in range(300):
        runtime.store.create_job(Job(id=f"j{n:08d}", type="echo", params={"text": f"図面 {n} 金型"},
                                     requester=Requester("users/1", "a@example.com"), space=None, thread=None,
                                     queue="ackflow-default", steps=(StepState("echo"),), created_at=now - n,
                                     updated_at=now - n, status=JobStatus.SUCCEEDED))
    app = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en", poll_seconds=0.2))
    answered: list[tuple[str, int, str | None]] = []

    def recorded(environ, start_response):
        def start(status, headers, exc_info=None):
            query = environ.get("QUERY_STRING")
            answered.append((environ["PATH_INFO"] + (f"?{query}" if query else ""), int(status[:3]),
                             environ.get("HTTP_SEC_FETCH_SITE")))
            return start_response(status, headers, exc_info)
        return app(environ, start)

    server = ServerThread(recorded).start()
    yield server.url, answered
    server.stop()


@pytest.fixture
def hostile_url(console):
    """The other site: served on localhost, another site than 127.0.0.1 for the browser."""
    page = HOSTILE % console[0]
    server = ServerThread(lambda environ, start: Response(page, mimetype="text/html")(environ, start)).start()
    yield f"http://localhost:{server.port}/"
    server.stop()


def test_a_page_of_another_site_gets_only_refusals_and_the_consoles_own_pages_work(console, hostile_url):
    require_chromium()
    console_url, answered = console
    with browser() as context:
        page = context.new_page()
        page.goto(hostile_url)
        assert page.evaluate("window.done") is True
        assert len(answered) == 7 and {(status, site) for _, status, site in answered} == {(403, "cross-site")}, \
            answered  # fetches, an image, a script: the searches never ran

        answered.clear()
        page.goto(console_url + "/jobs")  # the operator's own tab: typed, then the page's live part
        page.locator("tr[data-job]").first.wait_for()
        page.wait_for_timeout(1000)
        assert ("/jobs", 200, "none") in answered and ("/api/changes", 200, "same-origin") in answered, answered
        assert all(status == 200 for _, status, _ in answered), answered
