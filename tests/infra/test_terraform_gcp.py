"""The Google Cloud root module: formatted, parsed and checked for what matters, and clean under
checkov. `terraform validate` runs in test_terraform_gcp_validate.py, against schema-only
stand-ins of the google and archive providers (the real ones cannot be downloaded here; see
docs/deploy.md)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from ackflow.queues import load_queues
from tests.infra.hcl import GCP, ROOT, blocks, load_module, locals_of, resources
from tests.infra.tools import checkov, terraform

PRIMITIVE = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC = {"allUsers", "allAuthenticatedUsers"}


@pytest.fixture(scope="module")
def module():
    return load_module(GCP)


def test_terraform_fmt_is_clean(tmp_path):
    result = subprocess.run([terraform(), "fmt", "-check", "-recursive", "-diff", str(GCP.parent)],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/usr/local/bin",
                                                                  "TF_CLI_CONFIG_FILE": "/dev/null"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_variable_is_typed_and_described_and_every_output_described(module):
    for name, body in blocks(module, "variable").items():
        assert body.get("type"), f"variable {name} has no type"
        assert len(body.get("description", "")) > 15, f"variable {name} has no description"
    for name, body in blocks(module, "output").items():
        assert len(body.get("description", "")) > 15, f"output {name} has no description"
    closed = {"chat_auth", "log_level", "name_prefix", "language", "time_zone"}
    assert closed <= {name for name, body in blocks(module, "variable").items() if body.get("validation")}


def _evaluate(template: str, value: dict):
    """Substitute ${each.value.a.b} (and each.key) in one attribute, as Terraform would."""
    whole = re.fullmatch(r"\$\{each\.value\.([\w.]+)\}", template)
    if whole:
        node = value
        for part in whole.group(1).split("."):
            node = node[part]
        return node

    def lookup(match):
        node = value
        for part in match.group(1).split("."):
            node = node[part]
        return str(node)

    return re.sub(r"\$\{each\.value\.([\w.]+)\}", lookup, template)


def test_queues_come_from_the_shared_definitions_and_match_python(module):
    local = locals_of(module)
    assert "functions/workers/queues.json" in local["queue_definitions"]
    path = ROOT / "functions" / "workers" / "queues.json"
    definitions = json.loads(path.read_text())["queues"]
    python = load_queues(path)
    [(key, queue)] = resources(module, "google_cloud_tasks_queue").items()
    assert queue["for_each"] == "${local.queues}" and queue["name"] == "${each.key}"
    retry = queue["retry_config"][0]
    limits = queue["rate_limits"][0]
    for name, body in definitions.items():
        policy = python[name].retry
        assert _evaluate(retry["max_attempts"], body) == policy.max_attempts
        assert _evaluate(retry["min_backoff"], body) == f"{body['retry_config']['min_backoff_seconds']}s"
        assert float(_evaluate(retry["min_backoff"], body)[:-1]) == policy.min_backoff
        assert float(_evaluate(retry["max_backoff"], body)[:-1]) == policy.max_backoff
        assert _evaluate(retry["max_doublings"], body) == policy.max_doublings
        assert float(_evaluate(retry["max_retry_duration"], body)[:-1]) == policy.max_retry_duration
        assert _evaluate(limits["max_dispatches_per_second"], body) == python[name].max_dispatches_per_second
        assert _evaluate(limits["max_concurrent_dispatches"], body) == python[name].max_concurrent_dispatches


def test_every_job_type_names_a_queue_terraform_creates():
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    terraform_queues = set(json.loads((ROOT / "functions" / "workers" / "queues.json").read_text())["queues"])
    for job_type in build_registry(Settings()):
        assert job_type.queue in terraform_queues, job_type.name


def test_the_worker_is_not_public_and_the_webhook_is(module):
    public = {}
    for (rtype, name), body in resources(module).items():
        if "iam" not in rtype:
            continue
        members = body.get("members", []) + ([body["member"]] if "member" in body else [])
        if PUBLIC & set(members):
            public[name] = body
    assert list(public) == ["webhook_public"]
    assert "webhook" in public["webhook_public"]["name"]
    worker = resources(module, "google_cloudfunctions2_function")[("google_cloudfunctions2_function", "worker")]
    assert worker["service_config"][0]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    invoker = resources(module)[("google_cloud_run_v2_service_iam_member", "worker_invoker")]
    assert invoker["member"] == "serviceAccount:${google_service_account.invoker.email}"


def test_no_primitive_roles(module):
    for (rtype, name), body in resources(module).items():
        role = body.get("role", "")
        assert role not in PRIMITIVE, f"{rtype}.{name} grants {role}"


def test_firestore_indexes_and_ttl_come_from_the_store_declaration(module):
    local = locals_of(module)
    assert "functions/ackflow/store/indexes.json" in local["store_indexes"]
    declared = json.loads((ROOT / "functions" / "ackflow" / "store" / "indexes.json").read_text())
    assert declared["ttl_field"] == "expire_at"
    database = resources(module, "google_firestore_database")[("google_firestore_database", "jobs")]
    assert database["type"] == "FIRESTORE_NATIVE"
    ttl = resources(module, "google_firestore_field")[("google_firestore_field", "job_ttl")]
    assert ttl["field"] == "${local.store_indexes.ttl_field}" and "ttl_config" in ttl


def test_the_chat_message_logs_expire_like_jobs(module):
    from ackflow.store.documents import MESSAGE_LOGS

    ttl = resources(module, "google_firestore_field")[("google_firestore_field", "message_log_ttl")]
    assert ttl["collection"] == "${local.collection_prefix}" + MESSAGE_LOGS
    assert ttl["field"] == "${local.store_indexes.ttl_field}" and "ttl_config" in ttl


def test_the_holds_of_jobs_expire(module):
    from ackflow.store.documents import HOLDS

    ttl = resources(module, "google_firestore_field")[("google_firestore_field", "job_hold_ttl")]
    assert ttl["collection"] == "${local.collection_prefix}" + HOLDS
    assert ttl["field"] == "${local.store_indexes.ttl_field}" and "ttl_config" in ttl


def test_the_confirmations_expire(module):
    from ackflow.store.documents import CONFIRMATIONS

    ttl = resources(module, "google_firestore_field")[("google_firestore_field", "confirmation_ttl")]
    assert ttl["collection"] == "${local.collection_prefix}" + CONFIRMATIONS
    assert ttl["field"] == "${local.store_indexes.ttl_field}" and "ttl_config" in ttl


def test_the_sweep_is_scheduled_with_an_oidc_token_for_the_invoker(module):
    job = resources(module, "google_cloud_scheduler_job")[("google_cloud_scheduler_job", "sweep")]
    target = job["http_target"][0]
    assert target["uri"].endswith("/sweep")
    token = target["oidc_token"][0]
    assert token["service_account_email"] == "${google_service_account.invoker.email}"
    assert token["audience"] == "${local.worker_url}"


def test_functions_read_their_settings_from_terraform(module):
    local = locals_of(module)
    environment = local["environment"]
    for setting in ("ACKFLOW_STORE", "ACKFLOW_INVOKER_SERVICE_ACCOUNT", "ACKFLOW_WORKER_URL", "ACKFLOW_CHAT_AUTH",
                    "ACKFLOW_PROJECT_NUMBER", "ACKFLOW_LOG_FORMAT"):
        assert setting in environment
    webhook = resources(module, "google_cloudfunctions2_function")[("google_cloudfunctions2_function", "webhook")]
    assert webhook["build_config"][0]["entry_point"] == "chat_webhook"
    assert webhook["service_config"][0]["min_instance_count"] == "${var.webhook.min_instances}"


def test_the_office_is_deployed_without_the_job_types_for_trying_the_pipeline(module):
    # echo, sleep and fail (English names, English options) stay out of the office's help unless asked for
    assert "ACKFLOW_DEV_JOB_TYPES = tostring(var.dev_job_types)" in locals_of(module)["environment"]
    assert blocks(module, "variable")["dev_job_types"]["default"] is False


def test_checkov_passes_and_every_skip_is_justified(tmp_path):
    result = subprocess.run([checkov(), "-d", str(GCP.parent), "--framework", "terraform", "--quiet",
                             "--skip-download", "--output", "json", "--output-file-path", str(tmp_path)],
                            capture_output=True, text=True)
    report_file = tmp_path / "results_json.json"
    assert report_file.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(report_file.read_text())
    reports = report if isinstance(report, list) else [report]
    failed = [check for r in reports for check in r["results"]["failed_checks"]]
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    assert sum(r["summary"]["passed"] for r in reports) > 30
    for path in GCP.parent.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.search(r"checkov:skip=CKV\w*_\d+:.{30,}", line), f"unjustified skip in {path}: {line}"


def test_the_freee_client_secret_reaches_only_the_worker_and_only_as_a_secret(module):
    functions = resources(module, "google_cloudfunctions2_function")
    worker = json.dumps(functions[("google_cloudfunctions2_function", "worker")]["service_config"])
    webhook = json.dumps(functions[("google_cloudfunctions2_function", "webhook")]["service_config"])
    assert "secret_environment_variables" in worker and "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET" in worker
    assert "FREEE_CLIENT_SECRET" not in webhook
    assert "FREEE_CLIENT_SECRET" not in json.dumps(locals_of(module))  # never a plain setting
    members = resources(module, "google_secret_manager_secret_iam_member")
    granted = {name: block["member"] for (_, name), block in members.items() if "freee" in name}
    assert set(granted) == {"worker_freee_client_secret", "worker_freee_token_reader", "worker_freee_token_writer"}
    assert all("google_service_account.worker.email" in member for member in granted.values())


def test_operator_env_gives_the_operator_the_functions_own_settings_as_shell_lines(module, tmp_path):
    """Terraform evaluates the output's expression (copied from outputs.tf) over settings with a
    quote, JSON and commas; bash runs the lines; the operator's settings are the functions' own,
    with logs for a terminal."""
    output = blocks(module, "output")["operator_env"]
    assert "merge(local.environment," in output["value"]  # every setting the functions get
    expression = re.search(r'output "operator_env" \{.*?\n  value\s*=\s*(.+?)\n\}', (GCP / "outputs.tf").read_text(),
                           re.S).group(1)
    settings = {
        "ACKFLOW_WORKER_URL": "https://asia-northeast1-p.cloudfunctions.net/ackflow-worker",
        "ACKFLOW_INVOKER_SERVICE_ACCOUNT": "ackflow-invoker@p.iam.gserviceaccount.com",
        "ACKFLOW_TIME_ZONE": "Asia/Tokyo", "ACKFLOW_PERIODIC_SPACE": "spaces/AAAA",
        "ACKFLOW_OFFICE_NAME": "Studio O'Hara", "ACKFLOW_ALLOW_DOMAINS": "example.com,example.jp",
        "ACKFLOW_COMMAND_ACCESS": '{"newcase":{"users":["a@example.com"]}}', "ACKFLOW_LOG_FORMAT": "json",
    }
    (tmp_path / "main.tf").write_text(f"locals {{\n  environment = {json.dumps(settings)}\n}}\n\n"
                                      f'output "operator_env" {{\n  value = {expression}\n}}\n')
    (tmp_path / "terraformrc").write_text('provider_installation {\n  direct {\n    exclude = ["*/*/*"]\n  }\n}\n')
    env = {"PATH": "/usr/bin:/usr/local/bin:/bin", "TF_CLI_CONFIG_FILE": str(tmp_path / "terraformrc"),
           "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "HOME": str(tmp_path)}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        result = subprocess.run([terraform(), *args, "-no-color"], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = subprocess.run([terraform(), "output", "-raw", "operator_env"], cwd=tmp_path, env=env, check=True,
                           capture_output=True, text=True).stdout
    assert all(line.startswith("export ACKFLOW_") for line in lines.splitlines())
    shell = subprocess.run(["bash", "-c", f'{lines}\nenv -0'], env={}, check=True, capture_output=True, text=True)
    exported = dict(item.split("=", 1) for item in shell.stdout.split("\0") if item.startswith("ACKFLOW_"))
    assert exported == {**settings, "ACKFLOW_LOG_FORMAT": "text"}


def test_case_folders_in_drive_are_wired_from_the_office_variable(module):
    """office.drive_parent_folder selects Drive: the Drive API is enabled, the worker is told the
    storage and the folders, the output names whom to add to the shared drive, and the example
    the office starts from chooses Drive."""
    apis = json.dumps(locals_of(module)) + str(resources(module, "google_project_service"))
    assert "drive.googleapis.com" in apis
    office = locals_of(module)["office_environment"]  # the expression, as written
    assert re.search(r'var\.office\.drive_parent_folder == "" \? \{\} : \{ACKFLOW_OFFICE_STORAGE = "drive", '
                     r'ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER = var\.office\.drive_parent_folder\}', office), office
    assert "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER = var.office.drive_template_folder" in office
    assert "local.office_environment" in json.dumps(locals_of(module)["environment"])
    output = blocks(module, "output")["drive_member"]
    assert "google_service_account.worker.email" in output["value"]
    assert "var.office.drive_parent_folder" in output["value"]
    example = (GCP / "terraform.tfvars.example").read_text()
    assert re.search(r'^\s*drive_parent_folder\s*=\s*"[^"]+"', example, re.M)
    assert not re.search(r'^\s*cases_bucket\s*=\s*"[^"]+"', example, re.M)  # one place for case folders


def test_the_mail_path_grants_gmail_and_pubsub_what_they_need_and_nothing_for_lack_of_it(module):
    """Gmail's push service publishes to the topic; the push subscription reaches the worker with an
    OIDC token the worker verifies like a task's (the invoker, for the worker's URL); what cannot be
    delivered goes to the dead-letter topic, which Pub/Sub's service agent may publish to, and from
    whose subscription it may take the message away (Google's dead-letter topics page: publisher on
    the dead-letter topic, subscriber on the subscription), or the dead letters never arrive."""
    found = resources(module)
    agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert locals_of(module)["pubsub_agent"] == agent

    def member(value: str) -> str:
        return agent if value == "${local.pubsub_agent}" else value

    topic_grants = {(body["topic"], body["role"], member(body["member"]))
                    for (rtype, _), body in found.items() if rtype == "google_pubsub_topic_iam_member"}
    assert ("${google_pubsub_topic.gmail[0].name}", "roles/pubsub.publisher",
            "serviceAccount:gmail-api-push@system.gserviceaccount.com") in topic_grants
    push = found[("google_pubsub_subscription", "gmail_push")]
    assert push["topic"] == "${google_pubsub_topic.gmail[0].id}"
    config = push["push_config"][0]
    assert config["push_endpoint"] == "${local.worker_url}/mail"
    token = config["oidc_token"][0]
    assert token["service_account_email"] == "${google_service_account.invoker.email}"
    assert token["audience"] == "${local.worker_url}"  # what the worker verifies every caller against
    invoker = found[("google_cloud_run_v2_service_iam_member", "worker_invoker")]
    assert invoker["member"] == "serviceAccount:" + token["service_account_email"]  # may call the worker
    dead = push["dead_letter_policy"][0]
    assert dead["dead_letter_topic"] == "${google_pubsub_topic.gmail_dead[0].id}"
    assert 5 <= dead["max_delivery_attempts"] <= 100  # Pub/Sub's range
    assert ("${google_pubsub_topic.gmail_dead[0].name}", "roles/pubsub.publisher", agent) in topic_grants
    subscription_grants = {(body["subscription"], body["role"], member(body["member"]))
                           for (rtype, _), body in found.items() if rtype == "google_pubsub_subscription_iam_member"}
    assert ("${google_pubsub_subscription.gmail_push[0].name}", "roles/pubsub.subscriber", agent) in subscription_grants
    readers = [body for (rtype, _), body in found.items()
               if rtype == "google_pubsub_subscription" and body["topic"] == "${google_pubsub_topic.gmail_dead[0].id}"]
    assert readers, "a dead-letter topic without a subscription loses what it is sent"
    minted = {(body["service_account_id"], body["role"], member(body["member"]))
              for (rtype, _), body in found.items() if rtype == "google_service_account_iam_member"}
    assert ("${google_service_account.invoker.name}", "roles/iam.serviceAccountTokenCreator", agent) in minted


def test_the_mailbox_setting_reaches_the_worker_and_the_delegation_output_names_the_workers_one_scope(module):
    """``mail.mailbox`` tells the worker which mailbox to read (and, with push, the topic Gmail's
    watch publishes to); the Pub/Sub resources exist only with push; the ``gmail_delegation`` output
    the Admin console steps of docs/deploy.md read gives the worker's client id and exactly the scope
    the worker asks for (another scope there and Gmail refuses every call)."""
    from workers.office.mail.gmail import SCOPE

    mail = locals_of(module)["mail_environment"]
    assert mail.startswith("${local.mail_enabled ? merge({ACKFLOW_OFFICE_MAILBOX = var.mail.mailbox, "
                           "ACKFLOW_OFFICE_GMAIL_SERVICE_ACCOUNT = google_service_account.worker.email}"), mail
    assert "local.mail_push ? {ACKFLOW_OFFICE_GMAIL_TOPIC = google_pubsub_topic.gmail[0].id}" in mail
    assert locals_of(module)["mail_enabled"] == '${var.mail.mailbox != ""}'
    assert locals_of(module)["mail_push"] == "${local.mail_enabled && var.mail.push}"
    assert "local.mail_environment" in json.dumps(locals_of(module)["environment"])
    found = resources(module)
    pubsub = {key for key in found if key[0].startswith("google_pubsub_")}
    assert pubsub and all(found[key]["count"] == "${local.mail_push ? 1 : 0}" for key in pubsub), pubsub
    delegation = blocks(module, "output")["gmail_delegation"]["value"]
    assert re.search(r"client_id = google_service_account\.worker\.unique_id\b", delegation), delegation
    assert re.findall(r'scopes = "([^"]*)"', delegation) == [SCOPE], delegation
    assert "gmail.googleapis.com" in str(resources(module, "google_project_service")) + json.dumps(locals_of(module))


def _unread_inputs(directory) -> list[str]:
    """Variables, and attributes of object variables, that no file but variables.tf reads: an input
    an operator sets that changes nothing."""
    used = "\n".join(path.read_text() for path in directory.glob("*.tf") if path.name != "variables.tf")
    unread = []
    declared = (directory / "variables.tf").read_text()
    for name, body in re.findall(r'^variable "(\w+)" \{(.*?)^\}', declared, re.S | re.M):
        if not re.search(rf"\bvar\.{name}\b", used):
            unread.append(name)
        shape = re.search(r"^  type\s*=\s*object\(\{(.*?)^  \}\)", body, re.S | re.M)
        for attribute in re.findall(r"^\s+(\w+)\s*=", shape.group(1), re.M) if shape else ():
            if not re.search(rf"\bvar\.{name}\.{attribute}\b", used):
                unread.append(f"{name}.{attribute}")
    return unread


@pytest.mark.parametrize("directory", [GCP, GCP / "aws"], ids=["gcp", "aws"])
def test_every_variable_and_every_attribute_of_one_is_read(directory, tmp_path):
    assert _unread_inputs(directory) == []
    # the check itself: an attribute nobody reads, and a variable nobody reads, are found
    (tmp_path / "variables.tf").write_text('variable "office" {\n  type = object({\n    used   = optional(string, "")\n'
                                           '    unused = optional(bool, true)\n  })\n}\n\nvariable "lost" {\n'
                                           '  type = string\n}\n')
    (tmp_path / "main.tf").write_text('locals {\n  x = var.office.used\n}\n')
    assert _unread_inputs(tmp_path) == ["office.unused", "lost"]


def _secret_settings() -> list[str]:
    """The settings the code holds as secrets (SecretStr), by their environment variable."""
    from pydantic import SecretStr

    from ackflow.settings import Settings
    from workers.office.settings import OfficeSettings

    return sorted(f"{settings.model_config['env_prefix']}{name.upper()}"
                  for settings in (Settings, OfficeSettings)
                  for name, field in settings.model_fields.items() if field.annotation is SecretStr)


def test_extra_env_refuses_a_secret_as_a_plain_setting(tmp_path):
    """extra_env reaches both functions as plain environment variables (visible in the console, the
    state and operator_env): Terraform refuses every setting the code holds as a secret there, so a
    secret can only come from Secret Manager. Terraform evaluates the variable as written."""
    secrets = _secret_settings()
    assert "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET" in secrets and "ACKFLOW_RELAY_SIGNING_KEY" in secrets
    block = re.search(r'^variable "extra_env" \{.*?^\}', (GCP / "variables.tf").read_text(), re.S | re.M).group(0)
    (tmp_path / "main.tf").write_text(block + '\n\noutput "names" {\n  value = keys(var.extra_env)\n}\n')
    (tmp_path / "terraformrc").write_text('provider_installation {\n  direct {\n    exclude = ["*/*/*"]\n  }\n}\n')
    env = {"PATH": "/usr/bin:/usr/local/bin:/bin", "TF_CLI_CONFIG_FILE": str(tmp_path / "terraformrc"),
           "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "HOME": str(tmp_path)}

    def plan(extra_env: dict) -> subprocess.CompletedProcess:
        return subprocess.run([terraform(), "plan", "-input=false", "-no-color", "-var",
                               f"extra_env={json.dumps(extra_env)}"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)

    subprocess.run([terraform(), "init", "-input=false", "-no-color"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=120)
    allowed = plan({"ACKFLOW_OFFICE_SHEET_TAB": "案件", "ACKFLOW_CONFIRM_TTL": "600"})
    assert allowed.returncode == 0, allowed.stdout[-2000:] + allowed.stderr[-2000:]
    for name in secrets:
        refused = plan({"ACKFLOW_OFFICE_SHEET_TAB": "案件", name: "s3cr3t"})
        assert refused.returncode != 0, f"extra_env accepted {name} as a plain setting"
        assert "Secret Manager" in refused.stderr, refused.stderr[-2000:]


def test_a_deployment_without_a_japanese_font_is_warned_at_plan(tmp_path):
    """Cloud Functions has no font with Japanese glyphs and the font is not committed: without
    scripts/vendor-font every embedded estimate and invoice fails. Terraform's check (copied from
    office.tf, evaluated by terraform plan over the same folder layout) warns before it is deployed."""
    check = re.search(r'^check "estimate_font" \{.*?^\}', (GCP / "office.tf").read_text(), re.S | re.M)
    assert check, 'office.tf has no check "estimate_font"'
    module = tmp_path / "infra" / "terraform"
    module.mkdir(parents=True)
    fonts = tmp_path / "functions" / "workers" / "office" / "fonts"
    office = re.search(r'^variable "office" \{.*?^\}', (GCP / "variables.tf").read_text(), re.S | re.M).group(0)
    extra = re.search(r'^variable "extra_env" \{.*?^\}', (GCP / "variables.tf").read_text(), re.S | re.M).group(0)
    (module / "main.tf").write_text(f"{office}\n\n{extra}\n\n{check.group(0)}\n")
    env = _offline_init(module, tmp_path)

    def warned(*variables: str) -> bool:
        result = subprocess.run([terraform(), "plan", "-input=false", "-no-color", *variables], cwd=module, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return "scripts/vendor-font" in result.stdout + result.stderr

    assert warned()  # embedded PDFs (the default), no font vendored
    assert not warned("-var", 'office={accounting = "freee", freee_client_id = "1", freee_client_secret = "s"}')
    assert not warned("-var", 'extra_env={ACKFLOW_OFFICE_ESTIMATE_FONT = "/workspace/fonts/ipag.ttf"}')
    fonts.mkdir(parents=True)
    (fonts / "ipag.ttf").write_bytes(b"\0\1\0\0")
    assert not warned()


def test_deploy_md_names_every_api_terraform_enables():
    """A newcomer's organization may have to allow each API first: the page lists what apis.tf enables."""
    enabled = set(re.findall(r'"([a-z0-9]+\.googleapis\.com)"', (GCP / "apis.tf").read_text()))
    page = (ROOT / "docs" / "deploy.md").read_text()
    listed = re.search(r"`terraform apply` enables the APIs of `apis.tf` \((.*?)\)", page, re.S)
    assert listed, "docs/deploy.md: say “`terraform apply` enables the APIs of `apis.tf` (…)”"
    assert set(re.findall(r"`([a-z0-9]+\.googleapis\.com)`", listed.group(1))) == enabled


