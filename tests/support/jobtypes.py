"""The deployment's job types plus a periodic one, for the end-to-end tests."""

from __future__ import annotations

from ackflow.jobs.params import Param
from ackflow.jobs.registry import JobType, Registry, Step
from workers.job_types import build_registry as build_default


def tick(ctx) -> dict:
    return {"slot": ctx.job.slot}


def nap(ctx) -> dict:
    ctx.sleep(ctx.params["seconds"])
    return {"napped": ctx.params["seconds"]}


def needs_a_missing_module(ctx) -> dict:
    import ackflow_test_no_such_module  # noqa: F401  (what a deployment without an extra meets)

    return {}


def chain_link(ctx) -> dict:
    """A step of the chaos suite's ``chain`` job: it logs when it starts and ends (an append-only
    file, one line each), so the suite can tell a step that ran twice at once, or twice to the
    end, from one that was cut short by a kill and ran again."""
    import json
    import os
    import random
    import time
    import uuid

    path = os.environ.get("ACKFLOW_CHAOS_LOG")
    holder = ctx.job.steps[ctx.index].holder
    run = uuid.uuid4().hex  # one per run: two copies of an SQS message carry the same task name and count

    def log(event: str) -> None:
        if path:
            line = json.dumps({"job": ctx.job.id, "step": ctx.index, "event": event, "pid": os.getpid(),
                               "task": holder.task if holder else "", "retry": holder.retry if holder else None,
                               "run": run, "at": time.time()})
            with open(path, "a") as handle:
                handle.write(line + "\n")

    log("start")
    for tick in range(3):
        ctx.progress(f"link {ctx.index + 1}: {tick + 1}/3", (tick + 1) / 3)
        time.sleep(random.uniform(0.0, 0.08))
    log("end")
    return {"link": ctx.index + 1}


def flaky(ctx) -> dict:
    """Fails for good on its first run (an unexpected error: its attempt keeps a traceback; the
    job type allows one attempt), succeeds once retried (a new generation)."""
    if ctx.job.generation == 0:
        raise OSError("the printer is out of paper")
    ctx.sleep(2)  # long enough for a page to see it run
    return {"printed": ctx.params.get("text", "")}


def build_registry(settings) -> Registry:
    registry = build_default(settings)
    registry.add(JobType(name="chain", help="Three short steps that log their runs (the chaos suite).",
                         params=(Param("n", kind="int", minimum=0, maximum=10**9),),
                         steps=tuple(Step(f"link{i}", chain_link) for i in range(1, 4)), timeout=15))
    registry.add(JobType(name="plotter", help="Needs a module no deployment has.",
                         steps=(Step("plot", needs_a_missing_module),), timeout=30,
                         requires=("ackflow_test_no_such_module",),
                         requires_hint="install the plotting extra: pip install 'ackflow[plot]'"))
    registry.add(JobType(name="importer", help="Imports a module it did not declare.",
                         steps=(Step("import", needs_a_missing_module),), timeout=30))
    registry.add(JobType(name="tick", help="Runs every minute.", steps=(Step("tick", tick),),
                         schedule="* * * * *", timeout=30))
    registry.add(JobType(name="flaky", help="Fails the first time, succeeds when retried.",
                         params=(Param("text", rest=True, required=False),), steps=(Step("print", flaky),),
                         timeout=15, max_attempts=1))
    registry.add(JobType(name="nap", help="Sleep with the shortest timeout a queue allows.",
                         params=(Param("seconds", kind="int", minimum=1, maximum=10),),
                         steps=(Step("nap", nap),), timeout=15))
    return registry


def notify(ctx) -> dict:
    return {"notified": True}


def with_fail_reshaped(settings) -> Registry:
    """``build_registry`` as a later version might have it: ``fail`` with a step inserted before
    its ``flaky`` one (a deploy that changed a job type's steps while jobs of it were failed or under
    way: a job runs the steps it was made with, by name, never another step at the same index)."""
    registry = build_registry(settings)
    original = registry.get("fail")
    prepare, flaky_step = original.steps
    registry.replace(JobType(**{**original.__dict__, "steps": (prepare, Step("notify", notify), flaky_step)}))
    return registry


def without_fail_step(settings) -> Registry:
    """``build_registry`` with ``fail`` reduced to its first step: its ``flaky`` step removed."""
    registry = build_registry(settings)
    original = registry.get("fail")
    registry.replace(JobType(**{**original.__dict__, "steps": original.steps[:1]}))
    return registry


def office_with_pause_points(settings) -> Registry:
    """The deployment's job types, with each ``newcase``, ``invoice`` and ``estimate`` step able to stop right after its
    work (before the store records it) when the file ACKFLOW_TEST_PAUSE_FILE names it (``step`` or
    ``type:step``): the test then kills the worker there, the hardest moment for a retry. ``invoice:failed``
    stops a failed invoice job after its failure card, before its ``on_failed`` follow-up."""
    return with_step_pauses(build_registry(settings))


def with_pause_points(settings) -> Registry:
    """The job types of ``build_registry`` (the deployment's and the tests'), each step of each able
    to stop right after its work when ACKFLOW_TEST_PAUSE_FILE names it (``type:step``): for a test
    of a job type of one's own that kills the worker inside each step (``Pipeline.killed_at``)."""
    registry = build_registry(settings)
    return with_step_pauses(registry, names=tuple(jt.name for jt in registry if not jt.schedule))


