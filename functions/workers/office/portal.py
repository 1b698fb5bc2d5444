"""Collecting an order's documents from a client's web portal.

The fetcher logs in through the portal's login form (session cookie, hidden CSRF field), pages
through the order list until it finds the order, and downloads the order page's attachments.
It is polite and careful: every URL (redirects included) must be on an allowed host, every request
has a timeout, 5xx answers and timeouts are retried with backoff, downloads stop at a size limit,
and a refused login is a permanent failure (retrying will not fix a wrong password).

Portal markup it understands (docs/office-workflow.md says how to adapt it): a form with a
password field; order links whose text is the order reference; a ``rel="next"`` (or "次へ"/"Next")
link between list pages; attachments as links with a ``download`` attribute or inside an element
whose class mentions "attach".

What goes wrong is said to the person who asked, in their language (texts marked ``N_`` with their
values); the portal's and the vendor's own words stay as values.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import ENGLISH, L_, N_, Msg, Speaker

from .names import file_name
from .template import content_type


@dataclass(frozen=True)
class PortalConfig:
    client: str
    url: str
    credentials: str  # env:NAME, file:/path, or secret:projects/…/secrets/…/versions/latest


class Skipped(ValueError):
    """An attachment that is not fetched (over the size limit, off the allowed hosts, gone): the
    others still are, and the reason is said to the person."""

    def __init__(self, text: Msg):
        super().__init__(str(text))
        self.text = text


class TooLarge(Skipped):
    """A download over the size limit."""


@dataclass
class Fetched:
    order: str
    files: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def load_portals(config: str) -> dict[str, PortalConfig]:
    if not config.strip():
        return {}
    text = config if config.lstrip().startswith("{") else Path(config).read_text()
    return {client: PortalConfig(client, body["url"], body.get("credentials", ""))
            for client, body in json.loads(text).items()}


MAX_FILES = 200  # attachments fetched from one order page; the case record lists each (Firestore: 1 MiB a record)
READ_TIMEOUTS = 6  # a body (page or file) is read within this many request timeouts (20 s: 2 min)
PAGE_MAX_BYTES = 5 * 1024 * 1024  # an HTML page of the portal (login, order list, order): more is not one
SECRET_DEADLINE = 10.0  # seconds of retries inside a step; after that the queue's retry takes over
SECRET_VERSION = re.compile(r"^projects/[^/]+/(locations/[^/]+/)?secrets/[^/]+/versions/[^/]+$")


def resolve_credentials(reference: str, fallback_password: str = "", *,
                        secrets_endpoint: str = "") -> tuple[str, str]:
    """(username, password) from ``env:``, ``file:`` or ``secret:`` (Secret Manager)."""
    kind, _, where = reference.partition(":")
    if kind == "env":
        raw = os.environ.get(where)
        if raw is None:
            raise PermanentError(N_("portal credentials: the environment variable {name} is not set"), name=where)
    elif kind == "file":
        try:
            raw = Path(where).read_text()
        except OSError as exc:
            raise PermanentError(N_("portal credentials: cannot read {path}: {problem}"), path=where,
                                 problem=str(exc)) from exc
    elif kind == "secret":
        raw = read_secret(where, secrets_endpoint)
    else:
        raise PermanentError(N_("portal credentials “{reference}”: use env:NAME, file:PATH or secret:RESOURCE"),
                             reference=reference)
    try:
        data = json.loads(raw)
        return data["username"], data.get("password") or fallback_password
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(N_("portal credentials must be JSON: {example}"),
                             example='{"username": ..., "password": ...}') from exc


def read_secret(name: str, endpoint: str = "") -> str:
    """One secret version's payload, through the official Secret Manager client. ``endpoint``:
    empty for Google's; a plain ``http://`` URL is a local stand-in, reached without credentials."""
    if not SECRET_VERSION.match(name):
        raise PermanentError(N_("portal credentials: “{name}” is not a secret version; write "
                                "secret:projects/PROJECT/secrets/NAME/versions/latest"), name=name)
    from google.api_core import exceptions, retry
    from google.cloud import secretmanager

    policy = retry.Retry(predicate=retry.if_exception_type(exceptions.ServiceUnavailable,
                                                           exceptions.TooManyRequests),
                         initial=0.2, maximum=2.0, multiplier=2.0, timeout=SECRET_DEADLINE)
    try:
        response = _secret_client(endpoint).access_secret_version(name=name, retry=policy,
                                                                  timeout=SECRET_DEADLINE)
    except exceptions.NotFound as exc:
        raise PermanentError(N_("portal credentials: secret {name} not found"), name=name) from exc
    except (exceptions.Forbidden, exceptions.Unauthorized) as exc:  # 403/401 (over REST or gRPC)
        raise PermanentError(N_("portal credentials: the worker may not read {name} "
                                "(grant roles/secretmanager.secretAccessor)"), name=name) from exc
    except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
        raise TransientError(N_("Secret Manager: {problem}"), problem=str(exc)) from exc
    except Exception as exc:  # the transport's own errors (connection refused, timeouts)
        raise TransientError(N_("Secret Manager unreachable: {problem}"), problem=str(exc)) from exc
    payload: secretmanager.SecretPayload = response.payload
    if "data_crc32c" in payload:  # Google sends it; check it as Google advises
        import google_crc32c

        if google_crc32c.value(payload.data) != payload.data_crc32c:
            raise TransientError(N_("Secret Manager: the payload of {name} arrived corrupted (CRC32C mismatch)"),
                                 name=name)
    try:
        return payload.data.decode()
    except UnicodeDecodeError as exc:
        raise PermanentError(N_("portal credentials: secret {name} is not UTF-8 text"), name=name) from exc


