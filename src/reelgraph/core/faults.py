"""Named crash points for the fault tests: kill this process at a chosen moment.

``fault_point("features.online.written")`` does nothing unless the environment variable
``REELGRAPH_FAULT_POINT`` names that point; then the process kills itself with SIGKILL, the
way the OOM killer or ``kill -9`` would, so no ``finally`` and no ``atexit`` runs. The fault
suite (``tests/faults``) sets it in subprocesses to prove that every write survives a crash
at each point. ``REELGRAPH_FAULT_AFTER=N`` lets the point pass N times before it fires.
"""

from __future__ import annotations

import os
import signal

POINT = "REELGRAPH_FAULT_POINT"
AFTER = "REELGRAPH_FAULT_AFTER"
_passed: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Die at once (SIGKILL) if the environment asks to crash at ``name``."""
    if os.environ.get(POINT) != name:
        return
    passed = _passed.get(name, 0)
    if passed < int(os.environ.get(AFTER, "0")):
        _passed[name] = passed + 1
        return
    os.kill(os.getpid(), signal.SIGKILL)
