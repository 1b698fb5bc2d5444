"""Cloud Function ``worker``: the queues POST tasks here (and the scheduler POSTs /sweep)."""

import functions_framework

from ackflow.adapters.functions_framework import from_flask, runtime, to_flask, warm_up_in_background

warm_up_in_background("worker")


@functions_framework.http
def worker(request):
    from ackflow.app.worker import Worker

    return to_flask(Worker(runtime()).handle(from_flask(request)))
