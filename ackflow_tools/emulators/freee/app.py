"""The freee stand-in's HTTP face: freee's paths, JSON and error shapes (werkzeug)."""

from __future__ import annotations

import html
import json
import logging
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from ..web import GoogleError, Router
from .errors import FreeeError, OAuthError
from .limits import Denial
from .service import KINDS, Fault, FreeeService

log = logging.getLogger(__name__)
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _json(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json",
                    headers=headers)


def _body(request: Request) -> dict:
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise FreeeError(400, "bad_request", "リクエストの形式が不正です。") from exc
    if not isinstance(data, dict):
        raise FreeeError(400, "bad_request", "リクエストの形式が不正です。")
    return data


def _page(request: Request, default: int, most: int) -> tuple[int, int]:
    """``limit`` (1 to ``most``: 100 for 請求書 API's lists, 3000 for partners) and ``offset`` (0 or
    more), as freee's reference bounds them: outside them, freee answers 400 rather than clamping."""
    try:
        limit = int(request.args.get("limit", default))
        offset = int(request.args.get("offset", 0))
    except ValueError as exc:
        raise FreeeError(400, "bad_request", "limit と offset は整数で指定してください") from exc
    if not 1 <= limit <= most or offset < 0:
        raise FreeeError(400, "bad_request", f"limit は 1 以上 {most} 以下、offset は 0 以上で指定してください")
    return limit, offset


def _control(service: FreeeService, body: dict) -> None:
    """Settings a test or a developer changes while the stand-in runs (``POST /_emulator/control``)."""
    if "auto_numbering" in body:
        service.state.company["auto_numbering"] = bool(body["auto_numbering"])
    if "rate_limit" in body:
        service.rate_limit = int(body["rate_limit"])
    if "rate_window" in body:
        service.rate_window = float(body["rate_window"])
    for key, name, kind in (("access_limit", "calls", int), ("access_window", "window", float),
                            ("access_lockout", "lockout", float)):
        if key in body:
            setattr(service.access, name, kind(body[key]))
    if "lock" in body:  # freee limits access from now on, for that many seconds (0 lifts it)
        service.access.lock(service.clock(), float(body["lock"]))
    if "denials" in body:
        service.denials = [Denial(**item) for item in body["denials"]]
    if body.get("widen_scope"):
        service.widen_scope()
    if body.get("expire_access_tokens"):
        service.expire_access_tokens()
    if body.get("revoke"):
        service.revoke_all()
    if "template_registration" in body:  # the 登録番号 the templates print ("" for none)
        service.state.company["invoice_registration_number"] = str(body["template_registration"])
    if "number_filter" in body:  # false: a listing ignores invoice_number / quotation_number
        service.number_filter = bool(body["number_filter"])


