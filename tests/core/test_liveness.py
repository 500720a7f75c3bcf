"""Telling a dead process from a live one."""

from __future__ import annotations

import socket
import subprocess

from reelgraph.core.liveness import is_dead, is_local, this_process


def test_this_process_is_alive_and_an_exited_one_is_dead() -> None:
    me = this_process()
    assert is_local(me) and not is_dead(me)
    child = subprocess.Popen(["true"])
    child.wait()
    assert is_dead(f"{socket.gethostname()}:{child.pid}:1")
    host, pid, start = me.rsplit(":", 2)
    assert is_dead(f"{host}:{pid}:{int(start) + 1}")  # the same pid, a later process
    assert not is_dead(None) and not is_dead("elsewhere:1:1")  # cannot tell: not dead

