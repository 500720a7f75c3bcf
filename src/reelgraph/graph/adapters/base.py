"""Source adapters fed by thin events, and the ``Ingestor`` that applies what they fetch.

A thin event says only *which* entity of *which* source changed (``ThinEvent``). On each one
the ingestor asks the source's adapter for the entity's **current** state and makes the graph
agree with it, so events that arrive late, twice, out of order or not at all (as long as a
later one for the same entity arrives, or ``resync`` runs) still converge to one graph.

What "agree" means, per entity (one ``ChangeSet``, so atomic):

- the source says it exists: its node gets the fetched content (tagged ``source:NAME``) and
  the edges it asserts replace those it asserted before (edges carry ``_source`` and
  ``_entity`` properties saying who asserted them);
- the source says it is gone: its asserted edges go; the node is tombstoned, or kept as a
  *stub* while edges asserted by someone else still touch it;
- an edge to a node nobody has described yet creates a stub (``{"_stub": true}``), which real
  content later replaces and which never replaces real content; a stub that loses its last
  edge is tombstoned.

The final graph is therefore a function of the sources' final states alone. Apply events for
one graph from one ingestor at a time: the plan is read, then written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reelgraph.core import InvalidInput
from reelgraph.graph.lifecycle import Graph
from reelgraph.graph.model import ApplyResult, ChangeSet, Edge, EdgeSpec, Json, Node, NodeSpec
from reelgraph.graph.store import NodeFilter
from reelgraph.graph.uri import NodeKey

STUB = "_stub"
SOURCE = "_source"
ENTITY = "_entity"


def source_tag(source: str) -> str:
    return f"source:{source}"


@dataclass(frozen=True)
class ThinEvent:
    """An entity of a source changed; ``event_type`` is informative only (state is fetched)."""

    source: str
    entity_id: str
    event_type: str = "changed"


@dataclass(frozen=True)
class EntityState:
    """An entity as its source describes it now: its node's content and the edges it asserts.

    Every edge must touch the entity's node (as source or destination).
    """

    domain: str | None = None
    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    properties: Json = field(default_factory=dict)
    edges: tuple[tuple[NodeKey, str, NodeKey], ...] = ()


class SourceAdapter(Protocol):
    """One external (or reelgraph-own) system whose entities become nodes."""

    @property
    def source(self) -> str:
        """A short name, unique among adapters (``files``, ``openlineage``)."""
        ...

    def key(self, entity_id: str) -> NodeKey:
        """The node an entity id maps to; must work for ids that no longer exist."""
        ...

    def fetch(self, entity_id: str) -> EntityState | None:
        """The entity's current state, or None when the source no longer has it."""
        ...

    def list_ids(self) -> Iterable[str]:
        """Every entity id the source has now (for ``Ingestor.resync``)."""
        ...


def is_stub(node: Node) -> bool:
    return node.properties.get(STUB) is True


def _maps_to(adapter: SourceAdapter, entity_id: object, key: NodeKey) -> bool:
    if not isinstance(entity_id, str):
        return False
    try:
        return adapter.key(entity_id) == key
    except InvalidInput:  # an id the adapter cannot read was not its own
        return False


def _stub_spec(key: NodeKey) -> NodeSpec:
    return NodeSpec(key, properties={STUB: True})


@dataclass(frozen=True)
class _Touching:
    """A live edge with both ends resolved to keys."""

    edge: Edge
    src: NodeKey
    dst: NodeKey

    @property
    def triple(self) -> tuple[NodeKey, str, NodeKey]:
        return (self.src, self.edge.kind, self.dst)


