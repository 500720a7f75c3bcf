"""Source adapters fed by thin events: the ingestor's rules, convergence, the file adapter."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.graph import EdgeKind, Graph, LineageFlow, NodeKey
from reelgraph.graph.adapters import EntityState, FileDatasetSource, Ingestor, ThinEvent

MENTIONS = EdgeKind("mentions", LineageFlow.NONE, frozenset({("*", "*")}), description="test link")


# --- a source whose entities change over time ------------------------------------------


@dataclass
class ToySource:
    """An external system: entities e0..eN with content and references, or absent."""

    ns: str
    entities: dict[str, EntityState] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"toy-{self.ns}"

    def key(self, entity_id: str) -> NodeKey:
        return NodeKey("dataset", self.ns, entity_id)

    def fetch(self, entity_id: str) -> EntityState | None:
        return self.entities.get(entity_id)

    def list_ids(self) -> list[str]:
        return sorted(self.entities)


Change = tuple[str, "tuple[int, tuple[str, ...]] | None"]  # entity id, (version, refs) or gone


def make_history(rng: random.Random, entities: int = 8, steps: int = 40) -> list[Change]:
    """Creates, updates and deletes; references go to other entities or external nodes."""
    ids = [f"e{i}" for i in range(entities)]
    targets = [*ids, "x0", "x1", "x2"]  # x*: nodes no source describes (they become stubs)
    history: list[Change] = []
    for step in range(steps):
        entity = rng.choice(ids)
        if rng.random() < 0.25:
            history.append((entity, None))
        else:
            refs = tuple(sorted(rng.sample([t for t in targets if t != entity], rng.randint(0, 3))))
            history.append((entity, (step, refs)))
    return history


def entity_state(source: ToySource, entity: str, value: tuple[int, tuple[str, ...]]
                 ) -> EntityState:
    version, refs = value
    me = source.key(entity)
    return EntityState(
        owner="team-a",
        description=f"version {version}",
        tags=("toy",),
        properties={"version": version},
        edges=tuple((me, "mentions", source.key(r)) for r in refs),
    )


def change(source: ToySource, entity: str, value: tuple[int, tuple[str, ...]] | None) -> None:
    if value is None:
        source.entities.pop(entity, None)
    else:
        source.entities[entity] = entity_state(source, entity, value)


def dump(graph: Graph, ns: str) -> str:
    """Live nodes' content and live edges of one run's namespace, with the namespace masked."""
    nodes = [n for n in graph.find(limit=1_000_000) if n.key.namespace == ns]
    by_id = {n.id: n.uri for n in nodes}
    edges = sorted(
        (by_id[e.src_id], e.kind, by_id[e.dst_id], json.dumps(e.properties, sort_keys=True))
        for e in graph.store.all_edges()
        if e.src_id in by_id and e.dst_id in by_id
    )
    content = sorted(
        (n.uri, n.domain, n.owner, n.description, list(n.tags),
         json.dumps(n.properties, sort_keys=True))
        for n in nodes
    )
    return json.dumps({"nodes": content, "edges": edges}).replace(ns, "NS")


def in_order(graph: Graph, ns: str, history: list[Change]) -> str:
    """The reference: each event applied right after its change."""
    source = ToySource(ns)
    ingestor = Ingestor(graph, [source])
    for entity, value in history:
        change(source, entity, value)
        kind = "deleted" if value is None else "upserted"
        ingestor.handle(ThinEvent(source.source, entity, kind))
    return dump(graph, ns)


def late(graph: Graph, ns: str, history: list[Change], rng: random.Random,
         keep: float = 1.0, copies: int = 3) -> tuple[Ingestor, ToySource]:
    """Each kept event delivered (up to ``copies`` times) some steps after its change,
    interleaved with later changes; whatever is still pending is delivered at the end."""
    source = ToySource(ns)
    ingestor = Ingestor(graph, [source])
    pending: dict[int, list[ThinEvent]] = {}
    for step, (entity, value) in enumerate(history):
        if rng.random() < keep:
            event = ThinEvent(source.source, entity, "deleted" if value is None else "upserted")
            for _ in range(rng.randint(1, copies)):
                pending.setdefault(step + rng.randint(0, 12), []).append(event)
    for step, (entity, value) in enumerate(history):
        change(source, entity, value)
        due = pending.pop(step, [])
        rng.shuffle(due)
        ingestor.handle_all(due)
    rest = [event for events in pending.values() for event in events]
    rng.shuffle(rest)
    ingestor.handle_all(rest)
    return ingestor, source


SEEDS = [3, 17, 2024]


@pytest.fixture
def toy_graph(graph: Graph) -> Graph:
    graph.register_edge_kind(MENTIONS)
    return graph


@pytest.mark.parametrize("seed", SEEDS)
def test_shuffled_and_duplicated_events_converge(toy_graph: Graph, seed: int) -> None:
    history = make_history(random.Random(seed))
    expected = in_order(toy_graph, "ref", history)
    late(toy_graph, "late", history, random.Random(seed + 1))
    assert dump(toy_graph, "late") == expected
    assert any(value is None for _, value in history)  # the history deletes something


@pytest.mark.parametrize("seed", SEEDS)
def test_dropped_events_converge_when_each_entity_keeps_one(toy_graph: Graph, seed: int
                                                            ) -> None:
    rng = random.Random(seed)
    history = make_history(rng)
    expected = in_order(toy_graph, "ref", history)
    source = ToySource("drop")
    for entity, value in history:
        change(source, entity, value)
    events = [ThinEvent(source.source, e, "changed") for e, _ in history]
    kept = [ev for ev in events if rng.random() < 0.4]
    for entity in {ev.entity_id for ev in events} - {ev.entity_id for ev in kept}:
        kept.append(rng.choice([ev for ev in events if ev.entity_id == entity]))
    assert len(kept) < len(events)
    rng.shuffle(kept)
    Ingestor(toy_graph, [source]).handle_all(kept)
    assert dump(toy_graph, "drop") == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_any_dropped_events_converge_after_resync(toy_graph: Graph, seed: int) -> None:
    history = make_history(random.Random(seed))
    expected = in_order(toy_graph, "ref", history)
    ingestor, source = late(toy_graph, "resync", history, random.Random(seed + 7), keep=0.3)
    ingestor.resync(source)
    assert dump(toy_graph, "resync") == expected
    before = {n.uri: n.revision for n in toy_graph.find(namespace="resync")}
    ingestor.resync(source)  # a second resync writes nothing
    assert {n.uri: n.revision for n in toy_graph.find(namespace="resync")} == before


# --- the ingestor's rules --------------------------------------------------------------


def test_stub_is_replaced_by_real_content_and_never_overwrites_it(toy_graph: Graph) -> None:
    source = ToySource("rules")
    ingestor = Ingestor(toy_graph, [source])
    change(source, "a", (1, ("b",)))
    ingestor.handle(ThinEvent(source.source, "a", "created"))
    stub = toy_graph.show("rg://dataset/rules/b")
    assert stub.properties == {"_stub": True}

    change(source, "b", (2, ()))
    ingestor.handle(ThinEvent(source.source, "b", "created"))
    assert toy_graph.show("rg://dataset/rules/b").properties == {"version": 2}
    ingestor.handle(ThinEvent(source.source, "a", "updated"))  # must not stub b again
    assert toy_graph.show("rg://dataset/rules/b").properties == {"version": 2}

    edges = toy_graph.edges("rg://dataset/rules/a")
    assert [(d, e.kind, n.uri, e.properties) for d, e, n in edges] == [
        ("out", "mentions", "rg://dataset/rules/b", {"_source": "toy-rules", "_entity": "a"})
    ]


def test_identical_state_writes_no_revision(toy_graph: Graph) -> None:
    source = ToySource("same")
    ingestor = Ingestor(toy_graph, [source])
    change(source, "a", (1, ("x0",)))
    for _ in range(3):
        result = ingestor.handle(ThinEvent(source.source, "a", "updated"))
    assert (result.nodes_written, result.edges_written) == (0, 0)
    assert len(toy_graph.history("rg://dataset/same/a")) == 1


def test_gone_entity_is_tombstoned_and_its_orphan_stubs_go(toy_graph: Graph) -> None:
    source = ToySource("gone")
    ingestor = Ingestor(toy_graph, [source])
    change(source, "a", (1, ("x0",)))
    ingestor.handle(ThinEvent(source.source, "a", "created"))
    change(source, "a", None)
    ingestor.handle(ThinEvent(source.source, "a", "deleted"))
    assert toy_graph.get("rg://dataset/gone/a") is None
    assert toy_graph.history("rg://dataset/gone/a")[-1].deleted
    assert toy_graph.get("rg://dataset/gone/x0") is None  # the stub lost its last edge


def test_gone_entity_still_referenced_stays_as_stub(toy_graph: Graph) -> None:
    source = ToySource("kept")
    ingestor = Ingestor(toy_graph, [source])
    change(source, "a", (1, ("b",)))
    change(source, "b", (1, ()))
    ingestor.handle_all([ThinEvent(source.source, "b", "c"), ThinEvent(source.source, "a", "c")])
    change(source, "b", None)
    ingestor.handle(ThinEvent(source.source, "b", "deleted"))
    assert toy_graph.show("rg://dataset/kept/b").properties == {"_stub": True}
    assert [n.uri for _, _, n in toy_graph.edges("rg://dataset/kept/a")] == [
        "rg://dataset/kept/b"
    ]


def test_unknown_source_and_stray_edge_are_refused(toy_graph: Graph) -> None:
    ingestor = Ingestor(toy_graph)
    with pytest.raises(InvalidInput, match="no source adapter named 'nope'"):
        ingestor.handle(ThinEvent("nope", "a"))
    source = ToySource("stray")
    ingestor.register(source)
    source.entities["a"] = EntityState(
        edges=((source.key("b"), "mentions", source.key("c")),)
    )
    with pytest.raises(InvalidInput, match="does not touch its node"):
        ingestor.handle(ThinEvent(source.source, "a"))
    assert toy_graph.find(namespace="stray") == []


# --- FileDatasetSource -----------------------------------------------------------------


def _write_csv(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_file_source_registers_csv_and_parquet(graph: Graph, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    _write_csv(root / "scores.csv", [["user", "score", "label"], [1, 0.5, "a"], [2, "", "b"],
                                     [3, 2, "c"]])
    pq.write_table(pa.table({"id": [1, 2], "name": ["x", "y"]}), root / "sub" / "t.parquet")
    (root / "notes.txt").write_text("ignored")
    source = FileDatasetSource(root, "lab", owner="data-eng")
    ingestor = Ingestor(graph, [source])
    assert ingestor.resync(source) == 2

    scores = graph.show("rg://dataset/lab/scores.csv")
    raw = (root / "scores.csv").read_bytes()
    assert scores.properties == {
        "path": "scores.csv",
        "format": "csv",
        "schema": [{"name": "user", "type": "integer"}, {"name": "score", "type": "float"},
                   {"name": "label", "type": "string"}],
        "rows": 3,
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    assert scores.owner == "data-eng" and "source:files:lab" in scores.tags
    table = graph.show("rg://dataset/lab/sub/t.parquet")
    assert table.properties["rows"] == 2
    assert table.properties["schema"] == [{"name": "id", "type": "int64"},
                                          {"name": "name", "type": "string"}]

    # Unchanged file: no new revision. Changed file: one. Removed file: tombstone.
    ingestor.handle(ThinEvent(source.source, "scores.csv", "modified"))
    assert len(graph.history(scores.key)) == 1
    _write_csv(root / "scores.csv", [["user", "score", "label"], [1, 0.5, "a"]])
    ingestor.handle(ThinEvent(source.source, "scores.csv", "modified"))
    assert graph.show(scores.key).properties["rows"] == 1
    assert len(graph.history(scores.key)) == 2
    (root / "sub" / "t.parquet").unlink()
    ingestor.resync(source)
    assert graph.get("rg://dataset/lab/sub/t.parquet") is None


def test_file_source_refuses_paths_outside_its_root(tmp_path: Path) -> None:
    source = FileDatasetSource(tmp_path, "lab")
    with pytest.raises(InvalidInput, match="outside"):
        source.fetch("../secret.csv")
    with pytest.raises(InvalidInput, match="does not exist"):
        FileDatasetSource(tmp_path / "missing", "lab")


def test_file_source_registers_movielens(graph: Graph, shared_data: Path) -> None:
    root = shared_data / "movielens" / "ml-latest-small"
    source = FileDatasetSource(root, "movielens")
    Ingestor(graph, [source]).resync(source)
    ratings = graph.show("rg://dataset/movielens/ratings.csv")
    lines = (root / "ratings.csv").read_bytes().count(b"\n")
    assert ratings.properties["rows"] == lines - 1
    assert [c["name"] for c in ratings.properties["schema"]] == [
        "userId", "movieId", "rating", "timestamp"
    ]
    assert ratings.properties["schema"][2]["type"] == "float"
    names = {n.key.name for n in graph.find(kind="dataset", namespace="movielens")}
    assert {"movies.csv", "ratings.csv", "tags.csv", "links.csv"} <= names
