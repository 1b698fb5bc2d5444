"""The parts of a prebuilt cdktf provider wheel that describe the provider's schema.

A wheel such as ``cdktf_cdktf_provider_google-16.12.1-py3-none-any.whl`` carries, under
``<package>/_jsii/``, the npm tarball of the same release. Inside it are the jsii assembly
(``package/.jsii``: every generated class and struct with its typed properties; it may instead be a
small redirect naming a gzip-compressed ``.jsii.gz``) and the generated JavaScript under
``package/lib/``. Nothing is unpacked to disk: the tarball is read in memory.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

SOURCE_MAP = "\n//# sourceMappingURL="


@dataclass(frozen=True)
class Assembly:
    """One cdktf provider package: its jsii types by fully qualified name, and its JavaScript."""

    name: str
    version: str
    types: dict[str, dict]
    javascript: dict[str, str]


def read_wheel(wheel: Path) -> Assembly:
    with zipfile.ZipFile(wheel) as archive:
        [tarball] = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        data = archive.read(tarball)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        files = {member.name: tar.extractfile(member).read()
                 for member in tar if member.isfile() and _wanted(member.name)}
    assembly = _load_assembly(files)
    javascript = {name: _without_source_map(body.decode()) for name, body in files.items()
                  if name.endswith(".js")}
    return Assembly(assembly["name"], assembly["version"], assembly["types"], javascript)


def _wanted(name: str) -> bool:
    if name.startswith("package/.jsii"):
        return True
    return name.startswith("package/lib/") and name.endswith(".js")


def _load_assembly(files: dict[str, bytes]) -> dict:
    assembly = json.loads(files["package/.jsii"])
    if assembly.get("schema") == "jsii/file-redirect":
        # jsii writes a redirect when it compresses the assembly: {"filename": ".jsii.gz", ...}
        body = files["package/" + assembly["filename"]]
        if assembly.get("compression") == "gzip":
            body = gzip.decompress(body)
        assembly = json.loads(body)
    return assembly


def _without_source_map(text: str) -> str:
    """The inline source map (base64, often larger than the code) is of no use here."""
    cut = text.find(SOURCE_MAP)
    return text if cut < 0 else text[:cut]
