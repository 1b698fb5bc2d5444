"""The job types this deployment offers. ``build_registry`` is what ACKFLOW_JOB_TYPES points at.

To add a job type, write a module with a ``register(registry)`` function and list it below
(docs/job-types.md walks through it).
"""

from __future__ import annotations

from ackflow.jobs.registry import Registry
from ackflow.queues import load_queues
from ackflow.settings import Settings

from .. import office
from . import echo, fail, sleep

MODULES = (echo, sleep, fail, office)
DEV_MODULES = (echo, sleep, fail)  # for trying the pipeline: offered only with ACKFLOW_DEV_JOB_TYPES (on by default)


def build_registry(settings: Settings) -> Registry:
    registry = Registry(load_queues(settings.queues_file))
    for module in MODULES:
        if module in DEV_MODULES and not settings.dev_job_types:
            continue
        register = getattr(module, "register", None)
        if not callable(register):
            raise ValueError(f"{module.__name__} is listed in MODULES (workers/job_types/__init__.py) but has no "
                             f"register(registry) function to add its job types (docs/job-types.md)")
        register(registry)
    return registry
