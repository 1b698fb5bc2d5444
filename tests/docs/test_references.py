"""What the documents name exists: the ACKFLOW_* variables, the files and folders, the packages.

The settings' own documentation (every setting in docs/configuration.md with its real default) is
checked next to the settings, in tests/core/test_settings.py.
"""

from __future__ import annotations

import re

import click

from ackflow.settings import Settings
from ackflow_tools.cli.main import cli
from tests.docs.support import ROOT, code, text
from workers.office.settings import OfficeSettings

# paths the documents name that are not in the repository, on purpose
NOT_IN_THE_REPOSITORY = {
    "functions/workers/job_types/report.py": "docs/job-types.md's example of a job type to write",
    "tests/e2e/test_report.py": "docs/job-types.md's tests of that example",
    "functions/workers/office/fonts/": "made by scripts/vendor-font before a deployment",
}
ROOTS = ("functions/", "ackflow_tools/", "tests/", "scripts/", "benchmarks/", "infra/", "docs/", ".ci/")


def tracked() -> list[str]:
    """The project's own files (relative paths), from the folders the documents talk about."""
    names = []
    for top in ("functions", "ackflow_tools", "tests", "benchmarks", "scripts", "infra", "docs", ".ci"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and ".terraform" not in path.parts:
                names.append(path.relative_to(ROOT).as_posix())
    return names


def cli_option_variables(command: click.Command = cli, prefix: str = "ACKFLOW") -> set[str]:
    """The variables click reads for the CLI's options (``auto_envvar_prefix``), and their envvars."""
    names = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.add(f"{prefix}_{param.name.upper()}")
            names.update([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
    for name, sub in getattr(command, "commands", {}).items():
        names |= cli_option_variables(sub, f"{prefix}_{name.replace('-', '_').upper()}")
    return names


def test_every_documented_ackflow_variable_is_a_setting_or_read_by_the_code():
    settings = {f"ACKFLOW_{n.upper()}" for n in Settings.model_fields}
    settings |= {f"ACKFLOW_OFFICE_{n.upper()}" for n in OfficeSettings.model_fields}
    documented = set(re.findall(r"ACKFLOW_[A-Z0-9_]*[A-Z0-9]", text()))
    documented -= {"ACKFLOW_OFFICE"}  # ACKFLOW_OFFICE_*, the office's prefix
    others = documented - settings - cli_option_variables()
    sources = "\n".join((ROOT / name).read_text(encoding="utf-8", errors="replace") for name in tracked()
                        if name.endswith(".py") or name.startswith(("scripts/", ".ci/")))
    assert sorted(name for name in others if not re.search(rf"\b{name}\b", sources)) == []


def test_every_variable_the_tools_read_is_documented():
    # a variable the code reads with os.environ, outside the settings (which configuration.md lists)
    reads = set()
    for name in tracked():
        if name.endswith(".py") and name.startswith(("ackflow_tools/", "functions/", "tests/", "benchmarks/")):
            source = (ROOT / name).read_text(encoding="utf-8")
            reads |= set(re.findall(r"environ(?:\.get)?[(\[]\s*\"(ACKFLOW_[A-Z0-9_]+)\"", source))
            reads |= set(re.findall(r"envvar=\"(ACKFLOW_[A-Z0-9_]+)\"", source))
    for name in tracked():
        if name.startswith("scripts/"):
            reads |= set(re.findall(r"\$\{(ACKFLOW_[A-Z0-9_]+)", (ROOT / name).read_text(encoding="utf-8")))
    assert len(reads) > 5
    # ACKFLOW_CHAOS_LOG and ACKFLOW_TEST_PAUSE_FILE pass a file between a test and the job types it starts
    internal = {"ACKFLOW_CHAOS_LOG", "ACKFLOW_TEST_PAUSE_FILE"}
    documented = text()
    assert sorted(name for name in reads - internal if name not in documented) == []


def test_every_path_the_documents_name_exists():
    files = set(tracked())
    folders = {name.rsplit("/", i)[0] + "/" for name in files for i in range(1, name.count("/") + 1)}
    missing = []
    for piece in code():
        for path in re.findall(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]*)", piece.text):
            if not path.startswith(ROOTS) or "…" in path or "*" in path or path in NOT_IN_THE_REPOSITORY:
                continue
            if path.rstrip(".") not in files and path not in folders and path + "/" not in folders:
                missing.append(f"{piece}: {path}")
    assert missing == []


def test_the_module_map_names_every_package():
    # docs/architecture.md, "Where the code lives", and development.md, "Where things are", name each
    # package of the library, the workers, the office workflow and the tools; architecture.md's table
    # has a row for each of the tools' packages
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    development = (ROOT / "docs" / "development.md").read_text()
    parents = ("functions/ackflow", "functions/workers", "functions/workers/office", "ackflow_tools")
    packages = sorted({name.rsplit("/", 1)[0] for name in tracked() if name.endswith("/__init__.py")
                       and name.count("/") >= 2 and name.rsplit("/", 2)[0] in parents})
    assert len(packages) > 12
    unnamed = [package for package in packages if f"{package.rsplit('/', 1)[1]}/" not in architecture + development]
    assert unnamed == []
    rows = [f"{package}/" for package in packages if package.startswith("ackflow_tools/")]
    rows += ["functions/ackflow/", "functions/workers/", "functions/chat_webhook/"]
    assert [row for row in rows if f"| `{row}`" not in architecture and f", `{row}`" not in architecture] == []


def heading_anchors(path) -> set[str]:
    """The anchors GitHub gives a document's headings (lower case, punctuation dropped, spaces as -)."""
    prose = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
            for title in re.findall(r"^#+\s+(.*)$", prose, re.M)}


def test_every_link_between_the_documents_reaches_its_file_and_heading():
    from tests.docs.support import DOCS

    links, broken = 0, []
    for path in DOCS:
        prose = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
        prose = re.sub(r"`[^`\n]*`", "", prose)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            links += 1
            name, _, anchor = target.partition("#")
            linked = (path.parent / name).resolve() if name else path
            if not linked.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}: no such file")
            elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
                broken.append(f"{path.relative_to(ROOT)}: {target}: no such heading")
    assert links > 40
    assert broken == []


