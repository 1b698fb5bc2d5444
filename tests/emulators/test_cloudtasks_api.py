"""The local Cloud Tasks service, driven by the official client over REST: resources and errors."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2

from tests.support.recorder import Recorder
from tests.support.services import start_tasks_emulator, tasks_client

PARENT = "projects/test-project/locations/asia-northeast1"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    proc = start_tasks_emulator(tmp_path_factory.mktemp("tasks"), "--name-reservation", "2")
    yield proc
    proc.stop()


@pytest.fixture
def client(emulator):
    return tasks_client(emulator.url)


@pytest.fixture
def queue(client):
    name = f"{PARENT}/queues/q-{uuid.uuid4().hex[:8]}"
    client.create_queue(parent=PARENT, queue=tasks_v2.Queue(name=name))
    client.pause_queue(name=name)  # these tests look at tasks, not deliveries
    return name


def http_task(url: str = "http://127.0.0.1:9/never", **fields) -> tasks_v2.Task:
    return tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=url, body=b"{}"), **fields)


def test_queue_is_created_with_cloud_tasks_defaults(client):
    name = f"{PARENT}/queues/defaults-{uuid.uuid4().hex[:6]}"
    queue = client.create_queue(parent=PARENT, queue=tasks_v2.Queue(name=name))
    assert queue.state == tasks_v2.Queue.State.RUNNING
    assert queue.rate_limits.max_dispatches_per_second == 500
    assert queue.rate_limits.max_concurrent_dispatches == 1000
    assert queue.rate_limits.max_burst_size >= 500
    assert queue.retry_config.max_attempts == 100
    assert queue.retry_config.max_doublings == 16
    assert queue.retry_config.max_backoff.total_seconds() == 3600
    assert client.get_queue(name=name).name == name


def test_queue_settings_are_kept_as_given(client):
    name = f"{PARENT}/queues/given-{uuid.uuid4().hex[:6]}"
    client.create_queue(parent=PARENT, queue=tasks_v2.Queue(
        name=name,
        rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=5, max_concurrent_dispatches=3),
        retry_config=tasks_v2.RetryConfig(max_attempts=4, min_backoff={"seconds": 2},
                                          max_backoff={"seconds": 30}, max_doublings=1),
    ))
    queue = client.get_queue(name=name)
    assert queue.rate_limits.max_dispatches_per_second == 5
    assert queue.rate_limits.max_concurrent_dispatches == 3
    assert queue.rate_limits.max_burst_size == 5
    assert queue.retry_config.max_attempts == 4
    assert queue.retry_config.min_backoff.total_seconds() == 2
    assert queue.retry_config.max_doublings == 1


def test_creating_an_existing_queue_is_already_exists(client, queue):
    with pytest.raises(gexc.Conflict) as caught:
        client.create_queue(parent=PARENT, queue=tasks_v2.Queue(name=queue))
    assert caught.value.response.json()["error"]["status"] == "ALREADY_EXISTS"


def test_bad_queue_names_and_settings_are_invalid_argument(client):
    with pytest.raises(gexc.BadRequest) as caught:
        client.create_queue(parent=PARENT, queue=tasks_v2.Queue(name=f"{PARENT}/queues/bad_name!"))
    assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    with pytest.raises(gexc.BadRequest):
        client.create_queue(parent=PARENT, queue=tasks_v2.Queue(
            name=f"{PARENT}/queues/toofast", rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=501)))


def test_unknown_queue_is_not_found(client):
    with pytest.raises(gexc.NotFound):
        client.get_queue(name=f"{PARENT}/queues/missing")
    with pytest.raises(gexc.NotFound):
        client.create_task(parent=f"{PARENT}/queues/missing", task=http_task())


def test_list_pause_resume_purge_delete(client, queue):
    assert queue in [q.name for q in client.list_queues(parent=PARENT)]
    assert client.get_queue(name=queue).state == tasks_v2.Queue.State.PAUSED
    client.create_task(parent=queue, task=http_task())
    client.create_task(parent=queue, task=http_task())
    assert len(list(client.list_tasks(parent=queue))) == 2
    purged = client.purge_queue(name=queue)
    assert purged.purge_time.timestamp() > 0
    assert list(client.list_tasks(parent=queue)) == []
    assert client.resume_queue(name=queue).state == tasks_v2.Queue.State.RUNNING
    client.delete_queue(name=queue)
    with pytest.raises(gexc.NotFound):
        client.get_queue(name=queue)


def test_list_tasks_pages(client, queue):
    for _ in range(5):
        client.create_task(parent=queue, task=http_task())
    pager = client.list_tasks(request=tasks_v2.ListTasksRequest(parent=queue, page_size=2))
    pages = list(pager.pages)
    assert [len(p.tasks) for p in pages] == [2, 2, 1]


def test_task_defaults_and_get(client, queue):
    created = client.create_task(parent=queue, task=http_task())
    assert created.name.startswith(queue + "/tasks/")
    assert created.dispatch_deadline.total_seconds() == 600
    assert created.http_request.http_method == tasks_v2.HttpMethod.POST
    assert created.schedule_time.timestamp() > 0
    fetched = client.get_task(request={"name": created.name, "response_view": tasks_v2.Task.View.FULL})
    assert fetched.http_request.body == b"{}"
    assert fetched.dispatch_count == 0


def test_named_task_is_deduplicated_while_pending_and_after_deletion(client, queue):
    name = f"{queue}/tasks/job-1-step-0"
    client.create_task(parent=queue, task=http_task(name=name))
    with pytest.raises(gexc.Conflict) as caught:
        client.create_task(parent=queue, task=http_task(name=name))
    assert caught.value.response.json()["error"]["status"] == "ALREADY_EXISTS"
    client.delete_task(name=name)
    with pytest.raises(gexc.Conflict):
        client.create_task(parent=queue, task=http_task(name=name))


def test_task_name_is_free_again_after_the_reservation_window(client, queue):
    name = f"{queue}/tasks/reuse-me"
    client.create_task(parent=queue, task=http_task(name=name))
    client.delete_task(name=name)
    time.sleep(2.2)  # the emulator runs with --name-reservation 2
    assert client.create_task(parent=queue, task=http_task(name=name)).name == name


@pytest.mark.parametrize("task, why", [
    (tasks_v2.Task(http_request=tasks_v2.HttpRequest(url="not-a-url")), "url"),
    (tasks_v2.Task(http_request=tasks_v2.HttpRequest(url="http://x/", http_method=tasks_v2.HttpMethod.GET,
                                                     body=b"x")), "body on GET"),
    (tasks_v2.Task(http_request=tasks_v2.HttpRequest(url="http://x/"), dispatch_deadline={"seconds": 5}),
     "deadline below 15 s"),
    (tasks_v2.Task(http_request=tasks_v2.HttpRequest(url="http://x/"), dispatch_deadline={"seconds": 3600}),
     "deadline above 30 min"),
    (tasks_v2.Task(name="projects/p/locations/l/queues/other/tasks/x",
                   http_request=tasks_v2.HttpRequest(url="http://x/")), "name outside the queue"),
    (tasks_v2.Task(), "no target"),
])
def test_invalid_tasks_are_refused(client, queue, task, why):
    with pytest.raises(gexc.BadRequest) as caught:
        client.create_task(parent=queue, task=task)
    assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT", why


def test_unknown_routes_and_bad_json_answer_in_googles_error_shape(emulator):
    response = requests.get(emulator.url + "/v2/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    response = requests.post(f"{emulator.url}/v2/{PARENT}/queues", data="{not json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": 400, "status": "INVALID_ARGUMENT", "message": response.json()["error"]["message"]}
    response = requests.post(f"{emulator.url}/v2/{PARENT}/queues", json={"name": "x", "bogusField": 1})
    assert response.status_code == 400


def test_run_task_dispatches_at_once_even_when_paused(client, queue):
    target = Recorder()
    try:
        task = client.create_task(parent=queue, task=http_task(
            url=target.url + "/run", schedule_time={"seconds": int(time.time()) + 3600}))
        client.run_task(name=task.name)
        [received] = target.wait_for(1)
        assert received.path == "/run"
    finally:
        target.stop()


def test_a_disabled_queue_refuses_tasks_and_resuming_with_failed_precondition(emulator, client):
    name = f"{PARENT}/queues/disabled-{uuid.uuid4().hex[:6]}"
    client.create_queue(parent=PARENT, queue=tasks_v2.Queue(name=name))
    requests.post(f"{emulator.url}/_emulator/{name}:disable").raise_for_status()
    assert client.get_queue(name=name).state == tasks_v2.Queue.State.DISABLED
    for call in (lambda: client.create_task(parent=name, task=http_task()), lambda: client.resume_queue(name=name)):
        with pytest.raises(gexc.BadRequest) as caught:
            call()
        assert caught.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"


def test_a_patch_changes_only_the_fields_its_mask_names(client):
    name = f"{PARENT}/queues/patch-{uuid.uuid4().hex[:6]}"
    client.create_queue(parent=PARENT, queue=tasks_v2.Queue(
        name=name, rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=5, max_concurrent_dispatches=3),
        retry_config=tasks_v2.RetryConfig(max_attempts=7, min_backoff={"seconds": 2}, max_backoff={"seconds": 40},
                                          max_doublings=3)))
    # a mask naming sub-fields changes those and keeps their siblings
    patched = client.update_queue(
        queue=tasks_v2.Queue(name=name, rate_limits=tasks_v2.RateLimits(max_concurrent_dispatches=9),
                             retry_config=tasks_v2.RetryConfig(max_attempts=4)),
        update_mask={"paths": ["rate_limits.max_concurrent_dispatches", "retry_config.max_attempts"]})
    for queue in (patched, client.get_queue(name=name)):
        assert queue.rate_limits.max_concurrent_dispatches == 9 and queue.rate_limits.max_dispatches_per_second == 5
        assert queue.retry_config.max_attempts == 4 and queue.retry_config.max_doublings == 3
        assert queue.retry_config.min_backoff.total_seconds() == 2
        assert queue.retry_config.max_backoff.total_seconds() == 40
    # a mask naming a whole message replaces it (what it leaves out takes the API's default)
    replaced = client.update_queue(queue=tasks_v2.Queue(name=name, rate_limits=tasks_v2.RateLimits(
        max_concurrent_dispatches=2)), update_mask={"paths": ["rate_limits"]})
    assert replaced.rate_limits.max_concurrent_dispatches == 2 and replaced.rate_limits.max_dispatches_per_second == 500
    assert replaced.retry_config.max_attempts == 4 and replaced.retry_config.max_doublings == 3
    with pytest.raises(gexc.BadRequest):
        client.update_queue(queue=tasks_v2.Queue(name=name), update_mask={"paths": ["rate_limits.no_such_field"]})
    with pytest.raises(gexc.BadRequest):
        client.update_queue(queue=tasks_v2.Queue(name=name), update_mask={"paths": ["state"]})


def test_tasks_come_in_the_basic_view_unless_the_full_one_is_asked_for(client, queue):
    sent = tasks_v2.Task(http_request=tasks_v2.HttpRequest(
        url="http://127.0.0.1:9/never", body=b'{"secret": 1}', headers={"X-Api-Key": "k"},
        oidc_token=tasks_v2.OidcToken(service_account_email="sa@p.iam.gserviceaccount.com")))
    created = client.create_task(parent=queue, task=sent)
    full = tasks_v2.Task.View.FULL
    basic_ones = [created, client.get_task(name=created.name), next(iter(client.list_tasks(parent=queue)))]
    for basic in basic_ones:
        assert basic.view == tasks_v2.Task.View.BASIC
        assert basic.http_request.url == "http://127.0.0.1:9/never" and basic.http_request.body == b""
        assert dict(basic.http_request.headers) == {}
        assert basic.http_request.oidc_token.service_account_email == "sa@p.iam.gserviceaccount.com"
    full_ones = [client.get_task(request={"name": created.name, "response_view": full}),
                 next(iter(client.list_tasks(request={"parent": queue, "response_view": full}))),
                 client.create_task(request={"parent": queue, "task": tasks_v2.Task(
                     http_request=sent.http_request), "response_view": full})]
    for whole in full_ones:
        assert whole.view == full
        assert whole.http_request.body == b'{"secret": 1}' and whole.http_request.headers["X-Api-Key"] == "k"
