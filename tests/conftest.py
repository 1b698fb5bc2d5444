"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(message: str):
    """A part the test needs is not on this machine: a skip locally, a failure in CI (CI=true),
    where scripts/test installs every tool, font and emulator and the machine image has the rest."""
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def require_tool(name: str, why: str) -> str:
    """The path of ``name``; a skip locally when missing, a failure in CI (CI=true)."""
    path = shutil.which(name)
    if path:
        return path
    missing(f"{name} is not installed ({why})")


@pytest.fixture(scope="session")
def firestore_session(tmp_path_factory):
    """One Firestore emulator for the run (it takes seconds to start); tests reset its data."""
    from ackflow_tools.devtools.firestore_emulator import EmulatorMissing, FirestoreEmulator

    require_tool("java", "the Firestore emulator runs on Java")
    emulator = FirestoreEmulator(tmp_path_factory.mktemp("firestore"))
    try:
        emulator.start()
    except EmulatorMissing as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI=true requires it")
        pytest.skip(str(exc))
    yield emulator
    emulator.stop()


@pytest.fixture
def firestore_emulator(firestore_session):
    firestore_session.reset()
    yield firestore_session
    firestore_session.reset()


# -- running in parallel (pytest-xdist, as scripts/test does) ---------------------------------------

SHARED_SCOPES = ("module", "package", "class")
GROUP_LOST = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A moto server (SQS, IAM, …) of the module's own, on a free port (``proc.url``)."""
    from ackflow_tools.devtools.procs import start_moto

    proc = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield proc
    proc.stop()


def xdist_group_of(item: pytest.Item) -> str | None:
    """The group of the tests that share ``item``'s module-scoped fixtures (a running pipeline, an
    office stack, a Terraform apply), so that ``--dist loadgroup`` sends them to one worker and each
    fixture starts once: the module, and the parameter of each parametrized shared fixture (each
    pipeline of a module is a group of its own, free to run on another worker). None when the test
    shares no such fixture: it may run on any worker.
    (No ``]`` or ``@`` in the name: xdist finds the group after the last ``@`` that follows the last ``]``.)"""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    callspec = getattr(item, "callspec", None)
    shared, params = False, []
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions or definitions[-1].scope not in SHARED_SCOPES:
            continue
        shared = True
        if callspec is not None and name in callspec.indices:
            params.append(f"{name}={callspec.indices[name]}")
    if not shared:
        return None
    return ":".join([item.nodeid.split("::", 1)[0], *sorted(params)])


def deselect_what_does_not_apply(config, items) -> None:
    """``@pytest.mark.only_for(office=("drive", "drive-firestore"))``: of a test's parameters (a
    parametrized fixture's, or its own), only those listed make a test; the others are deselected at
    collection, never skipped, so a skip in a run is always something missing (a failure in CI)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        applies = True
        for mark in item.iter_markers("only_for"):
            for name, values in mark.kwargs.items():
                if isinstance(values, str) or not isinstance(values, (tuple, list, set, frozenset)):
                    # only_for(office="drive") read "drive" in "drive-firestore" as a match
                    raise pytest.UsageError(f"{item.nodeid}: only_for({name}=…) takes a tuple of values, "
                                            f"not {values!r}")
                if callspec is None or name not in callspec.params:
                    raise pytest.UsageError(f"{item.nodeid}: only_for names {name!r}, which is not a parameter of it")
                applies = applies and callspec.params[name] in values
        (kept if applies else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With CI=true nothing is skipped: every tool, font and emulator is there (scripts/test installs
    them, the machine image has the rest), and a test that does not apply to a parameter is not
    collected (``only_for``). A skip there, whatever raised it, fails the test with its reason."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped with CI=true, where every test must run: {reason}"
    return report


SKIPPED_MODULES: list[str] = []  # with CI=true, the collections that skipped (pytest_collectreport)


def pytest_collectreport(report):
    """A module that skips itself (``pytest.skip(allow_module_level=True)``, ``importorskip``) is no
    test report, so the hook above never sees it: with CI=true it is kept, and fails the run at its
    end (a collection error would stop the whole run before any test). With xdist, the controller
    gets the workers' skipped collections here too."""
    if IN_CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        SKIPPED_MODULES.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if SKIPPED_MODULES and not hasattr(session.config, "workerinput") and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if SKIPPED_MODULES and not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.section("skipped with CI=true, where every test must run", red=True)
        for line in dict.fromkeys(SKIPPED_MODULES):
            terminalreporter.line(line, red=True)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test's xdist group before any other hook reads the marks (``xdist_group_of``);
    once every hook has run, check that xdist took the groups, and move the tests marked ``slow`` to
    the front (keeping the order otherwise): xdist hands out groups in collection order (with
    ``--no-loadscope-reorder``), so the longest start first instead of after the others finished."""
    deselect_what_does_not_apply(config, items)
    for item in items:
        group = xdist_group_of(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    result = yield
    if getattr(config.option, "loadgroup", False):  # an xdist worker, --dist loadgroup
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                item.stash[GROUP_LOST] = True
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    return result


def pytest_runtest_setup(item):
    if item.stash.get(GROUP_LOST, False):
        pytest.fail("pytest-xdist did not apply this test's xdist_group, so the tests that share its module's "
                    "fixtures would be split across workers: a pytest newer than this pytest-xdist supports? "
                    "(see pyproject.toml)", pytrace=False)


REAL_CLOUD = (".googleapis.com", ".google.com", ".amazonaws.com", "googleapis.com", ".freee.co.jp")


@pytest.fixture(autouse=True, scope="session")
def no_real_cloud_endpoints():
    """Any attempt of the test process to resolve a Google or AWS host fails the test loudly."""
    original = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(REAL_CLOUD):
            raise AssertionError(f"a test tried to reach {host}: point the client at a local service")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    yield
    socket.getaddrinfo = original
