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


def build_registry(settings) -> Registry:
    registry = build_default(settings)
    registry.add(JobType(name="tick", help="Runs every minute.", steps=(Step("tick", tick),),
                         schedule="* * * * *", timeout=30))
    registry.add(JobType(name="nap", help="Sleep with the shortest timeout a queue allows.",
                         params=(Param("seconds", kind="int", minimum=1, maximum=10),),
                         steps=(Step("nap", nap),), timeout=15))
    return registry
