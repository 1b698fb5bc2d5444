"""Where the gcloud CLI's components (the Firestore and Pub/Sub emulators) are installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

KNOWN_ROOTS = ("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk")


def sdk_roots() -> list[Path]:
    """The SDK's root as the gcloud on PATH reports it, then where the gcloud binary lives, then the
    usual install places (Debian's packages, the tarball in /opt)."""
    roots = list(KNOWN_ROOTS)
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.insert(0, str(Path(gcloud).resolve().parent.parent))
        try:
            reported = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"],
                                      capture_output=True, text=True, timeout=30).stdout.strip()
            if reported:
                roots.insert(0, reported)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return [Path(root) for root in roots]


class EmulatorMissing(RuntimeError):
    pass


def first_existing(candidates: list[Path], missing: str) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise EmulatorMissing(missing)


class JavaEmulator:
    """One of the gcloud CLI's Java emulators, run as its own process on a free port (or ``port``)
    and stopped for good with its process group; ``start`` waits until it answers."""

    name = "emulator"
    needs = "java is not installed (the emulator needs Java)"

    def __init__(self, workdir: Path, port: int | None = None, project: str = "local-project"):
        from .procs import free_port

        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.project = project
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self, java: str) -> list[str]:
        raise NotImplementedError

    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, timeout: float = 90.0):
        from .procs import ManagedProcess

        java = shutil.which("java")
        if java is None:
            raise EmulatorMissing(self.needs)
        self.proc = ManagedProcess(self.name, self.argv(java), ready_url=self.url + "/", log_path=self.log_path())
        self.proc.start(timeout=timeout)
        return self
