"""Everything that is handed the Runtime says so, so an editor (and a reader) knows what
``runtime.store`` or ``runtime.settings`` is: every parameter and field named ``runtime`` in the
deployed code and the tools is annotated ``Runtime``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def untyped_runtimes(paths, root: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                named = [(a.annotation, f"{node.name}()") for a in arguments if a.arg == "runtime"]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "runtime":
                named = [(node.annotation, "a field")]
            else:
                continue
            for annotation, where in named:
                if annotation is None or "Runtime" not in ast.unparse(annotation):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {where}")
    return found


def test_every_runtime_is_annotated_runtime():
    paths = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "ackflow_tools").rglob("*.py")]
    assert untyped_runtimes(paths) == []


def test_the_check_finds_an_untyped_runtime(tmp_path):
    (tmp_path / "m.py").write_text("from dataclasses import dataclass\nfrom typing import Any\n\n"
                                   "def f(runtime, x): ...\n\ndef g(runtime: 'Runtime'): ...\n\n"
                                   "@dataclass\nclass C:\n    runtime: Any\n")
    assert untyped_runtimes([tmp_path / "m.py"], tmp_path) == ["m.py:4 f()", "m.py:10 a field"]
