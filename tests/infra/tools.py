"""Terraform, its offline provider mirror, and checkov, found on the machine (failures in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI, require_tool

ROOT = Path(__file__).resolve().parents[2]


def terraform() -> str:
    return require_tool("terraform", "the infrastructure checks run terraform")


def plugin_mirror() -> Path:
    """The offline provider mirror (ACKFLOW_TF_PLUGIN_DIR, default /opt/tf-plugins)."""
    mirror = Path(os.environ.get("ACKFLOW_TF_PLUGIN_DIR", "/opt/tf-plugins"))
    if (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return mirror
    message = f"no offline mirror of the hashicorp/aws provider at {mirror} (set ACKFLOW_TF_PLUGIN_DIR)"
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
