"""ChatClient adapter: the official Chat API client (``google-apps-chat``) on its REST transport.

In the cloud it authenticates as the app (scope ``chat.bot``) with application default
credentials; locally its endpoint is the local Chat service and it sends no credentials.
"""

from __future__ import annotations

import json
import math
import threading
import time
from email.utils import parsedate_to_datetime

from ..errors import ChatRateLimited, ChatRefused, ChatUnavailable

CHAT_BOT_SCOPE = "https://www.googleapis.com/auth/chat.bot"
# The longest wait a 429 may impose (it blocks the space's budget in every instance, and a result
# is handed to the queue for that long): Chat's quotas are per minute, so more is a value no Chat
# means; a longer real wait is met by the next 429.
MAX_RETRY_AFTER = 3600.0


class RestChatClient:
    def __init__(self, endpoint: str | None = None, *, anonymous: bool = False, timeout: float = 10.0,
                 client=None):
        self.endpoint = endpoint
        self.anonymous = anonymous
        self.timeout = timeout
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

    def put_message(self, space: str, message_id: str, message: dict, thread: str | None, *,
                    timeout: float | None = None) -> None:
        from google.api_core import exceptions
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
        try:
            # One attempt (retry=None): the caller retries, so that it can check before each
            # attempt that this write is still the newest of the message (app/notify.py).
            self._api().update_message(request=request, retry=None, timeout=timeout or self.timeout)
        except exceptions.TooManyRequests as exc:
            raise ChatRateLimited(f"Chat API: quota exceeded writing {message_id} in {space}: {exc.message}",
                                  retry_after=retry_after(exc)) from exc
        # Over REST a 403/401 arrives as Forbidden/Unauthorized (PermissionDenied and
        # Unauthenticated are their gRPC subclasses): catch the HTTP classes.
        except exceptions.Unauthorized as exc:
            # The app's own credentials were not accepted: nothing about this message is wrong, and
            # fixed credentials (or a token Google has caught up with) write it: worth a retry.
            raise ChatUnavailable(f"Chat API did not accept the app's credentials writing {message_id} in "
                                  f"{space} (401): {exc.message}") from exc
        except (exceptions.NotFound, exceptions.Forbidden, exceptions.BadRequest) as exc:
            raise ChatRefused(f"Chat API refused to write {message_id} in {space}: {exc.message}",
                              status=int(exc.code)) from exc
        except exceptions.GoogleAPICallError as exc:
            raise ChatUnavailable(f"Chat API: could not write {message_id} in {space}: {exc}") from exc
        except Exception as exc:  # transport errors (connection refused, timeouts) surface as requests errors
            raise ChatUnavailable(f"Chat API unreachable: {exc}") from exc


def retry_after(exc) -> float | None:
    """Seconds to wait that a 429 names: its ``Retry-After`` header (seconds or an HTTP date), or a
    ``google.rpc.RetryInfo`` in its details, at most MAX_RETRY_AFTER. None when it names none, or
    nothing finite (then back off)."""
    named = _named_wait(exc)
    if named is None or not math.isfinite(named):
        return None
    return min(named, MAX_RETRY_AFTER)


def _named_wait(exc) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After")
    if value:
        try:
            seconds = float(value)
            return None if math.isnan(seconds) else max(0.0, seconds)
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    for detail in getattr(exc, "details", None) or ():
        if isinstance(detail, dict) and detail.get("@type", "").endswith("google.rpc.RetryInfo"):
            delay = str(detail.get("retryDelay", ""))
            try:
                return max(0.0, float(delay.rstrip("s")))
            except ValueError:
                return None
    return None


def _skip_environment_lookups(client) -> None:
    """requests looks up proxy variables and ~/.netrc on every call, about a quarter of its own
    cost of a request to a local service; for the local Chat service (never Google) it is off."""
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None:
        session.trust_env = False
