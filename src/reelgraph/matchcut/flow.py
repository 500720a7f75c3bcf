"""Match cutting on the paved road: a flow run for every new media asset.

``title_flow()`` has an ``on_media_asset`` trigger (catching up on assets registered before
a worker watched it): it detects the asset's shots and computes their match-cut features
(memoized, so a re-delivered event computes nothing). Ranking across titles stays with
``MatchCutter.find`` (``reelgraph matchcut find``), which then only reads features.
"""

from __future__ import annotations

from typing import Any

from reelgraph.core import InvalidInput
from reelgraph.flows import EVENT_PARAM, Flow, StepContext
from reelgraph.matchcut.finder import MatchCutter
from reelgraph.media import MediaLibrary

NAMESPACE = "matchcut"


def title_flow() -> Flow:
    flow = Flow("matchcut-title", namespace=NAMESPACE, params={EVENT_PARAM: ""},
                description="shots and match-cut features of a new media asset")
    flow.on_media_asset(catch_up=True)

    @flow.step
    def title(event_uri: str, ctx: StepContext) -> dict[str, Any]:
        if not event_uri:
            raise InvalidInput("the match-cut flow needs an asset",
                               "pass --param event_uri=rg://media_asset/NS/SHA256")
        ws = ctx.workspace
        asset = MediaLibrary(ws.graph).get(event_uri)
        ctx.read(asset.uri)
        found, computed = MatchCutter(ws).add(asset, ctx.run_id)
        ctx.log(f"{len(found.shots)} shots, {computed} features computed")
        return {"asset": asset.uri, "shots": len(found.shots), "computed": computed}

    return flow
