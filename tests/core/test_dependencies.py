"""One dependency list: functions/requirements.txt is generated from pyproject.toml, and every
declared runtime dependency is imported by the code that declares it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requirements_txt_is_what_the_generator_writes():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-requirements"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_check_fails_on_a_hand_edit(tmp_path):
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    (copy / "functions").mkdir()
    (copy / "scripts" / "gen-requirements").write_text((ROOT / "scripts" / "gen-requirements").read_text())
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (copy / "functions" / "requirements.txt").write_text(
        (ROOT / "functions" / "requirements.txt").read_text() + "CacheControl>=0.14\n")
    result = subprocess.run([sys.executable, str(copy / "scripts" / "gen-requirements"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "stale" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["--chek"]])
def test_help_or_a_mistyped_option_writes_nothing(tmp_path, args):
    """``--help`` (and a mistyped ``--check``) rewrote the file: anything but ``--check`` wrote."""
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    (copy / "functions").mkdir()
    (copy / "scripts" / "gen-requirements").write_text((ROOT / "scripts" / "gen-requirements").read_text())
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (copy / "functions" / "requirements.txt").write_text("hand-edited\n")
    result = subprocess.run([sys.executable, str(copy / "scripts" / "gen-requirements"), *args],
                            capture_output=True, text=True)
    assert (copy / "functions" / "requirements.txt").read_text() == "hand-edited\n"
    assert (result.returncode, "usage:" in result.stdout + result.stderr) == ((0, True) if args == ["--help"]
                                                                             else (2, True))


def _imports(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _provides(distribution: str) -> set[str]:
    """The module names a distribution installs (google.cloud.tasks_v2, bs4, …)."""
    files = metadata.files(distribution) or []
    modules = set()
    for file in files:
        parts = file.parts
        if file.suffix == ".py" and parts and not parts[0].endswith((".dist-info", ".data")):
            modules.add(".".join(parts[:-1] + ((file.stem,) if file.stem != "__init__" else ())))
    return {m for m in modules if m}


def _name(requirement: str) -> str:
    import re

    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]


@pytest.mark.parametrize("extra", [None, "gcp", "office", "aws", "console"])
def test_every_declared_dependency_is_imported(extra):
    project = PYPROJECT["project"]
    declared = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    used = _imports(ROOT / "functions") | _imports(ROOT / "ackflow_tools")
    unused = []
    for requirement in declared:
        provided = _provides(_name(requirement))
        if not any(u == m or u.startswith(m + ".") for u in used for m in provided):
            unused.append(_name(requirement))
    assert not unused, f"declared but never imported: {unused}"


def _declared() -> set[str]:
    project = PYPROJECT["project"]
    names = [_name(r) for r in project["dependencies"]]
    names += [_name(r) for extra in project["optional-dependencies"].values() for r in extra]
    return {n.lower().replace("_", "-") for n in names}


def test_every_package_the_deployed_code_imports_is_declared():
    """What functions/ imports itself is declared itself, never had only through another package
    (which may stop bringing it): e.g. pydantic beside pydantic-settings, fontTools beside fpdf2."""
    local = {path.name for path in (ROOT / "functions").iterdir()} | {"ackflow", "workers", "main"}
    owners = metadata.packages_distributions()
    declared = _declared()
    undeclared = {}
    for module in sorted(_imports(ROOT / "functions")):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in local or top.removesuffix(".py") in local or top not in owners:
            continue
        candidates = set(owners[top])
        if len(candidates) > 1:  # a namespace (google.*): the distributions that install this module
            candidates = {d for d in candidates
                          if any(module == m or module.startswith(m + ".") for m in _provides(d))} or candidates
        if not {d.lower().replace("_", "-") for d in candidates} & declared:
            undeclared[module] = sorted(candidates)
    assert not undeclared, f"imported by functions/ but declared only through other packages: {undeclared}"
