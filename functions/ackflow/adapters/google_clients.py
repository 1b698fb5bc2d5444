"""What the official Google clients need to talk to Google or to a local stand-in: an endpoint
(client options) and credentials (application default, or none for a local service)."""

from __future__ import annotations


def client_settings(endpoint: str | None, anonymous: bool, scopes: list[str] | None = None):
    """(credentials, client_options) for a ``google-cloud-*`` / ``google-apps-*`` client."""
    from google.api_core.client_options import ClientOptions

    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), options
    if scopes:
        import google.auth

        credentials, _ = google.auth.default(scopes=scopes)
        return credentials, options
    return None, options  # the client finds application default credentials itself
