"""The Firestore emulator that ships with the gcloud CLI, run as its own Java process.

``gcloud emulators firestore start`` wraps the emulator in a Python launcher; stopping the launcher
can leave the Java process behind. So this starts the emulator's own class directly, in a process
group that ``stop`` ends for good, and waits until it answers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import requests

from .procs import ManagedProcess, free_port

MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
JAR_NAME = "cloud-firestore-emulator.jar"


class EmulatorMissing(RuntimeError):
    pass


def find_jar() -> Path:
    """The emulator's jar: ACKFLOW_FIRESTORE_EMULATOR_JAR, or the gcloud CLI's component."""
    explicit = os.environ.get("ACKFLOW_FIRESTORE_EMULATOR_JAR")
    candidates = [Path(explicit)] if explicit else []
    gcloud = shutil.which("gcloud")
    roots = ["/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"]
    if gcloud:
        real = Path(gcloud).resolve()
        roots.insert(0, str(real.parent.parent))
        try:
            sdk_root = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"],
                                      capture_output=True, text=True, timeout=30).stdout.strip()
            if sdk_root:
                roots.insert(0, sdk_root)
        except (OSError, subprocess.TimeoutExpired):
            pass
    candidates += [Path(root) / "platform" / "cloud-firestore-emulator" / JAR_NAME for root in roots]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise EmulatorMissing("the Firestore emulator is not installed: install the gcloud CLI and its "
                          "component (gcloud components install cloud-firestore-emulator, or the Debian "
                          "package google-cloud-cli-firestore-emulator), or set ACKFLOW_FIRESTORE_EMULATOR_JAR")


class FirestoreEmulator:
    def __init__(self, workdir: Path, port: int | None = None, project: str = "local-project"):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.project = project
        self.proc: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> FirestoreEmulator:
        java = shutil.which("java")
        if java is None:
            raise EmulatorMissing("java is not installed (the Firestore emulator needs Java 11+)")
        argv = [java, "-Duser.language=en", "-Xss2m", "-cp", str(find_jar()), MAIN_CLASS, "start",
                "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = ManagedProcess("firestore-emulator", argv, ready_url=f"http://{self.host}/",
                                   log_path=self.workdir / "firestore-emulator.log")
        self.proc.start(timeout=timeout)
        return self

    def env(self) -> dict[str, str]:
        return {"FIRESTORE_EMULATOR_HOST": self.host}

    def reset(self, project: str | None = None) -> None:
        """Delete every document of ``project`` (the emulator's own endpoint for tests)."""
        url = f"http://{self.host}/emulator/v1/projects/{project or self.project}/databases/(default)/documents"
        requests.delete(url, timeout=10).raise_for_status()

    def documents(self, project: str | None = None, prefix: str = "ackflow_"):
        """A FirestoreDocuments talking to this emulator."""
        from ackflow.store.firestore import FirestoreDocuments

        os.environ["FIRESTORE_EMULATOR_HOST"] = self.host
        return FirestoreDocuments(project=project or self.project, prefix=prefix)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
