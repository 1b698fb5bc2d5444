"""All settings, read once from the environment (prefix ``ACKFLOW_``).

Every field has a description; ``ackflow config`` prints them (secrets masked) and
docs/configuration.md lists them. A missing or malformed setting fails at start with its name
and what it should look like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

GOOGLE_CERTS = "https://www.googleapis.com/oauth2/v1/certs"
CHAT_CERTS = "https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"

CommaList = Annotated[list[str], NoDecode]


def split_commas(value):
    """``"a, b,,c"`` → ``["a", "b", "c"]`` (a list passes through): lists in environment variables."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _default_queues_file() -> str:
    return str(Path(__file__).resolve().parent.parent / "workers" / "queues.json")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACKFLOW_", extra="ignore", frozen=True)

    # -- where it runs ------------------------------------------------------------------------
    project: str = Field("local-project", description="Google Cloud project id.")
    project_number: str = Field("", description="Google Cloud project number (Chat token audience, add-on signer).")
    location: str = Field("asia-northeast1", description="Region of the queues and functions.")
    webhook_url: str = Field("http://127.0.0.1:8080/", description="Public URL of the chat_webhook function (add-on buttons, endpoint-URL audience).")
    worker_url: str = Field("http://127.0.0.1:8081/", description="URL of the worker function that the queues call.")

    # -- job state ------------------------------------------------------------------------------
    store: Literal["sqlite", "firestore"] = Field("sqlite", description="Where job state lives.")
    sqlite_path: str = Field(".ackflow/ackflow.db", description="SQLite file of the embedded store.")
    firestore_database: str = Field("(default)", description="Firestore database id.")
    firestore_prefix: str = Field("ackflow_", description="Prefix of the Firestore collection names.")
    store_timeout: float = Field(6.0, gt=0, description="Seconds one Firestore request of the webhook or an operator command may take before the store counts as unavailable (the webhook then answers 'try again' well inside Chat's 30 s, the CLI an error); the worker's requests keep the client's own deadlines.")
    job_ttl_days: float = Field(30.0, gt=0, description="Days a finished job is kept (expire_at, a Firestore TTL).")

    # -- queues ---------------------------------------------------------------------------------
    queue_backend: Literal["cloudtasks", "sqs"] = Field("cloudtasks", description="Cloud Tasks, or SQS with a relay.")
    queues_file: str = Field(default_factory=_default_queues_file, description="The queue definitions (JSON), shared with Terraform.")
    cloudtasks_endpoint: str = Field("", description="Cloud Tasks API endpoint; empty for Google's, the local service's URL in dev.")
    invoker_service_account: str = Field("", description="Service account whose OIDC token the queue attaches to tasks (and the scheduler to sweeps).")
    sqs_endpoint: str = Field("", description="SQS endpoint; empty for AWS's, a moto server's URL locally.")
    sqs_region: str = Field("ap-northeast-1", description="AWS region of the SQS queues.")
    sqs_queue_prefix: str = Field("", description="Prefix added to queue names for SQS (e.g. per environment).")

    # -- Google Chat ----------------------------------------------------------------------------
    chat_endpoint: str = Field("", description="Chat API endpoint; empty for Google's, the local service's URL in dev.")
    chat_auth: Literal["project-number", "endpoint-url"] = Field("project-number", description="Authentication audience configured for the Chat app.")
    chat_certs_url: str = Field("", description="Certificates of Chat's token signer; empty for Google's (chosen by chat_auth).")
    local_services: bool = Field(False, description="Talk to the local Cloud Tasks and Chat services without credentials.")
    confirm_ttl: float = Field(900.0, gt=0, description="Seconds a confirmation card stays valid.")
    chat_space_writes_per_minute: float = Field(50.0, ge=0, description="Chat API writes a minute the app allows itself in one space, shared by all its instances through the store (Chat allows 60, shared by every app in the space); 0: no shared budget.")
    chat_space_burst: int = Field(5, ge=1, description="Writes the app may make at once in a space before the per-minute rate applies (burst + rate ≤ Chat's 60).")
    chat_final_wait: float = Field(10.0, ge=0, description="Seconds a worker keeps trying to show a finished job through Chat outages before it answers 503 and the queue retries (for the space's write budget too, unless four deliveries of the process wait already: then the queue delivers the result again a few seconds later).")

    # -- the worker's callers -------------------------------------------------------------------
    worker_audience: str = Field("", description="Audience of the queue's OIDC token; empty for worker_url.")
    worker_certs_url: str = Field(GOOGLE_CERTS, description="Certificates of the OIDC token signer.")
    worker_signers: CommaList = Field(default_factory=list, description="Service accounts accepted as callers of the worker; empty for invoker_service_account.")

    # -- language and time ---------------------------------------------------------------------
    language: Literal["en", "ja"] = Field("en", description="Language of a person whose event says none and who is not yet known, and of periodic jobs (ja or en).")
    time_zone: str = Field("UTC", description="IANA time zone of a person whose event says none and who is not yet known; periodic jobs' cron schedules are read in it (e.g. Asia/Tokyo).")

    # -- who may do what ------------------------------------------------------------------------
    allow_users: CommaList = Field(default_factory=list, description="Emails allowed by default (empty: anyone, unless domains are set).")
    allow_domains: CommaList = Field(default_factory=list, description="Email domains allowed by default.")
    allow_spaces: CommaList = Field(default_factory=list, description="Spaces (spaces/…) where commands are allowed (empty: any).")
    command_access: Annotated[dict[str, dict[str, list[str]]], NoDecode] = Field(default_factory=dict, description='Per-command allow-lists, JSON, each narrowing the default ones (admins pass): {"newcase": {"users": [], "domains": [], "spaces": []}}.')
    admins: CommaList = Field(default_factory=list, description="Emails always allowed, who may also confirm or cancel others' requests.")
    access_contact: str = Field("", description="Who to ask for access (shown in refusals); empty: the admins.")

    # -- jobs -----------------------------------------------------------------------------------
    job_types: str = Field("workers.job_types:build_registry", description="module:function that returns the job type Registry.")
    dev_job_types: bool = Field(True, description="Offer the job types for trying the pipeline (echo, sleep, fail) beside the deployment's own; Terraform turns them off (its dev_job_types variable).")
    periodic_space: str = Field("", description="Space where periodic jobs report (empty: they report nowhere).")
    sweep_queued_after: float = Field(60.0, gt=0, description="Seconds after which a QUEUED job is sent again by the sweep.")
    sweep_stalled_after: float = Field(300.0, gt=0, description="Seconds past its lease (or retry time) after which a RUNNING step is sent again.")
    sweep_catch_up: float = Field(600.0, gt=0, description="How far back the sweep starts periodic jobs that were due.")
    sweep_unshown_after: float = Field(60.0, gt=0, description="Seconds after a job finished without its final message confirmed written, after which the sweep shows it.")
    lease_margin: float = Field(30.0, ge=0, description="Seconds a step's lease outlives its dispatch deadline.")
    progress_interval: float = Field(1.0, ge=0, description="Minimum seconds between progress edits of a job's message.")

    # -- the SQS relay --------------------------------------------------------------------------
    relay_signing_key: SecretStr = Field(SecretStr(""), description="PEM RSA key the SQS relay signs worker tokens with.")
    relay_certs_url: str = Field("", description="Where the worker fetches the relay key's certificates.")
    relay_issuer: str = Field("https://ackflow.invalid/sqs-relay", description="`iss` of the tokens the SQS relay signs.")

    # -- logs -----------------------------------------------------------------------------------
    log_format: Literal["json", "text"] = Field("json", description="json: Cloud Logging structured lines; text: for a terminal.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Lowest level logged.")

    @field_validator("allow_users", "allow_domains", "allow_spaces", "admins", "worker_signers", mode="before")
    @classmethod
    def _comma_list(cls, value):
        return split_commas(value)

    @field_validator("command_access", mode="before")
    @classmethod
    def _json_object(cls, value):
        if isinstance(value, str):
            import json

            try:
                return json.loads(value) if value.strip() else {}
            except ValueError as exc:
                raise ValueError(f'must be JSON like {{"newcase": {{"users": ["a@example.com"]}}}}: {exc}') from exc
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        from .i18n import valid_time_zone

        if not valid_time_zone(value):
            raise ValueError("must be an IANA time zone, e.g. Asia/Tokyo or UTC")
        return value

    @field_validator("webhook_url", "worker_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://REGION-PROJECT.cloudfunctions.net/worker")
        return value

    @property
    def effective_chat_certs_url(self) -> str:
        if self.chat_certs_url:
            return self.chat_certs_url
        return CHAT_CERTS if self.chat_auth == "project-number" else GOOGLE_CERTS

    @property
    def effective_worker_signers(self) -> tuple[str, ...]:
        return tuple(self.worker_signers or ([self.invoker_service_account] if self.invoker_service_account else []))

    def check(self) -> Settings:
        """Rules across settings, checked when the app starts: ConfigError saying every one broken."""
        problems = self.problems()
        if problems:
            raise ConfigError("\n".join(problems))
        return self

    def problems(self) -> list[str]:
        """What the start-up check refuses, every rule broken (each is a setting to fix)."""
        problems = []
        if self.chat_auth == "project-number" and not self.project_number:
            problems.append("ACKFLOW_PROJECT_NUMBER is required when ACKFLOW_CHAT_AUTH=project-number "
                            "(the Chat app's tokens are issued for it), e.g. ACKFLOW_PROJECT_NUMBER=123456789012")
        if not self.effective_worker_signers:
            problems.append("set ACKFLOW_INVOKER_SERVICE_ACCOUNT (or ACKFLOW_WORKER_SIGNERS): the service account "
                            "whose OIDC token the queue sends, e.g. ackflow-invoker@PROJECT.iam.gserviceaccount.com")
        if self.queue_backend == "sqs":
            import importlib.util

            if importlib.util.find_spec("boto3") is None:  # found, not imported: the start stays light
                problems.append("ACKFLOW_QUEUE_BACKEND=sqs needs boto3, which is not installed here: for the "
                                "functions, add \"aws\" to [tool.ackflow.deploy] extras in pyproject.toml and run "
                                "scripts/gen-requirements; elsewhere pip install 'ackflow[aws]'")
        return problems


def load_settings(**overrides) -> Settings:
    """Settings from the environment; ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "ACKFLOW_" + "_".join(str(p) for p in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems)) from exc


def describe(settings: BaseSettings) -> list[tuple[str, str, str]]:
    """(variable, value, description) for every setting of a settings object, secrets masked."""
    rows = []
    prefix = type(settings).model_config.get("env_prefix", "")
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "********" if value.get_secret_value() else "(not set)"
        elif isinstance(value, list):
            shown = ",".join(value)
        elif isinstance(value, dict):
            import json

            shown = json.dumps(value)
        else:
            shown = str(value)
        rows.append((f"{prefix}{name}".upper(), shown, info.description or ""))
    return rows
