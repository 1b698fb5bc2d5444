"""Cloud Function ``chat_webhook``: Google Chat posts its events here. Converts and delegates."""

import functions_framework

from ackflow.adapters.functions_framework import from_flask, runtime, to_flask, warm_up_in_background

warm_up_in_background("webhook")


@functions_framework.http
def chat_webhook(request):
    from ackflow.app.webhook import Webhook

    return to_flask(Webhook(runtime()).handle(from_flask(request)))
