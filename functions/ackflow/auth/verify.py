"""Verifying the bearer token on each request: signature, expiry, audience, issuer, signer email.

A ``TokenPolicy`` says what a valid token looks like; a ``Verifier`` accepts a token that one of
its policies accepts. The presets below are Google's real signers; locally the same presets are
used with the certificate URLs of the local services.

Anyone can send a token, so everything google-auth does with one is fenced: a token longer than
``MAX_TOKEN``, a header google-auth chokes on (it raises RecursionError, TypeError and others as
well as ValueError), a key id that is not a string, a ``crit`` header (RFC 7515 says to refuse
extensions one does not know), claims of the wrong type, a lifetime longer than Google's signers
ever give: all are a VerificationError, that is a 401, never a 500.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..errors import CertificatesUnavailable, VerificationError
from .certs import CertificateCache

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
CHAT_SIGNER = "chat@system.gserviceaccount.com"
GOOGLE_CERTS = "https://www.googleapis.com/oauth2/v1/certs"
CHAT_CERTS = f"https://www.googleapis.com/service_accounts/v1/metadata/x509/{CHAT_SIGNER}"
CLOCK_SKEW = 30  # seconds of clock difference tolerated on iat, exp and nbf
MAX_TOKEN = 8192  # characters; Google's ID tokens are about one kilobyte
MAX_LIFETIME = 24 * 3600  # seconds from iat to exp; Google's ID and OIDC tokens live one hour


@dataclass(frozen=True)
class TokenPolicy:
    name: str
    audiences: tuple[str, ...]
    issuers: tuple[str, ...]
    certs_url: str
    emails: tuple[str, ...] | None = None  # allowed `email` claims; None: not checked
    require_email_verified: bool = False


def chat_project_number_policy(project_number: str, certs_url: str = CHAT_CERTS) -> TokenPolicy:
    """Chat apps whose authentication audience is the project number (classic HTTP apps)."""
    return TokenPolicy("chat (project number)", (str(project_number),), (CHAT_SIGNER,), certs_url)


def chat_endpoint_url_policy(endpoint_url: str, project_number: str | None,
                             certs_url: str = GOOGLE_CERTS) -> TokenPolicy:
    """Chat apps whose audience is the endpoint URL: Google ID tokens from Chat's service account,
    or, for Workspace add-on apps, from ``service-<PROJECT_NUMBER>@gcp-sa-gsuiteaddons``."""
    emails = [CHAT_SIGNER]
    if project_number:
        emails.append(f"service-{project_number}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com")
    return TokenPolicy("chat (endpoint URL)", (endpoint_url,), GOOGLE_ISSUERS, certs_url,
                       tuple(emails), require_email_verified=True)


def oidc_invoker_policy(audience: str, invoker_emails: tuple[str, ...],
                        certs_url: str = GOOGLE_CERTS, name: str = "queue OIDC") -> TokenPolicy:
    """The OIDC token Cloud Tasks (or Cloud Scheduler) attaches for the invoker service account."""
    return TokenPolicy(name, (audience,), GOOGLE_ISSUERS, certs_url, tuple(invoker_emails),
                       require_email_verified=True)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**53


def _check_times(claims: dict) -> None:
    iat, exp, nbf = claims.get("iat"), claims.get("exp"), claims.get("nbf", 0)
    if not (_number(iat) and _number(exp) and _number(nbf)):
        raise VerificationError("iat, exp and nbf must be numbers")
    if exp - iat > MAX_LIFETIME:
        raise VerificationError(f"the token lives {exp - iat:.0f} s, longer than any signer we accept issues")
    if nbf - CLOCK_SKEW > time.time():
        raise VerificationError("token not yet valid")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise VerificationError("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise VerificationError("the Authorization header is not a bearer token")
    return token.strip()


class Verifier:
    """Checks tokens against its policies. A token that verified is remembered until it expires
    (queues send the same token with every task for up to an hour), so repeats skip the RSA work."""

    CACHE_SIZE = 256

    def __init__(self, policies: list[TokenPolicy], certs: CertificateCache | None = None):
        if not policies:
            raise ValueError("a verifier needs at least one policy")
        self.policies = policies
        self.certs = certs or CertificateCache()
        self._verified: dict[str, dict] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Fetch the certificates now, so the first request does not wait for them."""
        from google.auth import jwt  # noqa: F401  (import cost paid here too)

        for policy in self.policies:
            try:
                self.certs.get(policy.certs_url)
            except VerificationError:
                pass  # the first request will try again

    def verify(self, authorization: str | None) -> dict:
        """The verified claims, or VerificationError saying why not."""
        token = bearer_token(authorization)
        with self._lock:
            claims = self._verified.get(token)
        if claims is not None and claims["exp"] + CLOCK_SKEW > time.time():
            return claims
        claims = self._verify(token)
        with self._lock:
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> dict:
        from google.auth import jwt

        if len(token) > MAX_TOKEN or not token.isascii():
            raise VerificationError("malformed token: too long, or not ASCII")
        try:
            header = jwt.decode_header(token)
        except Exception as exc:  # whatever google-auth raises on a hostile header
            raise VerificationError(f"malformed token header ({type(exc).__name__})") from exc
        kid = header.get("kid") if isinstance(header, dict) else None
        if not isinstance(header, dict) or not isinstance(kid, (str, type(None))):
            raise VerificationError("malformed token header (key id)")
        if "crit" in header:
            raise VerificationError("the token header has critical extensions")
        reasons, unchecked = [], False
        for policy in self.policies:
            try:
                return self._check(policy, token, kid)
            except VerificationError as exc:
                reasons.append(f"{policy.name}: {exc}")
                unchecked = unchecked or isinstance(exc, CertificatesUnavailable)
        # A policy whose certificates could not be fetched might have accepted it: say so
        raise (CertificatesUnavailable if unchecked else VerificationError)("; ".join(reasons))

    def _check(self, policy: TokenPolicy, token: str, kid: str | None) -> dict:
        from google.auth import jwt

        certs = self.certs.get(policy.certs_url, kid)
        if kid and kid not in certs:
            raise VerificationError(f"unknown key id {kid[:64]!r}")
        try:
            claims = jwt.decode(token, certs=certs, audience=list(policy.audiences),
                                clock_skew_in_seconds=CLOCK_SKEW)
        except Exception as exc:  # google-auth raises TypeError on claims of a wrong type
            raise VerificationError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        _check_times(claims)
        if claims.get("iss") not in policy.issuers:
            raise VerificationError(f"wrong issuer {claims.get('iss')!r}")
        if policy.emails is not None:
            if claims.get("email") not in policy.emails:
                raise VerificationError(f"token signed for {claims.get('email')!r}, not an accepted signer")
            if policy.require_email_verified and claims.get("email_verified") is not True:
                raise VerificationError("email not verified")
        return claims
