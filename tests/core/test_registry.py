"""The registry: job types declared once, checked when added."""

from __future__ import annotations

import pytest

from ackflow.errors import UnknownJobType, UsageError
from ackflow.jobs.params import Param
from ackflow.jobs.registry import Command, JobType, Registry, Step
from ackflow.queues import load_queues
from ackflow.settings import Settings
from workers.job_types import build_registry


def noop(ctx):
    return {}


@pytest.fixture
def registry():
    return Registry(load_queues(Settings().queues_file))


def test_duplicate_names_and_unknown_queues_are_refused(registry):
    registry.add(JobType("one", "help", (Step("s", noop),)))
    with pytest.raises(ValueError, match="already registered"):
        registry.add(JobType("one", "help", (Step("s", noop),)))
    with pytest.raises(ValueError, match="not defined"):
        registry.add(JobType("two", "help", (Step("s", noop),), queue="no-such-queue"))
    with pytest.raises(UnknownJobType):
        registry.get("three")


def test_a_job_type_cannot_ask_for_more_attempts_than_its_queue(registry):
    with pytest.raises(ValueError, match="allows"):
        registry.add(JobType("greedy", "help", (Step("s", noop),), max_attempts=1000))


@pytest.mark.parametrize("bad", [
    dict(name="Bad Name"), dict(steps=()), dict(timeout=5), dict(timeout=5000),
    dict(steps=(Step("s", noop), Step("s", noop))),
])
def test_job_type_declarations_are_checked(bad):
    fields = dict(name="ok", help="h", steps=(Step("s", noop),))
    fields.update(bad)
    with pytest.raises(ValueError):
        JobType(**fields)


@pytest.mark.parametrize(("bad", "said"), [
    # the card would show "Archive {fodler}" to everyone, silently
    (dict(confirm="Archive {fodler}"), "confirm names {fodler}, which is not one of its parameters (folder)"),
    # a typo would let a cancel through after the step that must not be dropped
    (dict(no_cancel_after="uplaod"), "no_cancel_after names 'uplaod', which is not one of its steps (gather, upload)"),
])
def test_a_declaration_naming_what_the_job_type_does_not_have_is_refused_saying_what_it_has(bad, said):
    fields = dict(name="archive", help="h", steps=(Step("gather", noop), Step("upload", noop)),
                  params=(Param("folder"),), confirm="Archive {folder}")
    JobType(**fields)
    with pytest.raises(ValueError) as refused:
        JobType(**{**fields, **bad})
    assert str(refused.value) == f"job type archive: {said}"


def test_every_builtin_job_type_uses_a_defined_queue_and_parses_its_examples(monkeypatch):
    from workers.office.issuer import SAMPLE

    for name, value in (("NAME", SAMPLE.name), ("REGISTRATION_NUMBER", SAMPLE.registration),
                        ("BANK_ACCOUNT", SAMPLE.bank_account)):  # `invoice` is refused until the office is set up
        monkeypatch.setenv(f"ACKFLOW_OFFICE_{name}", value)
    registry = build_registry(Settings())
    assert {"echo", "sleep", "fail"} <= {jt.name for jt in registry}
    for job_type in registry:
        assert job_type.queue in registry.queues
        for example in job_type.examples:
            from ackflow.jobs.params import split_words

            words = split_words(example)
            assert registry.resolve(words[0]) == job_type.name  # its name, or another (新規案件)
            job_type.parse(words[1:])


def test_bad_arguments_carry_the_usage_line():
    registry = build_registry(Settings())
    with pytest.raises(UsageError) as caught:
        registry.get("fail").parse(["--times", "2", "--always"])
    assert "either --times N or --always" in str(caught.value)
    assert caught.value.usage == "fail [--times N] [--always]"


def test_a_slash_command_id_names_one_command(registry):
    # Chat sends only the id of a slash command: two commands with one id would run the wrong one
    registry.add(JobType("report", "help", (Step("s", noop),), slash_command_id=40))
    for taken, holder in ((40, "report"), (1, "help"), (5, "retry")):
        with pytest.raises(ValueError, match=f"slash command id {taken} is already /{holder}'s"):
            registry.add(JobType("other", "help", (Step("s", noop),), slash_command_id=taken))
    with pytest.raises(ValueError, match="already /report's"):
        registry.command(Command("lookup", "help", "lookup", lambda *_: None, slash_command_id=40))
    with pytest.raises(ValueError, match="1–1000"):
        registry.add(JobType("other", "help", (Step("s", noop),), slash_command_id=1001))
    assert "other" not in registry and registry.resolve("other") is None  # a refusal leaves nothing behind
    registry.replace(JobType("report", "help", (Step("s", noop),), slash_command_id=41))  # its own id may change
    registry.add(JobType("other", "help", (Step("s", noop),), slash_command_id=40))  # and the old one is free


def test_the_deployments_slash_command_ids_are_each_one_commands():
    registry = build_registry(Settings())
    ids = [jt.slash_command_id for jt in registry if jt.slash_command_id]
    ids += [c.slash_command_id for c in registry.commands.values() if c.slash_command_id]
    assert len(ids) == len(set(ids)) > 10


def test_a_job_type_can_be_replaced_by_name_only(registry):
    registry.add(JobType("one", "first", (Step("s", noop),)))
    registry.replace(JobType("one", "second", (Step("s", noop),)))
    assert registry.get("one").help == "second"
    with pytest.raises(UnknownJobType):
        registry.replace(JobType("two", "h", (Step("s", noop),)))


