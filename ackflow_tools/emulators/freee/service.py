"""The freee stand-in's state and rules: clients, grants and tokens, partners, documents, limits."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from workers.office.issuer import SAMPLE

from .errors import FreeeError, OAuthError
from .limits import AccessLimit, Denial, reauthorize

CODE_TTL = 600.0  # an authorization code: 10 minutes
ACCESS_TTL = 6 * 3600.0  # an access token: 6 hours
REFRESH_TTL = 90 * 86400.0  # a refresh token: 90 days
FRACTIONS = {"omit": ROUND_FLOOR, "round": ROUND_HALF_UP, "round_up": ROUND_CEILING}
TITLES = ("御中", "様", "(空白)", "（空白）")
UNIT_PRICE = re.compile(r"^-?[0-9]{0,13}(\.[0-9]{1,3})?$")
DEFAULT_TEMPLATES = {"quotations": 11, "invoices": 12}  # the company's default (既定) layout of each kind
TOO_MANY = "リクエスト数が上限を超えました。しばらくしてから再度お試しください。"  # the stand-in's words
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
KINDS = {"quotations": ("quotation", "quotation_number", "quotation_date"),
         "invoices": ("invoice", "invoice_number", "billing_date")}
# The string bounds of the request fields (minLength, maxLength) and its optional dates, as freee
# 請求書 API's reference gives them (QuotationRequest, InvoiceRequest and their lines; iv/open-api-3 in
# github.com/freee/freee-api-schema): freee answers 400 to a string outside them, "" included.
_COMMON = {"subject": (1, 255), "memo": (1, 2000), "partner_display_name": (0, 255), "company_name": (0, 255),
           "company_contact_name": (0, 255), "company_description": (0, 255)}
LENGTHS = {"quotations": {**_COMMON, "quotation_number": (0, 255), "delivery_deadline": (1, 255),
                          "delivery_location": (1, 255), "quotation_note": (0, 4000)},
           "invoices": {**_COMMON, "invoice_number": (0, 255), "invoice_note": (0, 4000),
                        "bank_account_to_transfer": (0, 255)}}
LINE_LENGTHS = {"description": (1, 255), "unit": (1, 255)}
DATES = {"quotations": ("expiration_date",), "invoices": ("issue_date", "payment_date")}


def _lengths(body: dict, bounds: dict) -> list[str]:
    problems = []
    for name, (least, most) in bounds.items():
        if name not in body:
            continue
        value = body[name]
        if not isinstance(value, str) or not least <= len(value) <= most:
            problems.append(f"{name} は{least}文字以上{most}文字以内の文字列で入力してください")
    return problems


@dataclass
class Fault:
    status: int
    method: str = ""  # empty: any
    path: str = ""  # a regular expression searched in the path; empty: any
    times: int = 1
    retry_after: int | None = 1  # a 429's Retry-After (freee names none; None: left out)
    after: bool = False  # answer the fault after doing the work (a reply lost on the way back)
    headers: dict = field(default_factory=dict)  # more headers of the answer (freee's X-RateLimit-*)


@dataclass
class State:
    # the company, and the registration number (登録番号) its templates print: ``ackflow dev``'s sample office's
    company: dict = field(default_factory=lambda: {"id": 1001, "name": SAMPLE.name, "auto_numbering": False,
                                                   "invoice_registration_number": SAMPLE.registration})
    clients: dict = field(default_factory=lambda: {"local-client": "local-secret"})
    codes: dict = field(default_factory=dict)  # code -> {client_id, redirect_uri, expires_at, used}
    access: dict = field(default_factory=dict)  # token -> {expires_at, grant, revoked}
    refresh: dict = field(default_factory=dict)  # token -> {expires_at, grant, used_at}
    grants: dict = field(default_factory=dict)  # grant -> {revoked}
    refresh_uses: list = field(default_factory=list)  # every refresh token presented, in order
    partners: list = field(default_factory=list)
    documents: dict = field(default_factory=lambda: {"quotations": [], "invoices": []})
    next_id: int = 100


class FreeeService:
    def __init__(self, path: str | Path | None = None, *, clock: Callable[[], float] = time.time,
                 rate_limit: int = 600, rate_window: float = 60.0, access_limit: int = 0,
                 access_window: float = 60.0, access_lockout: float = 600.0):
        self.path = Path(path) if path else None
        self.clock = clock
        self.lock = threading.RLock()
        self.state = State()
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.access = AccessLimit(access_limit, access_window, access_lockout)
        self.denials: list[Denial] = []  # what the app, or the person who authorized it, may not do
        self.scope_changed_at = 0.0  # grants made before it must be authorized again
        self.faults: list[Fault] = []
        self.number_filter = True  # listings filtered by our number (off: as if freee ignored the filter)
        self._calls: list[float] = []  # API calls in the current window
        if self.path and self.path.exists():
            self.state = State(**json.loads(self.path.read_text()))
            # a state kept before templates printed a registration number: the sample office's
            self.state.company.setdefault("invoice_registration_number", SAMPLE.registration)

    def save(self) -> None:
        if self.path:
            self.path.write_text(json.dumps(self.state.__dict__, ensure_ascii=False))

    # -- OAuth 2.0 -------------------------------------------------------------------------------
    def authorize(self, client_id: str, redirect_uri: str) -> str:
        """A person signed in to freee approves the app: an authorization code for it."""
        with self.lock:
            if client_id not in self.state.clients:
                raise OAuthError(400, "invalid_client", "クライアントが見つかりません")
            code = secrets.token_hex(16)
            self.state.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri,
                                      "expires_at": self.clock() + CODE_TTL, "used": False}
            self.save()
            return code

    def token(self, form: dict) -> dict:
        with self.lock:
            client_id = form.get("client_id", "")
            if self.state.clients.get(client_id) != form.get("client_secret") or not client_id:
                raise OAuthError(401, "invalid_client", "Client authentication failed")
            grant_type = form.get("grant_type")
            now = self.clock()
            if grant_type == "authorization_code":
                code = self.state.codes.get(form.get("code", ""))
                if code is None or code["used"] or code["expires_at"] < now or code["client_id"] != client_id:
                    raise OAuthError(400, "invalid_grant", "The provided authorization grant is invalid, expired, "
                                                           "revoked, or was issued to another client.")
                if code["redirect_uri"] != form.get("redirect_uri"):
                    raise OAuthError(400, "invalid_grant", "The redirect uri does not match.")
                code["used"] = True
                grant = secrets.token_hex(8)
                self.state.grants[grant] = {"revoked": False, "created_at": now}
            elif grant_type == "refresh_token":
                presented = form.get("refresh_token", "")
                self.state.refresh_uses.append(presented)
                record = self.state.refresh.get(presented)
                if (record is None or record["used_at"] is not None or record["expires_at"] < now
                        or self.state.grants[record["grant"]]["revoked"]):
                    self.save()
                    raise OAuthError(400, "invalid_grant", "The provided authorization grant is invalid, expired, "
                                                           "revoked, or was issued to another client.")
                record["used_at"] = now
                grant = record["grant"]
            else:
                raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
            access, refresh = "at-" + secrets.token_hex(16), "rt-" + secrets.token_hex(16)
            self.state.access[access] = {"expires_at": now + ACCESS_TTL, "grant": grant}
            self.state.refresh[refresh] = {"expires_at": now + REFRESH_TTL, "grant": grant, "used_at": None}
            self.save()
            return {"access_token": access, "token_type": "bearer", "expires_in": int(ACCESS_TTL),
                    "refresh_token": refresh, "scope": "read write", "created_at": int(now),
                    "company_id": str(self.state.company["id"])}  # a string, as freee's reference shows it

    def revoke_all(self) -> None:
        """The office disconnects the app in freee: every grant stops working."""
        with self.lock:
            for grant in self.state.grants.values():
                grant["revoked"] = True
            self.save()

    def expire_access_tokens(self) -> None:
        with self.lock:
            for record in self.state.access.values():
                record["expires_at"] = 0
            self.save()

    def widen_scope(self) -> None:
        """The app's permissions were widened in the app store: its grants must be made again."""
        with self.lock:
            self.scope_changed_at = self.clock()

    # -- API calls -------------------------------------------------------------------------------
    def check_call(self, method: str, path: str, authorization: str, company_id, *, company: bool = True) -> None:
        """Faults, the access limit, the rate limit, the bearer token, the company and permissions,
        in the order freee's front would apply them (``company``: the call names one)."""
        with self.lock:
            self.fault(method, path, after=False)
            now = self.clock()
            self.access.check(now)
            self._calls = [t for t in self._calls if t > now - self.rate_window]
            # freee's headers for its per-minute limit (the stand-in's window stands for it): the
            # limit, what is left and when the window resets, an ISO time; freee names no Retry-After
            reset = (self._calls[0] if self._calls else now) + self.rate_window
            headers = {"X-Ratelimit-Limit-Minute": str(self.rate_limit),
                       "X-Ratelimit-Remaining-Minute": str(max(self.rate_limit - len(self._calls), 0)),
                       "X-Ratelimit-Reset-Minute": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset))
                       + f".{int(reset % 1 * 1e6):06d}Z"}
            if len(self._calls) >= self.rate_limit:
                raise FreeeError(429, "too_many_requests", TOO_MANY, headers=headers)
            self._calls.append(now)
            token = authorization[7:] if authorization.startswith("Bearer ") else ""
            record = self.state.access.get(token)
            if record is None or self.state.grants[record["grant"]]["revoked"]:
                # freee merged invalid_access_token into expired_access_token (developer.freee.co.jp/news/7180)
                raise FreeeError(401, "unauthorized", "ログインをして下さい", code="expired_access_token")
            if record["expires_at"] < now:
                raise FreeeError(401, "unauthorized", "アクセスする権限がありません", code="expired_access_token")
            if self.state.grants[record["grant"]].get("created_at", 0) < self.scope_changed_at:
                raise reauthorize()
            if company and str(company_id) != str(self.state.company["id"]):
                raise FreeeError(400, "bad_request", "存在しないかすでに削除された事業所です。",
                                 code="company_not_found")
            for denial in self.denials:
                if denial.matches(method, path):
                    raise denial.refuse()

    def me(self) -> dict:
        """The person who authorized the app (``GET /api/1/users/me``), with the company."""
        company = self.state.company
        return {"id": 2001, "email": "office@example.com", "display_name": "事務所 管理者", "first_name": "管理者",
                "last_name": "事務所", "companies": [{"id": company["id"], "display_name": company["name"],
                                                    "role": "admin", "use_custom_role": False}]}

    def fault(self, method: str, path: str, *, after: bool) -> None:
        """Raise the first injected fault that matches (and count it down)."""
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.after == after and (not fault.method or fault.method == method) \
                        and re.search(fault.path, path):
                    fault.times -= 1
                    wait = {"Retry-After": str(fault.retry_after)} if fault.status == 429 and \
                        fault.retry_after is not None else {}
                    raise FreeeError(fault.status, "fault", f"injected {fault.status}",
                                     headers={**wait, **fault.headers})

    # -- partners --------------------------------------------------------------------------------
    def partners(self, keyword: str = "") -> list[dict]:
        with self.lock:
            words = keyword.split()
            return [p for p in self.state.partners if all(w in p["name"] or w in (p["code"] or "") for w in words)]

    def create_partner(self, body: dict) -> dict:
        with self.lock:
            name = str(body.get("name") or "").strip()
            if not name or len(name) > 255:
                raise FreeeError(400, "validation", "取引先名を入力してください（255文字以内）")
            if any(p["name"] == name for p in self.state.partners):
                raise FreeeError(400, "validation", "取引先名が重複しています")
            partner = {"id": self._id(), "code": body.get("code"), "company_id": self.state.company["id"],
                       "name": name, "default_title": body.get("default_title") or "御中", "available": True,
                       "update_date": time.strftime("%Y-%m-%d", time.gmtime(self.clock()))}
            self.state.partners.append(partner)
            self.save()
            return partner

    # -- quotations and invoices -----------------------------------------------------------------
    def templates(self, kinds: str) -> list[dict]:
        """freee's standard layout, then the office's own, which the office made its default (既定):
        the default is not the first listed."""
        name = "見積書" if kinds == "quotations" else "請求書"
        return [{"id": 1 if kinds == "quotations" else 2, "name": f"標準の{name}テンプレート"},
                {"id": DEFAULT_TEMPLATES[kinds], "name": f"事務所の{name}"}]

    def template_of(self, kinds: str, document: dict) -> dict:
        """A document's ``template`` as InvoiceResponse / QuotationResponse give it: what its template
        prints, as the template is set now. freee prints the registration number (登録番号) of the
        template; the API cannot set one per document (the stand-in's templates share the company's,
        which ``/_emulator/control``'s ``template_registration`` changes)."""
        company = self.state.company
        title = {"quotations": "御見積書", "invoices": "請求書"}[kinds]
        shown = {"title": title, "invoice_registration_number": company.get("invoice_registration_number") or "",
                 "company_name": company["name"], "company_description": "", "message": ""}
        if kinds == "invoices":
            shown["bank_account_to_transfer"] = ""
        return shown

    def find(self, kinds: str, number: str | None, limit: int = 20, offset: int = 0) -> list[dict]:
        _, number_field, _ = KINDS[kinds]
        with self.lock:
            found = [d for d in self.state.documents[kinds] if number is None or d[number_field] == number]
            return found[offset:offset + limit]

    def get(self, kinds: str, document_id: int) -> dict:
        with self.lock:
            for document in self.state.documents[kinds]:
                if document["id"] == document_id:
                    return document
        raise FreeeError(404, "not_found", "指定された帳票が見つかりません")

    def create(self, kinds: str, body: dict) -> dict:
        kind, number_field, date_field = KINDS[kinds]
        with self.lock:
            problems = self._validate(kinds, body)
            if problems:
                raise FreeeError(400, "validation", "; ".join(problems))
            partner = next((p for p in self.state.partners
                            if p["id"] == body.get("partner_id") or (body.get("partner_code")
                                                                     and p["code"] == body.get("partner_code"))), None)
            if partner is None:
                raise FreeeError(400, "validation", "取引先が見つかりません")
            # "指定しない場合、事業所の既定のテンプレートが指定されます" (template_id, in the reference)
            wanted = body.get("template_id", DEFAULT_TEMPLATES[kinds])
            template = next((t for t in self.templates(kinds) if t["id"] == wanted), None)
            if template is None:
                raise FreeeError(400, "validation", "帳票テンプレートが見つかりません")
            lines, totals = self._compute(body)
            document = {key: value for key, value in body.items() if key != "lines"}
            document.update({"id": self._id(), "company_id": self.state.company["id"], "partner_id": partner["id"],
                             "partner_name": partner["name"],
                             "partner_display_name": body.get("partner_display_name") or partner["name"],
                             "subject": body.get("subject") or "", "memo": body.get("memo") or "",
                             "sending_status": "unsent", "cancel_status": "uncanceled", "lines": lines,
                             "template_id": template["id"], "template_name": template["name"],
                             "created_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock())),
                             **totals})
            if kind == "invoice":
                document.update({"payment_status": "unsettled", "deal_status": "unregistered", "deal_id": None})
            if self.state.company["auto_numbering"]:
                document[number_field] = f"{kind[0].upper()}-{document['id']:010d}"
            document[date_field] = body[date_field]
            self.state.documents[kinds].append(document)
            self.save()
            return document

    def _validate(self, kinds: str, body: dict) -> list[str]:
        _, number_field, date_field = KINDS[kinds]
        problems = []
        if type(body.get("company_id")) is not int or body["company_id"] != self.state.company["id"]:  # int64
            problems.append("company_id が不正です")
        if not DATE.match(str(body.get(date_field) or "")):
            problems.append(f"{date_field} は必須です（yyyy-mm-dd）")
        if self.state.company["auto_numbering"] and body.get(number_field):
            problems.append(f"採番の設定が自動採番のため {number_field} は指定できません")
        if not self.state.company["auto_numbering"] and not body.get(number_field):
            problems.append(f"{number_field} は必須です")
        for name, choices in (("tax_entry_method", ("in", "out")), ("tax_fraction", tuple(FRACTIONS)),
                              ("withholding_tax_entry_method", ("in", "out")), ("partner_title", TITLES)):
            if body.get(name) not in choices:
                problems.append(f"{name} は {', '.join(choices)} のいずれかです")
        if body.get("line_amount_fraction") not in (None, *FRACTIONS):
            problems.append("line_amount_fraction が不正です")
        if not body.get("partner_id") and not body.get("partner_code"):
            problems.append("取引先IDか取引先コードを指定してください")
        problems += _lengths(body, LENGTHS[kinds])
        for name in DATES[kinds]:  # optional dates: a date when given (null is not one)
            if name in body and not DATE.match(str(body[name] or "")):
                problems.append(f"{name} の形式が不正です（yyyy-mm-dd）")
        lines = body.get("lines")
        if not isinstance(lines, list) or not lines:
            problems.append("明細行は必須です")
            return problems
        for number, line in enumerate(lines, start=1):
            problems += [f"{number}行目: {problem}" for problem in _lengths(line, LINE_LENGTHS)]
            if line.get("type", "item") == "text":
                continue
            if line.get("tax_rate") not in (0, 8, 10) or line.get("quantity") is None:
                problems.append(f"{number}行目: 品目行には tax_rate (0, 8, 10) と quantity が必要です")
            if line.get("reduced_tax_rate") and line.get("tax_rate") != 8:
                problems.append(f"{number}行目: reduced_tax_rate は tax_rate 8 のときだけ指定できます")
            if not UNIT_PRICE.match(str(line.get("unit_price", ""))):
                problems.append(f"{number}行目: unit_price の形式が不正です")
            try:
                quantity = Decimal(str(line.get("quantity")))
                if abs(quantity) > Decimal("99999999.999") or quantity.as_tuple().exponent < -3:
                    problems.append(f"{number}行目: quantity が範囲外です")
            except InvalidOperation:
                problems.append(f"{number}行目: quantity が数値ではありません")
        return problems

    @staticmethod
    def _compute(body: dict) -> tuple[list[dict], dict]:
        """Line amounts (rounded by ``line_amount_fraction``), then each rate's sum taxed and rounded
        once by ``tax_fraction``: what a qualified invoice requires."""
        line_rounding = FRACTIONS[body.get("line_amount_fraction") or "omit"]
        tax_rounding = FRACTIONS[body["tax_fraction"]]
        groups: dict[str, Decimal] = {}
        lines = []
        for line in body["lines"]:
            line = dict(line)
            if line.get("type", "item") == "item":
                amount = (Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))).quantize(
                    Decimal(1), rounding=line_rounding)
                line["amount_excluding_tax"] = int(amount)
                key = "8_reduced" if line.get("reduced_tax_rate") else str(line["tax_rate"])
                groups[key] = groups.get(key, Decimal(0)) + amount
            lines.append(line)
        totals: dict = {}
        for key in ("10", "8", "8_reduced", "0"):
            base = groups.get(key, Decimal(0))
            rate = Decimal(key.split("_")[0])
            tax = (base * rate / 100).quantize(Decimal(1), rounding=tax_rounding)
            totals.update({f"amount_excluding_tax_{key}": int(base), f"amount_tax_{key}": int(tax),
                           f"amount_including_tax_{key}": int(base + tax)})
        excluding = sum(int(v) for v in groups.values())
        tax = sum(totals[f"amount_tax_{key}"] for key in ("10", "8", "8_reduced", "0"))
        totals.update({"amount_excluding_tax": excluding, "amount_tax": tax, "amount_including_tax": excluding + tax,
                       "total_amount": excluding + tax, "amount_withholding_tax": 0})
        return lines, totals

    def _id(self) -> int:
        self.state.next_id += 1
        return self.state.next_id
