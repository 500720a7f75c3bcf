"""The OpenLineage source: a durable log of received run events, read back per node.

``import_events`` validates every event first (a bad one raises and stores nothing), appends
them to the log (a repeated event is stored once), then sends one thin event per node they
mention. The adapter answers ``fetch(uri)`` by merging, in event-time order, every logged
event that mentions the node, so the graph never depends on the order events arrived in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, text

from reelgraph.core import now_us

# The module, not its names: it imports adapters.base, so importing it first runs this
# package's __init__, which imports this module while it is half loaded.
from reelgraph.graph import openlineage as spec
from reelgraph.graph.adapters.base import EntityState, Ingestor, ThinEvent
from reelgraph.graph.lifecycle import Graph
from reelgraph.graph.model import Json
from reelgraph.graph.uri import NodeKey

SOURCE = "openlineage"


class OpenLineageLog:
    """Append-only storage of run events in the metadata database (tables from 0002)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, events: Iterable[Json]) -> int:
        """Store validated events in one transaction; returns how many were new."""
        t = now_us()
        added = 0
        with self.engine.begin() as conn:
            for event in events:
                payload = json.dumps(event, sort_keys=True, separators=(",", ":"))
                event_id = conn.execute(
                    text(
                        "INSERT INTO rg_ol_event (digest, run_id, event_time, event_type, "
                        "payload, received_at) VALUES (:digest, :run, :time, :type, :payload, :t) "
                        "ON CONFLICT (digest) DO NOTHING RETURNING id"
                    ),
                    {"digest": hashlib.sha256(payload.encode()).hexdigest(),
                     "run": event["run"]["runId"].lower(), "time": spec.event_order(event),
                     "type": event.get("eventType", "OTHER"), "payload": payload, "t": t},
                ).scalar()
                if event_id is None:
                    continue  # the same event again: already logged
                added += 1
                for key in spec.event_keys(event):
                    conn.execute(
                        text("INSERT INTO rg_ol_mention (uri, event_id) VALUES (:uri, :id) "
                             "ON CONFLICT DO NOTHING"),
                        {"uri": key.uri, "id": event_id},
                    )
        return added

    def events_for(self, uri: str) -> list[Json]:
        """Events mentioning ``uri``, oldest first; ties go by digest, never by arrival."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.payload FROM rg_ol_event e JOIN rg_ol_mention m "
                    "ON m.event_id = e.id WHERE m.uri = :uri ORDER BY e.event_time, e.digest"
                ),
                {"uri": uri},
            )
            return [json.loads(row[0]) for row in rows]

    def uris(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT DISTINCT uri FROM rg_ol_mention ORDER BY uri"))
            yield from (row[0] for row in rows.all())


class OpenLineageSource:
    """``SourceAdapter`` over the log: entity ids are the node URIs events mention."""

    source = SOURCE

    def __init__(self, log: OpenLineageLog) -> None:
        self.log = log

    @classmethod
    def for_graph(cls, graph: Graph) -> OpenLineageSource:
        return cls(OpenLineageLog(graph.store.database.engine))

    def key(self, entity_id: str) -> NodeKey:
        return NodeKey.parse(entity_id)

    def list_ids(self) -> Iterator[str]:
        return self.log.uris()

    def fetch(self, entity_id: str) -> EntityState | None:
        events = self.log.events_for(entity_id)
        if not events:
            return None
        kind = self.key(entity_id).kind
        if kind == "run":
            return spec.run_state(events)
        if kind == "job":
            return spec.job_state(events)
        return spec.dataset_state(events, self.key(entity_id))


def import_events(graph: Graph, events: Iterable[str | bytes | Mapping[str, Any]]
                  ) -> list[NodeKey]:
    """Validate, log and apply OpenLineage run events; returns the runs they describe.

    Nothing is stored unless every event is valid.
    """
    parsed = [spec.parse_event(raw) for raw in events]
    mentioned: dict[NodeKey, str] = {}
    for event in parsed:
        for key in spec.event_keys(event):
            mentioned.setdefault(key, event.get("eventType", "OTHER"))
    source = OpenLineageSource.for_graph(graph)
    source.log.record(parsed)
    ingestor = Ingestor(graph, [source], author=SOURCE)
    for key, event_type in mentioned.items():
        ingestor.handle(ThinEvent(SOURCE, key.uri, event_type))
    return [key for key in mentioned if key.kind == "run"]
