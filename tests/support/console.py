"""``ackflow console`` started as an operator starts it: a process of its own, on a free port."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def console_process(args: list[str], env: dict[str, str], cwd=None) -> Iterator[str]:
    """``ackflow console --port 0 ARGS`` with exactly ``env``: its URL once it listens (the line it
    prints); stopped when the block ends."""
    server = subprocess.Popen([sys.executable, "-m", "ackflow_tools", "console", "--port", "0", *args], cwd=cwd,
                              env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in server.stderr:
            if found := re.search(r"listening on (http://\S+)", line):
                break
        else:
            pytest.fail(f"the console did not start: {server.wait(10)}")
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(30)
