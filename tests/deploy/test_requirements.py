"""functions/requirements.txt installs on the Python Cloud Functions runs it with (the runtime
infra/terraform names) and on the next one, from wheels: pip's resolver, asked as the runtime's
Python would ask, finds a version of every pin. A pin with no wheel for a runtime fails here, not
in Cloud Build."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.infra.hcl import GCP, ROOT

REQUIREMENTS = ROOT / "functions" / "requirements.txt"


def terraform_runtimes() -> set[str]:
    """Python versions of the functions' runtimes in functions.tf ("python311" → "3.11")."""
    found = re.findall(r'runtime\s*=\s*"python3(\d+)"', (GCP / "functions.tf").read_text())
    assert found, "functions.tf names no python runtime"
    return {f"3.{minor}" for minor in found}


def resolve(requirements: Path, version: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                           "--disable-pip-version-check", "--python-version", version, "--only-binary=:all:",
                           "--target", str(tmp_path / f"target-{version}"), "-r", str(requirements)],
                          capture_output=True, text=True, timeout=600)


def test_the_runtime_terraform_names_is_one_the_project_supports():
    [runtime] = terraform_runtimes()  # both functions run the same archive, on the same Python
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(map(int, runtime.split("."))) >= (3, 11), (runtime, requires)
    assert f"Python {runtime}" in (ROOT / "docs" / "deploy.md").read_text()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_requirements_install_from_wheels_on_the_runtime_and_the_next(tmp_path):
    [runtime] = terraform_runtimes()
    following = f"3.{int(runtime.split('.')[1]) + 1}"
    for version in (runtime, following):
        result = resolve(REQUIREMENTS, version, tmp_path)
        assert result.returncode == 0, f"Python {version}: {result.stderr[-3000:]}"
    # the check itself: a pin with no wheel for the runtime after it is refused
    seeded = tmp_path / "requirements.txt"
    seeded.write_text(REQUIREMENTS.read_text() + "numpy==1.24.4\n")  # wheels up to cp311, none for 3.12
    refused = resolve(seeded, following, tmp_path)
    assert refused.returncode != 0 and "numpy" in refused.stderr, refused.stderr[-2000:]
