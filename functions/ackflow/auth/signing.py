"""RSA keys that sign tokens (the local services' stand-ins for Google's signers, the SQS relay),
and the certificate documents that let others verify them.

Google publishes its signers' public keys in two shapes: a map of key id to PEM X.509
certificate (``/oauth2/v1/certs``, ``/service_accounts/v1/metadata/x509/<email>``) and a JWKS
(``/oauth2/v3/certs``, ``/service_accounts/v1/jwk/<email>``). Both are produced here, so the code
that checks tokens in production checks these unchanged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# Google serves its certificates with a max-age of several hours; so do we.
CERTS_MAX_AGE = 6 * 3600


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class LocalSigner:
    """One RSA signing key with a self-signed certificate. The key id is derived from the public
    key, so the same key keeps its id whatever certificate is made for it."""

    def __init__(self, key_pem: bytes, cert_pem: bytes):
        from google.auth import crypt

        self.key_pem = key_pem
        self.cert_pem = cert_pem
        cert = x509.load_pem_x509_certificate(cert_pem)
        self._public = cert.public_key()
        spki = self._public.public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = hashlib.sha1(spki).hexdigest()
        self._signer = crypt.RSASigner.from_string(key_pem, key_id=self.kid)

    @classmethod
    def generate(cls, common_name: str) -> LocalSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls._with_certificate(key, common_name)

    @classmethod
    def from_private_key(cls, key_pem: bytes | str, common_name: str = "ackflow-signer") -> LocalSigner:
        """A signer for an existing PEM key (e.g. from a setting); its certificate is made here."""
        data = key_pem.encode() if isinstance(key_pem, str) else key_pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the signing key must be an RSA private key in PEM")
        return cls._with_certificate(key, common_name)

    @classmethod
    def _with_certificate(cls, key, common_name: str) -> LocalSigner:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(key_pem, cert.public_bytes(serialization.Encoding.PEM))

    def sign(self, claims: dict) -> str:
        from google.auth import jwt

        return jwt.encode(self._signer, claims).decode()

    def id_token(self, *, issuer: str, audience: str, email: str, lifetime: int = 3600,
                 extra: dict | None = None) -> str:
        """A token shaped like Google's: issuer, audience, subject, email, iat, exp."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)),
            "azp": email,
            "email": email,
            "email_verified": True,
            "iat": now,
            "exp": now + lifetime,
        }
        claims.update(extra or {})
        return self.sign(claims)

    def x509_document(self) -> dict[str, str]:
        return {self.kid: self.cert_pem.decode()}

    def jwks_document(self) -> dict:
        numbers = self._public.public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }
