"""The Cloud Functions source archive, built as Terraform's ``archive_file`` builds it.

The source directory and the exclude patterns are read from ``infra/terraform/functions.tf``, so
the archive checked here is the one ``terraform apply`` uploads. Exclude patterns follow the
archive provider's doublestar globs, matched against paths relative to the source directory
(``**/`` is zero or more directories; ``*`` and ``?`` stay within one path segment).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tests.infra.hcl import GCP, load_module

DEV_ONLY = ("ackflow_tools/", "ackflow/emulators/", "ackflow/devtools/", "ackflow/cli/", "tests/",
            "benchmarks/")
JUNK = ("__pycache__/", ".pyc", ".egg-info/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", "pyvenv.cfg",
        "site-packages/", ".venv/", ".DS_Store", ".ackflow/")
# a developer's settings, keys and local databases dropped into functions/ must never ship
PRIVATE = (".env", ".pem", ".key", ".p12", ".db", ".sqlite", ".sqlite3", "-journal", "-wal")
SOURCES_ONLY = (".po", ".pot")  # translation sources: only the compiled .mo catalogs are read at run time


@dataclass(frozen=True)
class ArchiveSpec:
    source_dir: Path
    excludes: tuple[str, ...]


def archive_spec() -> ArchiveSpec:
    module = load_module(GCP)
    for block in module.get("data", []):
        body = block.get("archive_file", {}).get("source")
        if body:
            source = body["source_dir"].replace("${path.module}", str(GCP))
            return ArchiveSpec(Path(source).resolve(), tuple(body.get("excludes", ())))
    raise AssertionError("infra/terraform has no data.archive_file.source")


@lru_cache(maxsize=64)
def _pattern(glob: str) -> re.Pattern:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def excluded(relative: str, excludes: tuple[str, ...]) -> bool:
    return any(_pattern(glob).match(relative) for glob in excludes)


def archive_files(spec: ArchiveSpec) -> list[str]:
    """The relative paths the archive holds, sorted."""
    found = []
    for path in sorted(spec.source_dir.rglob("*")):
        relative = path.relative_to(spec.source_dir).as_posix()
        if path.is_file() and not excluded(relative, spec.excludes):
            found.append(relative)
    return found


def build_archive(spec: ArchiveSpec, output: Path) -> list[str]:
    files = archive_files(spec)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            archive.write(spec.source_dir / relative, relative)
    return files


def unwanted(files: list[str]) -> list[str]:
    """Files that must not be deployed: developer-only code, caches, egg-info, virtualenvs, sources
    of what is compiled."""
    return [f for f in files if f.startswith(DEV_ONLY) or f.endswith(SOURCES_ONLY)
            or any(j in f"/{f}" or f.endswith(j) for j in JUNK)
            or f.rsplit("/", 1)[-1].startswith(".env") or f.endswith(PRIVATE)]
