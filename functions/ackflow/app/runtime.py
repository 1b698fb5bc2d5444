"""The object graph of a running app, built from settings, each part created on first use.

This is where adapters are chosen: SQLite or Firestore, Cloud Tasks or SQS, the Chat REST client.
Cloud SDKs are imported only when their adapter is first used, so the webhook starts fast.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ..errors import ConfigError
from ..jobs.context import Services
from ..jobs.registry import Registry
from ..settings import Settings

if TYPE_CHECKING:  # the adapters stay unimported until a part is first used
    from ..auth.certs import CertificateCache
    from ..auth.verify import Verifier
    from ..chat.client import ChatClient
    from ..jobs.messages import Budget
    from ..store.jobstore import JobStore
    from ..store.people import People
    from ..taskqueue.base import TaskQueue
    from .access import AccessPolicy
    from .notify import SpaceHints

T = TypeVar("T")


class lazy(Generic[T]):
    """A thread-safe cached property (functools.cached_property lost its lock in 3.12).

    Each part has its own lock, held by the instance: building a slow part (a cloud client) never
    blocks a request that needs another, and a Runtime made after a fork never inherits a lock that
    a thread of the parent held. Typed: ``runtime.store`` is a ``JobStore`` to an editor.
    """

    def __init__(self, fn: Callable[[Any], T]):
        self.fn = fn
        self.name = fn.__name__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        cache = instance.__dict__
        if self.name in cache:
            return cache[self.name]
        with cache["_lazy_lock"]:
            lock = cache["_lazy_locks"].setdefault(self.name, threading.RLock())
        with lock:
            if self.name not in cache:
                cache[self.name] = self.fn(instance)
            return cache[self.name]


def load_registry(spec: str, settings: Settings) -> Registry:
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute or "build_registry")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"ACKFLOW_JOB_TYPES={spec!r} cannot be loaded ({exc}); expected module:function, "
                          "e.g. workers.job_types:build_registry") from exc
    registry = factory(settings)
    if not isinstance(registry, Registry):
        raise ConfigError(f"{spec} did not return a Registry")
    return registry


class Runtime:
    """Everything a handler may use: the settings, a clock, and the parts below, each built from
    the settings on first use. Parts given to the constructor (a test's store, a tool's queue) are
    used as they are instead."""

    settings: Settings
    clock: Callable[[], float]

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time,
                 registry: Registry | None = None, store: JobStore | None = None,
                 queue: TaskQueue | None = None, chat: ChatClient | None = None,
                 store_timeout: float | None = None):
        self.settings = settings
        # seconds each Firestore request may take (None: the client's own deadlines): given where a
        # person waits on the store (the webhook, Chat's 30 s; the operator's commands), not in the
        # worker, whose contended transactions a loaded emulator can hold past any such bound and
        # whose queue has a dispatch deadline of its own
        self.store_timeout = store_timeout
        self.clock = clock
        self._lazy_lock = threading.Lock()
        self._lazy_locks: dict[str, threading.RLock] = {}
        for name, part in {"registry": registry, "store": store, "queue": queue, "chat": chat}.items():
            if part is not None:
                self.__dict__[name] = part  # seeds the lazy cache: this part is never built

    @lazy
    def registry(self) -> Registry:
        return load_registry(self.settings.job_types, self.settings)

    @lazy
    def store(self) -> JobStore:
        from ..store.jobstore import JobStore

        settings = self.settings
        if settings.store == "firestore":
            from ..store.firestore import FirestoreDocuments

            docs = FirestoreDocuments(project=settings.project, database=settings.firestore_database,
                                      prefix=settings.firestore_prefix, timeout=self.store_timeout)
        else:
            from ..store.sqlite import SqliteDocuments

            docs = SqliteDocuments(settings.sqlite_path)
        return JobStore(docs, finished_ttl=settings.job_ttl_days * 86400)

    @lazy
    def people(self) -> People:
        from ..store.people import People

        return People(self.store.docs)

    @lazy
    def queue(self) -> TaskQueue:
        settings = self.settings
        if settings.queue_backend == "sqs":
            from ..taskqueue.sqs import SqsQueue

            return SqsQueue(endpoint=settings.sqs_endpoint or None, region=settings.sqs_region,
                            prefix=settings.sqs_queue_prefix)
        from ..taskqueue.cloudtasks import CloudTasksQueue

        return CloudTasksQueue(project=settings.project, location=settings.location,
                               worker_url=settings.worker_url,
                               service_account=settings.invoker_service_account or None,
                               endpoint=settings.cloudtasks_endpoint or None,
                               anonymous=settings.local_services)

    @lazy
    def chat(self) -> ChatClient:
        from ..chat.rest import RestChatClient

        return RestChatClient(self.settings.chat_endpoint or None, anonymous=self.settings.local_services)

    @lazy
    def chat_budget(self) -> Budget:
        from ..jobs.messages import Budget

        return Budget(self.settings.chat_space_writes_per_minute, self.settings.chat_space_burst)

    @lazy
    def chat_hints(self) -> SpaceHints:
        from .notify import SpaceHints

        return SpaceHints()

    @lazy
    def access(self) -> AccessPolicy:
        from .access import AccessPolicy

        return AccessPolicy.from_settings(self.settings, {jt.name for jt in self.registry if jt.admins_only})

    @lazy
    def certificates(self) -> CertificateCache:
        from ..auth.certs import CertificateCache

        return CertificateCache()

    @lazy
    def chat_verifier(self) -> Verifier:
        from ..auth import verify

        settings = self.settings
        if settings.chat_auth == "project-number":
            policies = [verify.chat_project_number_policy(settings.project_number, settings.effective_chat_certs_url)]
        else:
            policies = [verify.chat_endpoint_url_policy(settings.webhook_url, settings.project_number or None,
                                                        settings.effective_chat_certs_url)]
        return verify.Verifier(policies, self.certificates)

    @lazy
    def worker_verifier(self) -> Verifier:
        from ..auth import verify

        settings = self.settings
        audience = settings.worker_audience or settings.worker_url
        policies = [verify.oidc_invoker_policy(audience, settings.effective_worker_signers,
                                               settings.worker_certs_url)]
        if settings.relay_certs_url:
            policies.append(verify.TokenPolicy("SQS relay", (audience,), (settings.relay_issuer,),
                                               settings.relay_certs_url, settings.effective_worker_signers,
                                               require_email_verified=True))
        return verify.Verifier(policies, self.certificates)

    @lazy
    def services(self) -> Services:
        factories = dict(self.registry.services)
        factories.setdefault("store", lambda services: self.store)
        factories.setdefault("chat", lambda services: self.chat)
        factories.setdefault("settings", lambda services: self.settings)
        return Services(factories)

    def close(self) -> None:
        people = self.__dict__.get("people")
        if people is not None:  # what an event said of a person, still being kept on its thread
            people.settle()
        store = self.__dict__.get("store")
        if store is not None:
            store.close()