class Ingestor:
    """Applies fetched entity states to a ``Graph``; one change set per entity."""

    def __init__(self, graph: Graph, adapters: Sequence[SourceAdapter] = (),
                 author: str = "ingest") -> None:
        self.graph = graph
        self.author = author
        self.adapters: dict[str, SourceAdapter] = {}
        for adapter in adapters:
            self.register(adapter)

    def register(self, adapter: SourceAdapter) -> None:
        self.adapters[adapter.source] = adapter

    def adapter(self, source: str) -> SourceAdapter:
        try:
            return self.adapters[source]
        except KeyError:
            raise InvalidInput(
                f"no source adapter named {source!r} is registered",
                f"register one (Ingestor.register) or use one of {sorted(self.adapters)}",
            ) from None

    def handle(self, event: ThinEvent) -> ApplyResult:
        """Fetch the entity's current state and make the graph agree with it."""
        return self.apply_entity(self.adapter(event.source), event.entity_id)

    def handle_all(self, events: Iterable[ThinEvent]) -> int:
        count = 0
        for event in events:
            self.handle(event)
            count += 1
        return count

    def apply_entity(self, adapter: SourceAdapter, entity_id: str) -> ApplyResult:
        key = adapter.key(entity_id)
        return self.graph.apply(self._plan(adapter, entity_id, key, adapter.fetch(entity_id)))

    def resync(self, adapter: SourceAdapter) -> int:
        """Apply every entity the source has, then retire nodes of ids it no longer has.

        Returns the number of entities applied (present and retired).
        """
        self.register(adapter)
        present = {adapter.key(entity_id): entity_id for entity_id in adapter.list_ids()}
        for entity_id in present.values():
            self.apply_entity(adapter, entity_id)
        stale = [
            node.key
            for node in self.graph.store.find(NodeFilter(tag=source_tag(adapter.source)),
                                              limit=10_000_000)
            if node.key not in present
        ]
        for key in stale:
            self.graph.apply(self._plan(adapter, None, key, None))
        return len(present) + len(stale)

    # --- planning ------------------------------------------------------------------------

    def _plan(self, adapter: SourceAdapter, entity_id: str | None, key: NodeKey,
              state: EntityState | None) -> ChangeSet:
        """The change set that makes ``key`` agree with ``state``.

        ``entity_id`` None means "whichever ids of this source map to ``key``" (resync of ids
        that vanished, whose ids the graph no longer knows).
        """
        store = self.graph.store
        source = adapter.source
        changes = ChangeSet(author=self.author)
        current = store.get(key)
        live = current is not None and not current.deleted
        touching = self._touching(current) if live and current else []

        def owned(t: _Touching) -> bool:
            props = t.edge.properties
            if props.get(SOURCE) != source:
                return False
            if entity_id is not None:
                return bool(props.get(ENTITY) == entity_id)
            return _maps_to(adapter, props.get(ENTITY), key)

        old = [t for t in touching if owned(t)]
        wanted: dict[tuple[NodeKey, str, NodeKey], Json] = {}
        if state is not None:
            tags = (*state.tags, source_tag(source))
            changes.nodes.append(NodeSpec(key, state.domain, state.owner, state.description,
                                          tags, state.properties))
            for src, kind, dst in state.edges:
                if key not in (src, dst):
                    raise InvalidInput(
                        f"the {source!r} entity {entity_id!r} asserts an edge "
                        f"{src.uri} -{kind}-> {dst.uri} that does not touch its node {key.uri}",
                        "assert only edges from or to the entity's own node",
                    )
                wanted[(src, kind, dst)] = {SOURCE: source, ENTITY: entity_id}
            for other in {k for triple in wanted for k in (triple[0], triple[2])} - {key}:
                node = store.get(other)
                if node is None or node.deleted:
                    changes.nodes.append(_stub_spec(other))
            changes.edges.extend(EdgeSpec(s, k, d, p) for (s, k, d), p in wanted.items())
        removed = [t for t in old if t.triple not in wanted]

        deleting_self = False
        if state is None and live and current is not None:
            others = [t for t in touching if not owned(t)]
            if others:
                if not is_stub(current):
                    changes.nodes.append(_stub_spec(key))
            else:
                changes.delete_nodes.append(key)
                deleting_self = True

        # Stubs that lose their last edge go too; deleting a node closes its edges.
        gone_stubs = self._orphaned_stubs(key, removed, set(wanted))
        changes.delete_nodes.extend(gone_stubs)
        dropped = set(gone_stubs) | ({key} if deleting_self else set())
        changes.delete_edges.extend(
            EdgeSpec(t.src, t.edge.kind, t.dst)
            for t in removed
            if t.src not in dropped and t.dst not in dropped
        )
        return changes

    def _touching(self, node: Node) -> list[_Touching]:
        store = self.graph.store
        edges = store.edges([node.id], "out") + store.edges([node.id], "in")
        ends = store.nodes(sorted({e.src_id for e in edges} | {e.dst_id for e in edges}))
        return [
            _Touching(e, ends[e.src_id].key, ends[e.dst_id].key)
            for e in edges
            if e.src_id in ends and e.dst_id in ends
        ]

    def _orphaned_stubs(self, key: NodeKey, removed: list[_Touching],
                        kept: set[tuple[NodeKey, str, NodeKey]]) -> list[NodeKey]:
        removed_ids = {t.edge.id for t in removed}
        still_used = {k for triple in kept for k in (triple[0], triple[2])}
        candidates = {k for t in removed for k in (t.src, t.dst)} - {key} - still_used
        orphans = []
        for other in sorted(candidates):
            node = self.graph.store.get(other)
            if node is None or node.deleted or not is_stub(node):
                continue
            if all(t.edge.id in removed_ids for t in self._touching(node)):
                orphans.append(other)
        return orphans