def test_a_worker_timeout_shorter_than_the_longest_step_is_warned_at_plan(tmp_path):
    """Cloud Functions ends a request at the function's timeout: a step allowed longer by its queue
    would be cut every attempt. The check (copied from functions.tf with the queues' locals, evaluated
    by terraform plan over the real queue definitions) says so before it is deployed."""
    check = re.search(r'^check "worker_timeout" \{.*?^\}', (GCP / "functions.tf").read_text(), re.S | re.M)
    assert check, 'functions.tf has no check "worker_timeout"'
    module = tmp_path / "infra" / "terraform"
    module.mkdir(parents=True)
    (tmp_path / "functions" / "workers").mkdir(parents=True)
    (tmp_path / "functions" / "workers" / "queues.json").write_text(
        (ROOT / "functions" / "workers" / "queues.json").read_text())
    worker = re.search(r'^variable "worker" \{.*?^\}', (GCP / "variables.tf").read_text(), re.S | re.M).group(0)
    queues = re.search(r"^locals \{.*?^\}", (GCP / "queues.tf").read_text(), re.S | re.M).group(0)
    (module / "main.tf").write_text(f"{worker}\n\n{queues}\n\n{check.group(0)}\n")
    env = _offline_init(module, tmp_path)
    longest = max(q.max_step_timeout for q in load_queues(ROOT / "functions" / "workers" / "queues.json").values())

    def warned(timeout: int | None) -> bool:
        variables = [] if timeout is None else ["-var", f"worker={{timeout = {timeout}}}"]
        result = subprocess.run([terraform(), "plan", "-input=false", "-no-color", *variables], cwd=module, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return "max_step_timeout_seconds" in result.stdout + result.stderr

    assert not warned(None)  # the default covers every queue's longest step
    assert not warned(int(longest))
    assert warned(int(longest) - 1)


def _offline_init(module, tmp_path) -> dict:
    """``terraform init`` of a module that needs no provider (its checks only), offline; the
    environment for its ``terraform plan``."""
    (tmp_path / "terraformrc").write_text('provider_installation {\n  direct {\n    exclude = ["*/*/*"]\n  }\n}\n')
    env = {"PATH": "/usr/bin:/usr/local/bin:/bin", "TF_CLI_CONFIG_FILE": str(tmp_path / "terraformrc"),
           "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "HOME": str(tmp_path)}
    subprocess.run([terraform(), "init", "-input=false", "-no-color"], cwd=module, env=env, check=True,
                   capture_output=True, timeout=120)
    return env


# The API each resource type is made through, for the APIs a new project does not have enabled
# (Google enables Cloud Storage, Datastore, Logging… by default, not these). Secret Manager's
# grants are left out: they name secrets the operator made before, with the API already on.
API_OF = {"google_service_account": "iam.googleapis.com", "google_service_account_iam_member": "iam.googleapis.com",
          "google_cloud_tasks_queue": "cloudtasks.googleapis.com",
          "google_cloud_tasks_queue_iam_member": "cloudtasks.googleapis.com",
          "google_cloudfunctions2_function": "cloudfunctions.googleapis.com",
          "google_cloud_run_v2_service_iam_member": "run.googleapis.com",
          "google_cloud_scheduler_job": "cloudscheduler.googleapis.com",
          "google_firestore_database": "firestore.googleapis.com", "google_firestore_index": "firestore.googleapis.com",
          "google_firestore_field": "firestore.googleapis.com", "google_pubsub_topic": "pubsub.googleapis.com",
          "google_pubsub_topic_iam_member": "pubsub.googleapis.com",
          "google_pubsub_subscription": "pubsub.googleapis.com",
          "google_pubsub_subscription_iam_member": "pubsub.googleapis.com"}


def test_every_resource_waits_for_the_api_it_is_made_through(module):
    """From an empty project (docs/deploy.md, step 1) one `terraform apply` must do: a resource made
    before its API is enabled fails ("… API has not been used in project … or it is disabled"), as
    the service accounts did, made through the IAM API that apis.tf did not enable. Each resource
    of those types must wait for google_project_service.apis, itself or through what it refers to."""
    enabled = set(re.findall(r'"([a-z0-9]+\.googleapis\.com)"', (GCP / "apis.tf").read_text()))
    found = resources(module)
    refers = {key: {ref for ref in found if ref != key and re.search(rf"\b{ref[0]}\.{ref[1]}\b", json.dumps(body))}
              for key, body in found.items()}

    def waits(key, seen=()):
        if "google_project_service.apis" in json.dumps(found[key].get("depends_on", [])):
            return True
        return any(waits(ref, (*seen, key)) for ref in refers[key] if ref not in seen)

    assert {rtype for rtype, _ in found if rtype.startswith("google_") and rtype not in API_OF} <= {
        "google_project_service", "google_storage_bucket", "google_storage_bucket_object",
        "google_storage_bucket_iam_member", "google_project_iam_member", "google_secret_manager_secret_iam_member"}, \
        "a resource type new to the module: say in API_OF which API it is made through"
    missing_api = {API_OF[rtype] for rtype, _ in found if rtype in API_OF} - enabled
    assert not missing_api, f"apis.tf does not enable {missing_api}"
    early = sorted(f"{rtype}.{name}" for rtype, name in found if rtype in API_OF and not waits((rtype, name)))
    assert not early, f"made without waiting for the APIs (depends_on = [google_project_service.apis]): {early}"


def test_both_functions_are_built_as_an_account_of_the_module_that_may_build(module):
    """Since July 2024 a new project builds Cloud Functions as the Compute Engine default service
    account, which has no role there, and does not even exist while the Compute Engine API is off
    (apis.tf does not enable it): the first apply failed at the build. Each function names its
    build account, made here with the role of Google's own build account, and waits for that grant."""
    accounts = resources(module, "google_service_account")
    granted = resources(module, "google_project_iam_member")
    functions = resources(module, "google_cloudfunctions2_function")
    assert {name for _, name in functions} == {"webhook", "worker"}, list(functions)  # both are checked
    for name, function in functions.items():
        build = function["build_config"][0] if isinstance(function["build_config"], list) else function["build_config"]
        used = re.fullmatch(r"\$\{google_service_account\.(\w+)\.id\}", build.get("service_account", ""))
        assert used and ("google_service_account", used.group(1)) in accounts, (name, build.get("service_account"))
        grants = [key for key, body in granted.items() if body["role"] == "roles/cloudbuild.builds.builder"
                  and f"google_service_account.{used.group(1)}.email" in body["member"]]
        assert grants, f"{used.group(1)} may not build"
        assert all(f"google_project_iam_member.{grant[1]}" in json.dumps(function["depends_on"]) for grant in grants)
