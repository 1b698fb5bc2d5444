"""ChatClient adapter: the official Chat API client (``google-apps-chat``) on its REST transport.

In the cloud it authenticates as the app (scope ``chat.bot``) with application default
credentials; locally its endpoint is the local Chat service and it sends no credentials.
"""

from __future__ import annotations

import json
import threading

from ..errors import ChatRefused, ChatUnavailable

CHAT_BOT_SCOPE = "https://www.googleapis.com/auth/chat.bot"


class RestChatClient:
    def __init__(self, endpoint: str | None = None, *, anonymous: bool = False, timeout: float = 10.0,
                 retry_deadline: float = 30.0, client=None):
        self.endpoint = endpoint
        self.anonymous = anonymous
        self.timeout = timeout
        self.retry_deadline = retry_deadline
        self._client = client
        self._lock = threading.Lock()

    def _api(self):
        with self._lock:
            if self._client is None:
                from google.apps import chat_v1

                from ..adapters.google_clients import client_settings

                credentials, options = client_settings(self.endpoint, self.anonymous, [CHAT_BOT_SCOPE])
                self._client = chat_v1.ChatServiceClient(transport="rest", credentials=credentials,
                                                         client_options=options)
                if self.anonymous:  # a local stand-in on loopback: no proxy or .netrc to look up
                    _skip_environment_lookups(self._client)
            return self._client

    def warm_up(self) -> None:
        self._api()

    def put_message(self, space: str, message_id: str, message: dict, thread: str | None) -> None:
        from google.api_core import exceptions, retry
        from google.apps import chat_v1
        from google.protobuf import field_mask_pb2

        body = dict(message, name=f"{space}/messages/{message_id}")
        if thread:
            body["thread"] = {"name": thread}
        request = chat_v1.UpdateMessageRequest(
            message=chat_v1.Message.from_json(json.dumps(body)),
            update_mask=field_mask_pb2.FieldMask(paths=["text", "cards_v2"]),
            allow_missing=True,
        )
        policy = retry.Retry(
            predicate=retry.if_exception_type(exceptions.TooManyRequests, exceptions.ServiceUnavailable,
                                              exceptions.InternalServerError),
            initial=1.0, multiplier=2.0, maximum=16.0, timeout=self.retry_deadline)
        try:
            self._api().update_message(request=request, retry=policy, timeout=self.timeout)
        # Over REST a 403/401 arrives as Forbidden/Unauthorized (PermissionDenied and
        # Unauthenticated are their gRPC subclasses): catch the HTTP classes.
        except (exceptions.NotFound, exceptions.Forbidden, exceptions.BadRequest,
                exceptions.Unauthorized) as exc:
            raise ChatRefused(f"Chat API refused to write {message_id} in {space}: {exc.message}") from exc
        except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
            raise ChatUnavailable(f"Chat API: could not write {message_id} in {space}: {exc}") from exc
        except Exception as exc:  # transport errors (connection refused, DNS) surface as requests errors
            raise ChatUnavailable(f"Chat API unreachable: {exc}") from exc


def _skip_environment_lookups(client) -> None:
    """requests looks up proxy variables and ~/.netrc on every call, about a quarter of its own
    cost of a request to a local service; for the local Chat service (never Google) it is off."""
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None:
        session.trust_env = False
