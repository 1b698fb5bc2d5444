"""docs/job-types.md's example job type and its tests, exactly as written there: clean Python, the job
type registered beside the deployment's, and the tests of its section 7 run against it through the
local pipeline (the card, Run, both steps, the link; a month with no data fails, saying so; a task
delivered twice; a worker killed inside each step)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

from tests.docs.support import ROOT, job_type_example_tests
from tests.docs.support import job_type_example as example

pytestmark = pytest.mark.slow  # a pipeline of its own


def _tests() -> dict:
    """The doc's test functions by name (its module run as written; its fixture is replaced by this
    module's ``pipeline``, which adds the example to the deployment as MODULES would)."""
    namespace: dict = {"__name__": "doc_example_tests"}
    exec(compile(job_type_example_tests()[1], "docs/job-types.md", "exec"), namespace)
    return {name: fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)}


@pytest.mark.parametrize(("where", "read"), [("functions/workers/job_types/report.py", example),
                                             ("tests/e2e/test_report.py", job_type_example_tests)])
def test_the_example_and_its_tests_are_clean_python(tmp_path, where, read):
    path, source = read()
    assert path == where
    module = tmp_path / path.rsplit("/", 1)[1]
    module.write_text(source, encoding="utf-8")
    # pyflakes' rules: an undefined name or an unused import is code that cannot run as written
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F,E9",
                              str(module)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_doc_tests_take_only_the_pipeline():
    assert _tests() and all(list(inspect.signature(fn).parameters) == ["pipeline"] for fn in _tests().values())


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from tests.e2e.conftest import start_pipeline

    _, source = example()
    package = tmp_path_factory.mktemp("example") / "doc_example"
    package.mkdir()
    (package / "report.py").write_text(source, encoding="utf-8")
    # what adding the module to MODULES does: the deployment's job types, and this one (with the
    # pause points of tests.support.jobtypes:with_pause_points, which the doc's tests ask for)
    (package / "__init__.py").write_text(textwrap.dedent("""
        from tests.support.jobtypes import with_step_pauses
        from workers.job_types import build_registry as deployment

        from . import report


        def build_registry(settings):
            registry = deployment(settings)
            report.register(registry)
            return with_step_pauses(registry, names=("report",))
    """), encoding="utf-8")
    paths = (str(ROOT / "functions"), str(ROOT), str(package.parent))
    sys.path.insert(0, str(package.parent))  # the test reads the store with the same registry
    workdir = tmp_path_factory.mktemp("example-pipeline")
    try:
        running = start_pipeline(workdir, "classic", "project-number", ACKFLOW_JOB_TYPES="doc_example:build_registry",
                                 ACKFLOW_TEST_PAUSE_FILE=str(workdir / "pause"), PYTHONPATH=":".join(paths))
        yield running
        running.stack.stop()
    finally:
        sys.path.remove(str(package.parent))


@pytest.mark.parametrize("name", sorted(_tests()))
def test_the_doc_tests_pass_on_the_example(pipeline, name):
    _tests()[name](pipeline)
