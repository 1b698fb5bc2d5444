"""``sleep SECONDS``: waits, reporting progress every second. For watching progress and cancel."""

from __future__ import annotations

from ackflow.i18n import N_
from ackflow.jobs.context import StepContext
from ackflow.jobs.params import Param
from ackflow.jobs.registry import JobType, Registry, Step

MAX_SECONDS = 300


def sleep(ctx: StepContext) -> dict:
    total = ctx.params["seconds"]
    for done in range(total):
        ctx.progress(ctx._("{done} of {total} s", done=done, total=total), done / total)
        if not ctx.sleep(1):
            return {"slept": done, "cancelled": True}
    return {"slept": total}


def register(registry: Registry) -> None:
    registry.add(JobType(
        name="sleep",
        help=N_("Wait SECONDS (1–300), showing progress."),
        params=(Param("seconds", kind="int", minimum=1, maximum=MAX_SECONDS, help=N_("how long"),
                      title=N_("Seconds"), units=("秒間", "秒", "seconds", "second", "secs", "sec", "s")),),
        confirm=N_("Sleep for {seconds} s"),
        steps=(Step("sleep", sleep, N_("sleeping")),),
        timeout=MAX_SECONDS + 30,
        result_labels={"slept": N_("seconds slept"), "cancelled": N_("cancelled")},
        examples=("sleep 5",),
        slash_command_id=11,
    ))
