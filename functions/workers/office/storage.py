"""Where case folders live: the CaseStorage port, a local folder (the default) and Cloud Storage;
Google Drive (a shared drive) is in ``drive.py``.

Paths are case-relative (``2026-001_ACME_金型/03_見積/見積書.pdf``); each adapter maps them to what
its store has (files, object names, Drive folders found by key). Writes never clobber: ``create``
writes a file only if it does not exist, so a step that runs again leaves alone what a person has
edited since, and never overwrites an issued document.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from ackflow.errors import PermanentError, TransientError
from ackflow.i18n import L_, N_, Msg

from .names import UnsafePath, safe_content_type, safe_relative_path

# What the writes of a step are marked with where the storage keeps marks (Drive's appProperties):
# the step that makes them (``step``) and the issued document they are (``document``).
_MARKS: ContextVar[dict[str, str]] = ContextVar("ackflow_case_storage_marks")


@contextlib.contextmanager
def marked(**marks: str) -> Iterator[None]:
    """Within it, what is made is marked with ``marks`` too (``step=``, ``document=``) on an adapter
    that keeps marks; empty values are left out. Nested marks add to the outer ones."""
    token = _MARKS.set({**_MARKS.get({}), **{name: value for name, value in marks.items() if value}})
    try:
        yield
    finally:
        _MARKS.reset(token)


def current_marks() -> dict[str, str]:
    return dict(_MARKS.get({}))


class CaseStorage(Protocol):
    def check(self) -> None:
        """Read-only: raise the step error a write would meet for a reason no retry fixes (the place
        where case folders go is missing or unreachable), before a case number is taken. Safe to
        call any number of times; it makes and changes nothing."""

    def ensure_folder(self, path: str) -> object:
        """Make the folder ``path`` (and its parents) if missing; safe to call again. (Cloud Storage
        has no folders: there it makes nothing.)"""

    def create(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write ``path`` if it does not exist; True if written, False if it was there. ``content_type``
        may come from anyone (a mail's part): adapters store it as ``names.safe_content_type`` says."""

    def exists(self, path: str) -> bool: ...

    def read(self, path: str) -> bytes: ...

    def list(self, prefix: str) -> list[str]:
        """Every file path under ``prefix`` (recursively), sorted."""

    def link(self, path: str) -> str:
        """Where a person opens ``path`` (locally a file:// URL, or the http URL of a server of the
        folder such as ``ackflow dev``'s; the Cloud console for GCS; the ``webViewLink`` on Drive,
        which the Drive app opens on phones)."""


class LocalStorage:
    def __init__(self, root: str | Path, link_base: str = ""):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.link_base = link_base.rstrip("/")

    def check(self) -> None:
        """Nothing to ask: the root is made when the storage is opened, and folders with the files."""

    def _path(self, path: str) -> Path:
        full = (self.root / safe_relative_path(path)).resolve()
        if self.root not in full.parents and full != self.root:  # a symlink out of it
            raise UnsafePath(path, L_("it leads outside the case storage"))
        return full

    def ensure_folder(self, path: str) -> Path:
        folder = self._path(path)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def create(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return False
        _remove_stale_partials(target.parent)
        # write beside it, then link into place: a crash never leaves half a file, and link()
        # refuses to replace a file that appeared meanwhile
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".partial-", delete=False) as handle:
            handle.write(data)
            temporary = Path(handle.name)
        try:
            os.link(temporary, target)
            return True
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)

    def exists(self, path: str) -> bool:
        return self._path(path).exists()

    def read(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*")
                      if p.is_file() and not p.name.startswith(".partial-"))

    def link(self, path: str) -> str:
        if self.link_base:  # served over http (ackflow dev's file server): a link a phone can open
            from urllib.parse import quote

            return f"{self.link_base}/{quote(self._path(path).relative_to(self.root).as_posix())}"
        return self._path(path).as_uri()


PARTIAL_STALE = 3600  # seconds: a .partial- file older than this was left by a crash, not being written


