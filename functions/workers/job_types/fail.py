"""``fail [--times N | --always]``: a two-step job whose second step fails on purpose.

For seeing retries work: ``--times N`` fails the first N attempts of the step and then succeeds;
``--always`` never succeeds. The first step ("prepare") succeeds once, so a retry of a failed job
visibly resumes at the second step.
"""

from __future__ import annotations

import time

from ackflow.errors import TransientError, UsageError
from ackflow.i18n import N_
from ackflow.jobs.context import StepContext
from ackflow.jobs.params import Param
from ackflow.jobs.registry import JobType, Registry, Step


def prepare(ctx: StepContext) -> dict:
    return {"prepared_at": time.time()}


def flaky(ctx: StepContext) -> dict:
    attempt = ctx.job.steps[ctx.index].attempts  # counted by the store, across every delivery
    if ctx.params["always"] or attempt <= ctx.params["times"]:
        raise TransientError(N_("failing on purpose (attempt {attempt})"), attempt=attempt)
    return {"succeeded_on_attempt": attempt}


def _validate(values: dict) -> None:
    if values["always"] and values["times"] is not None:
        raise UsageError(N_("use either --times N or --always, not both"))
    if values["times"] is None and not values["always"]:
        values["times"] = 1


def register(registry: Registry) -> None:
    registry.add(JobType(
        name="fail",
        help=N_("Fail on purpose (--times N, then succeed; or --always), to see retries."),
        params=(
            Param("times", kind="int", positional=False, required=False, minimum=0, maximum=100,
                  metavar="N", help=N_("fail this many attempts, then succeed"), title=N_("Failures"),
                  aliases=("回数",), units=("回",)),
            Param("always", kind="flag", positional=False, required=False, help=N_("never succeed"),
                  title=N_("Always fail"), aliases=("常に",)),
        ),
        confirm=N_("Fail on purpose"),
        steps=(Step("prepare", prepare, N_("prepare")), Step("flaky", flaky, N_("flaky step"))),
        timeout=30,
        validate=_validate,
        examples=("fail --times 2", "fail --always", "fail 回数：2"),
        slash_command_id=12,
    ))