def with_step_pauses(registry: Registry, names: tuple[str, ...] = ("newcase", "invoice", "estimate")) -> Registry:
    """``registry`` with the pause points of ``office_with_pause_points``, on the job types ``names``."""
    import os
    import time
    from pathlib import Path

    def pause_file() -> Path:  # read when a step ends: a test process may build this before it has the variable
        return Path(os.environ.get("ACKFLOW_TEST_PAUSE_FILE") or "/nonexistent/pause")

    def paused(step):
        def run(ctx):
            output = step.run(ctx)
            control = pause_file()
            wanted = control.read_text().strip() if control.exists() else ""
            reached = control.with_suffix(".reached")
            # the first run of the step that gets here, once per pause asked (a test removes the
            # .reached file first): not "attempt 1", which a step that waited (RetryLater) is not
            if wanted in (step.name, f"{ctx.job.type}:{step.name}") and not reached.exists():
                reached.write_text(step.name)
                time.sleep(120)
            return output

        return Step(step.name, run, step.title)

    def paused_follow_up(on_failed):
        def run(runtime, job):  # ``invoice:failed``: stop once the failure card is out, before the follow-up
            control = pause_file()
            wanted = control.read_text().strip() if control.exists() else ""
            if wanted == f"{job.type}:failed":
                control.with_suffix(".reached").write_text("failed")
                time.sleep(120)
            return on_failed(runtime, job)

        return run

    for name in names:
        original = registry.get(name)
        changed = {"steps": tuple(paused(s) for s in original.steps)}
        if original.on_failed is not None:
            changed["on_failed"] = paused_follow_up(original.on_failed)
        registry.replace(JobType(**{**original.__dict__, **changed}))
    return registry


def mail_with_pause_points(settings) -> Registry:
    """The deployment's job types, with the mail flow able to stop right after a mail's card is
    posted (before its record is settled and the mail labelled) when the file
    ACKFLOW_TEST_PAUSE_FILE (read when a card is shown: a test process may load this before it has
    the variable) says ``mail:shown``: the test then kills the worker there, the moment a
    redelivery could post a second card. Only the first claim of a mail pauses. When it says
    ``mail:unreadable``, reading the mail whose subject is 読めないメール raises."""
    import os
    import time
    from pathlib import Path

    from workers.office.mail.flow import MailFlow

    show = getattr(MailFlow.show, "__wrapped__", MailFlow.show)

    def paused(self, record):
        refused = show(self, record)
        control = Path(os.environ.get("ACKFLOW_TEST_PAUSE_FILE") or "/nonexistent/pause")
        wanted = control.read_text().strip() if control.exists() else ""
        if wanted == "mail:shown" and record.get("attempts") == 1:
            control.with_suffix(".reached").write_text(record["id"])
            time.sleep(120)
        return refused

    paused.__wrapped__ = show
    MailFlow.show = paused

    from workers.office.mail.records import Claim, MailRecords, record_id

    claim = getattr(MailRecords.claim, "__wrapped__", MailRecords.claim)

    def held(self, address, mail_id, holder, now, lease):
        """While the test holds a delivery at its mail's card, that delivery is alive: another claim
        of the mail finds it busy, as it would a live holder. The tests' lease is 4 s, and on a loaded
        machine a redelivery took the mail over before the test had pressed the card (CI, twice)."""
        control = Path(os.environ.get("ACKFLOW_TEST_PAUSE_FILE") or "/nonexistent/pause")
        reached = control.with_suffix(".reached")
        try:
            holding = control.read_text().strip() == "mail:shown" and \
                reached.read_text().strip() == record_id(address, mail_id)
        except FileNotFoundError:
            holding = False
        if holding:
            return Claim.BUSY, self.get(record_id(address, mail_id)) or {}
        return claim(self, address, mail_id, holder, now, lease)

    held.__wrapped__ = claim
    MailRecords.claim = held

    from workers.office.mail import flow

    summarize = getattr(flow.summarize, "__wrapped__", flow.summarize)

    def unreadable(mail, **options):  # ``mail:unreadable``: reading the mail 読めないメール raises, as a bug would
        control = Path(os.environ.get("ACKFLOW_TEST_PAUSE_FILE") or "/nonexistent/pause")
        if "読めないメール" in mail.header("Subject") and control.exists() \
                and control.read_text().strip() == "mail:unreadable":
            raise RecursionError("maximum recursion depth exceeded")
        return summarize(mail, **options)

    unreadable.__wrapped__ = summarize
    flow.summarize = unreadable
    return with_step_pauses(build_default(settings))  # ``newcase:mail`` too: the mail filed, not recorded


def without_sleep(settings) -> Registry:
    """The deployment's job types as a version before ``sleep`` was added: a type whose step may run
    longer than a minute, which this worker does not know (a deploy under way)."""
    from ackflow.queues import load_queues
    from workers import office
    from workers.job_types import echo, fail

    registry = Registry(load_queues(settings.queues_file))
    for module in (echo, fail, office):
        module.register(registry)
    return registry
