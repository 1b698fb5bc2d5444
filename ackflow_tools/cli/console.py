"""``ackflow console``: the operator's view in a browser, on this machine.

Against ``ackflow dev`` it reads the running pipeline (and offers the browser chat); with
``--project`` it reads and acts on the cloud's Firestore and Cloud Tasks (or SQS) with the
operator's own Application Default Credentials, so IAM decides. Nothing is deployed for it.
"""

from __future__ import annotations

import click

from .operate import operator_name


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --auth-token.")
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--auth-token", envvar="ACKFLOW_CONSOLE_AUTH_TOKEN", default="",
              help="Token a browser must give to sign in (required off loopback; 16+ characters).")
@click.option("--language", type=click.Choice(["ja", "en"]), envvar="ACKFLOW_CONSOLE_LANGUAGE",
              show_default="the deployment's ACKFLOW_LANGUAGE if set, else ja",
              help="Language of the pages until a person switches.")
@click.option("--time-zone", envvar="ACKFLOW_CONSOLE_TIME_ZONE",
              show_default="the deployment's ACKFLOW_TIME_ZONE if set, else Asia/Tokyo",
              help="Time zone of the times shown (the office's).")
@click.option("--operator", envvar="ACKFLOW_OPERATOR", default=operator_name, show_default="user@host",
              help="Who acts, as the audit log records it.")
@click.option("--project", help="Cloud mode: read the Firestore store and queues of this Google Cloud project "
                                "with your Application Default Credentials.")
@click.option("--location", help="Cloud mode: region of the queues (default: the settings' location).")
@click.option("--queue-backend", type=click.Choice(["cloudtasks", "sqs"]), help="Cloud mode: the queue backend.")
@click.option("--chat-url", help="The local Chat service, for the browser chat (default: the running ackflow dev's).")
@click.option("--space", default="spaces/console", show_default=True, help="The browser chat's space.")
def console(host: str, port: int, auth_token: str, language: str | None, time_zone: str | None, operator: str,
            project: str | None, location: str | None, queue_backend: str | None, chat_url: str | None,
            space: str) -> None:
    """Serve the console (jobs, dead letters, queues, periodic jobs, cases, audit; the browser chat in dev)."""
    from ackflow.app.runtime import Runtime
    from ackflow.i18n import valid_time_zone

    from ..console.app import ConsoleConfig, ConsoleRefused, create_app
    from .common import cli_runtime, dev_state, require_cloud_clients, require_deployment_settings
    from .serving import run_until_stopped

    if time_zone is not None and not valid_time_zone(time_zone):
        raise click.BadParameter(f"{time_zone!r} is not a time zone (e.g. Asia/Tokyo)", param_hint="--time-zone")
    if project:
        import os

        from ackflow.errors import ConfigError
        from ackflow.settings import load_settings

        exported = os.environ.get("ACKFLOW_PROJECT", project)
        if exported != project:
            raise click.ClickException(f"--project {project} but ACKFLOW_PROJECT={exported}: the other settings of "
                                       "this shell are another deployment's")
        overrides = {"store": "firestore", "project": project}
        if location:
            overrides["location"] = location
        if queue_backend:
            overrides["queue_backend"] = queue_backend
        try:
            settings = load_settings(**overrides)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        require_cloud_clients(settings)
        runtime = Runtime(settings, store_timeout=settings.store_timeout)
    else:
        runtime = cli_runtime()
    # Retry and Run now queue tasks: with another deployment's (or no)
    # worker URL and invoker they would fail every attempt, so the console refuses to start.
    require_deployment_settings(runtime.settings, "ackflow console")
    if runtime.settings.store == "firestore":
        runtime.store.docs.client()  # no Google credentials here: say so now, not on every page it serves
    if chat_url is None and not project:
        state = dev_state()
        chat_url = state["urls"].get("chat", "") if state else ""
    language, time_zone = page_defaults(runtime.settings, language, time_zone)
    config = ConsoleConfig(runtime=runtime, operator=operator, host=host, port=port, language=language,
                           time_zone=time_zone, auth_token=auth_token, chat_url=chat_url or "", chat_space=space)
    try:
        app = create_app(config)
    except ConsoleRefused as exc:
        raise click.ClickException(str(exc)) from exc
    run_until_stopped(app, host, port, "ackflow console")


def page_defaults(settings, language: str | None, time_zone: str | None) -> tuple[str, str]:
    """The pages' language and time zone: the option (or its ACKFLOW_CONSOLE_* variable) if given;
    else the deployment's ACKFLOW_LANGUAGE / ACKFLOW_TIME_ZONE when its settings set them (this
    shell's variables, or the running ``ackflow dev``'s); else the office's, ja and Asia/Tokyo."""
    given = settings.model_fields_set
    if language is None:
        language = settings.language if "language" in given else "ja"
    if time_zone is None:
        time_zone = settings.time_zone if "time_zone" in given else "Asia/Tokyo"
    return language, time_zone
