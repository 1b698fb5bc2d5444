"""Cloud Function ``worker``: the queues POST tasks here (and the scheduler POSTs /sweep)."""

import functions_framework

from ackflow.adapters.functions_framework import runtime, serve, warm_up_in_background
from ackflow.app.worker import Worker

warm_up_in_background("worker")


@functions_framework.http
def worker(request):
    return serve(request, lambda http_request: Worker(runtime()).handle(http_request))
