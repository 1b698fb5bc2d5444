"""Bearer tokens that must be refused, of every kind: malformed headers, wrong or no algorithm,
the wrong key, bad claims signed with the right key, garbage, and sizes no signer makes.

``right`` is the signer whose tokens the function accepts (the local Chat or Cloud Tasks
service's key); ``claims`` the claims of a token it would accept. Every token built here differs
from an acceptable one in one way, named by its key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ackflow.auth.signing import LocalSigner

DEEP_OBJECT = b'{"a":' * 1200 + b"1" + b"}" * 1200  # deeper than json can read, within a header's 8 kB
HUGE_KID = b'{"alg":"RS256","kid":' + b"9" * 5000 + b"}"


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rs256(signer: LocalSigner, header, payload) -> str:
    """A JWT with any header and payload (bytes are used as they are), signed with ``signer``'s key."""
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    key = serialization.load_pem_private_key(signer.key_pem, password=None)
    return f"{signing_input.decode()}.{b64(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))}"


def invalid_tokens(right: LocalSigner, claims: dict) -> dict[str, str | bytes | None]:
    """Name → Authorization header value (None: no header at all)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": right.kid}
    now = int(time.time())
    other = LocalSigner.generate("intruder")
    good = rs256(right, header, claims)
    head, body, signature = good.split(".")

    def signed(**changes) -> str:
        return rs256(right, header, {k: v for k, v in {**claims, **changes}.items() if v is not None})

    def with_header(value) -> str:
        return rs256(right, value, claims)

    tokens: dict[str, str | bytes | None] = {
        # the Authorization header itself
        "no header": None, "empty": "", "scheme only": "Bearer", "scheme and space": "Bearer ",
        "basic": "Basic dXNlcjpwYXNz", "token without scheme": good, "two tokens": f"Bearer {good} {good}",
        "non-ascii": "Bearer ä.ö.ü".encode(), "control characters": "Bearer a\x01b.c\x7fd.e",
        # garbage
        "one part": "Bearer abc", "two parts": f"Bearer {head}.{body}", "four parts": f"Bearer {good}.x",
        "dots": "Bearer ....", "not base64": "Bearer !!!.@@@.###", "bad padding": "Bearer a.b.c",
        "empty parts": "Bearer ..", "base64 of nothing": f"Bearer {b64(b'')}.{b64(b'')}.{b64(b'')}",
        "huge 6 kB": "Bearer " + "A" * 6_000, "huge 100 kB": "Bearer " + "A" * 100_000,
        "huge valid-looking": f"Bearer {head}.{b64({**claims, 'pad': 'x' * 5000})}.{signature}",
        # the JOSE header
        "header not json": f"Bearer {b64(b'not json')}.{body}.{signature}",
        "header invalid utf-8": f"Bearer {b64(bytes([0xff, 0xfe]))}.{body}.{signature}",
        "header list": f"Bearer {b64([1, 2])}.{body}.{signature}",
        "header string": f"Bearer {b64('RS256')}.{body}.{signature}",
        "header null": f"Bearer {b64(None)}.{body}.{signature}",
        "header deeply nested": f"Bearer {b64(b'[' * 2000 + b']' * 2000)}.{body}.{signature}",
        "header deep object": f"Bearer {b64(DEEP_OBJECT)}.{body}.{signature}",
        "header huge number": f"Bearer {b64(HUGE_KID)}.{body}.{signature}",
        "header surrogate kid": "Bearer " + rs256(right, b'{"alg":"RS256","kid":"\\ud800"}', claims),
        "kid list": "Bearer " + with_header({**header, "kid": [right.kid]}),
        "kid object": "Bearer " + with_header({**header, "kid": {"id": right.kid}}),
        "kid number": "Bearer " + with_header({**header, "kid": 7}),
        "kid true": "Bearer " + with_header({**header, "kid": True}),
        "kid huge": "Bearer " + with_header({**header, "kid": "k" * 4000}),
        "kid path": "Bearer " + with_header({**header, "kid": "../../etc/passwd"}),
        "alg none": f"Bearer {b64({'alg': 'none', 'typ': 'JWT'})}.{body}.",
        "alg None": f"Bearer {b64({'alg': 'None', 'kid': right.kid})}.{body}.",
        "alg missing": "Bearer " + with_header({"typ": "JWT", "kid": right.kid}),
        "alg number": "Bearer " + with_header({**header, "alg": 256}),
        "alg list": "Bearer " + with_header({**header, "alg": ["RS256"]}),
        "alg RS512": "Bearer " + with_header({**header, "alg": "RS512"}),
        "alg ES256": "Bearer " + with_header({**header, "alg": "ES256"}),
        "alg HS256 keyed with the public certificate": "Bearer " + _hs256({**header, "alg": "HS256"}, claims,
                                                                          right.cert_pem),
        "crit unknown": "Bearer " + with_header({**header, "crit": ["exp"], "exp": 1}),
        # the wrong key
        "another key, the right kid": "Bearer " + rs256(other, header, claims),
        "another key, its own kid": "Bearer " + rs256(other, {**header, "kid": other.kid}, claims),
        "tampered payload": f"Bearer {head}.{b64({**claims, 'aud': 'x'})}.{signature}",
        "signature of another token": f"Bearer {head}.{body}.{rs256(right, header, {**claims, 'n': 1}).split('.')[2]}",
        "no signature": f"Bearer {head}.{body}.",
        "signature garbage": f"Bearer {head}.{body}.{b64(b'x' * 256)}",
        # the right key, claims that must be refused
        "expired": "Bearer " + signed(iat=now - 7200, exp=now - 3600),
        "not yet valid": "Bearer " + signed(iat=now + 3600, exp=now + 7200),
        "nbf in the future": "Bearer " + signed(nbf=now + 3600),
        "no exp": "Bearer " + signed(exp=None),
        "no iat": "Bearer " + signed(iat=None),
        "exp string": "Bearer " + signed(exp="tomorrow"),
        "exp list": "Bearer " + signed(exp=[now + 3600]),
        "lifetime of 10**40 s": "Bearer " + signed(exp=10**40),
        "lifetime of 1e308 s": "Bearer " + signed(exp=1e308),
        "lifetime of a year": "Bearer " + signed(exp=now + 365 * 86400),
        "exp true": "Bearer " + signed(exp=True),
        "iat string": "Bearer " + signed(iat="now"),
        "nbf string": "Bearer " + signed(nbf="now"),
        "wrong audience": "Bearer " + signed(aud="https://elsewhere.example/"),
        "audience list": "Bearer " + signed(aud=["https://elsewhere.example/", "x"]),
        "audience number": "Bearer " + signed(aud=123456789012),
        "audience null": "Bearer " + signed(aud=None),
        "audience object": "Bearer " + signed(aud={"url": claims.get("aud")}),
        "wrong issuer": "Bearer " + signed(iss="https://login.example"),
        "issuer list": "Bearer " + signed(iss=[claims.get("iss")]),
        "issuer missing": "Bearer " + signed(iss=None),
        "wrong email": "Bearer " + signed(email="intruder@gmail.com"),
        "email list": "Bearer " + signed(email=[claims.get("email")]),
        "email_verified false": "Bearer " + signed(email_verified=False),
        "email_verified string": "Bearer " + signed(email_verified="true"),
        "payload list": "Bearer " + rs256(right, header, [claims]),
        "payload string": "Bearer " + rs256(right, header, "claims"),
        "payload deeply nested": "Bearer " + rs256(right, header, b"[" * 2000 + b"]" * 2000),
        "payload surrogate": "Bearer " + rs256(right, header, b'{"iss":"\\ud800","exp":1}'),
        "payload huge number": "Bearer " + rs256(right, header, b'{"exp":' + b"9" * 5000 + b"}"),
    }
    if "email" not in claims:  # Chat's own tokens (project-number audience) carry no email
        for name in ("wrong email", "email list", "email_verified false", "email_verified string"):
            tokens.pop(name)
    return tokens


def _hs256(header: dict, payload: dict, secret: bytes) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    return f"{signing_input.decode()}.{b64(hmac.new(secret, signing_input, hashlib.sha256).digest())}"
