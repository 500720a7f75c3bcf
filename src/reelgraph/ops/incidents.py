"""Incidents as graph nodes: ``rg://incident/NS/inc-N`` with ``affects`` edges to the nodes
they hit, a status (open -> mitigated -> resolved) in the node's properties and a timeline
(alerts, diagnosis, hotfixes, review) in ``rg_ops_event``.

An alert joins an open incident that already affects the watched node or a node on its
lineage (upstream or downstream): a dataset that loses rows and the model it feeds are one
incident, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.graph import Graph, Node, NodeKey
from reelgraph.ops.monitors import AUTHOR
from reelgraph.ops.store import Event, OpsStore

OPEN, MITIGATED, RESOLVED = "open", "mitigated", "resolved"
STATUSES = (OPEN, MITIGATED, RESOLVED)
NEXT = {OPEN: (MITIGATED, RESOLVED), MITIGATED: (RESOLVED, OPEN), RESOLVED: ()}


@dataclass(frozen=True)
class Incident:
    uri: str
    title: str
    status: str
    severity: str
    opened_at: float
    owner: str
    affects: tuple[str, ...]
    properties: dict[str, Any]

    def to_dict(self, timeline: list[Event] | None = None) -> dict[str, Any]:
        found = {"uri": self.uri, "title": self.title, "status": self.status,
                 "severity": self.severity, "opened_at": self.opened_at, "owner": self.owner,
                 "affects": list(self.affects),
                 **{k: v for k, v in self.properties.items()
                    if k in ("verdict", "root_causes", "review", "mitigated_at",
                             "resolved_at")}}
        if timeline is not None:
            found["timeline"] = [e.to_dict() for e in timeline]
        return found


def incident_of(graph: Graph, node: Node) -> Incident:
    p = node.properties
    affects = tuple(other.uri for way, edge, other in graph.edges(node.key)
                    if way == "out" and edge.kind == "affects")
    return Incident(node.uri, node.description, p.get("status", OPEN),
                    p.get("severity", "warning"), float(p.get("opened_at", 0.0)), node.owner,
                    affects, dict(p))


def open_incidents(graph: Graph, uris: set[str] | frozenset[str]) -> list[Incident]:
    """Open (or mitigated) incidents with an ``affects`` edge to any of ``uris``: what an
    impact or lineage answer over those nodes warns about."""
    found = [incident_of(graph, n) for n in graph.find(kind="incident")
             if n.properties.get("status", OPEN) != RESOLVED]
    return sorted((i for i in found if uris & set(i.affects)), key=lambda i: i.opened_at)


class Incidents:
    def __init__(self, graph: Graph, store: OpsStore, namespace: str = "personalization"
                 ) -> None:
        self.graph = graph
        self.store = store
        self.namespace = namespace

    def all(self, status: str | None = None) -> list[Incident]:
        found = [incident_of(self.graph, n) for n in self.graph.find(kind="incident")]
        found = [i for i in found if status is None or i.status == status]
        return sorted(found, key=lambda i: i.opened_at)

    def get(self, uri: str) -> Incident:
        node = self.graph.get(self._uri(uri))
        if node is None or node.kind != "incident":
            raise NotFound(f"no incident {uri}",
                           "list them with `reelgraph ops incidents` and pass one's URI")
        return incident_of(self.graph, node)

    def _uri(self, ref: str) -> str:
        return ref if ref.startswith("rg://") else NodeKey("incident", self.namespace,
                                                           ref).uri

    def timeline(self, uri: str) -> list[Event]:
        return self.store.events(self.get(uri).uri)

    def open_or_join(self, watched: str, at: float, within_s: float, title: str,
                     severity: str, owner: str, detail: dict[str, Any]) -> Incident:
        """Join the open incident on the lineage of ``watched`` that had an alert within
        ``within_s`` (an older one is another episode), else open one."""
        near = {watched} | self._lineage(watched)
        for incident in self.all():
            recent = max((e.at for e in self.store.events(incident.uri)), default=0.0)
            if (incident.status != RESOLVED and near & set(incident.affects)
                    and at - recent <= within_s):
                self.store.add_event(incident.uri, at, "alert", AUTHOR, detail)
                if watched not in incident.affects:
                    self.graph.link(incident.uri, "affects", watched, author=AUTHOR)
                return self.get(incident.uri)
        number = len(self.graph.find(kind="incident", limit=100_000)) + 1
        uri = NodeKey("incident", self.namespace, f"inc-{number}").uri
        with self.graph.batch(author=AUTHOR) as b:
            b.add(uri, owner=owner, description=title,
                  properties={"status": OPEN, "severity": severity, "opened_at": at})
            b.link(uri, "affects", watched)
        self.store.add_event(uri, at, "opened", AUTHOR, detail)
        return self.get(uri)

    def on_path(self, uri: str) -> list[Incident]:
        """Open (or mitigated) incidents affecting ``uri`` or a node upstream or downstream
        of it: what an impact or lineage answer should warn about."""
        if self.graph.get(uri) is None:
            raise NotFound(f"no node {uri}", "pass the URI of a node in the graph")
        near = {uri} | self._lineage(uri)
        return [i for i in self.all() if i.status != RESOLVED and near & set(i.affects)]

    def _lineage(self, uri: str) -> set[str]:
        found: set[str] = set()
        for way in ("upstream", "downstream"):
            sub = self.graph.lineage(uri, way, depth=4)
            found |= {n["uri"] for n in sub.to_dict()["nodes"]}
        return found

    def update(self, uri: str, at: float, who: str, kind: str, detail: dict[str, Any],
               status: str | None = None, **properties: Any) -> Incident:
        """Record an event on the timeline; maybe move the status and set properties."""
        incident = self.get(uri)
        if status is not None and status != incident.status:
            if status not in STATUSES:
                raise InvalidInput(f"unknown incident status {status!r}",
                                   f"use one of {', '.join(STATUSES)}")
            if status not in NEXT[incident.status]:
                raise Conflict(f"incident {uri} is {incident.status}; it cannot become "
                               f"{status}", "resolve it only once, or reopen a mitigated one")
        node = self.graph.show(incident.uri)
        new = {**node.properties, **properties}
        if status is not None:
            new["status"] = status
            new[f"{status}_at"] = at
        self.graph.add(incident.uri, author=who, owner=node.owner,
                       description=node.description, properties=new)
        self.store.add_event(incident.uri, at, kind, who, detail)
        return self.get(incident.uri)
