"""Public certificates of token signers, fetched once and kept as long as their Cache-Control says.

An unknown key id triggers one early refresh (Google rotates keys), at most once a minute.
"""

from __future__ import annotations

import threading
import time

import requests

from ..errors import CertificatesUnavailable, VerificationError

MIN_REFRESH_INTERVAL = 60.0
DEFAULT_MAX_AGE = 3600.0


def _max_age(header: str | None) -> float:
    from werkzeug.http import parse_cache_control_header

    parsed = parse_cache_control_header(header or "")
    return float(parsed.max_age) if parsed.max_age is not None else DEFAULT_MAX_AGE


class CertificateCache:
    def __init__(self, session: requests.Session | None = None, timeout: float = 5.0,
                 clock=time.monotonic):
        self._session = session
        self.timeout = timeout
        self.clock = clock
        self._entries: dict[str, tuple[dict, float, float]] = {}  # url -> (certs, expires, fetched)
        self._lock = threading.Lock()
        self.fetches = 0

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def get(self, url: str, kid: str | None = None) -> dict:
        """Certificates from ``url`` (key id → PEM); refetched early if ``kid`` is not among them."""
        with self._lock:
            now = self.clock()
            entry = self._entries.get(url)
            if entry:
                certs, expires, fetched = entry
                fresh = now < expires
                knows_kid = kid is None or kid in certs
                if fresh and (knows_kid or now - fetched < MIN_REFRESH_INTERVAL):
                    return certs
            return self._fetch(url, now)

    def _fetch(self, url: str, now: float) -> dict:
        try:
            response = self._http().get(url, timeout=self.timeout)
            response.raise_for_status()
            certs = response.json()
        except (requests.RequestException, ValueError) as exc:
            stale = self._entries.get(url)
            if stale:  # better a cached certificate than a refused request
                return stale[0]
            raise CertificatesUnavailable(f"cannot fetch signer certificates from {url}: {exc}") from exc
        if not isinstance(certs, dict) or "keys" in certs:
            raise VerificationError(f"{url} did not answer a key-id → certificate map")
        self.fetches += 1
        self._entries[url] = (certs, now + _max_age(response.headers.get("Cache-Control")), now)
        return certs
