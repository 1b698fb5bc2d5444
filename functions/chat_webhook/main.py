"""Cloud Function ``chat_webhook``: Google Chat posts its events here. Converts and delegates.

Importing this module loads Ackflow's own code (pure Python, no cloud SDK, no network), so the
runtime pays for it before it starts serving; the SDKs, clients and certificates are prepared by
a background warm-up in the serving process, and otherwise on first use.
"""

import functions_framework

from ackflow.adapters.functions_framework import runtime, serve, warm_up_in_background
from ackflow.app.webhook import Webhook
from ackflow.settings import Settings  # noqa: F401  (pydantic's import cost, paid here)

warm_up_in_background("webhook")


@functions_framework.http
def chat_webhook(request):
    return serve(request, lambda http_request: Webhook(runtime()).handle(http_request))