def _secret_client(endpoint: str):
    from .secretmanager import client

    return client(endpoint)


class PortalClient:
    def __init__(self, base_url: str, *, allowed_hosts: list[str], timeout: float = 20.0,
                 max_bytes: int = 50 * 1024 * 1024, max_pages: int = 20, retries: int = 3):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.base_url = base_url.rstrip("/") + "/"
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.check(self.base_url)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "Ackflow portal fetcher (office workflow)"
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=0.5,
                      status_forcelist=(500, 502, 503, 504), allowed_methods=None, raise_on_status=False,
                      respect_retry_after_header=True)
        adapter = HTTPAdapter(max_retries=retry)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    def refusal(self, url: str) -> Msg | None:
        """Why ``url`` may not be fetched (None: it may): not http(s), not on an allowed host, or not
        a URL at all (a page's link may be anything)."""
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:  # a malformed address or port ("http://[::1", "http://host:99999")
            return L_("“{url}” is not a readable URL", url=url[:200])
        if parts.scheme not in ("http", "https"):
            return L_("refusing a non-HTTP URL: {url}", url=url[:200])
        if host not in self.allowed_hosts and f"{host}:{port}" not in self.allowed_hosts:
            return L_("{host} is not an allowed portal host (ACKFLOW_OFFICE_PORTAL_ALLOWED_HOSTS)", host=host)
        return None

    def check(self, url: str) -> None:
        refusal = self.refusal(url)
        if refusal is not None:
            raise PermanentError(refusal)

    def request(self, method: str, url: str, **kwargs):
        """One request, its body not read yet (``page`` reads a page, ``download`` a file); redirects
        are followed by hand so every hop's host is checked."""
        import requests

        for _ in range(6):
            self.check(url)
            try:
                response = self.http.request(method, url, timeout=self.timeout, allow_redirects=False, stream=True,
                                             **kwargs)
            except requests.RequestException as exc:
                raise TransientError(N_("the portal did not answer {path}: {problem}"), path=urlsplit(url).path,
                                     problem=str(exc)) from exc
            if response.status_code in (301, 302, 303, 307, 308) and "Location" in response.headers:
                response.close()
                url = _join(url, response.headers["Location"])
                if response.status_code in (301, 302, 303):
                    method, kwargs = "GET", {k: v for k, v in kwargs.items() if k not in ("data", "json")}
                continue
            if response.status_code >= 500:
                response.close()
                raise TransientError(N_("the portal answered {status} for {path}"), status=response.status_code,
                                     path=urlsplit(url).path)
            return response
        raise PermanentError(N_("the portal redirected too many times"))

    def page(self, method: str, url: str, **kwargs):
        """A page of the portal (its ``text`` read): at most PAGE_MAX_BYTES, so a page that never ends
        is refused instead of filling the worker's memory (and failing every retry the same way)."""
        import requests

        response = self.request(method, url, **kwargs)
        chunks, size = [], 0
        started = time.monotonic()
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > PAGE_MAX_BYTES:
                    response.close()
                    raise PermanentError(N_("the portal's page {path} is over {limit:,} bytes, too large to read"),
                                         path=urlsplit(response.url).path, limit=PAGE_MAX_BYTES)
                chunks.append(chunk)
                _in_time(response, started, self.timeout * READ_TIMEOUTS, url)
        except requests.RequestException as exc:
            raise TransientError(N_("the portal did not answer {path}: {problem}"), path=urlsplit(url).path,
                                 problem=str(exc)) from exc
        response._content = b"".join(chunks)  # as requests keeps a body it read itself: .text decodes it
        return response

    @staticmethod
    def soup(html: str):
        from bs4 import BeautifulSoup

        return BeautifulSoup(html, "html.parser")

    # -- steps -----------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> None:
        login_url = urljoin(self.base_url, "login")
        page = self.page("GET", login_url)
        form = next((f for f in self.soup(page.text).find_all("form") if f.find("input", {"type": "password"})), None)
        if form is None:
            raise PermanentError(N_("no login form at {url}"), url=login_url)
        data = {i.get("name"): i.get("value", "") for i in form.find_all("input") if i.get("name")}
        user_field = next((i.get("name") for i in form.find_all("input")
                           if i.get("type", "text") in ("text", "email") and i.get("name")), "username")
        password_field = form.find("input", {"type": "password"}).get("name", "password")
        data[user_field], data[password_field] = username, password
        answer = self.page("POST", _join(page.url, form.get("action") or login_url), data=data)
        still_form = any(f.find("input", {"type": "password"}) for f in self.soup(answer.text).find_all("form"))
        if answer.status_code in (401, 403) or still_form:
            raise PermanentError(N_("could not log in to the portal as {username}: the portal refused the "
                                    "credentials (check them in the portal settings; no retry)"), username=username)

    def find_order(self, order: str) -> str:
        url = urljoin(self.base_url, "orders")
        for _ in range(self.max_pages):
            page = self.page("GET", url)
            if page.status_code != 200:
                raise TransientError(N_("the order list answered {status}"), status=page.status_code)
            soup = self.soup(page.text)
            link = next((a for a in soup.find_all("a", href=True) if a.get_text(strip=True) == order), None)
            if link:
                return _join(page.url, link["href"])
            following = soup.find("a", rel="next") or next(
                (a for a in soup.find_all("a", href=True)
                 if a.get_text(strip=True) in ("次へ", "Next", "›", "»")), None)
            if following is None:
                break
            url = _join(page.url, following["href"])
        raise PermanentError(N_("order {order} is not on the portal (searched {pages} pages at most)"), order=order,
                             pages=self.max_pages)

    def attachments(self, order_url: str) -> list[tuple[str, str]]:
        page = self.page("GET", order_url)
        soup = self.soup(page.text)
        found = []
        for link in soup.find_all("a", href=True):
            inside = any("attach" in " ".join(parent.get("class", [])) for parent in link.parents
                         if getattr(parent, "get", None))
            if link.has_attr("download") or inside:
                name = link.get("download") or link.get_text(strip=True) or link["href"].rsplit("/", 1)[-1]
                found.append((name, _join(page.url, link["href"])))
        return found

    def download(self, url: str) -> bytes:
        """The file at ``url``; Skipped when it may not be fetched (off the allowed hosts, also after a
        redirect), is gone (404, 410) or is over the size limit."""
        refusal = self.refusal(url)
        if refusal is not None:
            raise Skipped(refusal)
        try:
            response = self.request("GET", url)
        except PermanentError as exc:  # redirected off the allowed hosts, or round in circles
            raise Skipped(exc.text) from exc
        if response.status_code in (404, 410):
            response.close()
            raise Skipped(L_("download of {path} answered {status}", path=urlsplit(url).path,
                             status=response.status_code))
        if response.status_code != 200:
            raise TransientError(N_("download of {path} answered {status}"), path=urlsplit(url).path,
                                 status=response.status_code)
        declared = _length(response.headers.get("Content-Length", ""))
        if declared > self.max_bytes:
            response.close()
            raise TooLarge(L_("{size:,} bytes is over the {limit:,}-byte limit", size=declared,
                              limit=self.max_bytes))
        import requests

        chunks, size = [], 0
        started = time.monotonic()
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    response.close()
                    raise TooLarge(L_("over the {limit:,}-byte limit", limit=self.max_bytes))
                chunks.append(chunk)
                _in_time(response, started, self.timeout * READ_TIMEOUTS, url)
        except requests.RequestException as exc:  # the connection broke mid-download
            raise TransientError(N_("download of {path} broke off: {problem}"), path=urlsplit(url).path,
                                 problem=str(exc)) from exc
        return b"".join(chunks)


