"""What the documents tell people to type is what the programs accept.

Two kinds of command: the terminal's ``ackflow …`` (its subcommands and options, from the click tree)
and what a person writes in Chat (job types, their options and their Japanese names, from the
registry the deployment builds). The office's guide (docs/ja) is checked hardest: its example
conversations go through the same parser the webhook uses, and an example shown as refused must
be refused.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex

import click
import pytest

from ackflow.errors import UsageError
from ackflow.jobs.normalize import normalize
from ackflow.jobs.params import split_words
from ackflow.settings import Settings
from ackflow_tools.cli.main import cli
from tests.docs.support import DOCS, GUIDE, ROOT, code, fences, register_the_example, text
from workers.job_types import build_registry
from workers.office.issuer import SAMPLE

TODAY = dt.date(2026, 11, 28)  # the guide's examples are written on this day (12月1日 is the next one)
SHELL_STOPS = {"|", "||", "&&", ";", "&", ">", ">>", "2>&1", "\\"}


@pytest.fixture(scope="module")
def registry():
    return build_registry(Settings())


@pytest.fixture(scope="module")
def with_the_example():
    """The deployment's job types and docs/job-types.md's example (``report``), which that page
    tells people to try once they have added it."""
    registry = build_registry(Settings())
    register_the_example(registry)
    return registry


@pytest.fixture
def office_with_an_issuer(monkeypatch):
    """The sample issuer `ackflow dev` runs with: `invoice` refuses before any card without one."""
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", SAMPLE.name)
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", SAMPLE.registration)
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", SAMPLE.bank_account)


# -- the terminal -----------------------------------------------------------------------------------
def ackflow_commands():
    """Each ``ackflow …`` in the documents' code, as its words (quotes and a trailing comment gone)."""
    for piece in code():
        for match in re.finditer(r"(?:^|[\s(/])(?:\.venv/bin/)?ackflow(\s.*)?$", piece.text):
            rest = re.split(r"\s#\s", match.group(1) or "")[0]
            try:
                words = shlex.split(rest)
            except ValueError:  # a quote closed on the next line
                words = rest.split()
            if words:
                yield piece, words


def cli_problems(words: list[str]) -> list[str]:
    command: click.Command = cli
    path = ["ackflow"]
    i = 0
    while i < len(words) and isinstance(command, click.Group):
        word = words[i]
        if word in command.commands:
            command = command.commands[word]
            path.append(word)
            i += 1
        elif re.fullmatch(r"[a-z][a-z-]*", word):
            return [f"{' '.join(path)} has no subcommand {word}"]
        else:
            break
    options = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    problems = []
    for word in words[i:]:
        if word in SHELL_STOPS:
            break
        name = word.split("=", 1)[0]
        if name.startswith("-") and not re.fullmatch(r"-\d.*", name) and name not in options | {"--help", "-h"}:
            problems.append(f"{' '.join(path)} has no option {name}")
    return problems


def test_every_documented_ackflow_command_and_option_exists():
    seen = list(ackflow_commands())
    assert len(seen) > 100  # the documents are read, not skipped
    wrong = [f"{piece}: {problem}" for piece, words in seen for problem in cli_problems(words)]
    assert wrong == []


def test_the_check_catches_a_wrong_subcommand_or_option():
    assert cli_problems(["mail", "unshown", "--limit", "5"]) == []
    assert cli_problems(["jobs", "shw"]) == ["ackflow jobs has no subcommand shw"]
    assert cli_problems(["dev", "--storage", "drive", "--sqs"]) == ["ackflow dev has no option --sqs"]


def test_every_command_of_the_cli_is_documented():
    docs = text()
    missing = []

    def walk(command: click.Command, path: list[str]) -> None:
        if path and f"ackflow {' '.join(path)}" not in docs:
            missing.append(" ".join(path))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, [])
    assert missing == []


def test_the_module_map_names_every_cli_command():
    # docs/architecture.md, "Where the code lives": the row of ackflow_tools/cli/
    row = next(line for line in (ROOT / "docs" / "architecture.md").read_text().splitlines()
               if line.startswith("| `ackflow_tools/cli/`"))
    assert [name for name in cli.commands if f"`{name}" not in row] == []


