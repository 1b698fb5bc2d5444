"""The local Cloud Tasks service: queues, tasks and the dispatcher that pushes tasks over HTTP.

All state changes happen under one condition variable; the dispatcher thread sleeps until the
next task is due, a token is available, or something changes. Attempts run on a thread pool, so
a hanging handler holds only its own thread until its dispatch deadline cuts it off.
"""

from __future__ import annotations

import heapq
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ackflow.auth.signing import LocalSigner

from ..web import GoogleError
from . import resources as r
from .delivery import AttemptInfo, Outcome, TokenBucket, TokenCache, deliver, grpc_code
from .storage import TasksStorage

log = logging.getLogger(__name__)


class CloudTasksService:
    def __init__(self, storage: TasksStorage, signer: LocalSigner, *,
                 name_reservation: float = 3600.0,
                 min_dispatch_deadline: float = r.MIN_DISPATCH_DEADLINE,
                 max_parallel_attempts: int = 256):
        self.storage = storage
        self.signer = signer
        self.tokens = TokenCache(signer)
        self.name_reservation = name_reservation
        self.min_dispatch_deadline = min_dispatch_deadline
        self._cond = threading.Condition()
        self._queues: dict[str, object] = {}
        self._tasks: dict[str, r.TaskRecord] = {}
        self._heaps: dict[str, list[tuple[float, str]]] = {}
        self._inflight: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_parallel_attempts, thread_name_prefix="attempt")
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._load()

    # -- lifecycle -----------------------------------------------------------------------------
    def _load(self) -> None:
        now = time.time()
        for message in self.storage.load_queues().values():
            queue = r.QueuePb()
            queue.ParseFromString(message)
            self._install_queue(queue, now)
        for record in self.storage.load_tasks():
            if record.queue in self._queues:
                self._tasks[record.name] = record
                heapq.heappush(self._heaps[record.queue], (record.schedule_time, record.name))
        self.storage.forget_reservations(now)

    def start(self) -> CloudTasksService:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _install_queue(self, queue, now: float) -> None:
        self._queues[queue.name] = queue
        self._heaps.setdefault(queue.name, [])
        self._inflight.setdefault(queue.name, 0)
        limits = queue.rate_limits
        bucket = self._buckets.get(queue.name)
        if bucket is None:
            self._buckets[queue.name] = TokenBucket(
                limits.max_dispatches_per_second, limits.max_burst_size, now)
        else:
            bucket.reconfigure(limits.max_dispatches_per_second, limits.max_burst_size)

    # -- queues ----------------------------------------------------------------------------------
    def _queue(self, name: str):
        queue = self._queues.get(name)
        if queue is None:
            raise GoogleError("NOT_FOUND", f"Queue {name} does not exist.")
        return queue

    def create_queue(self, parent: str, raw: dict):
        r.check_location(parent)
        queue = r.parse_message(raw, r.QueuePb, "queue")
        prefix = parent + "/queues/"
        if not queue.name.startswith(prefix) or not r.QUEUE_ID_RE.match(queue.name[len(prefix):]):
            raise GoogleError("INVALID_ARGUMENT",
                              f"Queue name must be of the form {prefix}QUEUE_ID (letters, digits, hyphens).")
        r.normalize_queue(queue, raw, creating=True)
        with self._cond:
            if queue.name in self._queues:
                raise GoogleError("ALREADY_EXISTS", f"Queue {queue.name} already exists.")
            self.storage.put_queue(queue.name, queue.SerializeToString())
            self._install_queue(queue, time.time())
            self._cond.notify_all()
            return queue

    def get_queue(self, name: str):
        with self._cond:
            return self._queue(name)

    def list_queues(self, parent: str) -> list:
        r.check_location(parent)
        with self._cond:
            return [q for n, q in sorted(self._queues.items()) if n.startswith(parent + "/queues/")]

    def update_queue(self, name: str, raw: dict, update_mask: list[str]):
        with self._cond:
            merged = r.updated_queue(self._queue(name), raw, update_mask)
            self.storage.put_queue(name, merged.SerializeToString())
            self._install_queue(merged, time.time())
            self._cond.notify_all()
            return merged

    def delete_queue(self, name: str) -> None:
        with self._cond:
            self._queue(name)
            self.storage.delete_queue(name)
            for task_name in [n for n, t in self._tasks.items() if t.queue == name]:
                del self._tasks[task_name]
            del self._queues[name]
            self._heaps.pop(name, None)
            self._buckets.pop(name, None)

    def disable_queue(self, name: str):
        """What an App Engine queue.yaml upload that drops the queue does (not part of the API)."""
        with self._cond:
            queue = self._queue(name)
            queue.state = r.STATE_DISABLED
            self.storage.put_queue(name, queue.SerializeToString())
            return queue

    def set_queue_state(self, name: str, state: int):
        with self._cond:
            queue = self._queue(name)
            if queue.state == r.STATE_DISABLED:
                raise GoogleError("FAILED_PRECONDITION", f"Queue {name} is disabled.")
            queue.state = state
            self.storage.put_queue(name, queue.SerializeToString())
            self._cond.notify_all()
            return queue

    def purge_queue(self, name: str):
        with self._cond:
            queue = self._queue(name)
            now = time.time()
            self.storage.delete_tasks_of(name, now + self.name_reservation)
            for task_name in [n for n, t in self._tasks.items() if t.queue == name]:
                del self._tasks[task_name]
            self._heaps[name] = []
            queue.purge_time.FromNanoseconds(int(now * 1e9))
            self.storage.put_queue(name, queue.SerializeToString())
            return queue

    # -- tasks -----------------------------------------------------------------------------------
    def create_task(self, parent: str, raw: dict):
        raw_task = raw.get("task")
        if not isinstance(raw_task, dict):
            raise GoogleError("INVALID_ARGUMENT", "CreateTaskRequest.task is required.")
        task = r.parse_message(raw_task, r.TaskPb, "task")
        now = time.time()
        with self._cond:
            queue = self._queue(parent)
            if queue.state == r.STATE_DISABLED:
                raise GoogleError("FAILED_PRECONDITION", f"Queue {parent} is disabled.")
            r.validate_new_task(task, raw_task, parent, now, self.min_dispatch_deadline)
            if task.name:
                until = self.storage.reserved_until(task.name)
                if task.name in self._tasks or (until is not None and until > now):
                    raise GoogleError("ALREADY_EXISTS", "Requested entity already exists")
            else:
                task.name = f"{parent}/tasks/{secrets.randbelow(10**19 - 10**18) + 10**18}"
            record = r.TaskRecord(
                name=task.name,
                queue=parent,
                message=task.SerializeToString(),
                schedule_time=task.schedule_time.ToNanoseconds() / 1e9,
            )
            self.storage.put_task(record)
            self._tasks[task.name] = record
            heapq.heappush(self._heaps[parent], (record.schedule_time, task.name))
            self._cond.notify_all()
            task.view = 1
            return task

    def _task(self, name: str) -> r.TaskRecord:
        record = self._tasks.get(name)
        if record is None:
            raise GoogleError("NOT_FOUND", f"Task {name} does not exist.")
        return record

    def _view(self, record: r.TaskRecord):
        task = record.task()
        task.view = 1  # the API layer returns it in the view the request asks for (r.in_view)
        return task

    def get_task(self, name: str):
        with self._cond:
            self._queue(name.rsplit("/tasks/", 1)[0])
            return self._view(self._task(name))

    def list_tasks(self, parent: str) -> list:
        with self._cond:
            self._queue(parent)
            return [self._view(t) for n, t in sorted(self._tasks.items()) if t.queue == parent]

    def delete_task(self, name: str) -> None:
        with self._cond:
            self._task(name)
            self._remove(name)

    def _remove(self, name: str) -> None:
        self._tasks.pop(name, None)
        self.storage.delete_task(name, time.time() + self.name_reservation)

    def run_task(self, name: str):
        """RunTask: dispatch now, ignoring the schedule, the rate limits and a paused queue."""
        with self._cond:
            record = self._task(name)
            view = self._view(record)
            if not record.running:
                self._start_attempt(record)
            return view

    # -- dispatching -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                wake = self._dispatch_due(time.time())
                timeout = None if wake is None else max(0.0, wake - time.time())
                if timeout is None or timeout > 0:
                    self._cond.wait(timeout)

    def _dispatch_due(self, now: float) -> float | None:
        """Start every attempt that may start now; return when to look again (None = on change)."""
        wake: float | None = None
        for name, heap in self._heaps.items():
            queue = self._queues[name]
            if queue.state != r.STATE_RUNNING:
                continue
            limit = queue.rate_limits.max_concurrent_dispatches
            bucket = self._buckets[name]
            while heap:
                when, task_name = heap[0]
                record = self._tasks.get(task_name)
                if record is None or record.running or record.schedule_time != when:
                    heapq.heappop(heap)  # stale entry
                    continue
                if when > now:
                    wake = when if wake is None else min(wake, when)
                    break
                if self._inflight[name] >= limit:
                    break  # woken when an attempt finishes
                if not bucket.take(now):
                    at = bucket.next_token_at(now)
                    wake = at if wake is None else min(wake, at)
                    break
                heapq.heappop(heap)
                self._start_attempt(record)
        return wake

    def _start_attempt(self, record: r.TaskRecord) -> None:
        """Count the attempt as it starts (durably): Cloud Tasks' retry count includes attempts
        that never got a response, so one cut short by a crash of the target, or of this service,
        is still counted when the task is delivered again."""
        task = record.task()
        record.running = True
        self._inflight[record.queue] = self._inflight.get(record.queue, 0) + 1
        now = time.time()
        if record.first_attempt_time is None:
            record.first_attempt_time = now
        retry_count = task.dispatch_count
        task.dispatch_count += 1
        if not task.HasField("first_attempt"):
            task.first_attempt.dispatch_time.FromNanoseconds(int(now * 1e9))
        record.update(task)
        self.storage.put_task(record)
        info = AttemptInfo(
            queue_id=r.short_id(record.queue),
            task_id=r.short_id(record.name),
            retry_count=retry_count,
            execution_count=task.response_count,
            eta=record.schedule_time,
            previous_response=record.previous_response,
            retry_reason=record.retry_reason,
            deadline=r._duration(task.dispatch_deadline),
        )
        target = r.http_target_of(task)
        self._pool.submit(self._attempt, record, target, info, now)

    def _attempt(self, record: r.TaskRecord, target, info: AttemptInfo, dispatched: float) -> None:
        try:
            outcome = deliver(target, info, self.tokens)
        except Exception:  # never lose a task to a bug in one attempt
            log.exception("attempt of %s crashed", record.name)
            outcome = Outcome(None, reason="INTERNAL")
        with self._cond:
            self._inflight[record.queue] = max(0, self._inflight.get(record.queue, 1) - 1)
            record.running = False
            self._finish(record, outcome, dispatched, time.time())
            self._cond.notify_all()

    def _finish(self, record: r.TaskRecord, outcome: Outcome, dispatched: float, now: float) -> None:
        if self._tasks.get(record.name) is not record:
            return  # deleted or purged while the attempt ran
        if outcome.succeeded:
            self._remove(record.name)
            return
        task = record.task()  # dispatch_count already counts this attempt (_start_attempt)
        if outcome.status is not None and outcome.status < 500:
            task.response_count += 1
        attempt = task.last_attempt
        attempt.schedule_time.FromNanoseconds(int(record.schedule_time * 1e9))
        attempt.dispatch_time.FromNanoseconds(int(dispatched * 1e9))
        attempt.response_time.FromNanoseconds(int(now * 1e9))
        attempt.response_status.code = grpc_code(outcome.status)
        attempt.response_status.message = outcome.reason or "OK"
        queue = self._queues[record.queue]
        policy = r.retry_config_of(task.retry_config if task.HasField("retry_config") else queue.retry_config)
        if policy.exhausted(task.dispatch_count, now - (record.first_attempt_time or dispatched)):
            log.info("task %s exhausted its %d attempts; deleted", record.name, task.dispatch_count)
            self._remove(record.name)
            return
        delay = policy.delay(task.dispatch_count)
        if outcome.retry_after is not None:
            delay = min(max(delay, outcome.retry_after), policy.max_backoff)
        record.previous_response = outcome.status
        record.retry_reason = outcome.reason
        record.schedule_time = now + delay
        task.schedule_time.FromNanoseconds(int(record.schedule_time * 1e9))
        record.update(task)
        self.storage.put_task(record)
        heapq.heappush(self._heaps[record.queue], (record.schedule_time, record.name))

