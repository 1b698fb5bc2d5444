"""Settings from the environment: defaults, lists, JSON, and clear errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from ackflow.errors import ConfigError
from ackflow.settings import Settings, describe, load_settings


def test_lists_and_json_from_environment_strings(monkeypatch):
    monkeypatch.setenv("ACKFLOW_ALLOW_DOMAINS", "example.com, office.jp")
    monkeypatch.setenv("ACKFLOW_COMMAND_ACCESS", '{"newcase": {"users": ["a@example.com"]}}')
    settings = load_settings()
    assert settings.allow_domains == ["example.com", "office.jp"]
    assert settings.command_access == {"newcase": {"users": ["a@example.com"]}}


@pytest.mark.parametrize("name, value, expected", [
    ("ACKFLOW_STORE", "postgres", "ACKFLOW_STORE"),
    ("ACKFLOW_WORKER_URL", "worker.example", "must be an http(s) URL"),
    ("ACKFLOW_CONFIRM_TTL", "-5", "ACKFLOW_CONFIRM_TTL"),
    ("ACKFLOW_COMMAND_ACCESS", "{broken", "must be JSON like"),
])
def test_malformed_settings_name_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert expected in str(caught.value) and name in str(caught.value)


def test_start_up_checks_say_what_is_missing():
    with pytest.raises(ConfigError, match="ACKFLOW_PROJECT_NUMBER is required"):
        Settings(chat_auth="project-number", project_number="").check()
    with pytest.raises(ConfigError, match="ACKFLOW_INVOKER_SERVICE_ACCOUNT"):
        Settings(project_number="1").check()
    Settings(project_number="1", invoker_service_account="inv@p.iam.gserviceaccount.com").check()



def test_the_start_up_check_says_every_missing_setting_not_the_first_only(monkeypatch, tmp_path):
    """With the defaults both the project number and the invoker are missing: the check named the
    first, so the next start (or `ackflow config --check`, which says it reports every error) failed
    on the second."""
    from ackflow_tools.cli.main import cli

    with pytest.raises(ConfigError) as caught:
        Settings(chat_auth="project-number", project_number="").check()
    assert "ACKFLOW_PROJECT_NUMBER is required" in str(caught.value)
    assert "ACKFLOW_INVOKER_SERVICE_ACCOUNT" in str(caught.value)
    monkeypatch.chdir(tmp_path)
    for name in ("ACKFLOW_PROJECT_NUMBER", "ACKFLOW_INVOKER_SERVICE_ACCOUNT", "ACKFLOW_WORKER_SIGNERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACKFLOW_TIME_ZONE", "Asia/Tokyo")
    checked = CliRunner().invoke(cli, ["config", "--check"])
    assert checked.exit_code == 1
    assert "Error: ACKFLOW_PROJECT_NUMBER is required" in checked.output, checked.output
    assert "Error: set ACKFLOW_INVOKER_SERVICE_ACCOUNT" in checked.output, checked.output

def test_config_command_masks_secrets(monkeypatch, tmp_path):
    from ackflow_tools.cli.main import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACKFLOW_RELAY_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----secret")
    monkeypatch.setenv("ACKFLOW_PROJECT", "office-prod")
    monkeypatch.setenv("ACKFLOW_OFFICE_PORTAL_PASSWORD", "portal-secret")
    monkeypatch.setenv("ACKFLOW_OFFICE_FREEE_CLIENT_SECRET", "freee-secret")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    assert "ACKFLOW_PROJECT" in result.output and "office-prod" in result.output
    assert "ACKFLOW_OFFICE_SHEET_ID" in result.output
    for value in ("PRIVATE KEY", "-----secret", "portal-secret", "freee-secret"):  # settings' texts may say "secret"
        assert value not in result.output
    assert result.output.count("********") == 3
    assert len(describe(Settings())) == len(Settings.model_fields)


def test_every_setting_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [f"ACKFLOW_{name.upper()}" for name in Settings.model_fields if f"`ACKFLOW_{name.upper()}`" not in doc]
    assert missing == []


def test_every_office_setting_is_documented():
    from pathlib import Path

    from workers.office.settings import OfficeSettings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [f"ACKFLOW_OFFICE_{n.upper()}" for n in OfficeSettings.model_fields
               if f"`ACKFLOW_OFFICE_{n.upper()}`" not in doc]
    assert missing == []


def documented_defaults() -> dict[str, str]:
    """docs/configuration.md's tables: each variable and its default column, as written."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(ACKFLOW_[A-Z0-9_]+)` \| ([^|]*) \|", doc, flags=re.M)
    assert len(rows) == len({name for name, _ in rows}), "a setting listed twice"
    return {name: default.strip() for name, default in rows}


