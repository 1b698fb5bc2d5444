"""Terraform, its offline provider mirror, the schema-only stand-ins of the google and archive
providers, and checkov, found on the machine (failures in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI, require_tool
from tests.infra.tfschema import mirror as stand_ins

ROOT = Path(__file__).resolve().parents[2]


def terraform() -> str:
    return require_tool("terraform", "the infrastructure checks run terraform")


def plugin_mirror() -> Path:
    """The offline provider mirror (ACKFLOW_TF_PLUGIN_DIR, default /opt/tf-plugins)."""
    mirror = Path(os.environ.get("ACKFLOW_TF_PLUGIN_DIR", "/opt/tf-plugins"))
    if (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return mirror
    missing(f"no offline mirror of the hashicorp/aws provider at {mirror} "
            "(set ACKFLOW_TF_PLUGIN_DIR)")


def missing(message: str):
    """Skip the test locally; fail it in CI (CI=true), where every tool must be installed."""
    if IN_CI:
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def cli_config(directory: Path) -> Path:
    """A Terraform CLI configuration that installs providers from the mirror only."""
    config = directory / "terraformrc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{plugin_mirror()}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    return config


def stand_in_cli_config(directory: Path) -> Path:
    """A Terraform CLI configuration (``directory``/terraformrc) that installs schema-only
    stand-ins of hashicorp/google and hashicorp/archive from a mirror built in ``directory``, and
    hashicorp/aws from the offline mirror when there is one; never a registry."""
    try:
        wheels, python = stand_ins.pinned_wheels(), stand_ins.plugin_python()
    except stand_ins.Missing as exc:
        missing(str(exc))
    built = stand_ins.build(directory / "mirror", python, wheels)
    aws = Path(os.environ.get("ACKFLOW_TF_PLUGIN_DIR", "/opt/tf-plugins"))
    aws = aws if (aws / "registry.terraform.io" / "hashicorp" / "aws").is_dir() else None
    return stand_ins.cli_config(directory / "terraformrc", directory / "mirror", built, aws)


def checkov() -> str:
    """checkov from ACKFLOW_CHECKOV, the tools venv scripts/test makes, or PATH."""
    for candidate in (os.environ.get("ACKFLOW_CHECKOV"), str(ROOT / ".venv-tools" / "bin" / "checkov"),
                      shutil.which("checkov")):
        if candidate and Path(candidate).exists():
            return candidate
    return require_tool("checkov", "scripts/test installs it into .venv-tools")


def terraform_env(directory: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(directory / "terraformrc"), "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0", **extra}
