"""freee's OAuth 2.0 tokens, shared by every worker instance through the job store.

freee's access tokens live 6 hours; its refresh tokens live 90 days and are single-use: each
refresh answers a new refresh token, and presenting a used one again is ``invalid_grant`` (the
grant is then gone, and only a person can authorize again). So:

- the current access token is kept in the store (``oauth_grants/freee``) for every instance;
- a refresh happens under a lease in that document (a compare-and-set in a transaction), so two
  instances never present the same refresh token; the others wait for the new access token;
- the new refresh token is saved (``RefreshTokenVault``: Secret Manager or the store) before the
  new access token is used;
- an expired or revoked grant is a ``PermanentError`` that says to run ``ackflow freee authorize``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from ackflow.errors import PermanentError, StepFailed, TransientError
from ackflow.i18n import N_, texts
from ackflow.store.documents import Documents, Tx

log = logging.getLogger(__name__)

GRANTS = "oauth_grants"
GRANT = "freee"
REFRESH_DOC = "freee-refresh"
LEASE_SECONDS = 90.0  # longer than a refresh can take: reading the vault, the token call, saving the new one
PRESENT_MARGIN = 60.0  # a refresh token is presented only with this long left on the lease: the token call
# (HTTP_TIMEOUT) and saving the new token (up to three vault writes) fit in it, so no other instance can
# take the lease and present the same, used, refresh token (which would end the grant)
EARLY = 300.0  # refresh this long before the access token expires
WAIT = 25.0  # how long an instance waits for another's refresh
HTTP_TIMEOUT = 10.0
# What the token endpoint answers when it will not work just now (rate-limited, or freee limiting
# access): the refresh token was not used, so it is presented again later. Only ``invalid_grant``,
# or freee's 401 for a refused refresh (its FAQ on token lifetimes), ends the grant.
BUSY = (429, 403)

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "not_connected": N_("freee is not connected yet: an administrator runs `ackflow freee authorize` "
                        "once (docs/office-workflow.md, “freee”)"),
    "grant_gone": N_("freee no longer accepts this app's authorization (it expired after 90 days "
                     "unused, or was revoked in freee): an administrator runs `ackflow freee "
                     "authorize` again, then retries the job"),
    "reauthorize": N_("freee asks for this app to be authorized again (its permissions in the app store "
                      "changed): an administrator runs `ackflow freee authorize` again, then retries the job"),
    "renewal_lost": N_("freee did not answer when this app renewed its token, and now refuses the refresh "
                       "token kept here: freee most likely renewed it and the answer was lost, which used that "
                       "token up. An administrator runs `ackflow freee authorize` again, then retries the job"),
    "client": N_("freee refused the app's client id or secret (ACKFLOW_OFFICE_FREEE_CLIENT_ID / "
                 "_SECRET): {detail}"),
    "unreachable": N_("freee's token endpoint did not answer ({detail}); the job will try again"),
    "endpoint_busy": N_("freee's token endpoint would not renew the token just now (HTTP {status}); the job "
                        "will try again"),
    "renewal_cut": N_("a renewal of this app's freee token was cut off (the worker stopped before it kept the "
                      "new token), and freee now refuses the refresh token kept here: freee most likely renewed "
                      "it, which used that token up. An administrator runs `ackflow freee authorize` again, then "
                      "retries the job"),
    "busy": N_("another worker is renewing the freee token; the job will try again"),
    "unsaved": N_("freee gave a new refresh token that could not be saved ({detail}); the old one "
                  "is used up, so an administrator runs `ackflow freee authorize` again, then retries the job"),
    "may_not_read": N_("the worker may not read {secret} (grant it roles/secretmanager.secretAccessor "
                       "on that secret)"),
    "may_not_add": N_("the worker may not add versions to {secret} (grant it "
                      "roles/secretmanager.secretVersionAdder on that secret)"),
    "refused_code": N_("freee refused the authorization code ({detail}); codes live 10 minutes and work "
                       "once: open the URL again"),
}


say = texts(TEXTS)


class GrantMissing(PermanentError):
    """No usable authorization: a person must run ``ackflow freee authorize``."""


class Unanswered(TransientError):
    """The token endpoint gave no answer to a request it may have received (a read timeout, a
    connection dropped, a 5xx): freee may have renewed the token, using up the refresh token sent."""


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    accounts_url: str  # https://accounts.secure.freee.co.jp
    redirect_uri: str = "urn:ietf:wg:oauth:2.0:oob"

    @property
    def token_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/public_api/token"

    def authorize_url(self, state: str) -> str:
        query = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                 "state": state, "prompt": "select_company"}
        return self.accounts_url.rstrip("/") + "/public_api/authorize?" + urlencode(query)


class RefreshTokenVault(Protocol):
    where: str

    def read(self) -> str | None:
        """The current refresh token, or None when there is none."""

    def write(self, token: str) -> None:
        """Keep ``token`` as the current one (durably, before it is relied on)."""


class StoreVault:
    """The refresh token in the job store, beside the access token (the default)."""

    where = "the job store"

    def __init__(self, docs: Documents, clock: Callable[[], float] = time.time):
        self.docs = docs
        self.clock = clock

    def read(self) -> str | None:
        data = self.docs.get(GRANTS, REFRESH_DOC)
        return data["refresh_token"] if data else None

    def write(self, token: str) -> None:
        self.docs.transaction(lambda tx: tx.set(GRANTS, REFRESH_DOC, {"refresh_token": token,
                                                                      "saved_at": self.clock()}))


class SecretVault:
    """The refresh token in Secret Manager (``projects/P/secrets/NAME``): each new token is a new
    version; the version it replaces is destroyed, so old tokens do not pile up."""

    def __init__(self, secret: str, endpoint: str = ""):
        self.secret = secret
        self.endpoint = endpoint
        self.where = f"Secret Manager {secret}"
        self._read_version: str | None = None

    def _client(self):
        from ...secretmanager import client

        return client(self.endpoint)

    def read(self) -> str | None:
        from google.api_core import exceptions

        try:
            response = self._client().access_secret_version(name=f"{self.secret}/versions/latest",
                                                            timeout=HTTP_TIMEOUT)
        except exceptions.NotFound:
            return None
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise PermanentError(say("may_not_read", secret=self.secret)) from exc
        except Exception as exc:  # the API's and the transport's errors alike: try again later
            raise TransientError(f"Secret Manager: {exc}") from exc
        self._read_version = response.name
        return response.payload.data.decode()

    def write(self, token: str) -> None:
        import google_crc32c
        from google.api_core import exceptions

        data = token.encode()
        try:
            self._client().add_secret_version(parent=self.secret, payload={
                "data": data, "data_crc32c": google_crc32c.value(data)}, timeout=HTTP_TIMEOUT)
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise PermanentError(say("may_not_add", secret=self.secret)) from exc
        if self._read_version:
            try:
                self._client().destroy_secret_version(name=self._read_version, timeout=HTTP_TIMEOUT)
            except Exception as exc:  # tidying only: an old, used-up token left behind harms nobody
                log.warning("could not destroy %s: %s", self._read_version, exc)
            self._read_version = None


class FreeeTokens:
    """The access token for freee's APIs, refreshed at most once at a time across instances."""

    def __init__(self, app: OAuthApp, docs: Documents, vault: RefreshTokenVault, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 session=None):
        self.app = app
        self.docs = docs
        self.vault = vault
        self.clock = clock
        self.sleep = sleep
        self.holder = secrets.token_hex(8)  # this instance, in the lease
        self._session = session

    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def grant(self) -> dict:
        return self.docs.get(GRANTS, GRANT) or {}

    def company_id(self) -> int | None:
        value = self.grant().get("company_id")
        return int(value) if value else None

    def _fresh(self, grant: dict) -> bool:
        return bool(grant.get("access_token")) and grant.get("expires_at", 0) - EARLY > self.clock()

    # -- the access token ------------------------------------------------------------------------
    def access_token(self) -> str:
        deadline = self.clock() + WAIT
        while True:
            grant = self.grant()
            if self._fresh(grant):
                return grant["access_token"]
            leased, grant = self.docs.transaction(self._take_lease)
            if leased:
                try:
                    if self._fresh(grant):  # another instance refreshed between our two reads
                        return grant["access_token"]
                    return self._refresh()
                finally:
                    self.docs.transaction(self._release_lease)
            if self.clock() > deadline:
                raise TransientError(say("busy"))
            self.sleep(0.2)

    def invalidate(self, token: str) -> None:
        """freee refused ``token`` (401): the next caller refreshes, unless one already did."""

        def apply(tx: Tx) -> None:
            grant = tx.get(GRANTS, GRANT)
            if grant and grant.get("access_token") == token:
                tx.set(GRANTS, GRANT, {**grant, "expires_at": 0})

        self.docs.transaction(apply)

    def _take_lease(self, tx: Tx) -> tuple[bool, dict]:
        grant = tx.get(GRANTS, GRANT) or {}
        now = self.clock()
        if grant.get("lease_until", 0) > now and grant.get("lease_holder") != self.holder:
            return False, grant
        taken = {**grant, "lease_holder": self.holder, "lease_until": now + LEASE_SECONDS}
        tx.set(GRANTS, GRANT, taken)
        return True, taken

    def _release_lease(self, tx: Tx) -> None:
        grant = tx.get(GRANTS, GRANT)
        if grant and grant.get("lease_holder") == self.holder:
            tx.set(GRANTS, GRANT, {**grant, "lease_holder": None, "lease_until": 0})

    def _refresh(self) -> str:
        refresh_token = self.vault.read()
        if not refresh_token:
            raise GrantMissing(say("not_connected"))
        fingerprint = hashlib.sha256(refresh_token.encode()).hexdigest()[:16]
        grant = self.grant()
        if grant.get("unsaved_refresh") == fingerprint:  # used up when its successor could not be kept
            raise GrantMissing(say("unsaved", detail=grant.get("unsaved_detail", "")))
        # why freee may refuse it: an earlier presentation got no answer, or its worker stopped before the
        # answer was kept (noted before presenting, cleared once an answer says the token was not used)
        gone = ("renewal_lost" if grant.get("unanswered_refresh") == fingerprint else
                "renewal_cut" if grant.get("presented_refresh") == fingerprint else "grant_gone")
        if grant.get("dead_refresh") == fingerprint:  # refused before: never present it twice
            raise GrantMissing(say(grant.get("dead_said") or gone))
        self._note(presented_refresh=fingerprint)
        if grant.get("lease_holder") != self.holder or grant.get("lease_until", 0) - self.clock() < PRESENT_MARGIN:
            self._note(presented_refresh=grant.get("presented_refresh"))  # not presented after all
            raise TransientError(say("busy"))  # the lease ran short (a slow vault): another try, from the start
        try:
            answer = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                         "grant_gone")
        except Unanswered:  # freee may have used it up: if it refuses it next, say why
            self._note(unanswered_refresh=fingerprint)
            raise
        except GrantMissing as exc:
            self._note(dead_refresh=fingerprint, dead_said=gone)
            if gone != "grant_gone":
                raise GrantMissing(say(gone)) from exc
            raise
        except StepFailed:  # an answer that used nothing (busy, a refused client) or no request at all
            self._note(presented_refresh=grant.get("presented_refresh"))
            raise
        try:
            self._keep(answer)
        except PermanentError as exc:  # the token presented is used up and its successor lost: the next
            # try says so instead of presenting it again (freee would refuse it as expired or revoked)
            detail = str(exc.__cause__ or exc)[:300]
            try:
                self._note(unsaved_refresh=fingerprint, unsaved_detail=detail)
            except Exception:  # noqa: BLE001 (the refusal below is what matters; the next try may present it)
                log.warning("could not note the used freee refresh token", exc_info=True)
            raise
        log.info("freee access token refreshed")
        return answer["access_token"]

    def _note(self, **marks) -> None:
        self.docs.transaction(lambda tx: tx.set(GRANTS, GRANT, {**(tx.get(GRANTS, GRANT) or {}), **marks}))

    def _token_request(self, form: dict, refused: str) -> dict:
        import requests

        body = {**form, "client_id": self.app.client_id, "client_secret": self.app.client_secret}
        try:
            response = self.session.post(self.app.token_url, data=body, timeout=HTTP_TIMEOUT)
        except requests.ConnectTimeout as exc:  # never reached freee: nothing was used
            raise TransientError(say("unreachable", detail=type(exc).__name__)) from exc
        except requests.RequestException as exc:
            raise Unanswered(say("unreachable", detail=type(exc).__name__)) from exc
        if response.status_code >= 500:
            raise Unanswered(say("unreachable", detail=f"HTTP {response.status_code}"))
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.ok and answer.get("access_token") and answer.get("refresh_token"):
            return answer
        error = answer.get("error", f"HTTP {response.status_code}")
        detail = f"{error}: {answer.get('error_description', '')}".strip(": ")
        if error == "invalid_client":
            raise PermanentError(say("client", detail=detail))
        if response.status_code in BUSY and error != "invalid_grant":  # not processed: the token still works
            raise TransientError(say("endpoint_busy", status=response.status_code))
        if refused == "grant_gone":
            raise GrantMissing(say("grant_gone"))
        raise PermanentError(say(refused, detail=detail))

    def _keep(self, answer: dict) -> None:
        """Save the new refresh token first (it is the only one that works now), then publish the
        new access token (and release the lease, in the same write)."""
        for attempt in range(3):
            try:
                self.vault.write(answer["refresh_token"])
                break
            except PermanentError as exc:  # e.g. the worker may not add a version: the token presented is
                # used up all the same, so granting what is missing is not enough
                raise GrantMissing(say("unsaved", detail=exc.text)) from exc
            except Exception as exc:
                if attempt == 2:
                    raise GrantMissing(say("unsaved", detail=exc)) from exc
                self.sleep(0.5 * (attempt + 1))
        now = self.clock()

        def publish(tx: Tx) -> None:
            grant = tx.get(GRANTS, GRANT) or {}
            tx.set(GRANTS, GRANT, {**grant, "access_token": answer["access_token"],
                                   "expires_at": now + float(answer.get("expires_in", 21600)),
                                   "refreshed_at": now, "generation": int(grant.get("generation", 0)) + 1,
                                   "company_id": answer.get("company_id") or grant.get("company_id"),
                                   "lease_holder": None, "lease_until": 0})

        self.docs.transaction(publish)

    # -- authorization (a person, once) ----------------------------------------------------------
    def exchange(self, code: str) -> dict:
        """Turn the code a person got from the authorize URL into the grant, and keep it."""
        answer = self._token_request({"grant_type": "authorization_code", "code": code.strip(),
                                      "redirect_uri": self.app.redirect_uri}, "refused_code")
        self._keep(answer)
        return {"company_id": answer.get("company_id"), "expires_in": answer.get("expires_in"),
                "vault": self.vault.where}
