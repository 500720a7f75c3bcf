"""Hotfix: serve a canvas from a fallback environment until a time.

``switch_canvas`` writes a switch (``rg_ops_switch``); the ``Overlay`` the recommendation
service holds reads it (within its reload interval, in every process) and answers the
canvas from the popularity fallback (``fallback``: no model scoring) or from the stored
nearline answers whatever their age (``nearline-only``: nothing scored online), until the
switch expires or ``end_switch`` removes it. Audited in the table and on the incident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelgraph.core import InvalidInput, NotFound
from reelgraph.ops.resolution import check_canvas, check_expiry, record_hotfix
from reelgraph.ops.store import Switch
from reelgraph.serving import SWITCHES

if TYPE_CHECKING:
    from reelgraph.ops.operations import RecSysOps


def switch_canvas(ops: RecSysOps, canvas: str, environment: str, who: str,
                  expires_in_s: float, incident: str | None = None) -> Switch:
    """Serve ``canvas`` (or ``*``) from ``environment`` for ``expires_in_s`` seconds."""
    check_canvas(canvas)
    if canvas == "search" and environment != SWITCHES[0]:
        raise InvalidInput("search has no stored answers to serve nearline-only",
                           "switch search to fallback, or switch another canvas")
    if environment not in SWITCHES:
        raise InvalidInput(f"unknown fallback environment {environment!r}",
                           f"use one of {', '.join(SWITCHES)}")
    check_expiry(expires_in_s, "a switch")
    if incident:
        ops.incidents.get(incident)  # an unknown incident changes nothing
    now = ops.clock()
    switch = ops.store.add_switch(canvas, environment, now, now + expires_in_s, who, incident)
    record_hotfix(ops, incident, "hotfix", who, {"action": "switch", "switch": switch.to_dict()})
    return switch


def end_switch(ops: RecSysOps, switch_id: int, who: str, incident: str | None = None) -> None:
    """Put the canvas back on its configured environment (the switch stays in the audit)."""
    if not ops.store.remove_switch(switch_id, ops.clock()):
        raise NotFound(f"no active switch {switch_id}",
                       "list them with `reelgraph ops switches` and pass an active one's id")
    record_hotfix(ops, incident, "hotfix", who, {"action": "end switch", "switch": switch_id})
