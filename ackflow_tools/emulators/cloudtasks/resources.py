"""Queue and Task resources of the Cloud Tasks v2 API: parsing, validation, defaults, rendering.

The official protobuf types parse the JSON the client sends, so a field the real API would not
know is refused the same way (INVALID_ARGUMENT), and the JSON rendered back is the API's own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from google.cloud import tasks_v2
from google.protobuf import json_format

from ackflow.retry import RetryConfig

from ..web import GoogleError

QueuePb = tasks_v2.Queue.pb()
TaskPb = tasks_v2.Task.pb()

LOCATION_RE = re.compile(r"^projects/[^/]+/locations/[^/]+$")
QUEUE_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,100}$")
TASK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,500}$")

# Defaults Cloud Tasks picks for a queue created without settings.
DEFAULT_RATE = 500.0
DEFAULT_CONCURRENCY = 1000
MAX_RATE = 500.0
MAX_CONCURRENCY = 5000

DEFAULT_DISPATCH_DEADLINE = 600.0  # 10 minutes for HTTP targets
MIN_DISPATCH_DEADLINE = 15.0
MAX_DISPATCH_DEADLINE = 1800.0
MAX_SCHEDULE_AHEAD = 30 * 24 * 3600.0
MAX_TASK_BYTES = 1024 * 1024

STATE_RUNNING, STATE_PAUSED, STATE_DISABLED = 1, 2, 3
METHODS = {1: "POST", 2: "GET", 3: "HEAD", 4: "PUT", 5: "DELETE", 6: "PATCH", 7: "OPTIONS"}
METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}


def parse_message(data: dict, pb_class, what: str):
    try:
        return json_format.ParseDict(data, pb_class())
    except json_format.ParseError as exc:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid {what}: {exc}") from exc


def render(message, ints_for_enums: bool) -> dict:
    return json_format.MessageToDict(message, use_integers_for_enums=ints_for_enums)


def short_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def check_location(parent: str) -> None:
    if not LOCATION_RE.match(parent):
        raise GoogleError("INVALID_ARGUMENT", f"Invalid resource field value in the request: {parent}")


def _duration(pb_duration) -> float:
    return pb_duration.seconds + pb_duration.nanos / 1e9


def _set_duration(pb_duration, seconds: float) -> None:
    pb_duration.FromNanoseconds(int(round(seconds * 1e9)))


def retry_config_of(pb_retry) -> RetryConfig:
    """Our arithmetic view of a (defaulted) RetryConfig message."""
    return RetryConfig(
        max_attempts=pb_retry.max_attempts,
        min_backoff=_duration(pb_retry.min_backoff),
        max_backoff=_duration(pb_retry.max_backoff),
        max_doublings=pb_retry.max_doublings,
        max_retry_duration=_duration(pb_retry.max_retry_duration),
    )


def normalize_retry_config(pb_retry, raw: dict | None) -> None:
    """Fill unset fields with Cloud Tasks' defaults and check the ranges, in place.

    ``raw`` is the JSON the client sent for this RetryConfig: proto3 scalars carry no presence,
    so an explicit ``maxDoublings: 0`` is only visible there.
    """
    raw = raw or {}
    defaults = RetryConfig()
    if pb_retry.max_attempts == 0:
        pb_retry.max_attempts = defaults.max_attempts
    if not pb_retry.HasField("min_backoff"):
        _set_duration(pb_retry.min_backoff, defaults.min_backoff)
    if not pb_retry.HasField("max_backoff"):
        _set_duration(pb_retry.max_backoff, max(defaults.max_backoff, _duration(pb_retry.min_backoff)))
    if "maxDoublings" not in raw and "max_doublings" not in raw:
        pb_retry.max_doublings = defaults.max_doublings
    try:
        retry_config_of(pb_retry)
    except ValueError as exc:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid retry_config: {exc}") from exc


def normalize_queue(queue, raw: dict, creating: bool) -> None:
    """Defaults and range checks for a Queue message, in place."""
    if queue.HasField("app_engine_routing_override") or queue.HasField("http_target"):
        raise GoogleError("UNIMPLEMENTED", "The local Cloud Tasks service supports plain HTTP tasks only.")
    limits = queue.rate_limits
    if limits.max_dispatches_per_second == 0:
        limits.max_dispatches_per_second = DEFAULT_RATE
    if not 0 < limits.max_dispatches_per_second <= MAX_RATE:
        raise GoogleError("INVALID_ARGUMENT", "max_dispatches_per_second must be in (0, 500].")
    if limits.max_concurrent_dispatches == 0:
        limits.max_concurrent_dispatches = DEFAULT_CONCURRENCY
    if not 0 < limits.max_concurrent_dispatches <= MAX_CONCURRENCY:
        raise GoogleError("INVALID_ARGUMENT", "max_concurrent_dispatches must be in [1, 5000].")
    # Output only: at least the rate, as the API documents.
    limits.max_burst_size = max(1, math.ceil(limits.max_dispatches_per_second))
    normalize_retry_config(queue.retry_config, raw.get("retryConfig") or raw.get("retry_config"))
    if creating:
        queue.state = STATE_RUNNING
        queue.ClearField("purge_time")


UPDATABLE = ("rate_limits", "retry_config", "stackdriver_logging_config")


def snake_path(path: str) -> str:
    """``rateLimits.maxConcurrentDispatches`` (a FieldMask in JSON) → ``rate_limits.max_concurrent_dispatches``."""
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), path.strip())


def updated_queue(current, raw: dict, update_mask: list[str]):
    """UpdateQueue: ``current`` with the fields the mask names taken from ``raw``, as a new message.

    Field-mask semantics: a path to a message (``rate_limits``) replaces that whole message (what
    the body leaves out takes the API's default); a path to a field inside it
    (``rate_limits.max_concurrent_dispatches``) changes that field only. No mask: every field that
    can be updated is replaced.
    """
    from google.protobuf import field_mask_pb2

    patch = parse_message(raw, QueuePb, "queue")
    paths = [snake_path(p) for p in update_mask] or list(UPDATABLE)
    mask = field_mask_pb2.FieldMask(paths=paths)
    for path in paths:
        if path.split(".")[0] not in UPDATABLE:
            raise GoogleError("INVALID_ARGUMENT", f"Field {path} cannot be updated.")
    if not mask.IsValidForDescriptor(QueuePb.DESCRIPTOR):
        raise GoogleError("INVALID_ARGUMENT", f"Invalid update_mask: {', '.join(paths)}.")
    merged = QueuePb()
    merged.CopyFrom(current)
    mask.MergeMessage(patch, merged, replace_message_field=True, replace_repeated_field=True)
    # max_doublings has no presence in proto3: the body decides it only where the mask reaches it
    touched = {"retry_config", "retry_config.max_doublings"} & set(paths)
    raw_retry = (raw.get("retryConfig") or raw.get("retry_config")) if touched else {"maxDoublings": "kept"}
    normalize_queue(merged, {"retryConfig": raw_retry}, creating=False)
    return merged


VIEW_BASIC, VIEW_FULL = 1, 2
VIEWS = {"VIEW_UNSPECIFIED": VIEW_BASIC, "BASIC": VIEW_BASIC, "FULL": VIEW_FULL, "0": VIEW_BASIC, "1": VIEW_BASIC,
         "2": VIEW_FULL}


def response_view(value) -> int:
    """A request's ``responseView`` (name or number; absent: BASIC, as the API defaults)."""
    if value is None or value == "":
        return VIEW_BASIC
    try:
        return VIEWS[str(value).upper()]
    except KeyError:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid value for responseView: {value!r}.") from None


def in_view(task, view: int):
    """The task as the API returns it in ``view``: BASIC leaves out what can be large or sensitive,
    the HTTP request's body and headers (an App Engine request's body); FULL returns everything."""
    shown = TaskPb()
    shown.CopyFrom(task)
    shown.view = view
    if view != VIEW_FULL:
        if shown.HasField("http_request"):
            shown.http_request.ClearField("body")
            shown.http_request.ClearField("headers")
        if shown.HasField("app_engine_http_request"):
            shown.app_engine_http_request.ClearField("body")
    return shown


@dataclass
class HttpTarget:
    """What the dispatcher needs of a task's HttpRequest."""

    url: str
    method: str
    headers: dict[str, str]
    body: bytes
    oidc_email: str | None
    oidc_audience: str | None


def http_target_of(task) -> HttpTarget:
    req = task.http_request
    oidc = req.oidc_token if req.HasField("oidc_token") else None
    return HttpTarget(
        url=req.url,
        method=METHODS.get(req.http_method, "POST"),
        headers=dict(req.headers),
        body=bytes(req.body),
        oidc_email=oidc.service_account_email if oidc else None,
        oidc_audience=(oidc.audience or req.url) if oidc else None,
    )


def validate_new_task(task, raw: dict, queue_name: str, now: float, min_deadline: float) -> None:
    """Checks the API makes on CreateTask; fills defaults in place."""
    if task.name:
        parent, _, task_id = task.name.rpartition("/tasks/")
        if parent != queue_name or not TASK_ID_RE.match(task_id):
            raise GoogleError(
                "INVALID_ARGUMENT",
                f"Task name must be of the form {queue_name}/tasks/TASK_ID "
                "(letters, digits, hyphens, underscores; at most 500 characters).",
            )
    if task.HasField("app_engine_http_request"):
        raise GoogleError("UNIMPLEMENTED", "App Engine tasks are not supported by the local service.")
    if not task.HasField("http_request"):
        raise GoogleError("INVALID_ARGUMENT", "Task.http_request is required.")
    req = task.http_request
    if not re.match(r"^https?://[^/\s]+", req.url or ""):
        raise GoogleError("INVALID_ARGUMENT", f"HttpRequest.url must be an absolute http(s) URL: {req.url!r}")
    if req.http_method == 0:
        req.http_method = 1
    method = METHODS.get(req.http_method)
    if method is None:
        raise GoogleError("INVALID_ARGUMENT", "Unknown HttpRequest.http_method.")
    if req.body and method not in METHODS_WITH_BODY:
        raise GoogleError("INVALID_ARGUMENT", f"A body is not allowed for HTTP method {method}.")
    if req.HasField("oidc_token") and req.HasField("oauth_token"):
        raise GoogleError("INVALID_ARGUMENT", "Only one of oidc_token and oauth_token may be set.")
    if req.HasField("oauth_token"):
        raise GoogleError("UNIMPLEMENTED", "OAuth tokens are not supported by the local service; use oidc_token.")
    if req.HasField("oidc_token") and not req.oidc_token.service_account_email:
        raise GoogleError("INVALID_ARGUMENT", "OidcToken.service_account_email is required.")
    if task.HasField("dispatch_deadline"):
        deadline = _duration(task.dispatch_deadline)
        if not min_deadline <= deadline <= MAX_DISPATCH_DEADLINE:
            raise GoogleError(
                "INVALID_ARGUMENT",
                f"dispatch_deadline must be between {min_deadline:g}s and {MAX_DISPATCH_DEADLINE:g}s.",
            )
    else:
        _set_duration(task.dispatch_deadline, DEFAULT_DISPATCH_DEADLINE)
    if task.HasField("schedule_time"):
        when = task.schedule_time.ToNanoseconds() / 1e9
        if when > now + MAX_SCHEDULE_AHEAD:
            raise GoogleError("INVALID_ARGUMENT", "schedule_time is more than 30 days in the future.")
        if when < now:
            task.schedule_time.FromNanoseconds(int(now * 1e9))
    else:
        task.schedule_time.FromNanoseconds(int(now * 1e9))
    if task.HasField("retry_config"):
        normalize_retry_config(task.retry_config, raw.get("retryConfig") or raw.get("retry_config"))
    if task.ByteSize() > MAX_TASK_BYTES:
        raise GoogleError("INVALID_ARGUMENT", "Task size exceeds the 1 MB limit.")
    task.create_time.FromNanoseconds(int(now * 1e9))
    for output_only in ("dispatch_count", "response_count", "first_attempt", "last_attempt", "view"):
        task.ClearField(output_only)


@dataclass
class TaskRecord:
    """A pending task: its message (as the client sees it) and the dispatcher's bookkeeping."""

    name: str
    queue: str
    message: bytes  # serialized Task proto
    schedule_time: float
    first_attempt_time: float | None = None
    previous_response: int | None = None
    retry_reason: str | None = None
    running: bool = False
    extra: dict = field(default_factory=dict)

    def task(self):
        """The Task message (a private copy: callers may change it and then ``update``)."""
        pb = TaskPb()
        pb.ParseFromString(self.message)
        return pb

    def update(self, pb) -> None:
        self.message = pb.SerializeToString()

