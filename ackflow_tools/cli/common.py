"""What the CLI commands share: finding the local pipeline and the settings to talk to it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

DEV_DIR = Path(".ackflow") / "dev"


def dev_state(workdir: Path = DEV_DIR) -> dict | None:
    path = Path(os.environ.get("ACKFLOW_DEV_DIR", workdir)) / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def cli_settings():
    """Settings from the environment; with no ACKFLOW_* set, those of the running ``ackflow dev``."""
    from ackflow.errors import ConfigError
    from ackflow.settings import load_settings

    overrides = {}
    if not any(k.startswith("ACKFLOW_") and k != "ACKFLOW_DEV_DIR" for k in os.environ):
        state = dev_state()
        if state:
            overrides = {k[len("ACKFLOW_"):].lower(): v for k, v in state["env"].items()
                         if k.startswith("ACKFLOW_")}
            if "FIRESTORE_EMULATOR_HOST" in state["env"]:  # `ackflow dev --firestore`
                os.environ.setdefault("FIRESTORE_EMULATOR_HOST", state["env"]["FIRESTORE_EMULATOR_HOST"])
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def cli_runtime():
    from ackflow.app.runtime import Runtime

    return Runtime(cli_settings())


def chat_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    state = dev_state()
    if not state:
        raise click.ClickException("no local pipeline is running here; start one with `ackflow dev` "
                                   "(or pass --chat-url)")
    return state["urls"]["chat"]
