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

``expire_at`` is stored as a Timestamp so a Firestore TTL policy can delete finished jobs; every
other time is seconds since the epoch, as in the other backends.
"""

from __future__ import annotations

import datetime as dt
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
        snapshot = self.documents.ref(collection, doc_id).get(transaction=self.transaction)
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
    def __init__(self, *, project: str, database: str = "(default)", prefix: str = "ackflow_", client=None):
        self.project = project
        self.database = database
        self.prefix = prefix
        self._client = client
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                from google.auth.exceptions import DefaultCredentialsError
                from google.cloud import firestore

                try:
                    self._client = firestore.Client(project=self.project, database=self.database)
                except DefaultCredentialsError as exc:
                    raise ConfigError(
                        "Firestore needs Google credentials and found none: on an operator's machine run "
                        "`gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS); "
                        "on Google Cloud the function's service account gives them; for the emulator set "
                        "FIRESTORE_EMULATOR_HOST") from exc
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
        except (exceptions.ServiceUnavailable, exceptions.DeadlineExceeded,
                exceptions.InternalServerError, exceptions.ResourceExhausted) as exc:
            raise StoreUnavailable(f"Firestore did not commit: {exc}") from exc
        except exceptions.GoogleAPICallError as exc:
            raise StoreUnavailable(f"Firestore refused the transaction: {exc}") from exc
        except ValueError as exc:
            if "Failed to commit transaction" in str(exc):  # contention beyond MAX_ATTEMPTS
                raise StoreUnavailable(f"Firestore is too busy: {exc}") from exc
            raise

    def get(self, collection: str, doc_id: str) -> dict | None:
        from google.api_core import exceptions

        if not storable_id(doc_id):
            return None
        try:
            snapshot = self.ref(collection, doc_id).get()
        except exceptions.GoogleAPICallError as exc:
            raise StoreUnavailable(f"Firestore did not answer: {exc}") from exc
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
            return [_from_firestore(snapshot.to_dict()) for snapshot in query.stream()]
        except exceptions.FailedPrecondition as exc:  # a composite index is missing
            raise StoreUnavailable(f"Firestore needs an index for this query ({exc.message}); "
                                   "deploy the indexes of store/indexes.json (Terraform does)") from exc
        except exceptions.GoogleAPICallError as exc:
            raise StoreUnavailable(f"Firestore did not answer: {exc}") from exc

    def count(self, collection: str, where: list[Where]) -> int:
        from google.api_core import exceptions

        try:
            results = self._filtered(collection, where).count().get()
        except exceptions.FailedPrecondition as exc:
            raise StoreUnavailable(f"Firestore needs an index for this count ({exc.message})") from exc
        except exceptions.GoogleAPICallError as exc:
            raise StoreUnavailable(f"Firestore did not answer: {exc}") from exc
        return int(results[0][0].value) if results and results[0] else 0

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