# -- Chat -------------------------------------------------------------------------------------------
def chat_lines():
    """What the documents show a person writing to the app: ``ackflow chat '…'``/``ackflow dialog``
    examples, ``@Ackflow …`` in a conversation, and code that starts with a command's name."""
    for piece in code():
        quoted = re.findall(r"ackflow (?:chat|dialog) (?:'([^']*)'|\"([^\"]*)\"|(\S+))", piece.text)
        for single, double, bare in quoted:
            yield piece, single or double or bare
        said = re.search(r"@Ackflow (.+)$", piece.text)
        if said:
            yield piece, said.group(1)
        elif not quoted and not piece.text.lstrip().startswith(("ackflow", ".venv")):
            yield piece, piece.text.split("←")[0].split(" # ")[0]


def job_type_of(registry, line: str):
    words = line.strip().lstrip("/").split()
    name = registry.resolve(normalize(words[0])) if words else None
    return registry.get(name) if name in registry else None


def test_every_option_and_japanese_name_written_after_a_command_exists(with_the_example):
    registry = with_the_example
    wrong = []
    checked = 0
    for piece, line in chat_lines():
        job_type = job_type_of(registry, line)
        if job_type is None:
            continue
        checked += 1
        options = {p.option for p in job_type.params if not p.positional}
        aliases = {a for p in job_type.params for a in p.aliases}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line):
            if option not in options:
                wrong.append(f"{piece}: {job_type.name} has no option {option}")
        for alias in re.findall(r"(?:^|[\s\[])[:：]?([^\s\x00-\x7f:：\[\]「」\"'`]+)[：:]", line):
            if alias not in aliases:
                wrong.append(f"{piece}: {job_type.name} has no option named {alias}")
    assert checked > 60
    assert wrong == []


def guide_conversation(registry):
    """(where, what the person wrote, what the app answered first) for each exchange of the guide,
    and each line of a block that lists commands (with nothing answered)."""
    for path in GUIDE:
        for block in fences(path):
            for at, (number, line) in enumerate(block):
                said = re.search(r"@Ackflow (.+)$", line)
                if said:
                    answer = next((rest for _, rest in block[at + 1:] if rest.startswith("Ackflow:")), "")
                    yield f"{path.relative_to(ROOT)}:{number}", said.group(1), answer
                elif line.strip() and registry.resolve(normalize(line.split()[0])):  # a list of commands
                    yield f"{path.relative_to(ROOT)}:{number}", line.split("←")[0].strip(), ""


def read_as_the_webhook_does(registry, line: str):
    """The job type and its parameters, as ``commands.handle_text`` reads a message; UsageError or
    LookupError (no such command) as it refuses one."""
    words = split_words(line)
    name = registry.resolve(words[0].lstrip("/"))
    if name is None:
        raise LookupError(words[0])
    if name not in registry:
        return name, None  # a command answered at once (case, 状況, …)
    return name, registry.get(name).parse(words[1:], TODAY)


@pytest.mark.usefixtures("office_with_an_issuer")
def test_the_guides_examples_are_read_as_it_says(registry):
    results = []
    for where, line, answer in guide_conversation(registry):
        try:
            read_as_the_webhook_does(registry, line)
            outcome = "read"
        except UsageError:
            outcome = "refused"
        except LookupError:
            outcome = "unknown"
        expected = ("refused" if answer.startswith("Ackflow: 読み取れませんでした")
                    else "unknown" if "というコマンドはありません" in answer else "read")
        results.append((where, line, outcome, expected))
    assert len(results) >= 12
    assert [r for r in results if r[2] != r[3]] == []
    assert {r[3] for r in results} == {"read", "refused", "unknown"}  # each kind of example is checked


@pytest.mark.usefixtures("office_with_an_issuer")
def test_every_quoted_chat_example_is_read(with_the_example):
    registry = with_the_example
    wrong = []
    for piece in code():
        for single, double in re.findall(r"ackflow chat (?:'([^']*)'|\"([^\"]*)\")", piece.text):
            line = single or double
            if line.startswith("/"):
                continue  # a slash command opens its form (docs/running.md, "Forms")
            try:
                read_as_the_webhook_does(registry, line)
            except (UsageError, LookupError) as exc:
                wrong.append(f"{piece}: {line!r}: {exc}")
    assert wrong == []


