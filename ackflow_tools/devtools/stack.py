"""The whole pipeline on one machine: local Cloud Tasks and Chat services, both functions under
functions-framework, the job store, and a scheduler that calls the sweep.

``ackflow dev`` runs one; the end-to-end tests and the benchmarks run theirs on free ports.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from workers.office.issuer import SAMPLE as SAMPLE_ISSUER

from .procs import ManagedProcess, free_port, port_free, process_alive, start_moto

log = logging.getLogger(__name__)

PROJECT = "local-project"
PROJECT_NUMBER = "123456789012"
LOCATION = "local"
INVOKER = f"ackflow-invoker@{PROJECT}.iam.gserviceaccount.com"
STATE_FILE = "state.json"
SHEET_ID = "local-case-sheet"
MAILBOX = "irai@office.example"  # the request mailbox of the local Gmail stand-in
MAIL_SPACE = "spaces/office"
WORKER_ACCOUNT = f"ackflow-worker@{PROJECT}.iam.gserviceaccount.com"


def functions_source() -> Path:
    """``functions/main.py``: the file Cloud Functions deploys, served here unchanged."""
    spec = importlib.util.find_spec("chat_webhook")
    if spec is None or spec.origin is None:
        raise RuntimeError("the chat_webhook package is not importable; install the project (pip install -e .)")
    path = Path(spec.origin).resolve().parent.parent / "main.py"
    if not path.exists():
        raise RuntimeError(f"{path} not found; run from a checkout of the project (pip install -e .)")
    return path


def default_chat_auth(event_format: str) -> str:
    """Workspace add-on events come with a Google ID token for the endpoint URL, never with the
    project number as audience; classic events may use either, and the project number is the default."""
    return "endpoint-url" if event_format == "addon" else "project-number"


@dataclass
class StackConfig:
    workdir: Path
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)  # tasks, chat, webhook, worker (0: free)
    workers: int = 1  # worker processes (gunicorn workers)
    threads: int = 8
    event_format: str = "classic"
    # the Chat app's authentication audience; None: what the format needs (add-on events are
    # always signed for the endpoint URL, so "addon" needs "endpoint-url")
    chat_auth: str | None = None
    sweep_interval: float = 5.0  # 0: no sweep loop
    store: str = "sqlite"
    queue_backend: str = "cloudtasks"
    extra_env: dict[str, str] = field(default_factory=dict)
    min_dispatch_deadline: float | None = None
    mail: bool = False  # the request mailbox: Gmail stand-in, Pub/Sub emulator, push relay
    storage: str = "local"  # case folders: "local" (a folder in workdir) or "drive" (the local Drive)
    console: bool = False  # also serve the console (ackflow dev does)
    # the deployment's language and time zone (ACKFLOW_LANGUAGE, ACKFLOW_TIME_ZONE), which is also
    # every person's Chat client unless set for them (ackflow dev: the office's, ja and Asia/Tokyo)
    language: str = "en"
    time_zone: str = "UTC"
    accounting: str = "embedded"  # or "freee": the local freee stand-in, authorized at start
    # where periodic jobs (the office's Monday digest, due-date reminders) report: a space made in the
    # local Chat service at start, set as ACKFLOW_PERIODIC_SPACE ("": they report nowhere, as a
    # deployment without the setting). ackflow dev: the office space, beside the mail cards.
    periodic_space: str = ""


class LocalStack:
    def __init__(self, config: StackConfig):
        if config.chat_auth is None:
            config = replace(config, chat_auth=default_chat_auth(config.event_format))
        self.config = config
        self.workdir = Path(config.workdir)
        self.procs: dict[str, ManagedProcess] = {}
        names = ["tasks", "chat", "webhook", "worker", "sheets"]
        if config.queue_backend == "sqs":
            names += ["moto", "relay"]
        if config.mail:
            names += ["gmail", "pubsub", "pushsign"]
        if config.storage == "drive":
            names.append("drive")
        else:
            names.append("files")  # local case folders served over http, for link buttons
        if config.console:
            names.append("console")
        if config.accounting == "freee":
            names.append("freee")
        self.ports = {name: config.ports.get(name) or free_port() for name in names}
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.sweeps = 0
        self.firestore = None
        self.pubsub = None
        self.push_relay = None

    # -- addresses -------------------------------------------------------------------------------
    def url(self, name: str) -> str:
        return f"http://{self.config.host}:{self.ports[name]}"

    @property
    def webhook_url(self) -> str:
        return self.url("webhook") + "/"

    @property
    def worker_url(self) -> str:
        return self.url("worker") + "/"

    def env(self) -> dict[str, str]:
        """The settings both functions run with (as Terraform sets them in the cloud)."""
        env = {
            "ACKFLOW_PROJECT": PROJECT,
            "ACKFLOW_PROJECT_NUMBER": PROJECT_NUMBER,
            "ACKFLOW_LOCATION": LOCATION,
            "ACKFLOW_STORE": self.config.store,
            "ACKFLOW_SQLITE_PATH": str(self.workdir / "ackflow.db"),
            "ACKFLOW_QUEUE_BACKEND": self.config.queue_backend,
            "ACKFLOW_CLOUDTASKS_ENDPOINT": self.url("tasks"),
            "ACKFLOW_CHAT_ENDPOINT": self.url("chat"),
            "ACKFLOW_LOCAL_SERVICES": "true",
            "ACKFLOW_WEBHOOK_URL": self.webhook_url,
            "ACKFLOW_WORKER_URL": self.worker_url,
            "ACKFLOW_INVOKER_SERVICE_ACCOUNT": INVOKER,
            "ACKFLOW_CHAT_AUTH": self.config.chat_auth,
            "ACKFLOW_CHAT_CERTS_URL": (
                f"{self.url('chat')}/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"
                if self.config.chat_auth == "project-number" else f"{self.url('chat')}/oauth2/v1/certs"),
            "ACKFLOW_WORKER_CERTS_URL": f"{self.url('tasks')}/oauth2/v1/certs",
            "ACKFLOW_LOG_FORMAT": "text",
            "ACKFLOW_LANGUAGE": self.config.language,
            "ACKFLOW_TIME_ZONE": self.config.time_zone,
            # the office workflow: case folders here, the case sheet on the local Sheets service
            "ACKFLOW_OFFICE_LOCAL_ROOT": str(self.workdir / "cases"),
            "ACKFLOW_OFFICE_LOCAL_LINK_BASE": self.url("files") + "/cases" if "files" in self.ports else "",
            "ACKFLOW_OFFICE_SHEET_ID": SHEET_ID,
            "ACKFLOW_OFFICE_SHEETS_ENDPOINT": self.url("sheets"),
            "ACKFLOW_OFFICE_SHEETS_CREDENTIALS_FILE": str(self.workdir / "sheets-service-account.json"),
            # a sample issuer (a valid, made-up registration number), so invoices work on a fresh machine
            "ACKFLOW_OFFICE_NAME": SAMPLE_ISSUER.name,
            "ACKFLOW_OFFICE_ADDRESS": SAMPLE_ISSUER.address,
            "ACKFLOW_OFFICE_CONTACT": SAMPLE_ISSUER.contact,
            "ACKFLOW_OFFICE_REGISTRATION_NUMBER": SAMPLE_ISSUER.registration,
            "ACKFLOW_OFFICE_BANK_ACCOUNT": SAMPLE_ISSUER.bank_account,
        }
        if self.config.accounting == "freee":
            env.update({
                "ACKFLOW_OFFICE_ACCOUNTING": "freee",
                "ACKFLOW_OFFICE_FREEE_CLIENT_ID": "local-client",
                "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET": "local-secret",
                "ACKFLOW_OFFICE_FREEE_API_URL": self.url("freee"),
                "ACKFLOW_OFFICE_FREEE_ACCOUNTS_URL": self.url("freee"),
                "ACKFLOW_OFFICE_FREEE_WEB_URL": self.url("freee") + "/web",
            })
        if self.config.storage == "drive":
            from .drive import PARENT_FOLDER, TEMPLATE_FOLDER

            env.update({
                "ACKFLOW_OFFICE_STORAGE": "drive",
                "ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER": PARENT_FOLDER,
                "ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER": TEMPLATE_FOLDER,
                "ACKFLOW_OFFICE_DRIVE_ENDPOINT": self.url("drive"),
                "ACKFLOW_OFFICE_DRIVE_CREDENTIALS_FILE": str(self.workdir / "drive-service-account.json"),
            })
        if self.firestore is not None:
            env.update(self.firestore.env())
            # the emulator locks pessimistically and keeps a killed client's locks until they time
            # out (production's optimistic database holds none): a webhook's read of a document a
            # killed worker held waited past the 6 s bound in a loaded CI run and said "try again"
            env["ACKFLOW_STORE_TIMEOUT"] = "25"
        if self.config.periodic_space:
            env["ACKFLOW_PERIODIC_SPACE"] = self.config.periodic_space
        if self.config.mail:
            from .pubsub import TOPIC

            env.update({
                "ACKFLOW_OFFICE_MAILBOX": MAILBOX,
                "ACKFLOW_OFFICE_MAIL_SPACE": MAIL_SPACE,
                "ACKFLOW_OFFICE_MAIL_EVENT_FORMAT": self.config.event_format,
                "ACKFLOW_OFFICE_GMAIL_ENDPOINT": self.url("gmail"),
                "ACKFLOW_OFFICE_GMAIL_CREDENTIALS_FILE": str(self.workdir / "gmail-service-account.json"),
                "ACKFLOW_OFFICE_GMAIL_TOPIC": f"projects/{PROJECT}/topics/{TOPIC}",
            })
        if self.config.queue_backend == "sqs":
            env.update({
                "ACKFLOW_SQS_ENDPOINT": self.url("moto"),
                "ACKFLOW_RELAY_CERTS_URL": f"{self.url('relay')}/certs",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "ap-northeast-1",
            })
        env.update(self.config.extra_env)
        return env

    def settings(self):
        from ackflow.settings import Settings

        values = {k[len("ACKFLOW_"):].lower(): v for k, v in self.env().items() if k.startswith("ACKFLOW_")}
        return Settings(**values)

    def runtime(self):
        """A Runtime in this process, with the functions' settings (for tests and the CLI)."""
        from ackflow.app.runtime import Runtime

        return Runtime(self.settings())

    # -- lifecycle -------------------------------------------------------------------------------
    def _argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ackflow_tools", *args]

    def start(self) -> LocalStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._check_not_running()
        try:
            self._start_services()
            self._create_queues()
            self._start_functions()
            if self.config.accounting == "freee":
                self.authorize_freee()
        except Exception:
            self.stop()
            raise
        if self.config.sweep_interval > 0:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="sweep", daemon=True)
            self._sweeper.start()
        self._write_state()
        return self

    def _check_not_running(self) -> None:
        """Refuse to start over a live run of this workdir or on a port in use; forget the state a
        killed run left behind (its children were ended by the reaper of ``procs``)."""
        state = self.workdir / STATE_FILE
        if state.exists():
            try:
                pid = int(json.loads(state.read_text()).get("pid", 0))
            except (ValueError, json.JSONDecodeError):
                pid = 0
            if pid and pid != os.getpid() and process_alive(pid):
                raise RuntimeError(f"a local pipeline is already running in {self.workdir} (pid {pid}); "
                                   f"stop it first, or use another --workdir")
            state.unlink()
        busy = [f"{port} ({name})" for name, port in self.ports.items() if not port_free(self.config.host, port)]
        if busy:
            raise RuntimeError(f"port {', '.join(busy)} in use on {self.config.host}: another `ackflow dev` "
                               f"(or something else) listens there; stop it or use --port-offset")

    def _start_services(self) -> None:
        if self.config.store == "firestore":
            from .firestore_emulator import FirestoreEmulator

            self.firestore = FirestoreEmulator(self.workdir / "firestore", project=PROJECT).start()
            os.environ.update(self.firestore.env())  # for runtimes made in this process
        tasks_args = ["tasks-emulator", "--host", self.config.host, "--port", str(self.ports["tasks"]),
                      "--db", str(self.workdir / "tasks.db")]
        if self.config.min_dispatch_deadline is not None:
            tasks_args += ["--min-dispatch-deadline", str(self.config.min_dispatch_deadline)]
        self.procs["tasks"] = ManagedProcess("cloud tasks", self._argv(*tasks_args),
                                             ready_url=self.url("tasks") + "/",
                                             log_path=self.workdir / "logs" / "tasks.log")
        slash = []
        registry = self.runtime().registry
        from ackflow.app.commands import BUILTIN_IDS

        for number, name in BUILTIN_IDS.items():
            slash += ["--slash-command", f"/{name}={number}"]
        for job_type in registry:
            if job_type.slash_command_id:
                slash += ["--slash-command", f"/{job_type.name}={job_type.slash_command_id}"]
                if job_type.params and not job_type.schedule:  # set to "Opens a dialog": its form
                    slash += ["--dialog-command", f"/{job_type.name}"]
        chat_args = ["chat-emulator", "--host", self.config.host, "--port", str(self.ports["chat"]),
                     "--db", str(self.workdir / "chat.db"), "--app-url", self.webhook_url,
                     "--audience", self.config.chat_auth, "--project-number", PROJECT_NUMBER,
                     "--format", self.config.event_format, "--locale", self.config.language,
                     "--time-zone", self.config.time_zone, *slash]
        self.procs["chat"] = ManagedProcess("chat", self._argv(*chat_args), ready_url=self.url("chat") + "/",
                                            log_path=self.workdir / "logs" / "chat.log")
        self.procs["sheets"] = ManagedProcess(
            "sheets", self._argv("sheets-emulator", "--host", self.config.host, "--port", str(self.ports["sheets"]),
                                 "--data", str(self.workdir / "sheets.json"), "--create", SHEET_ID),
            ready_url=self.url("sheets") + "/", log_path=self.workdir / "logs" / "sheets.log")
        self._write_service_account()
        if "files" in self.ports:
            self.procs["files"] = ManagedProcess(
                "files", self._argv("files-server", "--host", self.config.host, "--port", str(self.ports["files"]),
                                    "--root", str(self.workdir / "cases")),
                ready_url=self.url("files") + "/", log_path=self.workdir / "logs" / "files.log")
        if self.config.storage == "drive":
            self.procs["drive"] = ManagedProcess(
                "drive", self._argv("drive-emulator", "--host", self.config.host, "--port", str(self.ports["drive"]),
                                    "--data", str(self.workdir / "drive")),
                ready_url=self.url("drive") + "/", log_path=self.workdir / "logs" / "drive.log")
            write_service_account(self.workdir / "drive-service-account.json", f"{self.url('drive')}/token")
        if self.config.accounting == "freee":
            self.procs["freee"] = ManagedProcess(
                "freee", self._argv("freee-emulator", "--host", self.config.host, "--port", str(self.ports["freee"]),
                                    "--data", str(self.workdir / "freee.json")),
                ready_url=self.url("freee") + "/", log_path=self.workdir / "logs" / "freee.log")
        for proc in self.procs.values():
            proc.start(timeout=60)
        if self.config.storage == "drive":
            from workers.office.settings import DEFAULT_TEMPLATE

            from .drive import seed

            seed(self.url("drive"), DEFAULT_TEMPLATE)
        if self.config.periodic_space:
            self._make_space(self.config.periodic_space)
        if self.config.mail:
            self._start_mail()

    def _make_space(self, space: str) -> None:
        """A space in the local Chat service with the app a member, as the office adds the app to its
        space in Google Chat (Chat answers NOT_FOUND to an app writing where it is not a member)."""
        name = {MAIL_SPACE: "事務所"}.get(space, space.split("/", 1)[-1])
        requests.put(f"{self.url('chat')}/_emulator/{space}", json={"displayName": name}, timeout=10).raise_for_status()

    def _start_mail(self) -> None:
        """The request mailbox: the Pub/Sub emulator with Gmail's topic and push subscription, the
        Gmail stand-in publishing to it, and the relay that signs pushes for the worker."""
        from ..emulators.web import ServerThread
        from .pubsub import PubSubEmulator, signing_relay

        self.pubsub = PubSubEmulator(self.workdir, self.ports["pubsub"], PROJECT).start()
        self.push_relay = ServerThread(signing_relay(self.url("tasks"), INVOKER, self.worker_url,
                                                     self.worker_url + "mail"),
                                       self.config.host, self.ports["pushsign"]).start()
        self.pubsub.create(self.url("pushsign") + "/", INVOKER, self.worker_url)
        self._make_space(MAIL_SPACE)  # the office space, where the mail cards appear
        self._write_gmail_key()
        self.procs["gmail"] = ManagedProcess(
            "gmail", self._argv("gmail-emulator", "--host", self.config.host, "--port", str(self.ports["gmail"]),
                                "--data", str(self.workdir / "gmail.json"), "--mailbox", MAILBOX,
                                "--pubsub", self.pubsub.url),
            ready_url=self.url("gmail") + "/", log_path=self.workdir / "logs" / "gmail.log").start(timeout=60)

    def _write_gmail_key(self) -> None:
        """The worker's key for the Gmail stand-in's token endpoint (written each start: the port may
        change). Google's universe, as the Gmail client insists; the grant still goes to token_uri."""
        path = write_service_account(self.workdir / "gmail-service-account.json", self.url("gmail") + "/token")
        data = json.loads(path.read_text())
        data.pop("universe_domain", None)
        data["token_uri"] = self.url("gmail") + "/token"
        path.write_text(json.dumps(data))

    def _write_service_account(self) -> None:
        write_service_account(self.workdir / "sheets-service-account.json", f"{self.url('sheets')}/token")

    def office_settings(self):
        """The office workflow's settings, as the functions read them."""
        from workers.office.settings import OfficeSettings

        prefix = "ACKFLOW_OFFICE_"
        return OfficeSettings(**{k[len(prefix):].lower(): v for k, v in self.env().items() if k.startswith(prefix)})

    def authorize_freee(self, again: bool = False) -> dict:
        """Connect the local freee stand-in as a person would with ``ackflow freee authorize``: a
        person approves (the stand-in's consent, at once), the code is exchanged and the grant kept."""
        from workers.office.accounting.factory import freee_tokens

        settings = self.office_settings()
        runtime = self.runtime()
        try:
            tokens = freee_tokens(settings, runtime.store.docs)
            if tokens.vault.read() and not again:
                return {}  # connected in an earlier run of this workdir
            code = requests.post(f"{self.url('freee')}/_emulator/approve",
                                 json={"client_id": settings.freee_client_id,
                                       "redirect_uri": settings.freee_redirect_uri}, timeout=10).json()["code"]
            return tokens.exchange(code)
        finally:
            runtime.close()

    def _create_queues(self) -> None:
        definitions = self.runtime().registry.queues.values()
        if self.config.queue_backend == "sqs":
            self._start_sqs(definitions)
            return
        from ..devtools.queues import sync_cloud_tasks_queues

        sync_cloud_tasks_queues(self.url("tasks"), PROJECT, LOCATION, definitions)

    def _start_sqs(self, definitions) -> None:
        """A moto server for SQS, the queues with their DLQs, and the relay to the worker."""
        import boto3

        from ackflow.auth.signing import LocalSigner

        from .queues import sync_sqs_queues

        self.procs["moto"] = start_moto(self.workdir / "logs" / "moto.log", self.config.host, self.ports["moto"])
        env = self.env()
        client = boto3.client("sqs", endpoint_url=self.url("moto"), region_name=env["AWS_DEFAULT_REGION"],
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        sync_sqs_queues(client, definitions)
        key_file = self.workdir / "relay-key.pem"
        if not key_file.exists():
            key_file.write_bytes(LocalSigner.generate("ackflow-sqs-relay").key_pem)
        self.procs["relay"] = ManagedProcess(
            "sqs relay", self._argv("sqs-relay", "--wait", "1", "--certs-host", self.config.host,
                                    "--certs-port", str(self.ports["relay"])),
            env={**env, "ACKFLOW_RELAY_SIGNING_KEY": key_file.read_text()},
            ready_url=self.url("relay") + "/", log_path=self.workdir / "logs" / "relay.log").start(timeout=60)

    def _function(self, name: str, target: str) -> ManagedProcess:
        executable = shutil.which("functions-framework", path=os.path.dirname(sys.executable)) \
            or shutil.which("functions-framework")
        argv = [executable, "--source", str(functions_source()), "--target", target,
                "--host", self.config.host, "--port", str(self.ports[name])]
        env = {**self.env(), "FUNCTION_TARGET": target, "PYTHONUNBUFFERED": "1",
               "WORKERS": str(self.config.workers if name == "worker" else 1),
               "THREADS": str(self.config.threads)}
        return ManagedProcess(name, argv, env=env, ready_url=self.url(name) + "/",
                              log_path=self.workdir / "logs" / f"{name}.log")

    def _start_functions(self) -> None:
        self.procs["webhook"] = self._function("webhook", "chat_webhook")
        self.procs["worker"] = self._function("worker", "worker")
        for name in ("webhook", "worker"):
            self.procs[name].start(timeout=60)
        if self.config.console:
            # the console speaks the deployment's language and shows the office's time (its own default,
            # Asia/Tokyo, is the office workflow's too, unless ACKFLOW_OFFICE_TIMEZONE says otherwise)
            office_zone = self.env().get("ACKFLOW_OFFICE_TIMEZONE")
            self.procs["console"] = ManagedProcess(
                "console", self._argv("console", "--host", self.config.host, "--port", str(self.ports["console"]),
                                      "--chat-url", self.url("chat"), "--language", self.config.language,
                                      *(("--time-zone", office_zone) if office_zone else ())),
                env=self.env(), ready_url=self.url("console") + "/static/console.css",
                log_path=self.workdir / "logs" / "console.log").start(timeout=60)

    def restart(self, name: str) -> None:
        """Stop a part (as a crash, SIGKILL) and start it again on the same port."""
        self.procs[name].kill()
        self.start_part(name)

    def start_part(self, name: str) -> None:
        """Start a part that was stopped (or crashed) again, on the same port, with the same data."""
        proc = self.procs[name]
        # with the part's own environment: the relay's (its signing key, the queues' endpoint)
        # is not this process's
        fresh = self._function(name, "chat_webhook" if name == "webhook" else "worker") \
            if name in ("webhook", "worker") else ManagedProcess(proc.name, proc.argv, ready_url=proc.ready_url,
                                                                 env=proc.env, log_path=proc.log_path, cwd=proc.cwd)
        self.procs[name] = fresh.start(timeout=60)

    def chat_signer(self, event_format: str | None = None):
        """The local Chat service's signing side (its keys, read from its database): what a test or
        a benchmark uses to post events to the webhook as Google Chat would."""
        from ..emulators.chat import open_service
        from ..emulators.chat.userside import AppEndpoint

        app = AppEndpoint(url=self.webhook_url, audience=self.config.chat_auth, project_number=PROJECT_NUMBER,
                          format=event_format or self.config.event_format)
        return open_service(self.workdir / "chat.db", app)[1]

    def sweep_once(self) -> dict:
        """Call the worker's /sweep as Cloud Scheduler would: with an OIDC token for the invoker."""
        token = requests.post(
            f"{self.url('tasks')}/v1/projects/-/serviceAccounts/{INVOKER}:generateIdToken",
            json={"audience": self.worker_url, "includeEmail": True}, timeout=5).json()["token"]
        # as long as a scheduler waits: a sweep on a loaded Firestore emulator that still holds a
        # SIGKILLed worker's locks waits them out (a CI run met a 30-s read timeout here)
        response = requests.post(self.worker_url + "sweep", headers={"Authorization": f"Bearer {token}"}, timeout=90)
        self.sweeps += 1
        return response.json() if response.ok else {"error": response.status_code}

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.config.sweep_interval):
            try:
                self.sweep_once()
            except requests.RequestException as exc:
                log.debug("sweep failed: %s", exc)

    def _write_state(self) -> None:
        state = {"urls": {name: self.url(name) for name in self.ports}, "env": self.env(),
                 "pid": os.getpid(), "started": time.time()}
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        self._stop.set()
        if self._sweeper:
            self._sweeper.join(timeout=5)
        if self.push_relay is not None:
            self.push_relay.stop()
        for name in ("console", "relay", "webhook", "worker", "chat", "tasks", "sheets", "drive", "gmail", "freee",
                     "moto"):
            proc = self.procs.get(name)
            if proc:
                proc.stop()
        if self.pubsub is not None:
            self.pubsub.stop()
        if self.firestore is not None:
            self.firestore.stop()
        state = self.workdir / STATE_FILE
        if state.exists():
            state.unlink()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def write_service_account(path: Path, token_uri: str, email: str = WORKER_ACCOUNT) -> Path:
    """A service-account key file whose token endpoint is a local service: the official clients
    authenticate exactly as with a real key file (the key is made here, once)."""
    if path.exists():
        return path
    from ackflow.auth.signing import LocalSigner

    key = LocalSigner.generate("local-worker")
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": key.kid,
        "private_key": key.key_pem.decode(), "client_email": email,
        "client_id": "100000000000000000002", "token_uri": token_uri,
        # not Google's universe: google-auth then makes no calls to Google's IAM endpoints
        "universe_domain": "local.invalid",
    }))
    path.chmod(0o600)
    return path


def read_state(workdir: Path) -> dict:
    path = Path(workdir) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no local pipeline is running (no {path}); start one with `ackflow dev`")
    return json.loads(path.read_text())
