"""Running a command in its own process group, so that a timeout (ours or pytest's) ends it
and every process it started (flow workers included), never leaving orphans behind; and
the server helpers the tests and benchmarks share (a free port, a graceful stop)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path


def run_group(args: Sequence[str | Path], env: dict[str, str], timeout_s: float
              ) -> subprocess.CompletedProcess[str]:
    """Run to completion (stdout and stderr piped, so not a terminal); on a timeout or any
    interruption, kill the whole process group before the exception propagates."""
    proc = subprocess.Popen([str(a) for a in args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        end_group(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def end_group(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc``'s process group (it leads one: ``start_new_session``) and reap it."""
    with contextlib.suppress(ProcessLookupError):  # the group already ended
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_server(process: subprocess.Popen[bytes], grace_s: float = 30) -> None:
    """SIGTERM (a server drains and exits), SIGKILL after ``grace_s``; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
