"""tests/conftest.py's rules for a CI run (CI=true): no skip passes, a test that applies to some
parameters only is deselected (``only_for``). Run on a small suite of their own, in a pytest of its
own, serially and on xdist workers as scripts/test runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SUITE = {
    "test_cases.py": '''
        import pytest

        @pytest.fixture(params=["drive", "drive-firestore", "embedded"])
        def office(request):
            return request.param

        @pytest.mark.only_for(office=("drive", "drive-firestore"))
        def test_on_drive(office):
            assert office.startswith("drive")

        @pytest.mark.xfail(reason="known")
        def test_known_bug():
            assert False

        def test_fine():
            pass
    ''',
}


def run(tmp_path: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    for name, text in files.items():
        (suite / name).write_text(textwrap.dedent(text), encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "CI": "true",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-c", os.devnull,
                           "--rootdir", str(suite), "-p", "no:cacheprovider", "-q", "-W", "ignore", *args, str(suite)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_ci_run_deselects_what_does_not_apply_and_passes_with_nothing_skipped(tmp_path, workers):
    done = run(tmp_path, SUITE, "-n", workers)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout and "1 xfailed" in done.stdout and "skipped" not in done.stdout, done.stdout


@pytest.mark.parametrize("skip", [
    "def test_needs_a_tool():\n    pytest.skip('no such tool')\n",
    "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n",
    # a module that skips itself is no test report: the run said "1 skipped" and passed
    "pytest.skip('no such module', allow_module_level=True)\n",
    "pytest.importorskip('ackflow_no_such_module')\n",
], ids=["in-a-test", "marked", "module", "importorskip"])
def test_a_ci_run_with_a_skip_fails_and_says_what_skipped(tmp_path, skip):
    done = run(tmp_path, {**SUITE, "test_skipping.py": "import pytest\n\n" + skip}, "-n", "0")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skipped with CI=true, where every test must run" in done.stdout, done.stdout


def test_on_xdist_workers_a_module_that_skips_itself_fails_the_run_too(tmp_path):
    skip = "import pytest\n\npytest.skip('no such module', allow_module_level=True)\n"
    done = run(tmp_path, {**SUITE, "test_skipping.py": skip}, "-n", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "test_skipping.py: Skipped: no such module" in done.stdout, done.stdout


def test_only_for_given_one_value_instead_of_a_tuple_is_refused(tmp_path):
    """``only_for(office="drive")`` read ``"drive" in "drive-firestore"`` as a match."""
    done = run(tmp_path, {"test_one.py": SUITE["test_cases.py"].replace('("drive", "drive-firestore")', '"drive"')})
    assert done.returncode == 4 and "takes a tuple of values" in done.stdout + done.stderr, done.stdout + done.stderr
