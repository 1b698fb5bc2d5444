"""``ackflow sqs-relay``: move tasks from SQS to the worker over HTTP, as Cloud Tasks would."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click

from .common import cli_settings


@click.command("sqs-relay")
@click.option("--wait", type=int, default=20, show_default=True, help="Long-poll seconds per receive.")
@click.option("--certs-host", default="127.0.0.1", show_default=True)
@click.option("--certs-port", type=int, default=0,
              help="Also serve the signing key's certificates at http://HOST:PORT/certs (0: do not).")
@click.option("--print-certs", is_flag=True, help="Print the certificate document for the key and exit.")
@click.option("--new-key", type=click.Path(path_type=Path), help="Write a new PEM signing key here and exit.")
def sqs_relay(wait: int, certs_host: str, certs_port: int, print_certs: bool, new_key: Path | None) -> None:
    """Long-poll the SQS queues and POST each task to the worker (ACKFLOW_* settings)."""
    from ackflow.auth.signing import LocalSigner

    if new_key:
        signer = LocalSigner.generate("ackflow-sqs-relay")
        new_key.write_bytes(signer.key_pem)
        new_key.chmod(0o600)
        click.echo(f"wrote {new_key}; set ACKFLOW_RELAY_SIGNING_KEY to its contents")
        return
    settings = cli_settings()
    if print_certs:
        key = settings.relay_signing_key.get_secret_value()
        if not key:
            raise click.ClickException("ACKFLOW_RELAY_SIGNING_KEY is not set")
        click.echo(json.dumps(LocalSigner.from_private_key(key).x509_document(), indent=2))
        return
    from ackflow import logs
    from ackflow.errors import ConfigError
    from ackflow.taskqueue.relay import relay_from_settings

    # as the functions log (ACKFLOW_LOG_FORMAT, ACKFLOW_LOG_LEVEL): without it Python printed only
    # the relay's warnings and errors, bare, and none of its lines could be read as Cloud Logging's
    logs.configure(settings.log_format, settings.log_level, settings.project)

    try:
        relay = relay_from_settings(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    server = None
    if certs_port:
        from ackflow.auth.signing import CERTS_MAX_AGE

        from ..emulators.web import Router, ServerThread, json_response

        app = Router()
        app.add("GET", "/certs", lambda request: json_response(
            relay.signer.x509_document(), headers={"Cache-Control": f"public, max-age={CERTS_MAX_AGE}"}))
        app.add("GET", "/", lambda request: json_response({"status": "ok", "service": "sqs-relay"}))
        server = ServerThread(app, certs_host, certs_port).start()
        click.echo(f"certificates at {server.url}/certs", err=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"relaying {', '.join(q.definition.name for q in relay.queues)} to {relay.worker_url}", err=True)
    relay.run(stop, wait=wait)
    if server:
        server.stop()