def shown_default(value) -> str:
    """A default as configuration.md writes it: false, 30 (not 30.0), a list comma-separated, {}."""
    import json
    from pathlib import Path

    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and value >= 1:
        return str(int(value))
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, dict):
        return json.dumps(value)
    root = Path(__file__).resolve().parents[2]
    if isinstance(value, str) and value.startswith(str(root) + "/"):  # a file of the source
        return value[len(str(root)) + 1:]
    return str(value)


def test_every_documented_default_is_the_real_one():
    from workers.office.settings import OfficeSettings

    documented = documented_defaults()
    real = {f"ACKFLOW_{n.upper()}": f.get_default(call_default_factory=True) for n, f in Settings.model_fields.items()}
    real |= {f"ACKFLOW_OFFICE_{n.upper()}": f.get_default(call_default_factory=True)
             for n, f in OfficeSettings.model_fields.items()}
    assert sorted(set(documented) - set(real)) == []  # no row for a setting that does not exist
    wrong = {}
    for name, value in real.items():
        cell = documented[name]
        shown = shown_default(value)
        if cell.startswith("*(empty"):
            ok = shown == ""
        else:
            ok = cell == f"`{shown}`" or (isinstance(value, float) and cell == f"`{value}`")
        if not ok:
            wrong[name] = (cell, shown)
    assert wrong == {}


def test_config_check_refuses_a_wrong_registration_number_and_split_time_zones(monkeypatch, tmp_path):
    from ackflow_tools.cli.main import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACKFLOW_PROJECT_NUMBER", "1")
    monkeypatch.setenv("ACKFLOW_INVOKER_SERVICE_ACCOUNT", "inv@p.iam.gserviceaccount.com")
    monkeypatch.setenv("ACKFLOW_TIME_ZONE", "UTC")
    monkeypatch.setenv("ACKFLOW_OFFICE_TIMEZONE", "Asia/Tokyo")
    noted = CliRunner().invoke(cli, ["config"])
    assert noted.exit_code == 0 and "differs from ACKFLOW_TIME_ZONE" in noted.output
    refused = CliRunner().invoke(cli, ["config", "--check"])
    assert refused.exit_code == 1 and "set both to the office's time zone" in refused.output
    monkeypatch.setenv("ACKFLOW_TIME_ZONE", "Asia/Tokyo")
    assert CliRunner().invoke(cli, ["config", "--check"]).output.rstrip().endswith("settings OK")
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T1234567890123")  # its check digit is wrong
    wrong = CliRunner().invoke(cli, ["config", "--check"])
    assert wrong.exit_code == 1 and "T1234567890123" in wrong.output


def test_config_refuses_a_wrong_registration_number_without_check_and_beside_other_errors(monkeypatch, tmp_path):
    """`ackflow config` printed a note and exited 0 for a number whose check digit fails, and under
    --check the first general error hid it: a wrong number is an error either way, said with the
    others."""
    from ackflow_tools.cli.main import cli

    monkeypatch.chdir(tmp_path)
    for name in ("ACKFLOW_PROJECT_NUMBER", "ACKFLOW_INVOKER_SERVICE_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T1234567890123")  # its check digit is wrong
    plain = CliRunner().invoke(cli, ["config"])
    assert plain.exit_code == 1, plain.output
    assert "ACKFLOW_OFFICE_REGISTRATION_NUMBER" in plain.output and "T1234567890123" in plain.output
    assert "its first digit should be 9" in plain.output  # what to check, not only that it is wrong
    assert "ACKFLOW_OFFICE_NAME" in plain.output  # the settings are still listed
    checked = CliRunner().invoke(cli, ["config", "--check"])  # no project number: a general error too
    assert checked.exit_code == 1
    assert "ACKFLOW_PROJECT_NUMBER" in checked.output and "T1234567890123" in checked.output
    assert "settings OK" not in checked.output
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T7123456789012")  # a valid one
    assert CliRunner().invoke(cli, ["config"]).exit_code == 0


def test_an_sqs_deployment_without_boto3_is_refused_at_start_saying_what_to_install(monkeypatch):
    """functions/requirements.txt has no boto3 (the aws extra is not deployed by default): functions
    set to SQS would fail their first enqueue with an ImportError; they refuse at start instead."""
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else find_spec(name, *a))
    base = {"project_number": "1", "invoker_service_account": "i@p.iam.gserviceaccount.com"}
    Settings(**base).check()  # Cloud Tasks needs no boto3
    with pytest.raises(ConfigError, match=r"ACKFLOW_QUEUE_BACKEND=sqs needs boto3.*\[tool\.ackflow\.deploy\].*aws"):
        Settings(**base, queue_backend="sqs").check()