def _remove_stale_partials(folder: Path) -> None:
    """A crash between writing a file beside its place and linking it leaves a ``.partial-`` file;
    the next write in that folder removes those older than an hour (one being written is younger)."""
    now = time.time()
    for leftover in folder.glob(".partial-*"):
        try:
            if now - leftover.stat().st_mtime > PARTIAL_STALE:
                leftover.unlink()
        except OSError:  # gone meanwhile (another worker removed it): nothing to do
            pass


class GcsStorage:
    """Cloud Storage (``google-cloud-storage``). ``if_generation_match=0`` makes creation refuse an
    existing object on the service itself; the existence check before it also covers emulators
    that ignore preconditions."""

    def __init__(self, bucket: str, prefix: str = "", client=None):
        self.bucket_name = bucket
        self.prefix = prefix
        self._client = client
        self._lock = threading.Lock()

    def _bucket(self):
        with self._lock:
            if self._client is None:
                from google.cloud import storage

                self._client = storage.Client()
            return self._client.bucket(self.bucket_name)

    def _name(self, path: str) -> str:
        return self.prefix + safe_relative_path(path)

    @contextlib.contextmanager
    def _translated(self, action: Msg):
        """Cloud Storage errors as the step errors they are: worth a retry, or not; ``action``
        (``L_``) is said in the language of the person who asked."""
        from google.api_core import exceptions

        try:
            yield
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise PermanentError(N_("Cloud Storage: the worker may not {action} in gs://{bucket} (grant its service "
                                    "account roles/storage.objectAdmin on the bucket)"),
                                 action=action, bucket=self.bucket_name) from exc
        except exceptions.NotFound as exc:
            raise PermanentError(N_("Cloud Storage: could not {action}: {problem} (check ACKFLOW_OFFICE_GCS_BUCKET)"),
                                 action=action, problem=exc.message) from exc
        except exceptions.BadRequest as exc:  # an invalid bucket or object name: the same again is refused again
            raise PermanentError(N_("Cloud Storage refused to {action}: {problem} (check ACKFLOW_OFFICE_GCS_BUCKET "
                                    "and ACKFLOW_OFFICE_GCS_PREFIX)"), action=action, problem=exc.message) from exc
        except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
            raise TransientError(N_("Cloud Storage: could not {action}: {problem}"), action=action,
                                 problem=str(exc)) from exc

    def check(self) -> None:
        """One object name listed under the prefix (``storage.objects.list``, which the worker's
        role has; ``buckets.get`` it has not): a missing bucket or a refused worker is said now."""
        with self._translated(L_("list the case folders")):
            for _ in self._bucket().client.list_blobs(self.bucket_name, prefix=self.prefix, max_results=1):
                break

    def ensure_folder(self, path: str) -> str:
        return self._name(path)  # object names carry their folders

    def create(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        from google.api_core import exceptions

        blob = self._bucket().blob(self._name(path))
        with self._translated(L_("write {path}", path=path)):
            if blob.exists():
                return False
            try:
                blob.upload_from_string(data, content_type=safe_content_type(content_type), if_generation_match=0)
            except exceptions.PreconditionFailed:
                return False
        return True

    def exists(self, path: str) -> bool:
        with self._translated(L_("look for {path}", path=path)):
            return self._bucket().blob(self._name(path)).exists()

    def read(self, path: str) -> bytes:
        with self._translated(L_("read {path}", path=path)):
            return self._bucket().blob(self._name(path)).download_as_bytes()

    def list(self, prefix: str) -> list[str]:
        start = self._name(prefix)
        with self._translated(L_("list {path}", path=prefix)):
            blobs = self._bucket().client.list_blobs(self.bucket_name, prefix=start + "/")
            return sorted(b.name[len(self.prefix):] for b in blobs)

    def link(self, path: str) -> str:
        """A file: its authenticated browser URL, which opens the file itself for a person with
        access (on a phone too); a folder (a prefix, no object): the Cloud console's browser of
        the prefix. The console's ``_details`` page would show one object's metadata, not a folder
        nor the file's content."""
        from urllib.parse import quote

        name = self._name(path)
        if self.exists(path):
            return f"https://storage.cloud.google.com/{self.bucket_name}/{quote(name)}"
        return f"https://console.cloud.google.com/storage/browser/{self.bucket_name}/{quote(name)}/"
