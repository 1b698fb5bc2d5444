"""The Firestore emulator that ships with the gcloud CLI, run as its own Java process.

``gcloud emulators firestore start`` wraps the emulator in a Python launcher; stopping the launcher
can leave the Java process behind. So this starts the emulator's own class directly, in a process
group that ``stop`` ends for good, and waits until it answers.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests

from .gcloud_sdk import EmulatorMissing, JavaEmulator, first_existing, sdk_roots

__all__ = ["EmulatorMissing", "FirestoreEmulator", "find_jar"]

MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
JAR_NAME = "cloud-firestore-emulator.jar"


def find_jar() -> Path:
    """The emulator's jar: ACKFLOW_FIRESTORE_EMULATOR_JAR, or the gcloud CLI's component."""
    explicit = os.environ.get("ACKFLOW_FIRESTORE_EMULATOR_JAR")
    candidates = [Path(explicit)] if explicit else []
    candidates += [root / "platform" / "cloud-firestore-emulator" / JAR_NAME for root in sdk_roots()]
    return first_existing(candidates, "the Firestore emulator is not installed: install the gcloud CLI and its "
                          "component (gcloud components install cloud-firestore-emulator, or the Debian "
                          "package google-cloud-cli-firestore-emulator), or set ACKFLOW_FIRESTORE_EMULATOR_JAR")


class FirestoreEmulator(JavaEmulator):
    name = "firestore-emulator"
    needs = "java is not installed (the Firestore emulator needs Java 11+)"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self, java: str) -> list[str]:
        return [java, "-Duser.language=en", "-Xss2m", "-cp", str(find_jar()), MAIN_CLASS, "start",
                "--host", "127.0.0.1", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        return {"FIRESTORE_EMULATOR_HOST": self.host}

    def reset(self, project: str | None = None) -> None:
        """Delete every document of ``project`` (the emulator's own endpoint for tests)."""
        url = f"http://{self.host}/emulator/v1/projects/{project or self.project}/databases/(default)/documents"
        requests.delete(url, timeout=30).raise_for_status()  # a loaded emulator took over 10 s

    def documents(self, project: str | None = None, prefix: str = "ackflow_"):
        """A FirestoreDocuments talking to this emulator."""
        from ackflow.store.firestore import FirestoreDocuments

        os.environ["FIRESTORE_EMULATOR_HOST"] = self.host
        return FirestoreDocuments(project=project or self.project, prefix=prefix)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
