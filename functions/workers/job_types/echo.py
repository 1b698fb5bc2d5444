"""``echo TEXT``: says it back. The smallest job, for trying the pipeline end to end."""

from __future__ import annotations

from ackflow.i18n import N_
from ackflow.jobs.context import StepContext
from ackflow.jobs.params import Param
from ackflow.jobs.registry import JobType, Registry, Step


def echo(ctx: StepContext) -> dict:
    return {"text": ctx.params["text"]}


def register(registry: Registry) -> None:
    registry.add(JobType(
        name="echo",
        help=N_("Say TEXT back (try the pipeline)."),
        params=(Param("text", help=N_("what to say"), rest=True, max_length=2000, title=N_("Text")),),
        confirm=N_("Echo “{text}”"),
        steps=(Step("echo", echo, N_("saying it back")),),
        timeout=30,
        examples=("echo hello",),
        slash_command_id=10,
        result_fields=("text",),
        result_labels={"text": N_("text")},
    ))
