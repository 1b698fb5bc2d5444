"""A small client web portal, served by the tests: a login form with a session cookie and a CSRF
token, a paginated order list, and order pages with attachments."""

from __future__ import annotations

import html
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from ackflow_tools.emulators.web import ServerThread

USERNAME, PASSWORD = "acme-user", "s3cret-パス"
DRAWING = b"%PDF-1.4 drawing of die set A-12\n" + bytes(range(256)) * 40
SPEC = "仕様書: 板厚 1.2 mm、材質 SPCC、月産 20,000 個\n".encode()


@dataclass
class Order:
    ref: str
    title: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    links: str = ""  # more of the order page's attachment list, as written (links elsewhere, …)


# An order page written to hurt: names with a right-to-left override, a path, nothing usable, a
# device name, 300+ UTF-8 bytes; names that differ only in case or composition (NFC, NFD); links
# to another host, through a redirect to one, with an unreadable port, and to a file that is gone.
HOSTILE_FILES = {"\u202eevil.pdf": b"rlo", "../../etc/passwd": b"path", "..": b"dots", "CON.txt": b"device",
                 "図" * 110 + ".pdf": b"long", "plan.pdf": b"plan-1", "Plan.PDF": b"plan-2",
                 "ガイド.pdf": b"nfc", unicodedata.normalize("NFD", "ガイド.pdf"): b"nfd"}
HOSTILE_LINKS = ("<li><a download='off-site.pdf' href='http://evil.example/x.pdf'>off-site.pdf</a></li>"
                 "<li><a download='moved.pdf' href='/elsewhere'>moved.pdf</a></li>"
                 "<li><a download='bad-port.pdf' href='http://127.0.0.1:99999/x.pdf'>bad-port.pdf</a></li>"
                 "<li><a download='gone.pdf' href='/files/PO-6666/99'>gone.pdf</a></li>")
# What the case keeps of it (each file once, under a safe name of its own), and what it skips.
HOSTILE_SAVED = {"evil.pdf": b"rlo", "_.._etc_passwd": b"path", "attachment-3": b"dots", "_CON.txt": b"device",
                 "図" * 38 + ".pdf": b"long", "plan.pdf": b"plan-1", "Plan (2).PDF": b"plan-2",
                 "ガイド.pdf": b"nfc", "ガイド (2).pdf": b"nfd"}
HOSTILE_SKIPPED = {"off-site.pdf", "moved.pdf", "bad-port.pdf", "gone.pdf"}


def default_orders() -> list[Order]:
    orders = [Order(f"PO-10{n:02d}", f"部品 {n}") for n in range(30, 37)]
    orders.append(Order("PO-1042", "プレス金型 A-12", {"drawing-A12.pdf": DRAWING, "仕様書.txt": SPEC}))
    orders.append(Order("PO-2000", "big files", {"huge.bin": b"x" * 300_000, "small.txt": b"ok"}))
    orders.append(Order("PO-6666", "hostile", dict(HOSTILE_FILES), HOSTILE_LINKS))
    return orders


class Portal:
    PAGE_SIZE = 3

    def __init__(self, orders: list[Order] | None = None):
        self.orders = orders or default_orders()
        self.sessions: dict[str, str] = {}  # session id -> csrf token
        self.logged_in: set[str] = set()
        self.fail_next = 0  # answer 503 to this many requests
        self.slow_next = 0.0  # sleep this long before the next answer
        self.requests: list[str] = []
        self.downloads: list[str] = []
        self.lock = threading.Lock()
        self.server = ServerThread(self.app).start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.server.stop()

    def app(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            query = request.query_string.decode()
            self.requests.append(f"{request.method} {request.path}" + (f"?{query}" if query else ""))
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
            slow, self.slow_next = self.slow_next, 0.0
        if slow:
            time.sleep(slow)
        if failing:
            response = Response("temporarily unavailable", status=503)
        else:
            response = self.route(request)
        return response(environ, start_response)

    # -- pages -----------------------------------------------------------------------------------
    def page(self, body: str, status: int = 200) -> Response:
        return Response(f"<!doctype html><html><body>{body}</body></html>", status=status,
                        mimetype="text/html", headers={"Cache-Control": "no-store"})

    def route(self, request: Request) -> Response:
        session = request.cookies.get("portal_session")
        if request.path == "/login":
            return self.login(request, session)
        if session not in self.logged_in:
            return redirect("/login")
        if request.path == "/orders":
            return self.order_list(int(request.args.get("page", 1)))
        if request.path.startswith("/orders/"):
            return self.order_page(request.path.rsplit("/", 1)[1])
        if request.path.startswith("/files/"):
            _, _, ref, number = request.path.split("/", 3)
            order = next((o for o in self.orders if o.ref == ref), None)
            names = list(order.attachments) if order else []
            if not number.isdigit() or not 0 < int(number) <= len(names):
                return Response("not found", status=404)
            name = names[int(number) - 1]  # by its place in the list: a name may be anything
            self.downloads.append(name)
            return Response(order.attachments[name], mimetype="application/octet-stream")
        if request.path == "/elsewhere":
            return redirect("http://evil.example/steal")
        return Response("not found", status=404)

    def login_form(self, csrf: str, error: str = "") -> str:
        message = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return (f"<h1>ACME 取引先ポータル</h1>{message}<form method='post' action='/login'>"
                f"<input type='hidden' name='csrf_token' value='{csrf}'>"
                "<input type='text' name='login_id'><input type='password' name='passwd'>"
                "<button type='submit'>ログイン</button></form>")

    def login(self, request: Request, session: str | None) -> Response:
        if request.method == "GET" or session not in self.sessions:
            session = secrets.token_hex(8)
            csrf = secrets.token_hex(8)
            self.sessions[session] = csrf
            response = self.page(self.login_form(csrf))
            response.set_cookie("portal_session", session, httponly=True)
            return response
        form = request.form
        if form.get("csrf_token") != self.sessions[session]:
            return self.page(self.login_form(self.sessions[session], "CSRF token mismatch"), 400)
        if form.get("login_id") != USERNAME or form.get("passwd") != PASSWORD:
            return self.page(self.login_form(self.sessions[session], "IDまたはパスワードが違います"))
        self.logged_in.add(session)
        return redirect("/orders")

    def order_list(self, page: int) -> Response:
        start = (page - 1) * self.PAGE_SIZE
        rows = "".join(f"<tr><td><a href='/orders/{o.ref}'>{o.ref}</a></td><td>{html.escape(o.title)}</td></tr>"
                       for o in self.orders[start:start + self.PAGE_SIZE])
        following = (f"<a rel='next' href='/orders?page={page + 1}'>次へ</a>"
                     if start + self.PAGE_SIZE < len(self.orders) else "")
        return self.page(f"<table>{rows}</table>{following}")

    def order_page(self, ref: str) -> Response:
        order = next((o for o in self.orders if o.ref == ref), None)
        if order is None:
            return Response("not found", status=404)
        links = "".join(f"<li><a href='/files/{ref}/{number}' download='{html.escape(name)}'>"
                        f"{html.escape(name)}</a></li>" for number, name in enumerate(order.attachments, start=1))
        return self.page(f"<h1>{ref} {html.escape(order.title)}</h1><ul class='attachments'>{links}{order.links}</ul>"
                         "<a href='/orders'>一覧へ</a>")
