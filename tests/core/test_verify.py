"""Token verification with real RSA keys standing in for Google's, certificates from a local server."""

from __future__ import annotations

import base64
import json
import time

import pytest
from werkzeug.wrappers import Request, Response

from ackflow.auth import verify
from ackflow.auth.certs import CertificateCache
from ackflow.auth.signing import LocalSigner
from ackflow.errors import VerificationError
from ackflow_tools.emulators.web import ServerThread

PROJECT_NUMBER = "424242424242"
ENDPOINT = "https://asia-northeast1-office.cloudfunctions.net/chat_webhook"
WORKER = "https://asia-northeast1-office.cloudfunctions.net/worker"
INVOKER = "ackflow-invoker@office.iam.gserviceaccount.com"
ADDON = f"service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"


class CertServer:
    """Serves one signer's certificates, as Google does, and counts the fetches."""

    def __init__(self, signer: LocalSigner, max_age: int = 3600):
        self.signer = signer
        self.max_age = max_age
        self.hits = 0
        self.server = ServerThread(self.app).start()

    def app(self, environ, start_response):
        Request(environ)
        self.hits += 1
        response = Response(json.dumps(self.signer.x509_document()), mimetype="application/json",
                            headers={"Cache-Control": f"public, max-age={self.max_age}"})
        return response(environ, start_response)

    @property
    def url(self) -> str:
        return self.server.url + "/certs"


@pytest.fixture(scope="module")
def google():
    server = CertServer(LocalSigner.generate("google-oauth2"))
    yield server
    server.server.stop()


@pytest.fixture(scope="module")
def chat_system():
    server = CertServer(LocalSigner.generate("chat-system"))
    yield server
    server.server.stop()


def id_token(signer: LocalSigner, audience: str, email: str, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": audience, "sub": "1", "email": email,
              "email_verified": True, "iat": now, "exp": now + 3600}
    claims.update(overrides)
    return signer.sign({k: v for k, v in claims.items() if v is not None})


def chat_token(signer: LocalSigner, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": "chat@system.gserviceaccount.com", "aud": PROJECT_NUMBER, "iat": now, "exp": now + 3600}
    claims.update(overrides)
    return signer.sign(claims)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "attacker@evil.test"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def bearer(token: str | None) -> str | None:
    return None if token is None else f"Bearer {token}"


def test_chat_project_number_preset(chat_system, google):
    verifier = verify.Verifier([verify.chat_project_number_policy(PROJECT_NUMBER, chat_system.url)])
    stranger = LocalSigner.generate("stranger")
    assert verifier.verify(bearer(chat_token(chat_system.signer)))["aud"] == PROJECT_NUMBER
    now = int(time.time())
    bad = {
        "expired": chat_token(chat_system.signer, iat=now - 7200, exp=now - 3600),
        "not yet valid": chat_token(chat_system.signer, iat=now + 3600, exp=now + 7200),
        "wrong audience": chat_token(chat_system.signer, aud="999"),
        "wrong issuer": chat_token(chat_system.signer, iss="https://accounts.google.com"),
        "tampered": tampered(chat_token(chat_system.signer)),
        "unknown key": chat_token(stranger),
        "other format's signer": id_token(google.signer, ENDPOINT, ADDON),
        "missing": None,
        "not bearer": "Basic dXNlcjpwYXNz",
    }
    for why, token in bad.items():
        header = token if why == "not bearer" else bearer(token)
        with pytest.raises(VerificationError):
            verifier.verify(header)
            pytest.fail(f"accepted a token that is {why}")


def test_chat_endpoint_url_preset_accepts_chat_and_addon_signers(google, chat_system):
    verifier = verify.Verifier([verify.chat_endpoint_url_policy(ENDPOINT, PROJECT_NUMBER, google.url)])
    assert verifier.verify(bearer(id_token(google.signer, ENDPOINT, "chat@system.gserviceaccount.com")))
    assert verifier.verify(bearer(id_token(google.signer, ENDPOINT, ADDON)))
    now = int(time.time())
    for token in (
        id_token(google.signer, ENDPOINT, "someone@gmail.com"),
        id_token(google.signer, WORKER, "chat@system.gserviceaccount.com"),
        id_token(google.signer, ENDPOINT, ADDON, email_verified=False),
        id_token(google.signer, ENDPOINT, ADDON, nbf=now + 600),
        id_token(google.signer, ENDPOINT, ADDON, iss="https://evil.test"),
        chat_token(chat_system.signer, aud=ENDPOINT),
    ):
        with pytest.raises(VerificationError):
            verifier.verify(bearer(token))


def test_worker_oidc_preset(google):
    verifier = verify.Verifier([verify.oidc_invoker_policy(WORKER, (INVOKER,), google.url)])
    assert verifier.verify(bearer(id_token(google.signer, WORKER, INVOKER)))["email"] == INVOKER
    for token in (id_token(google.signer, WORKER, "other@office.iam.gserviceaccount.com"),
                  id_token(google.signer, ENDPOINT, INVOKER)):
        with pytest.raises(VerificationError):
            verifier.verify(bearer(token))


def test_certificates_are_fetched_once_and_kept_per_cache_control():
    server = CertServer(LocalSigner.generate("rotating"), max_age=3600)
    clock = [1000.0]
    try:
        cache = CertificateCache(clock=lambda: clock[0])
        verifier = verify.Verifier([verify.oidc_invoker_policy(WORKER, (INVOKER,), server.url)], cache)
        for number in range(5):
            verifier.verify(bearer(id_token(server.signer, WORKER, INVOKER, sub=str(number))))
        assert server.hits == 1
        # Google rotates its keys: a key id the cache does not know triggers one early refresh...
        server.signer = LocalSigner.generate("rotated")
        clock[0] += 61
        verifier.verify(bearer(id_token(server.signer, WORKER, INVOKER)))
        assert server.hits == 2
        # ...but unknown keys cannot make it fetch again and again
        for name in ("unknown", "unknown2"):
            with pytest.raises(VerificationError):
                verifier.verify(bearer(id_token(LocalSigner.generate(name), WORKER, INVOKER)))
        assert server.hits == 2
        clock[0] += 3601  # past max-age: fetched again (a new token: a known one needs no check)
        verifier.verify(bearer(id_token(server.signer, WORKER, INVOKER, sub="another")))
        assert server.hits == 3
    finally:
        server.server.stop()