def build_app(service: FreeeService):
    router = Router()

    # -- OAuth 2.0 -------------------------------------------------------------------------------
    def authorize(request: Request):
        """The consent screen, approved at once (the person is signed in and clicks 許可する):
        out-of-band, the code is shown on the page; otherwise the browser goes to the redirect URI."""
        args = request.args
        if args.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "response_type must be code")
        redirect_uri = args.get("redirect_uri", "")
        code = service.authorize(args.get("client_id", ""), redirect_uri)
        if redirect_uri == OOB:
            page = f"<html><body><p>認可コード</p><code id=\"code\">{html.escape(code)}</code></body></html>"
            return Response(page, mimetype="text/html")
        query = {"code": code, **({"state": args["state"]} if "state" in args else {})}
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(query)}"})

    def token(request: Request):
        """Injected faults apply here too: ``after`` answers the fault once the tokens are renewed
        (freee renewed them, the answer is lost)."""
        service.fault(request.method, request.path, after=False)
        answer = service.token(request.form.to_dict())
        service.fault(request.method, request.path, after=True)
        return _json(answer)

    def revoke(request: Request):
        service.revoke_all()
        return _json({})

    # -- API -------------------------------------------------------------------------------------
    def api(handler, *, company_scoped: bool = True):
        def checked(request: Request, *groups):
            company = request.args.get("company_id")
            if company is None and request.method in ("POST", "PUT"):
                company = _body(request).get("company_id")
            service.check_call(request.method, request.path, request.headers.get("Authorization", ""), company,
                               company=company_scoped)
            response = handler(request, *groups)
            service.fault(request.method, request.path, after=True)
            return response

        return checked

    def me(request: Request):
        user = service.me()
        if "companies" not in request.args:  # only asked for, as freee answers
            user.pop("companies")
        return _json({"user": user})

    def partners(request: Request):
        limit, offset = _page(request, 50, 3000)
        return _json({"partners": service.partners(request.args.get("keyword", ""))[offset:offset + limit]})

    def create_partner(request: Request):
        return _json({"partner": service.create_partner(_body(request))}, 201)

    def templates(request: Request, kinds: str):
        return _json({"templates": service.templates(kinds)})

    def reported(request: Request, kinds: str, document: dict, *, whole: bool = True) -> dict:
        """A document as freee answers it: with ``report_url``, its page in the web app (required in
        the reference's responses; the stand-in's page is under /web); shown or created (``whole``),
        with its ``template`` too, which the listing leaves out."""
        shown = {**document, "report_url": f"{request.host_url}web/reports/{kinds}/{document['id']}"}
        if whole:
            shown["template"] = service.template_of(kinds, document)
        return shown

    def listing(request: Request, kinds: str):
        _, number_field, _ = KINDS[kinds]
        limit, offset = _page(request, 20, 100)
        number = request.args.get(number_field) if service.number_filter else None
        found = service.find(kinds, number, limit, offset)
        return _json({kinds: [reported(request, kinds, {k: v for k, v in d.items() if k != "lines"}, whole=False)
                              for d in found]})

    def get(request: Request, kinds: str, document_id: str):
        return _json({KINDS[kinds][0]: reported(request, kinds, service.get(kinds, int(document_id)))})

    def create(request: Request, kinds: str):
        return _json({KINDS[kinds][0]: reported(request, kinds, service.create(kinds, _body(request)))}, 201)

    # -- test and dev controls -------------------------------------------------------------------
    def approve(request: Request):
        body = _body(request)
        return _json({"code": service.authorize(body.get("client_id", ""), body.get("redirect_uri", OOB))})

    def faults(request: Request):
        items = json.loads(request.get_data() or b"[]")
        with service.lock:
            service.faults = [Fault(**item) for item in items]
        return _json({"faults": len(service.faults)})

    def control(request: Request):
        body = _body(request)
        try:
            with service.lock:
                _control(service, body)
                service.save()
        except (TypeError, ValueError) as exc:  # a control the stand-in cannot take: say which
            raise FreeeError(400, "bad_request", f"control: {exc}") from exc
        return _json({"ok": True})

    def state(request: Request):
        with service.lock:
            data = service.state
            return _json({"refresh_uses": data.refresh_uses, "partners": data.partners,
                          "quotations": data.documents["quotations"], "invoices": data.documents["invoices"],
                          "company": data.company})

    kinds = r"(quotations|invoices)"
    router.add("GET", "/public_api/authorize", authorize)
    router.add("POST", "/public_api/token", token)
    router.add("POST", "/public_api/revoke", revoke)
    router.add("GET", "/api/1/users/me", api(me, company_scoped=False))
    router.add("GET", "/api/1/partners", api(partners))
    router.add("POST", "/api/1/partners", api(create_partner))
    router.add("GET", rf"/iv/{kinds}/templates", api(templates))
    router.add("GET", rf"/iv/{kinds}", api(listing))
    router.add("POST", rf"/iv/{kinds}", api(create))
    router.add("GET", rf"/iv/{kinds}/(\d+)", api(get))
    router.add("POST", "/_emulator/approve", approve)
    router.add("PUT", "/_emulator/faults", faults)
    router.add("POST", "/_emulator/control", control)
    router.add("GET", "/_emulator/state", state)
    router.add("GET", "/", lambda request: _json({"status": "ok", "service": "freee"}))

    def app(environ, start_response):
        request = Request(environ)
        try:
            response = router.dispatch(request)
        except FreeeError as exc:
            response = _json(exc.body(), exc.status, exc.headers)
        except GoogleError as exc:  # the router's: no such path or method
            response = _json({"status_code": exc.code, "errors": [{"type": "not_found", "messages": [exc.message]}]},
                             exc.code)
        except OAuthError as exc:
            response = _json({"error": exc.error, "error_description": exc.description}, exc.status)
        except Exception:  # answer as a server would, never hang up
            log.exception("unhandled error for %s %s", request.method, request.path)
            response = _json({"status_code": 500, "errors": [{"type": "internal_server_error",
                                                              "messages": ["システムエラーが発生しました"]}]}, 500)
        return response(environ, start_response)

    return app
