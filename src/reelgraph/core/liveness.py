"""Who holds a claim or runs a run, and whether that process still lives.

An owner is ``host:pid:start`` (``start`` is the process's start time in clock ticks since
boot, from ``/proc``, so a recycled pid does not pass for the dead owner). A process on
another host cannot be checked from here: it counts as alive, and its lease (kept fresh by a
heartbeat) decides instead.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path


def _start_ticks(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces; fields after it are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    """The owner string of the calling process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def is_local(owner: str | None) -> bool:
    """Whether ``owner`` names a process of this host (so ``is_dead`` can tell for sure)."""
    return bool(owner) and str(owner).rsplit(":", 2)[0] == socket.gethostname()


def is_dead(owner: str | None) -> bool:
    """True only when ``owner`` is a process of this host that is known to have exited."""
    if not owner:
        return False
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid, start = int(parts[1]), parts[2]
    if not pid_exists(pid):
        return True
    current = _start_ticks(pid)
    return bool(start and current and current != start)


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid runs on this host (under any account)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(poll_s: float = 0.5) -> None:
    """In a forked worker: exit as soon as the process that forked it is gone (killed with
    -9 included), instead of waiting forever for work that will never come."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    if parent == 1:  # the parent died before this process got here
        os._exit(1)
    threading.Thread(target=watch, name="reelgraph-parent-watch", daemon=True).start()
