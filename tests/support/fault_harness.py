"""Helpers of the fault suite (tests/faults): interpreters crashed at named points
(``core.faults``) and background processes that are always reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from reelgraph.core.faults import AFTER, POINT


def python(code: str, *args: str, point: str | None = None, after: int = 0,
           timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``args`` (``sys.argv[1:]``) in a new interpreter, crashing at
    ``point`` (after ``after`` passes)."""
    environ = {k: v for k, v in os.environ.items() if k not in (POINT, AFTER)}
    environ.update(env)
    if point is not None:
        environ |= {POINT: point, AFTER: str(after)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=environ,
                          capture_output=True, text=True, timeout=timeout, check=False)


def crash(code: str, *args: str, point: str, after: int = 0, **env: str) -> None:
    """Run ``code`` and check that it died of SIGKILL at ``point``."""
    done = python(code, *args, point=point, after=after, **env)  # type: ignore[arg-type]
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)


def succeed(code: str, *args: str, **env: str) -> str:
    done = python(code, *args, **env)  # type: ignore[arg-type]
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


class Processes:
    """Processes started in the background by a test; all killed and reaped at its end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, code: str, *args: str, **env: str) -> subprocess.Popen[str]:
        environ = {k: v for k, v in os.environ.items() if k not in (POINT, AFTER)} | env
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                                   env=environ,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        return process

    def wait_all(self, timeout: float = 300) -> list[tuple[int, str, str]]:
        """Wait for every process; (return code, stdout, stderr) of each."""
        outputs = [p.communicate(timeout=timeout) for p in self.started]
        return [(p.returncode, out, err) for p, (out, err) in zip(self.started, outputs,
                                                                  strict=True)]

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate()
