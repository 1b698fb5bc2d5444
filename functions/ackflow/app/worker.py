"""The worker's logic: one delivery of one task runs (at most) one step of one job.

Every delivery may be a duplicate (queues deliver at least once) and every process may die at any
line, so the order is: claim the step in the store (a compare-and-set with a lease) → run it →
record its output → send the next step or finish → show it in the thread → answer 2xx. A crash
before the answer makes the queue deliver again; the claim makes the repeat harmless and the
"already done" path re-drives what follows (the next step, the final message).

Answers: 2xx = this task is done (including duplicates, final failures, and tasks that can never
run — an unknown job, a malformed payload — which are logged and dead-lettered, since a queue
retries every non-2xx answer; and a step that may only run again after a while, ``RetryLater``,
which is sent again delayed under a new task, as is a young job of a type this worker does not
know yet: a deploy under way, ``UNKNOWN_TYPE_PATIENCE``); 503 = try again later (a transient failure within the retry
budget; Chat or the queue unavailable after the work; the token's signer certificates cannot be
fetched, so it cannot be checked now); 409 = the step is held by another live attempt, so the
queue keeps this task until that attempt ends or its lease runs out (its body's ``retry_in``: the
seconds until then, which the SQS relay waits; not a 5xx: for an HTTP target
Cloud Tasks reads a 429 or any 5xx as an overloaded worker and slows the whole queue down, and
nothing is overloaded).
401 = the caller's token does not verify; 405 = not a POST.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
from typing import TYPE_CHECKING

from ..errors import (
    CertificatesUnavailable,
    ChatBudgetSpent,
    ChatUnavailable,
    Conflict,
    DocumentRefused,
    JobNotFound,
    LeaseLost,
    PermanentError,
    QueueUnavailable,
    RetryLater,
    StepFailed,
    StoreUnavailable,
    UsageError,
    VerificationError,
)
from ..i18n import ENGLISH, L_, N_, Msg, Speaker, said
from ..ids import is_safe_id
from ..jobs.context import StepContext
from ..jobs.lifecycle import Claim
from ..jobs.model import Holder, Job, JobStatus, StepStatus
from ..jobs.registry import JobType, Step
from ..logs import TRACE, trace_from
from .audit import stored
from .dispatch import UNKNOWN_TYPE_DEADLINE, send_show, send_step
from .http import MAX_BODY, BadBody, HttpRequest, HttpResponse, error, read_json
from .notify import Notifier, ProgressReporter
from .speech import speaker_of_job

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)


def _retry_later(reason: str) -> HttpResponse:
    # No Retry-After: the queue's own retry config (one source of truth) decides when. The reason
    # (often an exception's text, a job's own error) goes to the log, never into the body.
    log.info("asking the queue to retry: %s", reason[:500])
    return HttpResponse(503, {"status": "retry"})


class Worker:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.notifier = Notifier(runtime)

    # -- HTTP ------------------------------------------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        arrived = self.runtime.clock()
        TRACE.set(trace_from(request.header("x-cloud-trace-context")))
        if request.method != "POST":
            return error(405, "POST tasks here")
        if len(request.body) > MAX_BODY:
            return error(413, f"a task is never larger than {MAX_BODY} bytes")
        try:
            self.runtime.worker_verifier.verify(request.header("authorization"))
        except CertificatesUnavailable as exc:  # the token may be valid: deliver it again later
            log.error("cannot check the delivery's token now: %s", exc)
            return _retry_later("the token's signer certificates are unavailable")
        except VerificationError as exc:
            log.warning("rejected a delivery: %s", exc)
            return error(401, "the bearer token does not verify")
        last = request.path.rstrip("/").rpartition("/")[2]
        if last == "sweep":
            from .sweep import sweep

            report = sweep(self.runtime)
            return HttpResponse(200, report.to_dict())
        if last and last in self.runtime.registry.endpoints:
            return self.runtime.registry.endpoints[last](self.runtime, request)
        retry = _int(request.header("x-cloudtasks-taskretrycount"))
        task_header = (request.header("x-cloudtasks-taskname") or "")[:500]
        try:
            payload, job_id, index = _task(request.body)
        except BadBody as exc:
            return self._drop(task_header or "?", None, None, retry,
                              f'not a task ({exc}): expected JSON {{"job_id": "…", "step": N, "generation": N}}')
        generation = payload.get("generation", 0)
        holder = Holder(task_header or f"{job_id}-{index}-{generation}", retry)
        try:
            return self.run(job_id, index, holder, _dispatched_at(request, arrived), generation=generation)
        except JobNotFound:
            # a safe id (checked by _task), never raw input
            return self._drop(holder.task, job_id, index, retry, f"no job {job_id} in the store")
        except StoreUnavailable as exc:
            log.error("job store unavailable: %s", exc, extra={"job_id": job_id})
            return _retry_later("job store unavailable")

    # -- one delivery ----------------------------------------------------------------------------
    def run(self, job_id: str, index: int, holder: Holder, dispatched_at: float | None = None, *,
            generation: int | None = None) -> HttpResponse:
        """``dispatched_at``: no later than the queue sent this delivery (its dispatch deadline
        counts from then); ``generation``: the task's (``None``: not known, as for a test's call)."""
        runtime = self.runtime

        def deadline(job: Job) -> float:  # the task's dispatch deadline (dispatch.step_task), or less
            # (a type this worker lacks: it only makes the job wait or fails it, and holds it briefly)
            return runtime.registry.get(job.type).timeout if job.type in runtime.registry else UNKNOWN_TYPE_DEADLINE

        def lease(job: Job) -> float:
            return deadline(job) + runtime.settings.lease_margin

        try:
            # SQS hands a message out again when its visibility lapses (a relay that stopped
            # extending it) while the first delivery still runs: no takeover by retry count there
            outcome, job = runtime.store.claim_step(job_id, index, holder, runtime.clock(), lease, deadline,
                                                    takeover=runtime.settings.queue_backend != "sqs",
                                                    dispatched_at=dispatched_at, generation=generation)
        except Conflict:
            return self._drop(holder.task, job_id, index, holder.retry, f"job {job_id} has no step {index}")
        extra = {"job_id": job_id, "job_type": job.type, "step": index, "attempt": holder.retry + 1,
                 "task": holder.task}
        job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
        if job_type is None:
            if not _may_arrive(job, runtime.clock()):
                return self._unrunnable(job, index, holder, extra)
            if outcome == Claim.CLAIMED:
                return self._not_here_yet(job, index, holder, extra)
        if outcome == Claim.BUSY:
            # Another attempt holds the step. Keep this task in the queue (a non-2xx answer): if the
            # holder dies, a later delivery takes the step over once its lease has ended.
            step = job.steps[index]
            log.info("step held by %s until %.0f; the queue keeps this task", step.holder.task if step.holder
                     else "?", step.lease_until or 0, extra=extra)
            # when the lease ends, the earliest a later delivery may take the step over (the SQS
            # relay keeps its message invisible until then; Cloud Tasks reads no body)
            retry_in = max(1, math.ceil((step.lease_until or 0) - runtime.clock()))
            return HttpResponse(409, {"status": "busy", "retry_in": retry_in})
        if outcome != Claim.CLAIMED:
            log.info("duplicate delivery (%s)", outcome.value, extra=extra)
            return self._follow_up(job, index, outcome)
        step = _step_named(job_type, job.steps[index].name, index)
        if step is None:  # a deploy changed the job type's steps: never run another step in its place
            if _may_arrive(job, runtime.clock()):  # (or this worker is the older one of a deploy under way)
                return self._not_here_yet(job, index, holder, extra)
            gone = PermanentError(N_("the job type “{name}” has no step “{step}” any more (its steps changed since "
                                     "this job was made); start the job again"), name=job.type,
                                  step=job.steps[index].name)
            return self._failed(job, job_type, index, holder, gone, extra)
        log.info("running step %s", job.steps[index].name, extra=extra)
        reporter = ProgressReporter(runtime, self.notifier, job, index, holder,
                                    runtime.settings.progress_interval)
        context = StepContext(job, index, holder.retry + 1, runtime.services, report=reporter.report,
                              cancelled=reporter.cancelled, clock=runtime.clock, speaker=speaker_of_job(runtime, job))
        try:
            return self._run_claimed(job, job_type, step, index, holder, context, extra)
        finally:
            reporter.finish()

    def _run_claimed(self, job: Job, job_type: JobType, step: Step, index: int, holder: Holder,
                     context: StepContext, extra: dict) -> HttpResponse:
        runtime = self.runtime
        try:
            output = step.run(context)
        except Exception as exc:  # the job's own code failed: retry or give up
            return self._failed(job, job_type, index, holder, exc, extra)
        if output is not None and not isinstance(output, dict):
            output = {"result": output}
        try:
            job = runtime.store.complete_step(job.id, index, holder, _jsonable(output), runtime.clock())
        except LeaseLost as exc:
            log.warning("finished, but the step is no longer ours: %s", exc, extra=extra)
            return self._follow_up(runtime.store.get_job(job.id), index, Claim.FINISHED)
        except DocumentRefused as exc:  # the same result again would be refused again: no retry
            log.error("step %s finished, but its result is not kept: %s", step.name, exc, extra=extra)
            return self._failed(job, job_type, index, holder, PermanentError(N_(
                "the step finished, but the job store cannot keep its result (too large or nested too deeply)")),
                extra)
        log.info("step %s succeeded", step.name, extra=extra)
        return self._after_success(job, index)

    def _after_success(self, job: Job, index: int) -> HttpResponse:
        try:
            if job.status == JobStatus.SUCCEEDED:
                self.notifier.show(job)
            else:
                send_step(self.runtime, job, index + 1)
                self.notifier.try_show(job)
        except ChatBudgetSpent as exc:
            return self._show_later(job, exc)
        except (ChatUnavailable, QueueUnavailable) as exc:
            # The step is recorded; the queue's retry of this task will only re-drive what follows.
            log.warning("step done, follow-up failed: %s", exc, extra={"job_id": job.id})
            return _retry_later(str(exc))
        return HttpResponse(200, {"status": job.status.value, "job_id": job.id})

    def _follow_up(self, job: Job, index: int, outcome: Claim) -> HttpResponse:
        """A duplicate delivery: redo only what may have been lost after the step was recorded."""
        try:
            if outcome == Claim.DONE and job.status == JobStatus.RUNNING and job.current == index + 1 \
                    and job.steps[index + 1].status == StepStatus.PENDING:
                send_step(self.runtime, job, index + 1)
            elif job.status.finished:
                self.notifier.show(job)
        except ChatBudgetSpent as exc:
            return self._show_later(job, exc)
        except (ChatUnavailable, QueueUnavailable) as exc:
            return _retry_later(str(exc))
        return HttpResponse(200, {"status": "duplicate", "claim": outcome.value, "job": job.status.value})

    def _failed(self, job: Job, job_type: JobType, index: int, holder: Holder, exc: Exception,
                extra: dict) -> HttpResponse:
        runtime = self.runtime
        now = runtime.clock()
        if isinstance(exc, DocumentRefused):  # a write of the step's own, refused as written: again would be too
            log.error("step %s: the job store refused a write: %s", job.steps[index].name, exc, extra=extra)
            refused = PermanentError(N_("the job store refused what this step records (too large or nested too "
                                        "deeply); trying again would not change that"))
            refused.__cause__ = exc
            exc = refused
        if isinstance(exc, UsageError):  # a step's own check of what was asked: said as it is, never retried
            refused = PermanentError(exc.text)
            refused.__cause__ = exc
            exc = refused
        speaker = speaker_of_job(runtime, job)  # the error is shown to the person who asked, in their words
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StepFailed) else exc.render(speaker)
        logged = exc.render(ENGLISH) if isinstance(exc, StepFailed) else message  # logs and the queue: English
        # what the message says, kept so that a page can say it in its reader's language (the console)
        kept = stored(exc.text) if isinstance(exc, StepFailed) else None
        permanent = isinstance(exc, StepFailed) and exc.permanent
        if isinstance(exc, ImportError):  # the deployment lacks a module: no retry can fix that
            permanent = True
            message = missing_module_message(exc, job_type, speaker)
            logged = missing_module_message(exc, job_type, ENGLISH)
            kept = stored(missing_module(exc, job_type))
        first = job.steps[index].first_attempt_at or now
        later = isinstance(exc, RetryLater)
        if later:  # not the queue's retry: a task of its own, once the service may take us again
            final = now - first + exc.after > exc.within
            delay = None if final else exc.after
            if final and exc.gave_up is not None:
                message, logged = said(exc.gave_up, speaker), said(exc.gave_up, ENGLISH)
                kept = stored(exc.gave_up) if isinstance(exc.gave_up, Msg) else None
        else:
            policy = runtime.registry.queue_of(job_type).retry
            policy = dataclasses.replace(policy, max_attempts=runtime.registry.max_attempts(job_type))
            final = permanent or policy.exhausted(holder.retry + 1, now - first)
            delay = None if final else policy.delay(holder.retry + 1)
        log_method = log.error if final else log.warning
        log_method("step %s failed%s: %s", job.steps[index].name, " for good" if final else "", logged,
                   extra=extra, exc_info=not isinstance(exc, StepFailed))
        try:
            job = runtime.store.fail_step(job.id, index, holder, message, now, final=final,
                                          retry_at=None if final else now + delay, trace=_trace(exc),
                                          new_task=later and not final, said=kept)
        except LeaseLost:
            return HttpResponse(200, {"status": "duplicate", "claim": "lost"})
        if later and not final:
            return self._wait(job, index, delay, logged)
        if final:
            try:
                self.notifier.show(job)
            except ChatBudgetSpent as chat_exc:
                return self._show_later(job, chat_exc)
            except ChatUnavailable as chat_exc:
                return _retry_later(str(chat_exc))  # the retry re-posts the failure card
            finally:
                self._on_failed(job, job_type)
            return HttpResponse(200, {"status": "FAILED", "job_id": job.id})
        self.notifier.try_show(job, retry_delay=delay)
        return _retry_later(logged)

    def _wait(self, job: Job, index: int, delay: float, reason: str) -> HttpResponse:
        """A step that may run again only in ``delay`` seconds (``RetryLater``): its task of the new
        generation is sent delayed and this delivery ends 2xx, so the queue does not retry it sooner.
        If the queue cannot take the task now, the sweep sends the step once it is due (it is
        PENDING with ``next_attempt_at``); a second task meanwhile only finds the step claimed."""
        try:
            send_step(self.runtime, job, index, delay=delay)
        except QueueUnavailable as exc:
            log.warning("step left to the sweep: %s", exc, extra={"job_id": job.id})
        log.info("step %s waits %.0f s: %s", job.steps[index].name, delay, reason[:500], extra={"job_id": job.id})
        self.notifier.try_show(job, retry_delay=delay)
        return HttpResponse(200, {"status": "waiting", "job_id": job.id, "retry_in": delay})

    def _on_failed(self, job: Job, job_type: JobType) -> None:
        """The job type's own follow-up of a job that failed for good (``JobType.on_failed``): once,
        best effort; what must happen for sure is also done by a sweep task of the job type."""
        if job_type.on_failed is None:
            return
        try:
            job_type.on_failed(self.runtime, job)
        except Exception:  # its own failure never changes the answer to the queue
            log.exception("the follow-up of failed job %s failed", job.id, extra={"job_id": job.id})

    def _show_later(self, job: Job, exc: ChatBudgetSpent) -> HttpResponse:
        """The job is finished and its result owed (``message_due``), but the space has no write
        budget now: the queue delivers it again when its reserved slot is due (reserved by this
        attempt or an earlier one: a delivery that comes before the slot is handed on to it; two
        that meet there show it once), or, after a 429, once the space should have budget, spread
        over a second or two so a crowd does not come back at once; this delivery ends 2xx. If the
        queue cannot take it, the sweep shows it (docs/reliability.md, Chat's write quota)."""
        delay = exc.after + (random.uniform(0.0, 0.1) if exc.slot else random.uniform(0.5, 2.0))
        try:
            send_show(self.runtime, job, delay)
            log.info("result shown in %.0f s: %s", delay, exc, extra={"job_id": job.id})
        except QueueUnavailable as queue_exc:
            log.warning("result left to the sweep: %s; the queue: %s", exc, queue_exc, extra={"job_id": job.id})
        return HttpResponse(200, {"status": job.status.value, "job_id": job.id, "shown": "later"})

    def _drop(self, task: str, job_id: str | None, index: int | None, retry: int, reason: str) -> HttpResponse:
        """A task that can never run (no such job, no such step, not a task at all): answered 2xx
        so the queue stops retrying it, logged, and kept as a dead letter for a person to see."""
        log.error("dropped a task that can never run: %s", reason,
                  extra={"job_id": job_id, "step": index, "task": task, "attempt": retry + 1})
        try:
            self.runtime.store.record_dropped_task(task, job_id, index, reason, retry + 1, self.runtime.clock())
        except StoreUnavailable as exc:  # cannot keep the record: let the queue bring it back
            log.error("job store unavailable: %s", exc)
            return _retry_later("job store unavailable")
        return HttpResponse(200, {"status": "dropped", "reason": reason})

    def _not_here_yet(self, job: Job, index: int, holder: Holder, extra: dict) -> HttpResponse:
        """A young job of a type (or with a step) this worker does not know: a deploy that adds the
        type updates the webhook and the worker side by side, and the webhook (new) may take jobs
        the worker (old) cannot run yet. The step waits, as for ``RetryLater``: a task of a new generation sent
        delayed (growing, at most a minute), this delivery 2xx; after ``UNKNOWN_TYPE_PATIENCE`` the
        job fails for good (``_unrunnable``). Failed at once, it was lost for good, and the queue
        dropped a task the new worker would have run a minute later."""
        runtime = self.runtime
        now = runtime.clock()
        delay = min(60.0, 5.0 * 2 ** min(max(job.steps[index].attempts - 1, 0), 4))
        what = f"step {job.steps[index].name} of job type {job.type}" if job.type in runtime.registry \
            else f"job type {job.type}"
        reason = f"{what} is not registered in this worker (a deploy under way?); asked again in {delay:.0f} s"
        log.warning("%s", reason, extra=extra)
        try:
            job = runtime.store.fail_step(job.id, index, holder, reason, now, final=False, retry_at=now + delay,
                                          new_task=True)
        except LeaseLost:
            return HttpResponse(200, {"status": "duplicate", "claim": "lost"})
        try:
            send_step(runtime, job, index, delay=delay)
        except QueueUnavailable as exc:  # the step is PENDING with its time: the sweep sends it
            log.warning("step left to the sweep: %s", exc, extra={"job_id": job.id})
        return HttpResponse(200, {"status": "waiting", "job_id": job.id, "retry_in": delay})

    def _unrunnable(self, job: Job, index: int, holder: Holder, extra: dict) -> HttpResponse:
        log.error("job type %s is not registered; failing the job", job.type, extra=extra)
        if not job.status.finished:
            gone = L_("the job type “{name}” is no longer available", name=job.type)
            job = self.runtime.store.fail_job(job.id, said(gone, speaker_of_job(self.runtime, job)),
                                              self.runtime.clock(), said=stored(gone))
            self.notifier.try_show(job)
        return HttpResponse(200, {"status": "FAILED", "reason": "unknown job type"})


# how long a job of a type this worker does not know waits for a worker that does (a rolling deploy
# of both functions takes minutes); an older one is failed for good
UNKNOWN_TYPE_PATIENCE = 900.0


def _may_arrive(job: Job, now: float) -> bool:
    """Whether a worker that knows the job's type may still come (see ``Worker._not_here_yet``)."""
    return not job.status.finished and now - job.created_at < UNKNOWN_TYPE_PATIENCE


def _step_named(job_type: JobType, name: str, index: int) -> Step | None:
    """The job type's step that the job recorded as ``name`` at ``index``: a job runs the steps it
    was made with, by name (a deploy may have added, removed or moved steps since), never the step
    that now stands at its index; None if the type has no step of that name."""
    if index < len(job_type.steps) and job_type.steps[index].name == name:
        return job_type.steps[index]
    return next((step for step in job_type.steps if step.name == name), None)


def _trace(exc: Exception) -> str | None:
    """The end of the traceback of a step's own exception (a StepFailed says what it means)."""
    if isinstance(exc, StepFailed):
        return None
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-2000:]