def test_a_bad_replacement_leaves_the_registered_type_in_place(registry):
    registry.add(JobType("one", "first", (Step("s", noop),)))
    with pytest.raises(ValueError, match="not defined"):
        registry.replace(JobType("one", "second", (Step("s", noop),), queue="no-such-queue"))
    assert registry.get("one").help == "first"


@pytest.mark.parametrize("schedule", ["61 * * * *", "@daily", "* * * *", "0 0 30 2 *", ""])
def test_a_bad_cron_schedule_is_refused_when_the_job_type_is_declared(schedule):
    with pytest.raises(ValueError, match="schedule") as caught:
        JobType("nightly", "h", (Step("s", noop),), schedule=schedule)
    assert "nightly" in str(caught.value)


def test_a_good_cron_schedule_is_accepted(registry):
    registry.add(JobType("nightly", "h", (Step("s", noop),), schedule="0 9 * * MON-FRI"))
    assert registry.get("nightly").schedule == "0 9 * * MON-FRI"


def test_a_replaced_type_is_checked_for_its_own_modules(registry):
    registry.add(JobType(name="plot", help="h", steps=(Step("s", lambda ctx: None),), timeout=30))
    assert registry.missing_modules("plot") == ()
    registry.replace(JobType(name="plot", help="h", steps=(Step("s", lambda ctx: None),), timeout=30,
                             requires=("ackflow_no_such_module",)))
    assert registry.missing_modules("plot") == ("ackflow_no_such_module",)


def test_card_actions_worker_endpoints_and_sweep_tasks_are_named_once():
    from ackflow.jobs.registry import Registry

    registry = Registry({})
    registry.action("mail-open", lambda runtime, event: None)
    registry.endpoint("mail", lambda runtime, request: None)
    registry.sweep_task("mail", lambda runtime, now: None)
    for register, name in ((registry.action, "mail-open"), (registry.action, "run"), (registry.endpoint, "mail"),
                           (registry.endpoint, "sweep"), (registry.endpoint, "a/b"), (registry.sweep_task, "mail")):
        with pytest.raises(ValueError):
            register(name, lambda *args: None)


def test_other_names_are_resolved_and_never_shared(registry):
    from ackflow.jobs.registry import Command

    registry.add(JobType("newcase", "h", (Step("s", noop),), aliases=("新規案件", "案件作成")))
    registry.command(Command("case", "h", "case CASE", noop, aliases=("案件",)))
    assert [registry.resolve(n) for n in ("newcase", "NEWCASE", "新規案件", "案件作成", "案件", "ヘルプ", "help",
                                          "再実行", "取消", "nosuch")] == [
        "newcase", "newcase", "newcase", "newcase", "case", "help", "help", "retry", "cancel", None]
    for taken in ("新規案件", "案件", "ヘルプ", "help"):  # another's name or alias, or the app's own
        with pytest.raises(ValueError, match="already taken"):
            registry.add(JobType("other", "h", (Step("s", noop),), aliases=(taken,)))
    with pytest.raises(ValueError, match="already taken"):
        registry.add(JobType("status", "h", (Step("s", noop),)))
    registry.replace(JobType("newcase", "h2", (Step("s", noop),), aliases=("案件を開く",)))
    assert registry.resolve("新規案件") is None and registry.resolve("案件を開く") == "newcase"


@pytest.mark.parametrize("alias", ["新規 案件", "ＮＥＷ", "a:b", "Upper", "「案件」", "x" * 31, ""])
def test_an_alias_must_be_one_plain_word(alias):
    with pytest.raises(ValueError, match="alias"):
        JobType("newcase", "h", (Step("s", noop),), aliases=(alias,))


def test_the_office_speaks_japanese_names():
    registry = build_registry(Settings())
    assert {registry.resolve(n) for n in ("新規案件", "見積", "案件", "状況", "一覧", "取消", "再実行", "ヘルプ")} == {
        "newcase", "estimate", "case", "status", "jobs", "cancel", "retry", "help"}
    newcase = registry.get("newcase")
    assert [p.native_alias for p in newcase.params if not p.positional] == ["納期", "ポータル", "明細"]


def test_the_job_types_for_trying_the_pipeline_are_offered_only_when_the_setting_says_so(monkeypatch):
    from ackflow.app import views
    from ackflow.i18n import Speaker

    trying = ("echo", "sleep", "fail")
    assert all(name in build_registry(Settings()) for name in trying)  # ackflow dev and the tests: on
    monkeypatch.setenv("ACKFLOW_DEV_JOB_TYPES", "false")  # as Terraform sets it for the office
    office = build_registry(Settings())
    assert not any(name in office for name in trying) and "newcase" in office
    assert office.resolve("echo") is None
    help_text = str(views.help_card(office, {jt.name for jt in office} | set(views.BUILTIN_HELP),
                                    Speaker("ja")).card)
    assert "新規案件" in help_text and not any(f"{name} " in help_text for name in trying), help_text


def test_a_module_listed_without_a_register_function_is_named_with_what_it_lacks(monkeypatch):
    import types

    import workers.job_types as job_types

    module = types.ModuleType("workers.job_types.archive")
    module.setup = lambda registry: None  # a register() by another name
    monkeypatch.setattr(job_types, "MODULES", (*job_types.MODULES, module))
    with pytest.raises(ValueError, match=r"workers\.job_types\.archive is listed in MODULES .* has no "
                                         r"register\(registry\) function"):
        build_registry(Settings())
