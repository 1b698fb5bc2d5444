"""The boilerplate case folder: a tree whose folder and file names, and the contents of its text
files, are templates (``${case}``, ``${client}``, ``${title}``, ``${due}``, ``${date}``, ``${year}``,
``${requester}``). Binary files (CAD templates, images) are copied as they are.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from .storage import CaseStorage

TEXT_SUFFIXES = {".txt", ".md", ".csv", ".json", ".html", ".xml", ".ini", ".yaml", ".yml", ".tsv"}


def render_name(name: str, values: dict[str, str]) -> str:
    """A template file or folder name with the values put in. The values are safe components
    already (``names.safe_component``), so the result cannot leave its folder; checked anyway."""
    rendered = Template(name).safe_substitute(values)
    if "/" in rendered or "\\" in rendered or rendered in ("", ".", ".."):
        raise ValueError(f"template name {name!r} renders to an unsafe name {rendered!r}")
    return rendered


def render_tree(template_dir: str | Path, storage: CaseStorage, folder: str, name_values: dict[str, str],
                text_values: dict[str, str]) -> dict[str, list[str]]:
    """Copy the template into ``folder``: new files are written, existing ones are left alone.
    ``name_values`` go into file and folder names and must be safe path components
    (``names.safe_component``); ``text_values`` go into the text files as written."""
    root = Path(template_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"the case template {root} does not exist")
    created, kept = [], []
    for source in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = source.relative_to(root)
        parts = [render_name(part, name_values) for part in relative.parts]
        target = "/".join([folder, *parts])
        data = source.read_bytes()
        if source.suffix.lower() in TEXT_SUFFIXES:
            data = Template(data.decode("utf-8")).safe_substitute(text_values).encode("utf-8")
        (created if storage.create(target, data) else kept).append(target)
    return {"created": created, "kept": kept}
