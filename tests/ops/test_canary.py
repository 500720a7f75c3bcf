"""The canary: a candidate answers a share of members (logged as ``canary``), a check
judges it against production on the canary's own requests, and a worse one aborts by
itself (traffic back, alert, incident, archived in the registry); a copy of production
holds, and is promoted once its window has passed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from serving_samples import register

from conftest import Served, scrambled
from reelgraph.core.errors import Conflict, InvalidInput
from reelgraph.flows.registry import ModelRegistry
from reelgraph.ops import check_canary, diagnose, promote_canary, start_canary
from reelgraph.recsys import MODEL, UnifiedRecommender

WINDOW = 3600.0


def canary_traffic(served: Served, users: int = 60) -> str:
    """One notifications request per member; each then plays what production ranks first
    (the outcomes the canary is judged on)."""
    production = served.recommenders[0]
    known = [u for u, k in zip(production.vocabulary.user_ids, production.known_users,
                               strict=True) if k][:users]
    plays = []
    for user in known:
        served.clock.now += 10
        served.service.recommend("notifications", user=user, k=10)
        best = production.recommend("notifications", user=user, k=10).items[0][0]
        plays.append({"user": user, "item": best, "time": served.clock.now + 60})
    served.log.flush()
    folder = served.ws.settings.home / "plays"
    folder.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(plays),
                   folder / f"{int(served.clock.now) + 120}.parquet")
    return "plays"


def with_candidate(served: Served, candidate: UnifiedRecommender) -> int:
    served.service.split = served.overlay  # the canary split, as the API server has it
    return register(served.ws, candidate, served.bundles, promote=False)


def environments(served: Served) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in served.ops.impressions().to_pylist():
        found[row["environment"]] = found.get(row["environment"], 0) + 1
    return found


def test_a_scrambled_candidate_aborts_by_itself(served: Served) -> None:
    version = with_candidate(served, scrambled(served.recommenders[0]))
    canary = start_canary(served.ops, version, 0.5, WINDOW, "ana")
    registry = ModelRegistry(served.ws)
    assert registry.version(MODEL, version).stage == "staging"
    plays = canary_traffic(served)
    logged = environments(served)
    assert logged.get("canary", 0) >= 15 and logged.get("online", 0) >= 15  # about half
    found = check_canary(served.ops, plays, min_requests=10)
    assert found is not None and found.outcome == "aborted"
    assert found.report is not None and found.report.hit_rate_ci is not None
    assert found.report.hit_rate_ci[1] < 0
    assert found.canary.status == "aborted" and "hit rate lower" in (found.canary.reason or "")
    assert registry.version(MODEL, version).stage == "archived"
    assert "canary aborted" in registry.history(MODEL, version)[-1].why
    alerts = served.ops.alerts()
    assert alerts and alerts[0].signal == "canary" and alerts[0].incident is not None
    assert found.incident is not None and found.incident.status == "mitigated"
    assert diagnose(served.ops, found.incident.uri).incident == found.incident.uri
    # Traffic is back on production: the same members now get v1.
    served.clock.now += 10
    before = environments(served).get("canary", 0)
    canary_traffic(served, users=20)
    assert environments(served).get("canary", 0) == before
    assert check_canary(served.ops, plays) is None  # nothing runs any more
    assert canary.id == found.canary.id


def test_a_copy_of_production_holds_and_is_promoted_after_its_window(served: Served) -> None:
    version = with_candidate(served, served.recommenders[0])
    start_canary(served.ops, version, 0.5, WINDOW, "ana")
    plays = canary_traffic(served)
    found = check_canary(served.ops, plays, min_requests=10)
    assert found is not None and found.outcome == "holding", found
    with pytest.raises(Conflict, match="not held for its window"):
        promote_canary(served.ops, "ana", plays, min_requests=10)
    served.clock.now += WINDOW
    promoted = promote_canary(served.ops, "ana", plays, min_requests=10)
    assert promoted.status == "promoted"
    assert served.ops.production_version() == version


def test_bad_canaries_are_refused_and_change_nothing(served: Served, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="share"):
        start_canary(served.ops, 1, 0.9, WINDOW, "ana")
    with pytest.raises(Conflict, match="already in production"):
        start_canary(served.ops, 1, 0.1, WINDOW, "ana")
    version = with_candidate(served, served.recommenders[1])
    start_canary(served.ops, version, 0.1, WINDOW, "ana")
    with pytest.raises(Conflict, match="already running"):
        start_canary(served.ops, version, 0.1, WINDOW, "ana")
    found = check_canary(served.ops)
    assert found is not None and found.outcome == "waiting"  # no canary traffic yet
    assert served.ops.store.canaries()[-1].status == "running"
