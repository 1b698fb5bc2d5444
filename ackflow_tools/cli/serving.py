"""Run a WSGI app in the foreground until Ctrl-C or SIGTERM, announcing where it listens."""

from __future__ import annotations

import logging
import signal
import sys

import click


def run_until_stopped(app, host: str, port: int, label: str) -> None:
    from ackflow_tools.emulators.web import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = serve(app, host, port)

    def stop(signum, frame):  # SIGTERM behaves like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"{label} listening on http://{server.host}:{server.port}", err=True)
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
