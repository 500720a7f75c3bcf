"""Hotfix: invalidate nearline answers and recompute them.

``invalidate`` takes a set of precomputed answers out of the online store: a canvas, some
members, the answers holding some items, or everything of a model version. What it took
is kept as an artifact and the invalidation is audited (``rg_ops_invalidation``, and the
incident's timeline), so ``restore`` can put the old answers back. Until recomputed, those
requests are scored online. ``recompute`` then refills them for the serving version (the
CLI runs it with a progress bar, the API in the background).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.ops.resolution import check_canvas, record_hotfix
from reelgraph.ops.store import Invalidation
from reelgraph.serving import NEARLINE, Removed, user_of

if TYPE_CHECKING:
    from reelgraph.ops.operations import RecSysOps
    from reelgraph.serving import RecommendationService

Progress = Callable[[str, int, int], None]


def invalidate(ops: RecSysOps, service: RecommendationService, who: str, *,
               version: int | None = None, canvases: Sequence[str] | None = None,
               users: Sequence[str] | None = None, items: Sequence[str] | None = None,
               incident: str | None = None) -> Invalidation:
    """Remove the chosen answers (``version``: default the serving one; ``canvases``:
    default every nearline canvas); refuses an empty selection before changing anything."""
    if version is None and not (canvases or users or items):
        raise InvalidInput("nothing chosen to invalidate",
                           "name a --canvas, --user, --item, or a --version to drop whole")
    for name in canvases or ():
        check_canvas(name, everywhere=False)
    if incident:
        ops.incidents.get(incident)
    if version is None:
        version = service.current.version
        if version is None:
            raise InvalidInput("the serving model is not registered: it has no nearline "
                               "answers", "serve a registered version")
    chosen = list(canvases or service.config.canvases_in(NEARLINE))
    removed = [service.nearline.remove(version, name, service.nearline.select(
        version, name, users or None, items or None)) for name in chosen]
    count = sum(len(r.entries) for r in removed)
    snapshot = ops.ws.artifacts.put([r.to_dict() for r in removed],
                                    label=f"nearline answers invalidated by {who}")
    selection = {"version": version, "canvases": chosen, "users": list(users or []),
                 "items": list(items or []),
                 "members": sorted({u for r in removed for k in r.entries
                                    if (u := user_of(k)) is not None})}
    found = ops.store.add_invalidation(selection, count, snapshot.to_dict(), ops.clock(), who,
                                       incident)
    record_hotfix(ops, incident, "hotfix", who, {"action": "invalidate nearline",
                                                 "invalidation": found.to_dict()})
    return found


def recompute(service: RecommendationService, invalidation: Invalidation,
              progress: Progress | None = None) -> dict[str, int]:
    """Refill what ``invalidation`` removed, for the serving version (another version's
    answers are recomputed when it serves again): members' answers with their latest
    events, whole canvases by the batch path. Returns answers stored per canvas."""
    selection = invalidation.selection
    deployed = service.deployed
    if deployed is None or deployed.version != selection["version"]:
        return {}
    canvases = selection["canvases"]
    if selection["users"] or selection["items"]:
        members = sorted(set(selection["members"]) | set(selection["users"]))
        return service.recompute_members(members, canvases, progress)
    return service.precompute(canvases, progress=progress)


def restore(ops: RecSysOps, service: RecommendationService, invalidation_id: int, who: str,
            incident: str | None = None) -> int:
    """Put the answers an invalidation removed back as they were (over any recomputed
    ones); returns how many."""
    found = ops.store.invalidation(invalidation_id)
    if found is None:
        raise NotFound(f"no invalidation {invalidation_id}",
                       "list them with `reelgraph ops invalidations` and pass one's id")
    if found.restored_at is not None:
        raise Conflict(f"invalidation {invalidation_id} is already restored",
                       "invalidate again to take the answers out")
    if incident:
        ops.incidents.get(incident)
    from reelgraph.artifacts import ArtifactRef

    parts: list[dict[str, Any]] = ops.ws.artifacts.get(ArtifactRef.from_dict(found.snapshot))
    count = sum(service.nearline.restore(Removed.from_dict(p)) for p in parts)
    ops.store.mark_restored(invalidation_id, ops.clock())
    record_hotfix(ops, incident or found.incident, "hotfix", who,
                  {"action": "restore nearline", "invalidation": invalidation_id,
                   "restored": count})
    return count
