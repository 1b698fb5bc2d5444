"""The REST surface of the local Cloud Tasks service (the paths of the v2 REST transport).

Tasks come back in the view the request asks for (``responseView``; BASIC by default, without the
HTTP request's body and headers), as Cloud Tasks returns them.

Besides ``/v2/...`` it serves the public keys of its token signer where Google serves Google's
(``/oauth2/v1/certs``, ``/oauth2/v3/certs``) and the IAM Credentials ``generateIdToken`` call, so
a local scheduler can mint the same OIDC tokens Cloud Scheduler would send.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from ackflow.auth.signing import CERTS_MAX_AGE

from ..web import GoogleError, Router, ints_for_enums, json_response, read_json
from . import resources as r
from .delivery import GOOGLE_ISSUER
from .service import CloudTasksService

LOC = r"projects/[^/:]+/locations/[^/:]+"
QUEUE = LOC + r"/queues/[^/:]+"
TASK = QUEUE + r"/tasks/[^/:]+"

DEFAULT_PAGE_SIZE = 1000


def _page(items: list, request: Request, key: str, ints: bool) -> Response:
    try:
        size = int(request.args.get("pageSize") or DEFAULT_PAGE_SIZE)
        start = int(request.args.get("pageToken") or 0)
    except ValueError as exc:
        raise GoogleError("INVALID_ARGUMENT", "Invalid page size or token.") from exc
    if size <= 0:
        size = DEFAULT_PAGE_SIZE
    chunk = items[start:start + size]
    body = {key: [r.render(i, ints) for i in chunk]} if chunk else {}
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return json_response(body)


def build_app(service: CloudTasksService) -> Router:
    app = Router()

    def ok(message, request) -> Response:
        return json_response(r.render(message, ints_for_enums(request)))

    def create_queue(request, parent):
        return ok(service.create_queue(parent, read_json(request)), request)

    def list_queues(request, parent):
        return _page(service.list_queues(parent), request, "queues", ints_for_enums(request))

    def get_queue(request, name):
        return ok(service.get_queue(name), request)

    def patch_queue(request, name):
        body = read_json(request)
        body.setdefault("name", name)
        if body["name"] != name:
            raise GoogleError("INVALID_ARGUMENT", "Queue name in the body does not match the URL.")
        mask = [p for p in request.args.get("updateMask", "").split(",") if p]
        return ok(service.update_queue(name, body, mask), request)

    def delete_queue(request, name):
        service.delete_queue(name)
        return json_response({})

    def pause(request, name):
        return ok(service.set_queue_state(name, r.STATE_PAUSED), request)

    def resume(request, name):
        return ok(service.set_queue_state(name, r.STATE_RUNNING), request)

    def purge(request, name):
        return ok(service.purge_queue(name), request)

    def create_task(request, parent):
        body = read_json(request)
        view = r.response_view(body.get("responseView", body.get("response_view")))
        return ok(r.in_view(service.create_task(parent, body), view), request)

    def list_tasks(request, parent):
        view = r.response_view(request.args.get("responseView"))
        tasks = [r.in_view(task, view) for task in service.list_tasks(parent)]
        return _page(tasks, request, "tasks", ints_for_enums(request))

    def get_task(request, name):
        return ok(r.in_view(service.get_task(name), r.response_view(request.args.get("responseView"))), request)

    def delete_task(request, name):
        service.delete_task(name)
        return json_response({})

    def run_task(request, name):
        body = read_json(request)
        view = r.response_view(body.get("responseView", body.get("response_view")))
        return ok(r.in_view(service.run_task(name), view), request)

    def certs_x509(request):
        return json_response(service.signer.x509_document(), headers=_cache_headers())

    def certs_jwks(request):
        return json_response(service.signer.jwks_document(), headers=_cache_headers())

    def generate_id_token(request, email):
        body = read_json(request)
        audience = body.get("audience")
        if not audience:
            raise GoogleError("INVALID_ARGUMENT", "audience is required.")
        token = service.signer.id_token(issuer=GOOGLE_ISSUER, audience=audience, email=email)
        return json_response({"token": token})

    def disable(request, name):
        return ok(service.disable_queue(name), request)

    def health(request):
        return json_response({"status": "ok", "service": "cloudtasks"})

    app.add("POST", f"/v2/({LOC})/queues", create_queue)
    app.add("GET", f"/v2/({LOC})/queues", list_queues)
    app.add("GET", f"/v2/({QUEUE})", get_queue)
    app.add("PATCH", f"/v2/({QUEUE})", patch_queue)
    app.add("DELETE", f"/v2/({QUEUE})", delete_queue)
    app.add("POST", f"/v2/({QUEUE}):pause", pause)
    app.add("POST", f"/v2/({QUEUE}):resume", resume)
    app.add("POST", f"/v2/({QUEUE}):purge", purge)
    app.add("POST", f"/v2/({QUEUE})/tasks", create_task)
    app.add("GET", f"/v2/({QUEUE})/tasks", list_tasks)
    app.add("GET", f"/v2/({TASK})", get_task)
    app.add("DELETE", f"/v2/({TASK})", delete_task)
    app.add("POST", f"/v2/({TASK}):run", run_task)
    app.add("GET", "/oauth2/v1/certs", certs_x509)
    app.add("GET", "/oauth2/v3/certs", certs_jwks)
    app.add("POST", r"/v1/projects/-/serviceAccounts/([^/:]+):generateIdToken", generate_id_token)
    app.add("POST", f"/_emulator/({QUEUE}):disable", disable)
    app.add("GET", "/", health)
    return app


def _cache_headers() -> dict:
    return {"Cache-Control": f"public, max-age={CERTS_MAX_AGE}, must-revalidate, no-transform"}