def test_every_test_the_documents_cite_exists():
    # `tests/e2e/test_lease.py::test_a_retry_…` (… stands for the words left out): a test renamed or
    # removed leaves a claim with no evidence
    cited, missing = 0, []
    for piece in code():
        for path, name in re.findall(r"((?:tests|benchmarks)/[\w/]+\.py)::([\w…]+)", piece.text):
            cited += 1
            source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).is_file() else ""
            words = [word for word in name.split("…") if word]
            if not any(all(word in test for word in words) for test in re.findall(r"def (test_\w+)", source)):
                missing.append(f"{piece}: {path}::{name}")
    assert cited > 15
    assert missing == []


def test_the_local_column_of_configuration_md_is_what_ackflow_dev_sets():
    # docs/configuration.md's "local (`ackflow dev`)" column, where it gives a value, against the
    # settings `ackflow dev` gives the functions with its default options (or the setting's default)
    import json
    from pathlib import Path

    from ackflow_tools.cli.common import DEV_DIR
    from ackflow_tools.cli.dev import DEFAULT_PORTS
    from ackflow_tools.devtools.stack import LocalStack, StackConfig

    stack = LocalStack(StackConfig(workdir=Path(DEV_DIR), ports=dict(DEFAULT_PORTS), console=True, language="ja",
                                   time_zone="Asia/Tokyo"))
    settings = stack.settings()

    def shown(value) -> str:
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return json.dumps(value) if isinstance(value, list | dict | tuple) else str(value)

    checked, wrong = 0, []
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\| `ACKFLOW_([A-Z0-9_]+)` \| [^|]* \| [^|]* \| `([^`]*)`", line)
        if row and hasattr(settings, row.group(1).lower()):
            checked += 1
            actual = shown(getattr(settings, row.group(1).lower()))
            if actual != row.group(2):
                wrong.append(f"ACKFLOW_{row.group(1)}: the page says {row.group(2)!r}, ackflow dev sets {actual!r}")
    assert checked > 20
    assert wrong == []
