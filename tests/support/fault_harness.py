"""Helpers of the fault suite (tests/faults): interpreters crashed at named points
(``core.faults``) and background processes that are always reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from reelgraph.core.faults import AFTER, POINT


def python(code: str, point: str | None = None, after: int = 0, timeout: float = 180,
           **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter, crashing at ``point`` (after ``after`` passes)."""
    environ = {k: v for k, v in os.environ.items() if k not in (POINT, AFTER)}
    environ.update(env)
    if point is not None:
        environ |= {POINT: point, AFTER: str(after)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environ,
                          capture_output=True, text=True, timeout=timeout, check=False)


def crash(code: str, point: str, after: int = 0, **env: str) -> None:
    """Run ``code`` and check that it died of SIGKILL at ``point``."""
    done = python(code, point, after, **env)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)


def succeed(code: str, **env: str) -> str:
    done = python(code, **env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


class Processes:
    """Processes started in the background by a test; all killed and reaped at its end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, code: str, **env: str) -> subprocess.Popen[str]:
        environ = {k: v for k, v in os.environ.items() if k not in (POINT, AFTER)} | env
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=environ,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate()
