"""The deployment's job types plus a periodic one, for the end-to-end tests."""

from __future__ import annotations

from ackflow.jobs.registry import JobType, Registry, Step
from workers.job_types import build_registry as build_default


def tick(ctx) -> dict:
    return {"slot": ctx.job.slot}


def build_registry(settings) -> Registry:
    registry = build_default(settings)
    registry.add(JobType(name="tick", help="Runs every minute.", steps=(Step("tick", tick),),
                         schedule="* * * * *", timeout=30))
    return registry
