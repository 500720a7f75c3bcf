"""The checks on the paved road: a flow that runs every learned monitor, triggered hourly
by the flows scheduler and whenever a new version of a dataset lands in the graph.

    reelgraph worker --flows src/reelgraph/ops/schedule.py     # or any folder holding it

Each run records its reports (which monitors failed, which incidents they opened or joined);
a source that cannot be read fails as that monitor's check, never as the run. A running
canary is judged in the same run (and aborts itself when worse than production).
"""

from __future__ import annotations

from typing import Any

from reelgraph.flows import Flow, StepContext

checks = Flow("recsysops-checks", namespace="personalization",
              description="RecSysOps checks of every learned monitor", owner="personalization"
              ).every(3600).on_dataset()


@checks.step
def run_checks(ctx: StepContext) -> list[dict[str, Any]]:
    from reelgraph.ops.operations import RecSysOps

    if ctx.settings is None:
        return []
    from reelgraph.ops.canary import check_canary
    from reelgraph.ops.shadow import default_outcomes

    ops = RecSysOps(ctx.workspace)
    reports = [r.to_dict() for r in ops.check()]
    failed = [r["monitor"] for r in reports if not r["passed"]]
    ctx.log(f"{len(reports)} monitor(s) checked, {len(failed)} failed: {', '.join(failed)}")
    canary = check_canary(ops, default_outcomes(ops))
    if canary is not None:
        ctx.log(f"canary v{canary.canary.version}: {canary.outcome} ({canary.requests} "
                "requests)")
        reports.append({"canary": canary.to_dict()})
    return reports