def missing_module(exc: ImportError, job_type: JobType) -> Msg:
    hint = Msg(job_type.requires_hint) if job_type.requires_hint else L_("install the package that provides it")
    return L_("this deployment lacks the module {module}: {hint}", module=exc.name or str(exc), hint=hint)


def missing_module_message(exc: ImportError, job_type: JobType, speaker: Speaker = ENGLISH) -> str:
    return missing_module(exc, job_type).render(speaker)


def _task(body: bytes) -> tuple[dict, str, int]:
    """The task's JSON, job id and step index; BadBody unless they are what dispatch sends."""
    payload = read_json(body)
    if not isinstance(payload, dict):
        raise BadBody("the body is not a JSON object")
    job_id, index = payload.get("job_id"), payload.get("step")
    if not is_safe_id(job_id):
        raise BadBody("job_id is not a job id")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1000:
        raise BadBody("step is not a step index")
    generation = payload.get("generation", 0)
    if isinstance(generation, bool) or not isinstance(generation, int) or not 0 <= generation < 10**9:
        raise BadBody("generation is not a generation number")
    return payload, job_id, index


def _dispatched_at(request: HttpRequest, arrived: float) -> float:
    """No later than the queue sent this delivery: Cloud Tasks' ``X-CloudTasks-TaskETA`` (the
    attempt's schedule time, seconds since the epoch; it dispatches at or after it) when it is a
    plausible time, else when the request reached the handler."""
    try:
        eta = float(request.header("x-cloudtasks-tasketa") or "nan")
    except ValueError:
        return arrived
    return eta if math.isfinite(eta) and arrived - 86_400 < eta < arrived else arrived


def _int(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 10**6))
    except ValueError:
        return 0


def _jsonable(output: dict | None) -> dict:
    if output is None:
        return {}
    try:
        return json.loads(json.dumps(output, default=str))
    except (TypeError, ValueError):
        return {"result": str(output)}

