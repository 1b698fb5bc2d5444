"""The deployed archive, as Terraform builds it: only what runs in the cloud, installable from its
requirements.txt alone, and both functions start on it with the settings Terraform gives them."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from ackflow_tools.devtools.procs import free_port
from tests.deploy.archive import ArchiveSpec, archive_spec, build_archive, excluded, unwanted
from tests.infra.hcl import GCP, ROOT

# Every ACKFLOW_* variable infra/terraform gives the functions, with a value shaped like the cloud's.
CLOUD_VALUES = {
    "ACKFLOW_PROJECT": "acme-design-ackflow",
    "ACKFLOW_PROJECT_NUMBER": "482716350912",
    "ACKFLOW_LOCATION": "asia-northeast1",
    "ACKFLOW_WEBHOOK_URL": "https://asia-northeast1-acme-design-ackflow.cloudfunctions.net/ackflow-chat-webhook",
    "ACKFLOW_WORKER_URL": "https://asia-northeast1-acme-design-ackflow.cloudfunctions.net/ackflow-worker",
    "ACKFLOW_STORE": "firestore",
    "ACKFLOW_FIRESTORE_PREFIX": "ackflow_",
    "ACKFLOW_JOB_TTL_DAYS": "30",
    "ACKFLOW_QUEUE_BACKEND": "cloudtasks",
    "ACKFLOW_INVOKER_SERVICE_ACCOUNT": "ackflow-invoker@acme-design-ackflow.iam.gserviceaccount.com",
    "ACKFLOW_CHAT_AUTH": "project-number",
    "ACKFLOW_ALLOW_USERS": "",
    "ACKFLOW_ALLOW_DOMAINS": "acme-design.co.jp",
    "ACKFLOW_ALLOW_SPACES": "",
    "ACKFLOW_ADMINS": "boss@acme-design.co.jp",
    "ACKFLOW_ACCESS_CONTACT": "boss@acme-design.co.jp",
    "ACKFLOW_COMMAND_ACCESS": json.dumps({"newcase": {"domains": ["acme-design.co.jp"]}}),
    "ACKFLOW_PERIODIC_SPACE": "spaces/AAAAo1ce",
    "ACKFLOW_LOG_FORMAT": "json",
    "ACKFLOW_LOG_LEVEL": "INFO",
    "ACKFLOW_DEV_JOB_TYPES": "false",  # Terraform's default: the office's help lists its own commands only
    "ACKFLOW_LANGUAGE": "ja",  # the office's
    "ACKFLOW_TIME_ZONE": "Asia/Tokyo",
    "ACKFLOW_OFFICE_TIMEZONE": "Asia/Tokyo",
    "ACKFLOW_OFFICE_MAIL_LANGUAGE": "ja",
    "ACKFLOW_OFFICE_STORAGE": "drive",  # the example's choice; the bucket setting is set when chosen instead
    "ACKFLOW_OFFICE_GCS_BUCKET": "acme-design-ackflow-cases",
    "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER": "0AbCdEfGhIjKlUk9PVA",
    "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER": "1XyZtEmPlAtEfOlDeR0123456789abcd",
    "ACKFLOW_OFFICE_SHEET_ID": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG",
    "ACKFLOW_OFFICE_NAME": "ACME Design",
    "ACKFLOW_OFFICE_PORTALS": "",
    "ACKFLOW_OFFICE_PORTAL_ALLOWED_HOSTS": "portal.example.co.jp",
    "ACKFLOW_OFFICE_ADDRESS": "東京都大田区西蒲田1-2-3",
    "ACKFLOW_OFFICE_CONTACT": "03-0000-0000",
    "ACKFLOW_OFFICE_REGISTRATION_NUMBER": "T7123456789012",
    "ACKFLOW_OFFICE_BANK_ACCOUNT": "みずほ銀行 蒲田支店 普通 1234567 ヤマダセッケイ",
    "ACKFLOW_OFFICE_PAYMENT_TERMS": "next-month-end",
    "ACKFLOW_OFFICE_HOLIDAYS": "JP",
    "ACKFLOW_OFFICE_CLOSED_DAYS": "12-29,12-30,12-31,01-02,01-03",
    "ACKFLOW_OFFICE_ACCOUNTING": "embedded",  # freee's settings are set when it is chosen
    "ACKFLOW_OFFICE_FREEE_CLIENT_ID": "",
    "ACKFLOW_OFFICE_FREEE_COMPANY_ID": "0",
    "ACKFLOW_OFFICE_FREEE_TOKEN_VAULT": "store",
    # a secret environment variable of the worker (Secret Manager), set when freee's app is registered
    "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET": "3kP9xQ2vL8mN4rT6wY1zA5bC7dE0fG2h",
    # mail.tf, when mail.mailbox is set (push: the topic)
    "ACKFLOW_OFFICE_MAILBOX": "irai@acme-design.co.jp",
    "ACKFLOW_OFFICE_GMAIL_SERVICE_ACCOUNT": "ackflow-worker@acme-design-ackflow.iam.gserviceaccount.com",
    "ACKFLOW_OFFICE_MAIL_SPACE": "spaces/AAAAma1l",
    "ACKFLOW_OFFICE_GMAIL_TOPIC": "projects/acme-design-ackflow/topics/ackflow-gmail",
}


def wait_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the function exited: {process.communicate()[1][-3000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within {timeout} s")


def terraform_environment_names(directory: Path = GCP) -> set[str]:
    """The ACKFLOW_* names the module gives the functions, in any of its files: map keys
    (``ACKFLOW_X = …``, local.environment and the maps merged into it) and secret environment
    variables (``key = "ACKFLOW_X"``)."""
    names = set()
    for tf in sorted(directory.glob("*.tf")):
        text = tf.read_text()
        names.update(re.findall(r"\b(ACKFLOW_[A-Z0-9_]+)\s*=", text))
        names.update(re.findall(r"\bkey\s*=\s*\"(ACKFLOW_[A-Z0-9_]+)\"", text))
    return names


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[str]]:
    output = tmp_path_factory.mktemp("archive") / "functions.zip"
    return output, build_archive(archive_spec(), output)


def test_excludes_follow_the_archive_providers_doublestar_globs():
    patterns = ("**/__pycache__/**", "**/*.pyc")
    assert excluded("__pycache__/main.cpython-311.pyc", patterns)
    assert excluded("ackflow/app/__pycache__/x.txt", patterns)
    assert excluded("deep/er/a.pyc", patterns)
    assert not excluded("ackflow/app/webhook.py", patterns)
    assert not excluded("pycache_notes.txt", patterns)


def test_the_archive_holds_only_what_runs_in_the_cloud(archive):
    output, files = archive
    assert {"main.py", "requirements.txt", "chat_webhook/main.py", "workers/main.py",
            "workers/queues.json", "ackflow/app/webhook.py", "ackflow/app/worker.py",
            "ackflow/store/firestore.py", "ackflow/taskqueue/cloudtasks.py", "ackflow/chat/rest.py",
            "workers/office/steps.py"} <= set(files)
    assert any(f.startswith("workers/office/templates/") for f in files)
    assert "ackflow/i18n/locale/ja/LC_MESSAGES/ackflow.mo" in files  # the Japanese catalog, compiled
    assert unwanted(files) == []
    with zipfile.ZipFile(output) as zipped:
        assert sorted(zipped.namelist()) == files


FIGURES = re.compile(r"about\s+\*\*(\d+)\s+files,\s+(\d+)\s+kB\s+\((\d+)\s+kB\s+zipped\)\*\*")


VENDORED = "workers/office/fonts/"  # scripts/vendor-font's copy, not committed: the page gives its size apart


def test_deploy_md_states_the_archives_size_as_it_is(archive, tmp_path):
    _, files = archive
    spec = archive_spec()
    files = [f for f in files if not f.startswith(VENDORED)]
    output = tmp_path / "committed.zip"
    build_archive(ArchiveSpec(spec.source_dir, spec.excludes + (VENDORED + "**",)), output)
    source = spec.source_dir
    actual = (len(files), round(sum((source / f).stat().st_size for f in files) / 1000),
              round(output.stat().st_size / 1000))
    stated = FIGURES.findall((ROOT / "docs" / "deploy.md").read_text())
    assert len(stated) == 1, "docs/deploy.md, What is deployed: say about **N files, X kB (Y kB zipped)**"
    files_stated, size_stated, zipped_stated = (int(n) for n in stated[0])
    # about: a new module or a few translations must not fail the suite; a stale page (the archive
    # twice what it says, as it once was) must
    close = all(abs(s - a) <= max(3, a * 0.15) for s, a in
                ((files_stated, actual[0]), (size_stated, actual[1]), (zipped_stated, actual[2])))
    assert close, (f"docs/deploy.md says {files_stated} files, {size_stated} kB ({zipped_stated} kB zipped); "
                   f"the archive is {actual[0]} files, {actual[1]} kB ({actual[2]} kB zipped)")


def test_the_check_finds_what_must_not_ship(tmp_path):
    source = tmp_path / "functions"
    for name in ("main.py", "ackflow/__pycache__/x.cpython-311.pyc", "ackflow.egg-info/PKG-INFO",
                 ".venv/pyvenv.cfg", "ackflow/emulators/chat.py", "ackflow/i18n/locale/ja/LC_MESSAGES/ackflow.po",
                 "ackflow/i18n/locale/ja/LC_MESSAGES/ackflow.mo", "ackflow/portal.py", ".env", "workers/.env.local",
                 "sa-key.pem", "ackflow/jobs.db", "ackflow/keyboard.py", "ackflow/dbutils.py"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    files = build_archive(ArchiveSpec(source, ("**/__pycache__/**",)), tmp_path / "a.zip")
    assert sorted(unwanted(files)) == [".env", ".venv/pyvenv.cfg", "ackflow.egg-info/PKG-INFO",
                                       "ackflow/emulators/chat.py", "ackflow/i18n/locale/ja/LC_MESSAGES/ackflow.po",
                                       "ackflow/jobs.db", "sa-key.pem", "workers/.env.local"]


def test_the_settings_are_found_in_every_file_and_form(tmp_path):
    (tmp_path / "a.tf").write_text('locals {\n  x = merge({\n    ACKFLOW_ONE = var.one\n  },\n'
                                   '  { ACKFLOW_TWO = "2" })\n}\n')
    (tmp_path / "b.tf").write_text('resource "r" "s" {\n  secret_environment_variables {\n'
                                   '    key    = "ACKFLOW_THREE"\n    secret = "s"\n  }\n}\n')
    assert terraform_environment_names(tmp_path) == {"ACKFLOW_ONE", "ACKFLOW_TWO", "ACKFLOW_THREE"}
    found = terraform_environment_names()
    assert {"ACKFLOW_WORKER_URL", "ACKFLOW_OFFICE_SHEET_ID", "ACKFLOW_OFFICE_MAILBOX",
            "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET"} <= found  # functions.tf, office.tf, mail.tf, a secret


def test_every_terraform_setting_has_a_cloud_value_here():
    missing = terraform_environment_names() - set(CLOUD_VALUES)
    assert not missing, f"give these a realistic value in CLOUD_VALUES: {sorted(missing)}"


class RecordingProxy:
    """An HTTPS proxy that refuses everything and remembers what was asked: anything the
    functions try to reach on the internet shows up here instead of leaving the machine."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace"))
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def certs_url():
    """Google's certificate documents stand in here: the warm-up fetches them at start."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ackflow.auth.signing import LocalSigner

    document = json.dumps(LocalSigner.generate("google").x509_document()).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


def _fake_service_account(path: Path) -> Path:
    from ackflow.auth.signing import LocalSigner

    signer = LocalSigner.generate("smoke")
    path.write_text(json.dumps({
        "type": "service_account", "project_id": CLOUD_VALUES["ACKFLOW_PROJECT"],
        "private_key_id": "smoke", "private_key": signer.key_pem.decode(),
        "client_email": f"ackflow-functions@{CLOUD_VALUES['ACKFLOW_PROJECT']}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}))
    return path


@pytest.fixture(scope="module")
def installed(archive, tmp_path_factory) -> tuple[Path, Path]:
    """The archive unpacked and installed into a clean virtualenv from its requirements.txt alone."""
    output, _ = archive
    root = tmp_path_factory.mktemp("deployed")
    source = root / "source"
    with zipfile.ZipFile(output) as zipped:
        zipped.extractall(source)
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # --no-compile: the functions import a part of what is installed, and compile only that (a
    # quarter less of the install's CPU, on a machine the rest of the suite shares)
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             "--no-compile", "-r", str(source / "requirements.txt")], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return source, env_dir


@pytest.mark.slow
@pytest.mark.timeout(600)  # a clean install of requirements.txt, then a cold start, under the suite's load
@pytest.mark.parametrize("target", ["chat_webhook", "worker"])
def test_each_function_starts_from_the_archive_with_terraforms_settings(installed, certs_url, target,
                                                                        tmp_path):
    source, env_dir = installed
    proxy = RecordingProxy()
    port = free_port()
    env = {
        "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
        **CLOUD_VALUES,
        # As Cloud Functions sets them:
        "FUNCTION_TARGET": target, "K_SERVICE": target, "PORT": str(port),
        "GOOGLE_APPLICATION_CREDENTIALS": str(_fake_service_account(tmp_path / "sa.json")),
        # The one change from the cloud: Google's certificates are served from here.
        "ACKFLOW_CHAT_CERTS_URL": certs_url, "ACKFLOW_WORKER_CERTS_URL": certs_url,
        # Anything that would leave the machine goes to the recording proxy instead.
        "HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "HTTP_PROXY": f"http://127.0.0.1:{proxy.port}",
        "NO_PROXY": "127.0.0.1,localhost", "PYTHONPROFILEIMPORTTIME": "1",
    }
    process = subprocess.Popen([str(env_dir / "bin" / "functions-framework"), "--source", str(source / "main.py"),
                                "--target", target, "--host", "127.0.0.1", "--port", str(port)],
                               cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, process, timeout=120)
        # Generous timeouts: a cold process's first requests on a loaded 2-core machine (the whole
        # suite in parallel, other stacks starting) once took over 10 s, and once over 60 s (its
        # warm-up thread importing the cloud clients the request waited for); how fast they are is
        # benchmarks/cold_start.py's.
        assert requests.get(url, timeout=120).status_code == 405
        unsigned = requests.post(url, json={"type": "MESSAGE"}, timeout=120)
        assert unsigned.status_code == 401, unsigned.text
        assert "does not verify" in unsigned.text and "Traceback" not in unsigned.text
        time.sleep(2)  # the warm-up thread has run
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
        proxy.close()
    imported = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if line.startswith("import time:")}
    logs = [line for line in err.splitlines() + out.splitlines() if not line.startswith("import time:")]
    assert "ackflow.app.webhook" in imported or "ackflow.app.worker" in imported  # the profile works
    assert not {m for m in imported if m.split(".")[0] in ("ackflow_tools", "tests", "moto", "pytest",
                                                               "boto3", "botocore")}
    assert not [line for line in logs if "Traceback" in line or '"severity": "ERROR"' in line
                or line.startswith("ERROR")], "\n".join(logs)
    assert not [r for r in proxy.requests if "google" in r], proxy.requests


def settings_read() -> set[str]:
    """Every environment variable the deployed code reads as a setting (extra="ignore": a name it
    does not know is dropped without a word)."""
    from ackflow.settings import Settings
    from workers.office.settings import OfficeSettings

    return {f"{model.model_config['env_prefix']}{name.upper()}" for model in (Settings, OfficeSettings)
            for name in model.model_fields}


def test_every_setting_terraform_gives_is_one_the_code_reads(tmp_path):
    unread = terraform_environment_names() - settings_read()
    assert not unread, f"Terraform sets these and no setting reads them (misspelled or stale): {sorted(unread)}"
    # a misspelling is caught
    (tmp_path / "office.tf").write_text('locals {\n  x = { ACKFLOW_OFFICE_SHEETID = var.office.sheet_id }\n}\n')
    assert terraform_environment_names(tmp_path) - settings_read() == {"ACKFLOW_OFFICE_SHEETID"}


def test_terraforms_own_excludes_keep_a_developers_keys_settings_and_caches_out(tmp_path):
    """What ``terraform apply`` zips is the operator's working tree, not CI's clean checkout: a
    ``.env``, a key, a local database, a virtualenv or an editable install's egg-info left in
    ``functions/`` went into the uploaded archive (Terraform excluded only caches and translation
    sources; ``unwanted`` noticed them only where the tests ran on that same tree). Terraform's
    excludes, read from the HCL, must leave them out wherever it runs."""
    source = tmp_path / "functions"
    planted = (".env", "workers/.env.local", "sa-key.pem", "ackflow/tls.key", "ackflow/cert.p12", "ackflow/jobs.db",
               "jobs.sqlite3", "jobs.db-journal", "jobs.db-wal", ".venv/pyvenv.cfg", ".venv/lib/site-packages/x.py",
               "ackflow.egg-info/PKG-INFO", ".mypy_cache/3.11/x.json", ".ruff_cache/0.17/x", "ackflow/.DS_Store",
               ".ackflow/state.json")
    for name in ("main.py", *planted):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    files = build_archive(ArchiveSpec(source, archive_spec().excludes), tmp_path / "a.zip")
    assert files == ["main.py"]