def test_the_guides_command_table_pairs_each_japanese_name_with_its_command(registry):
    rows = [line for line in (ROOT / "docs" / "ja" / "README.md").read_text().splitlines()
            if re.match(r"^\| `[^`]+`[^|]* \| `[a-z]+` \|", line)]
    assert len(rows) >= 13
    wrong = []
    for row in rows:
        japanese, english = re.match(r"^\| `([^`]+)`[^|]* \| `([a-z]+)` \|", row).groups()
        if registry.resolve(japanese.split()[0]) != english:
            wrong.append(row)
    assert wrong == []
    listed = {re.match(r"^\| `[^`]+`[^|]* \| `([a-z]+)` \|", row).group(1) for row in rows}
    offered = {jt.name for jt in registry if not jt.schedule and jt.name not in ("echo", "sleep", "fail")}
    assert offered | set(registry.commands) | {"help", "status", "jobs", "cancel", "retry"} <= listed


def test_deploy_lists_every_slash_command_and_which_open_a_form(registry):
    from ackflow.app.commands import BUILTIN_IDS

    deploy = (ROOT / "docs" / "deploy.md").read_text()
    step = deploy[deploy.index("5. Slash commands"):deploy.index("6. Visibility")]
    step = " ".join(step.split())
    ids = dict(BUILTIN_IDS)
    ids.update({jt.slash_command_id: jt.name for jt in registry if jt.slash_command_id})
    ids.update({c.slash_command_id: c.name for c in registry.commands.values() if c.slash_command_id})
    assert [f"/{name} {number}" for number, name in ids.items() if f"`/{name}` {number}" not in step] == []
    dialogs = step[step.index("Opens a dialog"):]
    forms = [jt.name for jt in registry if jt.slash_command_id and jt.params and not jt.schedule]
    assert [name for name in forms if f"`/{name}`" not in dialogs] == []


def test_documents_are_found():
    assert ROOT / "docs" / "ja" / "README.md" in DOCS and len(GUIDE) >= 5


def test_running_md_lists_every_command_with_its_options_and_japanese_names(registry):
    # docs/running.md, "Commands in Chat": the developers' list of what a person may write, each
    # command with its Japanese name (in brackets) and every option of a job type in its usage
    page = (ROOT / "docs" / "running.md").read_text()
    table = page[page.index("## Commands in Chat"):page.index("Every job command answers")]
    usages: dict[str, tuple[str, str]] = {}  # command → (its usage as written, the row's first cell)
    for cell in (line.split(" | ")[0] for line in table.splitlines() if line.startswith("| `")):
        for usage in re.findall(r"`([a-z][^`]*)`", cell):
            usages.setdefault(usage.split()[0], (usage, cell))
    offered = {jt.name for jt in registry if not jt.schedule} | set(registry.commands)
    offered |= {"help", "status", "jobs", "cancel", "retry"}
    assert sorted(offered - set(usages)) == []
    wrong = []
    for job_type in (registry.get(name) for name in offered if name in registry):
        usage, cell = usages[job_type.name]
        brackets = " ".join(re.findall(r"\(([^)`]*)\)", cell)).replace("/", " ").split()
        if job_type.native_name and job_type.native_name not in brackets:
            wrong.append(f"{job_type.name}: its Japanese name {job_type.native_name} is not given")
        written = set(re.findall(r"--[a-z][a-z0-9-]*", usage))
        wrong += [f"{job_type.name}: {p.option} is not in its usage" for p in job_type.params
                  if not p.positional and p.option not in written]
    assert wrong == []


def benchmark_options():
    """Each ``benchmarks/NAME.py --option`` the documents show: (where, the script, the option)."""
    for piece in code():
        for match in re.finditer(r"benchmarks/(\w+)\.py((?:\s+(?!#)\S+)*)", piece.text):
            for option in re.findall(r"(?<!\S)(--[a-z][a-z0-9-]*)", match.group(2)):
                yield piece, match.group(1), option


def test_every_documented_benchmark_option_exists():
    seen = list(benchmark_options())
    assert len(seen) > 15
    sources = {name: (ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8") for _, name, _ in seen}
    assert [f"{piece}: benchmarks/{name}.py has no {option}" for piece, name, option in seen
            if not re.search(rf"add_argument\(\s*\"{option}\"", sources[name])] == []
