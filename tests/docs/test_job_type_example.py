"""docs/job-types.md's example job type, exactly as written there: clean Python, registered beside
the deployment's job types, and run through the local pipeline as its "Try it" says (the card,
Run, both steps, the link; a month with no data fails, saying so)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ackflow.jobs.model import JobStatus
from tests.docs.support import ROOT
from tests.docs.support import job_type_example as example

pytestmark = pytest.mark.slow  # a pipeline of its own

def test_the_example_module_is_clean_python(tmp_path):
    path, source = example()
    assert path == "functions/workers/job_types/report.py"
    module = tmp_path / "report.py"
    module.write_text(source, encoding="utf-8")
    # pyflakes' rules: an undefined name or an unused import is a step that cannot run as written
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F,E9",
                              str(module)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from tests.e2e.conftest import start_pipeline

    _, source = example()
    package = tmp_path_factory.mktemp("example") / "doc_example"
    package.mkdir()
    (package / "report.py").write_text(source, encoding="utf-8")
    # what adding the module to MODULES does: the deployment's job types, and this one
    (package / "__init__.py").write_text(textwrap.dedent("""
        from workers.job_types import build_registry as deployment

        from . import report


        def build_registry(settings):
            registry = deployment(settings)
            report.register(registry)
            return registry
    """), encoding="utf-8")
    paths = (str(ROOT / "functions"), str(ROOT), str(package.parent))
    sys.path.insert(0, str(package.parent))  # the test reads the store with the same registry
    try:
        running = start_pipeline(tmp_path_factory.mktemp("example-pipeline"), "classic", "project-number",
                                 ACKFLOW_JOB_TYPES="doc_example:build_registry", PYTHONPATH=":".join(paths))
        yield running
        running.stack.stop()
    finally:
        sys.path.remove(str(package.parent))


def test_the_example_runs_through_the_local_pipeline(pipeline):
    card = pipeline.send("report 2026-11")["reply"]["message"]
    assert "Build the report for 2026-11" in pipeline.card_text(card)
    job = pipeline.wait_job(pipeline.start("report 2026-11"), JobStatus.SUCCEEDED)
    assert [step.status.value for step in job.steps] == ["SUCCEEDED", "SUCCEEDED"]
    assert job.result == {"link": "https://reports.example.com/2026-11.pdf"}
    failed = pipeline.wait_job(pipeline.start("月報 2025-11"), JobStatus.FAILED)
    assert "no data for 2025-11" in failed.last_error
    assert failed.steps[0].attempts == 1  # a PermanentError: no retry
