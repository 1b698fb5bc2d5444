"""What the CLI commands share: finding the local pipeline and the settings to talk to it.

The settings come from one of two places, never a mix: the environment, when it sets any of
the settings (``ACKFLOW_STORE``, ``ACKFLOW_SQLITE_PATH``… every name ``ackflow config`` lists, the
office's ``ACKFLOW_OFFICE_*`` too); otherwise those of the running ``ackflow dev``, the office's
too (its ``state.json`` in ``.ackflow/dev`` or ``ACKFLOW_DEV_DIR``). Other ``ACKFLOW_*``
variables, such as a CLI option's own (``ACKFLOW_JOBS_LIMIT``, click's ``auto_envvar_prefix``),
``ACKFLOW_OPERATOR`` or ``ACKFLOW_DEV_DIR``, choose nothing.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import click

DEV_DIR = Path(".ackflow") / "dev"
NOT_SETTINGS = frozenset({"ACKFLOW_DEV_DIR", "ACKFLOW_OPERATOR"})


def dev_dir(workdir: Path = DEV_DIR) -> Path:
    return Path(os.environ.get("ACKFLOW_DEV_DIR", workdir))


def dev_state(workdir: Path = DEV_DIR) -> dict | None:
    """The state of the running ``ackflow dev``; None when there is none, or when the one that
    wrote it is gone (killed, so it could not remove its file)."""
    path = dev_dir(workdir) / "state.json"
    if not path.exists():
        return None
    from ..devtools.procs import process_alive

    state = json.loads(path.read_text())
    if "pid" in state and not process_alive(int(state["pid"])):
        return None
    return state


def typed_ackflow(workdir: Path | None = None) -> str:
    """``ackflow`` as a person types it in another terminal to reach this pipeline: the bare name
    when the shell's PATH finds this same program, else its path (``.venv/bin/ackflow`` after
    ``./scripts/dev``, whose virtualenv is not activated); with ``ACKFLOW_DEV_DIR`` when
    ``workdir`` (an ``ackflow dev``'s) is not the default one, where the other commands look."""
    program = Path(sys.executable).parent / "ackflow"
    found = shutil.which("ackflow")
    if found and program.exists() and Path(found).resolve() == program.resolve():
        typed = "ackflow"
    elif program.exists():
        inside = program.resolve().is_relative_to(Path.cwd().resolve())
        typed = shlex.quote(os.path.relpath(program) if inside else str(program))
    else:
        typed = f"{shlex.quote(sys.executable)} -m ackflow_tools"
    if workdir is not None and workdir.resolve() != DEV_DIR.resolve():
        typed = f"ACKFLOW_DEV_DIR={shlex.quote(str(workdir.resolve()))} {typed}"
    return typed


def setting_names() -> set[str]:
    """Every variable ``ackflow config`` lists: the functions' settings and the office workflow's."""
    from ackflow.settings import Settings

    names = {f"ACKFLOW_{name.upper()}" for name in Settings.model_fields}
    try:
        from workers.office.settings import OfficeSettings
    except ImportError:
        return names
    return names | {f"ACKFLOW_OFFICE_{name.upper()}" for name in OfficeSettings.model_fields}


def setting_variables(environ=None) -> list[str]:
    """The variables of the environment that are settings of the functions (not a CLI option's)."""
    names = setting_names()
    environ = os.environ if environ is None else environ
    return sorted(key for key in environ if key.upper() in names and key.upper() not in NOT_SETTINGS)


def _no_pipeline(what: str, *, deployment: bool = True) -> str:
    """``deployment``: whether a deployment's settings would do instead (a store to read, not the
    local Chat service, which only ``ackflow dev`` runs)."""
    path = dev_dir() / "state.json"
    stale = ""
    if path.exists():
        stale = f" ({path} is left from an `ackflow dev` that is no longer running)"
    said = (f"{what}: no `ackflow dev` is running here{stale or f' (no {path})'}. Start one with "
            f"`ackflow dev`; if it runs with --workdir DIR, set ACKFLOW_DEV_DIR=DIR")
    if deployment:
        said += ("; for a deployment, load its settings: "
                 "eval \"$(terraform -chdir=infra/terraform output -raw operator_env)\"")
    return said


def cli_settings():
    """Settings from the environment if it sets any setting; else those of the running ``ackflow dev``."""
    from ackflow.errors import ConfigError
    from ackflow.settings import load_settings

    overrides = {}
    if not setting_variables():
        state = dev_state()
        if state:
            overrides = {k[len("ACKFLOW_"):].lower(): v for k, v in state["env"].items()
                         if k.startswith("ACKFLOW_")}
            if "FIRESTORE_EMULATOR_HOST" in state["env"]:  # `ackflow dev --firestore`
                os.environ.setdefault("FIRESTORE_EMULATOR_HOST", state["env"]["FIRESTORE_EMULATOR_HOST"])
            for key, value in state["env"].items():  # the office's settings, read from the environment
                if key.startswith("ACKFLOW_OFFICE_"):  # where it loads them (config, freee, the console)
                    os.environ.setdefault(key, value)
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


# The cloud client each setting needs, and the extra that installs it (the operator's install, docs/deploy.md).
CLOUD_CLIENTS = (("store", "firestore", "google.cloud.firestore", "gcp,office"),
                 ("queue_backend", "sqs", "boto3", "aws"))


def require_cloud_clients(settings) -> None:
    """Refuse, before anything is read or changed, when a cloud client the settings need is not
    installed (the CLI installed without its extras): say what to install, not a traceback."""
    import importlib

    for field, value, module, extras in CLOUD_CLIENTS:
        if getattr(settings, field) != value:
            continue
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise click.ClickException(
                f"ACKFLOW_{field.upper()}={value} needs {module}, which is not installed here: "
                f"pip install -e '.[{extras}]' in the checkout (docs/deploy.md, \"Operating from a laptop\")") from exc


def store_label(settings) -> str:
    if settings.store == "sqlite":
        return f"SQLite {settings.sqlite_path}"
    return f"Firestore {settings.project}/{settings.firestore_database}"


def cli_runtime():
    """A Runtime over the store the settings name. A SQLite file that is not there is an error,
    never created: reading jobs must not leave an empty store behind."""
    from ackflow.app.runtime import Runtime

    settings = cli_settings()
    require_cloud_clients(settings)
    if settings.store == "sqlite" and not Path(settings.sqlite_path).exists():
        if setting_variables():
            raise click.ClickException(
                f"no job store at {settings.sqlite_path} (the SQLite file the ACKFLOW_* variables of "
                f"this shell name: {', '.join(setting_variables())}); nothing was created")
        raise click.ClickException(_no_pipeline("no job store to read"))
    return Runtime(settings, store_timeout=settings.store_timeout)  # an operator waits: an error, not silence


def _loopback_url(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def deployment_gaps(settings) -> list[str]:
    """What the settings lack to send work to a deployment's worker: empty unless they name a
    cloud deployment (the Firestore store and Google's Cloud Tasks, not the local services). A
    task queued for a loopback worker URL, or without the invoker's OIDC token, fails every
    attempt in the cloud."""
    if settings.store != "firestore" or settings.queue_backend != "cloudtasks" or settings.local_services:
        return []
    gaps = []
    if _loopback_url(settings.worker_url):
        gaps.append(f"ACKFLOW_WORKER_URL (is {settings.worker_url}, this machine: the queue would call nothing)")
    if not settings.invoker_service_account:
        gaps.append("ACKFLOW_INVOKER_SERVICE_ACCOUNT (not set: the worker refuses tasks without its OIDC token)")
    return gaps


def require_deployment_settings(settings, command: str) -> None:
    """Refuse, before anything changes, to queue work for a deployment with settings that are not its own."""
    gaps = deployment_gaps(settings)
    if gaps:
        raise click.ClickException(
            f"{command} would queue work for the deployment in project {settings.project}, but these settings are "
            f"not the deployment's: {'; '.join(gaps)}. Nothing was changed. Load the deployment's settings with "
            f"`eval \"$(terraform -chdir=infra/terraform output -raw operator_env)\"` "
            f"(docs/deploy.md, \"Operating from a laptop\")")


def acting_runtime(command: str):
    """``cli_runtime`` for a command that queues work: refused when it names a deployment without its settings."""
    runtime = cli_runtime()
    require_deployment_settings(runtime.settings, command)
    return runtime


def chat_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    state = dev_state()
    if not state:
        raise click.ClickException(_no_pipeline("no Chat service to talk to", deployment=False)
                                   + " (or pass --chat-url)")
    return state["urls"]["chat"]


def check_same_pipeline(explicit_chat_url: str | None) -> None:
    """Refuse to follow jobs in one pipeline's store while talking to another pipeline's Chat
    service (``--chat-url`` of a dev run with another workdir)."""
    if not explicit_chat_url or setting_variables():
        return
    state = dev_state()
    if state is None:
        raise click.ClickException(_no_pipeline(f"cannot follow the job of the Chat service at "
                                                f"{explicit_chat_url}") + " (or pass --no-follow / omit --yes)")
    ours = state["urls"]["chat"].rstrip("/")
    if explicit_chat_url.rstrip("/") != ours:
        raise click.ClickException(
            f"--chat-url {explicit_chat_url} is not the Chat service of the `ackflow dev` in {dev_dir()} "
            f"(that one is {ours}), so its jobs cannot be followed from here; set ACKFLOW_DEV_DIR to the "
            f"workdir of the run that serves {explicit_chat_url}")
