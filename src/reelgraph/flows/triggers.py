"""Which logged events start which flows.

A flow declares triggers (``flow.on_dataset(uri)``, ``flow.on_media_asset()``,
``flow.every(seconds)``). ``on_dataset`` with a URI without a version reacts to every version
of that dataset (``rg://dataset/ml/ratings`` matches ``rg://dataset/ml/ratings@2``); with a
version, to new revisions of exactly that node; without a URI, to any dataset. A schedule
reacts only to its own flow's ticks.
"""

from __future__ import annotations

from reelgraph.flows.definition import Flow, Trigger
from reelgraph.flows.events import SCHEDULE, Event, Selector
from reelgraph.graph import NodeKey


def flow_id(flow: Flow) -> str:
    """The name deliveries and schedule ticks use for a flow: ``NAMESPACE/NAME``."""
    return f"{flow.namespace}/{flow.name}"


def selector(flow: Flow, trigger: Trigger) -> Selector:
    """What the event log should look at for this trigger (``matches`` decides)."""
    if trigger.kind == SCHEDULE:
        return Selector(SCHEDULE, flow=flow_id(flow))
    if trigger.uri is None:
        return Selector(trigger.kind)
    key = NodeKey.parse(trigger.uri)
    return Selector(trigger.kind, uri=trigger.uri,
                    uri_prefix=None if key.version is not None else f"{trigger.uri}@")


def matches(flow: Flow, trigger: Trigger, event: Event) -> bool:
    if event.kind != trigger.kind:
        return False
    if trigger.kind == SCHEDULE:
        return event.flow == flow_id(flow) and event.payload.get("every_s") == trigger.every_s
    if trigger.uri is None:
        return True
    if event.uri is None:
        return False
    wanted, seen = NodeKey.parse(trigger.uri), NodeKey.parse(event.uri)
    if wanted.version is not None:
        return wanted == seen
    return (wanted.kind, wanted.namespace, wanted.name) == (seen.kind, seen.namespace, seen.name)


def schedules(flow: Flow) -> list[float]:
    return [t.every_s for t in flow.triggers if t.kind == SCHEDULE and t.every_s is not None]
