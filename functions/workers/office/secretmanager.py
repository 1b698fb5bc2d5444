"""Secret Manager through the official client: the one place its client is made.

``endpoint`` empty means Google's; a plain ``http://`` URL is a local stand-in, reached without
credentials (tests/support/secrets.py).
"""

from __future__ import annotations


def client(endpoint: str = ""):
    from google.cloud import secretmanager

    if not endpoint:
        return secretmanager.SecretManagerServiceClient()
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    credentials = AnonymousCredentials() if endpoint.startswith("http://") else None
    return secretmanager.SecretManagerServiceClient(
        transport="rest", credentials=credentials, client_options=ClientOptions(api_endpoint=endpoint))
