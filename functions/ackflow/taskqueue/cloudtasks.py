"""TaskQueue adapter for Google Cloud Tasks, with the official client on its REST transport.

The endpoint is a setting: Google's in the cloud, the local Cloud Tasks service in dev and tests.
"""

from __future__ import annotations

import json
import threading

from ..errors import NotSupported, QueueUnavailable
from .base import WAITING_CAP, QueueState, Task

MIN_DEADLINE, MAX_DEADLINE = 15.0, 1800.0


class CloudTasksQueue:
    deduplicates = True  # a task name is refused while it exists and for about an hour after

    def __init__(self, *, project: str, location: str, worker_url: str, service_account: str | None,
                 endpoint: str | None = None, anonymous: bool = False, timeout: float = 5.0,
                 client=None):
        self.project = project
        self.location = location
        self.worker_url = worker_url
        self.service_account = service_account
        self.endpoint = endpoint
        self.anonymous = anonymous
        self.timeout = timeout
        self._client = client
        self._lock = threading.Lock()

    def _api(self):
        with self._lock:
            if self._client is None:
                from google.cloud import tasks_v2

                from ..adapters.google_clients import client_settings

                credentials, options = client_settings(self.endpoint, self.anonymous)
                self._client = tasks_v2.CloudTasksClient(transport="rest", credentials=credentials,
                                                         client_options=options)
            return self._client

    def warm_up(self) -> None:
        self._api()

    def queue_path(self, queue: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/queues/{queue}"

    def build(self, task: Task):
        from google.cloud import tasks_v2
        from google.protobuf import duration_pb2, timestamp_pb2

        parent = self.queue_path(task.queue)
        request = tasks_v2.HttpRequest(
            url=self.worker_url,
            http_method=tasks_v2.HttpMethod.POST,
            headers={"Content-Type": "application/json", **task.headers},
            body=json.dumps(task.payload).encode(),
        )
        if self.service_account:
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self.service_account,
                                                    audience=self.worker_url)
        deadline = min(max(task.deadline, MIN_DEADLINE), MAX_DEADLINE)
        message = tasks_v2.Task(name=f"{parent}/tasks/{task.name}", http_request=request,
                                dispatch_deadline=duration_pb2.Duration(seconds=int(deadline)))
        if task.delay > 0:
            import time

            when = timestamp_pb2.Timestamp()
            when.FromNanoseconds(int((time.time() + task.delay) * 1e9))
            message.schedule_time = when
        return parent, message

    def enqueue(self, task: Task) -> bool:
        from google.api_core import exceptions, retry

        parent, message = self.build(task)
        policy = retry.Retry(predicate=retry.if_exception_type(exceptions.ServiceUnavailable,
                                                               exceptions.InternalServerError),
                             initial=0.1, maximum=1.0, multiplier=2.0, timeout=self.timeout)
        try:
            self._api().create_task(parent=parent, task=message, retry=policy, timeout=self.timeout)
            return True
        except exceptions.Conflict as exc:
            if _status(exc) in ("ALREADY_EXISTS", None):
                return False
            raise QueueUnavailable(f"Cloud Tasks refused {task.name}: {exc.message}") from exc
        except exceptions.NotFound as exc:
            raise QueueUnavailable(f"queue {task.queue} does not exist in {self.project}/{self.location}") from exc
        except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
            raise QueueUnavailable(f"Cloud Tasks did not take {task.name}: {exc}") from exc
        except Exception as exc:  # connection refused, DNS: requests errors from the transport
            raise QueueUnavailable(f"Cloud Tasks unreachable: {exc}") from exc


    # -- what an operator sees and does (the console) ------------------------------------------------
    def _call(self, what: str, queue: str, fn):
        from google.api_core import exceptions

        try:
            return fn(self._api())
        except exceptions.NotFound as exc:
            raise QueueUnavailable(f"queue {queue} does not exist in {self.project}/{self.location}") from exc
        except exceptions.PermissionDenied as exc:
            raise QueueUnavailable(f"not allowed to {what} {queue}: {exc.message} (the operator's IAM roles; "
                                   "docs/deploy.md)") from exc
        except exceptions.GoogleAPICallError as exc:
            raise QueueUnavailable(f"Cloud Tasks did not {what} {queue}: {exc.message}") from exc
        except Exception as exc:  # connection refused, DNS: requests errors from the transport
            raise QueueUnavailable(f"Cloud Tasks unreachable: {exc}") from exc

    def state(self, queue: str) -> QueueState:
        name = self.queue_path(queue)
        found = self._call("read", queue, lambda api: api.get_queue(name=name, timeout=self.timeout))


        def count(api) -> int:
            waiting = 0
            for _ in api.list_tasks(request={"parent": name, "page_size": WAITING_CAP}, timeout=self.timeout):
                waiting += 1
                if waiting > WAITING_CAP:
                    break
            return waiting

        waiting = self._call("list the tasks of", queue, count)
        return _queue_state(queue, found, min(waiting, WAITING_CAP), waiting > WAITING_CAP)

    def pause(self, queue: str) -> QueueState:
        self._call("pause", queue, lambda api: api.pause_queue(name=self.queue_path(queue), timeout=self.timeout))
        return self.state(queue)

    def resume(self, queue: str) -> QueueState:
        self._call("resume", queue, lambda api: api.resume_queue(name=self.queue_path(queue), timeout=self.timeout))
        return self.state(queue)

    def redrive(self, queue: str, limit: int = 100) -> int:
        raise NotSupported("Cloud Tasks has no dead-letter queue: retry the failed jobs instead")


def _queue_state(queue: str, found, waiting: int, capped: bool) -> QueueState:
    state = type(found).State(found.state).name if found.state else "RUNNING"
    limits, retry = found.rate_limits, found.retry_config
    return QueueState(
        name=queue, state=state, waiting=waiting, waiting_capped=capped,
        max_dispatches_per_second=limits.max_dispatches_per_second,
        max_concurrent_dispatches=limits.max_concurrent_dispatches,
        max_attempts=retry.max_attempts, min_backoff=retry.min_backoff.total_seconds(),
        max_backoff=retry.max_backoff.total_seconds(), max_doublings=retry.max_doublings,
        can_pause=True, can_redrive=False)


def _status(exc) -> str | None:
    response = getattr(exc, "response", None)
    try:
        return response.json()["error"]["status"]
    except Exception:
        return None
