"""Running a command in its own process group, so that a timeout (ours or pytest's) ends it
and every process it started (flow workers included), never leaving orphans behind."""

from __future__ import annotations

import contextlib
import os
import signal
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
