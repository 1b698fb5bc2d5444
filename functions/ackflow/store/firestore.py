"""Firestore backend of the Documents port (``google-cloud-firestore``, the ``[gcp]`` extra).

Each Documents transaction is a Firestore transaction: reads first, then writes, committed
together; on contention Firestore aborts it and the client runs it again with fresh reads (the
JobStore's functions are written for that). Production Firestore is optimistic; the emulator
locks pessimistically (a conflicting transaction waits about two seconds), so transactions here
stay short: one or two documents, no queries.

The client runs a transaction again when its *commit* aborts, but not when Firestore aborts it
during its reads (the emulator's "Transaction lock timeout", production's contention on a read):
``transaction`` runs those again itself, a few times after a short random pause, then reports
the store busy (a retryable error, never "already exists").

With a ``timeout`` (ACKFLOW_STORE_TIMEOUT: the webhook's and the operator commands' stores), every
Firestore request has a bound of its own: each RPC (a read, a query's stream, a count, the
transaction's begin, reads, commit and rollback) may take that long, retries on a transient error
included, and is never tried again once its time is spent. A Firestore that does not answer (an
unreachable host, a hung connection) is then ``StoreUnavailable`` within the bound, not after the
Google client's own deadlines (a minute or more: longer than Chat waits for the webhook's answer,
so the person would see Chat's "not responding" instead of ours). The bound is per request, not
per transaction: a contended transaction runs several requests and may wait on each (the
emulator's locks, under a loaded CI: a whole transaction took over 6 s). Without a timeout (the
worker's store) the client's own deadlines hold, and the queue's dispatch deadline above them.

``expire_at`` is stored as a Timestamp so a Firestore TTL policy can delete finished jobs; every
other time is seconds since the epoch, as in the other backends.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import AlreadyExists, ConfigError, DocumentRefused, StoreUnavailable
from .documents import OPERATORS, Cursor, Where, refuse_unstorable, storable_id

T = TypeVar("T")
TTL_FIELD = "expire_at"
MAX_ATTEMPTS = 8
READ_ABORT_ATTEMPTS = 4  # whole-transaction runs when Firestore aborts one during its reads
READ_ABORT_PAUSE = (0.05, 0.4)  # seconds, random, between those runs
TRANSACTION_RPCS = ("begin_transaction", "commit", "rollback")  # the client gives these no timeout of ours


class _UntilDeadline:
    """A google-api-core timeout (a decorator of the RPC, as its ``timeout`` classes are): each
    attempt is given the time left until one deadline, so the attempts of one store call (a
    query's stream started again, a retry) share it."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def __call__(self, func):
        @functools.wraps(func)
        def until_deadline(*args, **kwargs):
            kwargs["timeout"] = max(self.deadline - time.monotonic(), 0.001)
            return func(*args, **kwargs)

        return until_deadline


class _Bound:
    """The time of one Firestore request: its deadline, shared by the attempts of its retry. A
    commit is not tried again on an internal error: Firestore may have applied it (the client's
    own retry of a commit leaves that error out too), and the same transaction committed again is
    refused, which would read as documents refused, or as "already exists", for a write made."""

    def __init__(self, seconds: float, idempotent: bool = True):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.idempotent = idempotent

    def _transient(self, exc: BaseException) -> bool:
        """Worth another attempt: a transient refusal, while time is left. Never a deadline
        exceeded (the time is spent), and never once the deadline passed: the client starts a
        query's broken stream again whenever the retry's predicate says so, however long it took."""
        from google.api_core import exceptions

        transient = (exceptions.ServiceUnavailable, exceptions.ResourceExhausted) + \
            ((exceptions.InternalServerError,) if self.idempotent else ())
        return isinstance(exc, transient) and time.monotonic() < self.deadline - 0.05

    def options(self) -> dict:
        """``retry=`` and ``timeout=`` for the request."""
        from google.api_core.retry import Retry

        return {"retry": Retry(predicate=self._transient, initial=0.1, maximum=1.0, multiplier=2.0,
                               timeout=self.seconds),
                "timeout": _UntilDeadline(self.deadline)}


class _BoundedApi:
    """The client's GAPIC Firestore API with the transaction's RPCs (begin, commit, rollback: the
    client's Transaction passes them no ``timeout``) given a bound each."""

    def __init__(self, api, documents: FirestoreDocuments):
        self._api = api
        self._documents = documents

    def __getattr__(self, name: str):
        attr = getattr(self._api, name)
        if name not in TRANSACTION_RPCS:
            return attr

        @functools.wraps(attr)
        def bounded(*args, **kwargs):
            for key, value in self._documents.request_options(idempotent=name != "commit").items():
                kwargs.setdefault(key, value)
            return attr(*args, **kwargs)

        return bounded


def _to_firestore(doc: dict) -> dict:
    value = doc.get(TTL_FIELD)
    if isinstance(value, (int, float)):
        doc = dict(doc)
        doc[TTL_FIELD] = dt.datetime.fromtimestamp(value, dt.UTC)
    return doc


def _from_firestore(doc: dict | None) -> dict | None:
    if doc is None:
        return None
    value = doc.get(TTL_FIELD)
    if isinstance(value, dt.datetime):
        doc[TTL_FIELD] = value.timestamp()
    return doc


class _FirestoreTx:
    def __init__(self, documents: FirestoreDocuments, transaction):
        self.documents = documents
        self.transaction = transaction

    def get(self, collection: str, doc_id: str) -> dict | None:
        if not storable_id(doc_id):  # no document has it (a "/" would name another one)
            return None
        snapshot = self.documents.ref(collection, doc_id).get(
            transaction=self.transaction, **self.documents.request_options())
        return _from_firestore(snapshot.to_dict()) if snapshot.exists else None

    def create(self, collection: str, doc_id: str, doc: dict) -> None:
        refuse_unstorable(collection, doc_id, doc)
        self.transaction.create(self.documents.ref(collection, doc_id), _to_firestore(doc))

    def set(self, collection: str, doc_id: str, doc: dict) -> None:
        refuse_unstorable(collection, doc_id, doc)
        self.transaction.set(self.documents.ref(collection, doc_id), _to_firestore(doc))

    def delete(self, collection: str, doc_id: str) -> None:
        if storable_id(doc_id):
            self.transaction.delete(self.documents.ref(collection, doc_id))


class FirestoreDocuments:
    def __init__(self, *, project: str, database: str = "(default)", prefix: str = "ackflow_", client=None,
                 timeout: float | None = None):
        self.project = project
        self.database = database
        self.prefix = prefix
        self.timeout = timeout
        self._client = client
        self._lock = threading.Lock()

    def request_options(self, idempotent: bool = True) -> dict:
        """``retry=`` and ``timeout=`` of one request: its own bound, or nothing (the client's)."""
        return _Bound(self.timeout, idempotent).options() if self.timeout else {}

    def where(self) -> str:
        """Which Firestore, for a person who must find out why it does not answer."""
        emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
        if emulator:
            return f"the Firestore emulator at {emulator} (FIRESTORE_EMULATOR_HOST), project {self.project}"
        return f"Firestore of project {self.project}, database {self.database} (firestore.googleapis.com)"

    def _unavailable(self, exc: Exception, doing: str) -> StoreUnavailable:
        from google.api_core import exceptions

        if isinstance(exc, exceptions.RetryError):  # refused until the bound ran out (connection refused)
            exc = exc.cause or exc
        if isinstance(exc, (exceptions.DeadlineExceeded, exceptions.ServiceUnavailable, exceptions.RetryError)):
            # the wait is ACKFLOW_STORE_TIMEOUT only where it bounds the store (not the worker's)
            waited = f"within {self.timeout:g} s" if self.timeout else "in time"
            setting = "; ACKFLOW_STORE_TIMEOUT sets the wait" if self.timeout else ""
            return StoreUnavailable(
                f"{self.where()} did not answer {waited} ({doing}): check that it is reachable "
                f"from here (network, firewall, the emulator running) and that the project is right"
                f"{setting} ({type(exc).__name__}: {getattr(exc, 'message', exc)})")
        return StoreUnavailable(f"{self.where()} did not answer ({doing}): {exc}")

    def client(self):
        with self._lock:
            if self._client is None:
                from google.auth.exceptions import DefaultCredentialsError
                from google.cloud import firestore

                try:
                    client = firestore.Client(project=self.project, database=self.database)
                except DefaultCredentialsError as exc:
                    raise ConfigError(
                        "Firestore needs Google credentials and found none: on an operator's machine run "
                        "`gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS); "
                        "on Google Cloud the function's service account gives them; for the emulator set "
                        "FIRESTORE_EMULATOR_HOST") from exc
                if self.timeout:  # the transaction's RPCs bounded too (the client takes no timeout for them)
                    client._firestore_api_internal = _BoundedApi(client._firestore_api, self)
                self._client = client
            return self._client

    def ref(self, collection: str, doc_id: str):
        return self.client().collection(self.prefix + collection).document(doc_id)

    def transaction(self, fn: Callable[[_FirestoreTx], T]) -> T:
        from google.api_core import exceptions

        for attempt in range(1, READ_ABORT_ATTEMPTS + 1):
            try:
                return self._transaction_once(fn)
            except exceptions.Aborted as exc:
                if attempt == READ_ABORT_ATTEMPTS:
                    raise StoreUnavailable(f"Firestore is too busy: {exc.message}") from exc
                time.sleep(random.uniform(*READ_ABORT_PAUSE))
        raise AssertionError("unreachable")

    def _transaction_once(self, fn: Callable[[_FirestoreTx], T]) -> T:
        from google.api_core import exceptions
        from google.cloud import firestore

        client = self.client()

        @firestore.transactional
        def run(transaction):
            return fn(_FirestoreTx(self, transaction))

        try:
            return run(client.transaction(max_attempts=MAX_ATTEMPTS))
        except exceptions.AlreadyExists as exc:  # a create() found the document at commit time
            raise AlreadyExists(str(exc.message)) from exc
        except exceptions.Aborted:
            raise  # contention (Aborted is a Conflict too): transaction() runs it again
        except exceptions.Conflict as exc:
            raise AlreadyExists(str(exc.message)) from exc
        except exceptions.InvalidArgument as exc:  # the documents as written: no attempt will commit them
            raise DocumentRefused(f"Firestore refused the documents as written: {exc.message}") from exc
        except (exceptions.ServiceUnavailable, exceptions.DeadlineExceeded, exceptions.RetryError) as exc:
            raise self._unavailable(exc, "a transaction") from exc
        except (exceptions.InternalServerError, exceptions.ResourceExhausted) as exc:
            raise StoreUnavailable(f"Firestore did not commit: {exc}") from exc
        except exceptions.GoogleAPICallError as exc:
            raise StoreUnavailable(f"Firestore refused the transaction: {exc}") from exc
        except ValueError as exc:
            if "Failed to commit transaction" in str(exc):  # contention beyond MAX_ATTEMPTS
                raise StoreUnavailable(f"Firestore is too busy: {exc}") from exc
            failed = exc.__context__
            if isinstance(failed, exceptions.GoogleAPIError):
                # the begin failed, and the client's rollback of a transaction that never began
                # ("no transaction ID") hid its error
                if isinstance(failed, (exceptions.ServiceUnavailable, exceptions.DeadlineExceeded,
                                       exceptions.RetryError)):
                    raise self._unavailable(failed, "a transaction") from failed
                raise StoreUnavailable(f"Firestore did not begin the transaction: {failed}") from failed
            raise

    def get(self, collection: str, doc_id: str) -> dict | None:
        from google.api_core import exceptions

        if not storable_id(doc_id):
            return None
        try:
            snapshot = self.ref(collection, doc_id).get(**self.request_options())
        except exceptions.GoogleAPIError as exc:  # a call's error, or the retry's (RetryError)
            raise self._unavailable(exc, "a read") from exc
        return _from_firestore(snapshot.to_dict()) if snapshot.exists else None

    def _filtered(self, collection: str, where: list[Where]):
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.client().collection(self.prefix + collection)
        for name, op, value in where:
            if op not in OPERATORS:
                raise ValueError(f"unsupported operator {op}")
            query = query.where(filter=FieldFilter(name, op, value))
        return query

    def query(self, collection: str, where: list[Where], order_by: str, descending: bool,
              limit: int, start_after: Cursor | None = None) -> list[dict]:
        from google.api_core import exceptions
        from google.cloud import firestore

        direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
        query = self._filtered(collection, where).order_by(order_by, direction=direction)
        if start_after is not None:
            query = query.order_by("__name__", direction=direction).start_after(
                {order_by: start_after[0], "__name__": start_after[1]})
        query = query.limit(limit)
        try:
            return [_from_firestore(snapshot.to_dict()) for snapshot in query.stream(**self.request_options())]
        except exceptions.FailedPrecondition as exc:  # a composite index is missing
            raise StoreUnavailable(f"Firestore needs an index for this query ({exc.message}); "
                                   "deploy the indexes of store/indexes.json (Terraform does)") from exc
        except exceptions.GoogleAPIError as exc:  # a call's error, or the retry's (RetryError)
            raise self._unavailable(exc, "a query") from exc

    def count(self, collection: str, where: list[Where]) -> int:
        from google.api_core import exceptions

        try:
            results = self._filtered(collection, where).count().get(**self.request_options())
        except exceptions.FailedPrecondition as exc:
            raise StoreUnavailable(f"Firestore needs an index for this count ({exc.message})") from exc
        except exceptions.GoogleAPIError as exc:  # a call's error, or the retry's (RetryError)
            raise self._unavailable(exc, "a count") from exc
        return int(results[0][0].value) if results and results[0] else 0

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