def _in_time(response, started: float, budget: float, url: str) -> None:
    """The timeout bounds each wait for a byte, not a whole body: a portal that sends a few bytes
    at a time never trips it. A body not read within ``budget`` seconds is a slow portal, worth a retry."""
    if time.monotonic() - started > budget:
        response.close()
        raise TransientError(N_("the portal sent {path} too slowly (not read within {seconds:.0f} s)"),
                             path=urlsplit(url).path, seconds=budget)


def collect(client: PortalClient, username: str, password: str, order: str, storage, folder: str,
            progress=lambda text: None, speaker: Speaker = ENGLISH) -> Fetched:
    """Log in, find the order, file its attachments under ``folder`` (existing files are kept), each
    under a safe name unique in the folder (``names.file_name``: the portal names them). One that may
    not or cannot be fetched is skipped and said so; the others are still filed. At most
    ``MAX_FILES`` are fetched; the links after them are said as one skipped entry (2,000 links made a
    case record Firestore refuses, and failed the step after every download). Progress is said in
    ``speaker``'s language (the job's)."""
    client.login(username, password)
    progress(speaker._("logged in; looking for order {order}", order=order))
    order_url = client.find_order(order)
    result = Fetched(order)
    attachments = client.attachments(order_url)
    left_out = len(attachments) - MAX_FILES  # a page of thousands of links: the case record keeps every file it lists
    attachments = attachments[:MAX_FILES]
    taken: set[str] = set()
    for number, (name, url) in enumerate(attachments, start=1):
        safe = file_name(name, number, taken)
        path = f"{folder}/{safe}"
        progress(speaker._("downloading {name} ({number}/{count})", name=safe, number=number, count=len(attachments)))
        if storage.exists(path):
            data = storage.read(path)
        else:
            try:
                data = client.download(url)
            except Skipped as exc:  # too big, or not to be fetched: keep going, say so (in the person's language)
                result.skipped.append({"name": safe, "reason": exc.text.render(speaker)})
                continue
            storage.create(path, data, content_type(safe))
        result.files.append({"name": safe, "path": path, "bytes": len(data), "link": storage.link(path),
                             "sha256": hashlib.sha256(data).hexdigest()})
    if left_out > 0:
        result.skipped.append({"name": "…", "reason": speaker.n_(
            "{count} more link to a file on the order page is not followed: at most {limit} files are fetched "
            "from one order", "{count} more links to files on the order page are not followed: at most {limit} "
            "files are fetched from one order", left_out, limit=speaker.number(MAX_FILES))})
    return result


def _length(header: str) -> int:
    """A Content-Length as a portal may send it ("2, 2", or nonsense): the largest number in it, 0
    when there is none (the download is measured as it comes anyway)."""
    numbers = [int(part) for part in header.split(",") if part.strip().isdigit()]
    return max(numbers, default=0)


def _join(base: str, href: str) -> str:
    """``href`` read against ``base``; as it is when it is not a URL at all (then ``refusal`` says so)."""
    try:
        return urljoin(base, href)
    except ValueError:
        return href
