"""Child processes that serve HTTP: started, polled until they answer, stopped with their group.

Used by ``ackflow dev`` and by the tests, so both run the same real servers the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ProcessFailed(RuntimeError):
    """A child process exited or never answered; the message carries the end of its log."""


class ManagedProcess:
    def __init__(self, name: str, argv: list[str], *, ready_url: str | None = None,
                 env: dict[str, str] | None = None, log_path: str | Path | None = None,
                 cwd: str | Path | None = None):
        self.name = name
        self.argv = argv
        self.ready_url = ready_url
        self.env = {**os.environ, **(env or {})}
        self.log_path = Path(log_path) if log_path else None
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0) -> ManagedProcess:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.ready_url:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProcessFailed(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                requests.get(self.ready_url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.kill()
        raise ProcessFailed(f"{self.name} did not answer at {self.ready_url} in {timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the whole group, SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(5)
        self._signal(signal.SIGKILL)  # stragglers in the group (workers of a server)
        self._close()

    def kill(self) -> None:
        """SIGKILL, as a crash would: no cleanup runs."""
        if self.proc is None:
            return
        self._signal(signal.SIGKILL)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close()

    def _close(self) -> None:
        if self._log:
            self._log.close()
            self._log = None


def start_moto(log_path: str | Path, host: str = "127.0.0.1", port: int | None = None) -> ManagedProcess:
    """A moto server (the AWS APIs over HTTP, for SQS and IAM); ``.url`` says where it listens."""
    import sys

    port = port or free_port(host)
    proc = ManagedProcess("moto", [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                          ready_url=f"http://{host}:{port}/moto-api/", log_path=log_path)
    proc.url = f"http://{host}:{port}"
    return proc.start(timeout=60)
