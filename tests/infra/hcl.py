"""Reading Terraform files with python-hcl2, normalised: quotes stripped from keys and strings."""

from __future__ import annotations

from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
GCP = ROOT / "infra" / "terraform"
AWS = GCP / "aws"


def _clean(value):
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def load_module(directory: Path) -> dict[str, list]:
    """Every top-level block of every .tf file in ``directory``, merged by kind."""
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            parsed = _clean(hcl2.load(handle))
        for kind, blocks in parsed.items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def resources(module: dict, resource_type: str | None = None) -> dict[tuple[str, str], dict]:
    found = {}
    for block in module.get("resource", []):
        for rtype, named in block.items():
            for name, body in named.items():
                if resource_type is None or rtype == resource_type:
                    found[(rtype, name)] = body
    return found


def blocks(module: dict, kind: str) -> dict[str, dict]:
    return {name: body for block in module.get(kind, []) for name, body in block.items()}


def locals_of(module: dict) -> dict:
    merged = {}
    for block in module.get("locals", []):
        merged.update(block)
    return merged
