"""A Terraform filesystem mirror of schema-only stand-ins, and a CLI configuration that uses it.

``scripts/install-tools`` downloads the cdktf provider wheels named in ``packages.txt`` into
``.cache/tfschema/wheels`` and installs ``tf`` into ``.venv-tools``. From those, ``build`` writes,
per provider, the rebuilt schema and an executable launcher at the path Terraform looks for::

    <mirror>/registry.terraform.io/hashicorp/google/6.50.0/linux_amd64/
        terraform-provider-google_v6.50.0

so ``terraform init`` installs it from the mirror like a downloaded provider.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.infra.tfschema.rebuild import read_schema_file, schema_file

ROOT = Path(__file__).resolve().parents[3]
PINS = Path(__file__).with_name("packages.txt")
CACHE = ROOT / ".cache" / "tfschema"
WHEELS = CACHE / "wheels"
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class Missing(RuntimeError):
    """Something scripts/install-tools provides is not there."""


@dataclass(frozen=True)
class StandIn:
    source: str  # registry.terraform.io/hashicorp/google
    version: str  # of the provider the schema comes from, e.g. 6.50.0
    launcher: Path


def pinned_wheels() -> list[Path]:
    """The downloaded wheel of each package pinned in packages.txt."""
    wheels = []
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = line.split("==")
        found = sorted(WHEELS.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if not found:
            raise Missing(f"{line} is not in {WHEELS} (scripts/install-tools downloads it)")
        wheels.append(found[0])
    return wheels


def plugin_python() -> Path:
    """A Python that has the ``tf`` package (ACKFLOW_TF_PLUGIN_PYTHON, else .venv-tools)."""
    python = Path(os.environ.get("ACKFLOW_TF_PLUGIN_PYTHON", TOOLS_PYTHON))
    if not python.exists():
        raise Missing(f"no {python} (scripts/install-tools creates it)")
    probe = subprocess.run([str(python), "-c", "import tf.runner"], check=False,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise Missing(f"{python} cannot import tf (scripts/install-tools installs it): "
                      f"{probe.stderr[-300:]}")
    return python


def target() -> str:
    """Terraform's name for this machine, e.g. linux_amd64."""
    machine = platform.machine()
    return f"{platform.system().lower()}_{MACHINES.get(machine.lower(), machine)}"


def build(mirror: Path, python: Path, wheels: list[Path], cache: Path = CACHE) -> list[StandIn]:
    """Write one stand-in per wheel into ``mirror``; the schemas stay in ``cache``."""
    stand_ins = []
    for wheel in wheels:
        schema = schema_file(wheel, cache)
        document = read_schema_file(schema)
        source, version = document["source"], document["version"]
        kind = source.rsplit("/", 1)[-1]
        package = mirror / source / version / target()
        package.mkdir(parents=True, exist_ok=True)
        launcher = package / f"terraform-provider-{kind}_v{version}"
        launcher.write_text(_launcher(python, schema, mirror / ".home", source, version))
        launcher.chmod(0o755)
        stand_ins.append(StandIn(source, version, launcher))
    return stand_ins


def _launcher(python: Path, schema: Path, home: Path, source: str, version: str) -> str:
    return (f"#!{python}\n"
            f'"""Schema-only stand-in for {source} {version} (tests/infra/tfschema)."""\n'
            "import os\nimport sys\n\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            f"os.environ['HOME'] = {str(home)!r}  # tf keeps its TLS certificate under ~/.cache\n"
            "from tests.infra.tfschema.plugin import serve  # noqa: E402\n\n"
            f"serve({source!r}, {str(schema)!r})\n")


def cli_config(path: Path, mirror: Path, stand_ins: list[StandIn],
               aws_mirror: Path | None = None) -> Path:
    """A CLI configuration: the stand-ins from ``mirror``, hashicorp/aws from ``aws_mirror``, and
    no registry at all for hashicorp providers."""
    sources = ", ".join(f'"{s.source}"' for s in stand_ins)
    text = ("provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = [{sources}]\n  }}\n')
    if aws_mirror is not None:
        text += (f'  filesystem_mirror {{\n    path    = "{aws_mirror}"\n'
                 '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n')
    text += '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    path.write_text(text)
    return path
