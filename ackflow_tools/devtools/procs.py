"""Child processes that serve HTTP: started, polled until they answer, stopped with their group.

Used by ``ackflow dev`` and by the tests, so both run the same real servers the same way. Each
child runs in its own process group (so a server's workers stop with it), which also means it
would outlive a parent killed with SIGKILL. Two things end them when the parent is gone, however
it went: the kernel kills each direct child (``PR_SET_PDEATHSIG``, set by the child before it
execs the program, so even a child still starting is covered), and the reaper below ends the
children's whole groups.
PDEATHSIG follows the *thread* that started the child, so it is set only for children started
from the main thread; a child started from another thread (a restart by the chaos suite's fault
thread) relies on the reaper alone.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

# The reaper: reads "+PGID" / "-PGID" lines; at end of input (the parent is gone: the pipe's only
# writer was its process) it sends SIGTERM to the groups still listed, then SIGKILL after a grace.
_REAPER = """
import os, signal, sys, time
groups = set()
for line in sys.stdin:
    line = line.strip()
    if line[:1] in "+-" and line[1:].isdigit():
        (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
def signal_all(sig):
    alive = set()
    for group in groups:
        try:
            os.killpg(group, sig)
            alive.add(group)
        except (ProcessLookupError, PermissionError):
            pass
    return alive
groups = signal_all(signal.SIGTERM)
deadline = time.monotonic() + 3
while groups and time.monotonic() < deadline:
    time.sleep(0.1)
    groups = signal_all(0)
signal_all(signal.SIGKILL)
"""


# Set PR_SET_PDEATHSIG in the child itself, then exec the real program (the setting survives
# exec). Not a preexec_fn: that makes the parent run Python's and every library's fork handlers in
# the child, and a parent that holds gRPC (a test with a Firestore client) then aborts the child in
# gRPC's own handler ("epoll_wait: Bad file descriptor") before it can exec.
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)  # the parent died before the setting took
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _with_death_signal(argv: list[str]) -> list[str]:
    """``argv`` run so that the kernel SIGKILLs it when this process dies (Linux). Only from the
    main thread: the kernel acts when the *thread* that started the child ends (a restart from a
    short-lived thread would die with it); the reaper covers those."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return argv
    return [sys.executable, "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


class Reaper:
    """A small process that ends the process groups of this process's children when this process
    ends, even by SIGKILL (when nothing of ours can run): it holds the read end of a pipe whose
    only writer is this process, and acts when the pipe closes. One per process (``for_this_process``)."""

    _current: Reaper | None = None
    _lock = threading.Lock()

    def __init__(self):
        read, self._write = os.pipe()  # both ends non-inheritable: no other child holds the writer
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _REAPER], stdin=read, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(read)
        self.pid = os.getpid()
        self._write_lock = threading.Lock()

    @classmethod
    def for_this_process(cls) -> Reaper:
        with cls._lock:
            if cls._current is None or cls._current.pid != os.getpid():  # a forked child needs its own
                cls._current = cls()
            return cls._current

    def _send(self, line: str) -> None:
        with self._write_lock:
            try:
                os.write(self._write, line.encode())
            except OSError:
                pass  # the reaper is gone: nothing more to do here

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")


PORTS_BELOW_EPHEMERAL = 6000  # free_port's ports: this many just below the kernel's ephemeral range
PORT_CLAIM_TTL = 900.0  # seconds a port handed out stays claimed for every process of this user
_handed_out: set[int] = set()
_ports_lock = threading.Lock()
_port_choice = random.Random()  # its own: a test that seeds the module's random must not align workers


def _claim(port: int) -> bool:
    """Claim ``port`` for this machine's processes of this user (a file created exclusively): two
    processes (pytest-xdist workers) choosing at once never hand out the same port. A claim older
    than PORT_CLAIM_TTL is dropped (its server has long bound the port, or never will)."""
    import tempfile

    claims = Path(tempfile.gettempdir()) / f"ackflow-ports-{os.getuid()}"
    claims.mkdir(exist_ok=True)
    path = claims / str(port)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except FileExistsError:
        try:
            if time.time() - path.stat().st_mtime > PORT_CLAIM_TTL:
                path.unlink(missing_ok=True)
        except OSError:
            pass
        return False
    except OSError:
        return True  # no claims directory to write: the other checks still apply


def ephemeral_ports_start() -> int:
    """The first port of the kernel's ephemeral range (bind to port 0, outgoing connections)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on, for a child to listen on. Taken just below the kernel's ephemeral
    range when there is room, not with a bind to port 0: that hands out ports of the ephemeral range,
    which every outgoing connection also takes as its source port, so a port handed to a child could
    be taken before the child bound it (seen once in a full run: a webhook's port was taken, and its
    stack's ready check was answered by whatever held it), and claimed across processes, so two
    pytest-xdist workers never hand out the same one. ``ackflow dev``'s test offsets stay below
    this range."""
    top = ephemeral_ports_start()
    low = max(1024, top - PORTS_BELOW_EPHEMERAL)
    if top - low >= 1000:
        for _ in range(200):
            port = _port_choice.randrange(low, top)
            with _ports_lock:
                if port in _handed_out:
                    continue
            if port_free(host, port) and _claim(port):
                with _ports_lock:
                    _handed_out.add(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (nothing else is bound there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


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
            _with_death_signal(self.argv), env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        Reaper.for_this_process().watch(self.proc.pid)
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
        if self.proc is not None:
            Reaper.for_this_process().forget(self.proc.pid)
        if self._log:
            self._log.close()
            self._log = None


def start_moto(log_path: str | Path, host: str = "127.0.0.1", port: int | None = None) -> ManagedProcess:
    """A moto server (the AWS APIs over HTTP, for SQS and IAM); ``.url`` says where it listens."""
    port = port or free_port(host)
    proc = ManagedProcess("moto", [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                          ready_url=f"http://{host}:{port}/moto-api/", log_path=log_path)
    proc.url = f"http://{host}:{port}"
    return proc.start(timeout=60)
