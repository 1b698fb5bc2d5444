"""Cloud Function ``worker``: the queues POST tasks here (and the scheduler POSTs /sweep)."""

import functions_framework

from ackflow.adapters.functions_framework import from_flask, runtime, to_flask, warm_up_in_background
from ackflow.app.worker import Worker

warm_up_in_background("worker")


@functions_framework.http
def worker(request):
    return to_flask(Worker(runtime()).handle(from_flask(request)))
