"""Reading the documentation the way its tests check it: which files, and the code in them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the English docs, the README and the office's Japanese guide
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "ja").glob("*.md")))
GUIDE = tuple(sorted((ROOT / "docs" / "ja").glob("*.md")))


@dataclass(frozen=True)
class Code:
    """A piece of code in a document: an inline span or a line of a fenced block."""

    path: Path
    line: int
    text: str
    fenced: bool

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.text.strip()[:100]}"


def code(paths=DOCS) -> Iterator[Code]:
    for path in paths:
        fence = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fence = not fence
                continue
            if fence:
                yield Code(path, number, line, True)
            else:
                for span in re.findall(r"`([^`\n]+)`", line):
                    yield Code(path, number, span, False)


def fences(path: Path) -> Iterator[list[tuple[int, str]]]:
    """The fenced blocks of a document, each as its numbered lines."""
    block: list[tuple[int, str]] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            if block is None:
                block = []
            else:
                yield block
                block = None
        elif block is not None:
            block.append((number, line))


def text(paths=DOCS) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def job_type_example() -> tuple[str, str]:
    """docs/job-types.md's example module: the path its first line names, and its code."""
    found = re.search(r"```python\n(# (functions/\S+\.py)\n.*?)```",
                      (ROOT / "docs" / "job-types.md").read_text(encoding="utf-8"), re.S)
    assert found, "docs/job-types.md has no example module"
    return found.group(2), found.group(1)


def job_type_example_tests() -> tuple[str, str]:
    """docs/job-types.md's tests of its example (section 7): the path its first line names, and its code."""
    found = re.search(r"```python\n(# (tests/\S+\.py)\n.*?)```",
                      (ROOT / "docs" / "job-types.md").read_text(encoding="utf-8"), re.S)
    assert found, "docs/job-types.md has no tests of its example"
    return found.group(2), found.group(1)


def register_the_example(registry) -> None:
    """Add docs/job-types.md's example job type to ``registry``, as adding it to MODULES does."""
    import types

    module = types.ModuleType("doc_example_report")
    exec(compile(job_type_example()[1], "docs/job-types.md", "exec"), module.__dict__)
    if "report" not in registry:  # a checkout where someone has added it, as the page says
        module.register(registry)
