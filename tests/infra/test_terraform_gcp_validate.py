"""`terraform validate` of the Google Cloud root module, with no registry: `terraform init` installs
schema-only stand-ins of hashicorp/google 6.50.0 and hashicorp/archive 2.7.1 (tests/infra/tfschema),
and Terraform checks the module against their schemas. Errors seeded into a copy of the module show
that the check has teeth, and that the diagnostics point at the right file and line. All but one
are Terraform's own checks against the schema; a value for a computed-only attribute is refused by
the stand-in, as the real provider does."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.hcl import GCP, ROOT
from tests.infra.tools import stand_in_cli_config, terraform, terraform_env

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


def run(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([terraform(), *args, "-no-color"], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def initialized(tmp_path_factory):
    """A copy of the module, initialized against the stand-ins (the repository stays clean)."""
    directory = tmp_path_factory.mktemp("tf-gcp-validate")
    stand_in_cli_config(directory)
    env = terraform_env(directory)
    module = directory / "checkout" / "infra" / "terraform"
    ignore = shutil.ignore_patterns(".terraform*", "*.tfstate*", ".build", "aws")
    shutil.copytree(GCP, module, ignore=ignore)
    # the module reads ../../functions/*.json, so the copy keeps that relative path
    (directory / "checkout" / "functions").symlink_to(ROOT / "functions")
    result = run(["init", "-backend=false", "-input=false"], module, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return module, env


def validate(module: Path, env: dict) -> dict:
    result = run(["validate", "-json"], module, env)
    return json.loads(result.stdout)


def test_the_module_is_valid(initialized):
    report = validate(*initialized)
    assert report["valid"], json.dumps(report["diagnostics"], indent=2)
    assert report["error_count"] == 0 and report["warning_count"] == 0, report["diagnostics"]


@dataclass(frozen=True)
class Seed:
    """An error put into one file of the copy: ``old`` replaced by ``new`` ("" old: appended)."""

    file: str
    old: str
    new: str
    summary: str  # what Terraform calls the error
    detail: str  # a telling part of its detail


UNKNOWN_TYPE = '\nresource "google_cloud_task_queue" "extra" {\n  name = "x"\n}\n'
SEEDS = {
    "misspelled argument": Seed("functions.tf", "  force_destroy  ", "  force_destory  ",
                                "Unsupported argument", 'Did you mean "force_destroy"?'),
    "missing required argument": Seed("queues.tf", "  location = var.region\n", "",
                                      "Missing required argument",
                                      'The argument "location" is required'),
    "block written as an argument": Seed("functions.tf", "  versioning {\n", "  versioning = {\n",
                                         "Unsupported argument",
                                         'define a block of type "versioning"'),
    "unknown resource type": Seed("queues.tf", "", UNKNOWN_TYPE, "Invalid resource type",
                                  'Did you mean "google_cloud_tasks_queue"?'),
    "computed-only attribute set": Seed("queues.tf", "    max_dispatches_per_second",
                                        "    max_burst_size = 10\n    max_dispatches_per_second",
                                        "Value for unconfigurable attribute",
                                        'Can\'t configure a value for "max_burst_size"'),
    "unknown attribute in a reference": Seed("scheduler.tf", ".invoker.email\n",
                                             ".invoker.emails\n", "Unsupported attribute",
                                             'Did you mean "email"?'),
}


def seed(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` (or append ``new`` when ``old`` is empty); the 1-based line where
    Terraform should report the error: the changed line, or the header of the block it is in."""
    text = path.read_text()
    if not old:
        path.write_text(text + new)
        return (text + new).count("\n", 0, len(text) + new.index("resource")) + 1
    at = text.index(old)
    path.write_text(text[:at] + new + text[at:].replace(old, "", 1))
    if new:
        return text.count("\n", 0, at) + 1
    return text.count("\n", 0, text.rindex("\nresource ", 0, at) + 1) + 1  # the enclosing resource


@pytest.mark.parametrize("name", SEEDS)
def test_a_seeded_error_fails_validate_at_its_file_and_line(initialized, tmp_path, name):
    module, env = initialized
    error = SEEDS[name]
    copy = tmp_path / "infra" / "terraform"
    shutil.copytree(module, copy, symlinks=True)  # with its .terraform: no second init
    (tmp_path / "functions").symlink_to(ROOT / "functions")
    line = seed(copy / error.file, error.old, error.new)

    report = validate(copy, env)

    assert not report["valid"]
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    where = [(d["summary"], d["range"]["filename"], d["range"]["start"]["line"]) for d in errors]
    assert where == [(error.summary, error.file, line)], errors
    assert error.detail in errors[0]["detail"]


def test_the_firestore_indexes_terraform_declares_are_the_stores_composite_ones(initialized):
    """What Terraform itself makes of infra/terraform/firestore.tf (``terraform console``, no state,
    no cloud): one google_firestore_index per composite index of functions/ackflow/store/indexes.json
    that Firestore needs (not the SQLite-only ones), on the collection the functions and the
    console read (``ACKFLOW_FIRESTORE_PREFIX``), each field in its order and direction.
    tests/store/test_index_coverage.py checks each query the console sends against indexes.json."""
    import re

    from ackflow.settings import Settings

    module, env = initialized

    def evaluated(expression: str):
        result = subprocess.run([terraform(), "console", "-no-color"], cwd=module, env=env,
                                input=f"jsonencode({expression})\n", capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return json.loads(json.loads(result.stdout.strip()))  # an HCL string holding JSON

    made, prefix = evaluated("local.composite_indexes"), evaluated("local.collection_prefix")
    declared = json.loads((ROOT / "functions" / "ackflow" / "store" / "indexes.json").read_text())["collections"]
    wanted = sorted((prefix + collection, [list(field) for field in index["fields"]])
                    for collection, indexes in declared.items() for index in indexes
                    if index.get("only", "firestore") == "firestore")
    assert sorted((index["collection"], index["fields"]) for index in made) == wanted
    assert all(len(fields) >= 2 for _, fields in wanted)  # Firestore takes no single-field composite index
    assert len({index["key"] for index in made}) == len(made)
    functions = (module / "functions.tf").read_text()
    assert re.search(r"ACKFLOW_FIRESTORE_PREFIX\s*=\s*local\.collection_prefix", functions)
    assert Settings.model_fields["firestore_prefix"].default == prefix  # the console's default, too
    firestore = (module / "firestore.tf").read_text()
    resource = firestore.split('resource "google_firestore_index" "jobs" {', 1)[1].split("\n}\n", 1)[0]
    assert "for_each = { for index in local.composite_indexes : index.key => index }" in resource
    assert "collection = each.value.collection" in resource and "for_each = each.value.fields" in resource
    assert "field_path = fields.value[0]" in resource and "order      = fields.value[1]" in resource
