"""The main job: register the bundled data (through the file source adapter), declare two
domains' lineage, derive links, then ask the graph the questions a user would (lineage,
impact, models like this, reuse); train and serve the models, then operate the served
recommender for a simulated week with one injected fault (``operations``).

Idempotent: every write is a pure function of the data files and the catalog, so a second
run finds every node and edge unchanged and writes no revision (the simulated week runs in
a scratch workspace of its own, made afresh).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from reelgraph.core import InvalidInput, NotFound
from reelgraph.demo import catalog
from reelgraph.demo.config import SMALL, DemoConfig
from reelgraph.demo.features import EmbeddingReport, embed_titles
from reelgraph.demo.matchcuts import MatchCutReport, find_match_cuts
from reelgraph.demo.media import MediaReport, ingest_clips
from reelgraph.demo.model import TrainingReport, train_and_promote
from reelgraph.demo.operations import WeekReport, run_week
from reelgraph.demo.progress import Quiet, Stages
from reelgraph.demo.recommender import RecommenderReport, train_and_serve
from reelgraph.flows import Workspace
from reelgraph.graph import Batch, Graph, Node, ReuseCandidate, Similar, Subgraph
from reelgraph.graph.adapters import FileDatasetSource, Ingestor, ThinEvent

AUTHOR = "reelgraph demo"
SOURCE = "examples-data"  # the file source adapter's name for the bundled data


def default_data_dir() -> Path:
    """The checkout's ``examples/data`` (the bundled MovieLens slice and clips)."""
    # src/reelgraph/demo/job.py -> the checkout's examples/data
    return Path(__file__).resolve().parents[3] / "examples" / "data"


@dataclass(frozen=True)
class DemoReport:
    """What one ``reelgraph demo`` run registered, derived and trained, for the CLI to show."""
    config: DemoConfig  # how much work this run did (small or full)
    data_dir: Path
    datasets: list[Node]  # one per CSV file, with schema, rows and sha256 in properties
    registered: dict[str, int]  # nodes this job declares, per kind
    edges: int  # edges this job declares (derived ones not included)
    new_revisions: int  # node and edge writes that changed something, derived links included
    derived: int  # derived links added
    lineage: Subgraph  # upstream of the latest ranker
    impact: Subgraph  # downstream of ratings.csv
    similar: list[Similar]  # models like the latest ranker
    reuse: list[ReuseCandidate]
    training: TrainingReport  # the real model: trained, registered, promoted
    embeddings: EmbeddingReport  # title embeddings, computed once then memoized
    recommender: RecommenderReport  # the unified model: trained, promoted, served
    on_call: WeekReport  # a simulated week of it in operation, one fault rolled back
    media: MediaReport  # the bundled clips, ingested by the media pipeline's trigger
    matchcuts: MatchCutReport  # the clips' best match cuts across titles, with previews
    model_lineage: Subgraph  # upstream of the registered model version


# The columns each CSV the job reads must have; checked before anything is written.
REQUIRED_COLUMNS = {
    "ratings.csv": ("userId", "movieId", "rating", "timestamp"),
    "movies.csv": ("movieId", "title", "genres"),
}


def check_data(data_dir: Path) -> None:
    """Refuse a data folder the job cannot use (missing or empty CSVs, missing columns)
    before the job writes anything, so a bad ``--data`` leaves no half-built graph."""
    folder = data_dir / catalog.RELEASE
    fix = ("run from a reelgraph checkout (it bundles examples/data) or pass --data DIR "
           f"where DIR/{catalog.RELEASE}/ holds the MovieLens CSV files")
    if not (folder / "ratings.csv").is_file():
        raise NotFound(f"the MovieLens data is not at {folder}", fix)
    for name, columns in REQUIRED_COLUMNS.items():
        try:
            with (folder / name).open(encoding="utf-8", errors="replace") as handle:
                header, first = handle.readline().strip(), handle.readline().strip()
        except OSError as exc:
            raise InvalidInput(f"cannot read {folder / name} ({exc.strerror})", fix) from None
        missing = [c for c in columns if c not in header.split(",")]
        if missing or not first:
            problem = (f"lacks the column(s) {', '.join(missing)}" if missing else
                       "has no rows")
            raise InvalidInput(f"{folder / name} {problem}", fix)


def _register_datasets(graph: Graph, data_dir: Path) -> tuple[list[Node], int]:
    """Feed each bundled CSV through the file source adapter; return the nodes and writes."""
    source = FileDatasetSource(data_dir, catalog.DATA_NAMESPACE, owner="data-platform",
                               source=SOURCE)
    ingestor = Ingestor(graph, [source])
    ids = [i for i in source.list_ids() if i.startswith(f"{catalog.RELEASE}/")]
    written = sum(ingestor.handle(ThinEvent(SOURCE, i)).nodes_written for i in ids)
    return [graph.show(source.key(i)) for i in ids], written


def run(ws: Workspace, data_dir: Path | None = None, config: DemoConfig = SMALL,
        stages: Stages | None = None) -> DemoReport:
    """The whole job in ``config`` (default: the small one), reporting each stage."""
    stages = stages or Quiet()
    graph = ws.graph
    data_dir = (data_dir or default_data_dir()).resolve()
    check_data(data_dir)
    stages.begin("registering the data and the catalog")
    datasets, dataset_writes = _register_datasets(graph, data_dir)
    batch = Batch(AUTHOR)
    catalog.declare(batch)
    written = graph.apply(batch.changes)  # one atomic change set: all of it or nothing
    derived = sum(r.added + r.removed for r in graph.derive())
    stages.end()
    trained = train_and_promote(ws, data_dir, stages)
    embedded = embed_titles(ws, data_dir, config.titles, stages)
    # reads the title embeddings
    recommender = train_and_serve(ws, data_dir, config.recommender, stages)
    on_call = run_week(ws, data_dir, stages)
    media = ingest_clips(ws, data_dir, ws.settings.home / "demo" / "contact-sheets", stages)
    matchcuts = find_match_cuts(ws, [clip.asset for clip in media.clips],
                                ws.settings.home / "demo" / "match-cuts", stages)
    registered = Counter([*(n.kind for n in datasets),
                          *(spec.key.kind for spec in batch.changes.nodes)])
    return DemoReport(
        config=config,
        data_dir=data_dir,
        datasets=datasets,
        registered=dict(sorted(registered.items())),
        edges=len(batch.changes.edges),
        new_revisions=dataset_writes + written.nodes_written + written.edges_written + derived,
        derived=derived,
        lineage=graph.lineage(catalog.RANKER_V2),
        impact=graph.impact(catalog.RATINGS),
        similar=graph.similar(catalog.RANKER_V2),
        reuse=graph.reuse_candidates(catalog.RANKER_V2),
        training=trained,
        embeddings=embedded,
        recommender=recommender,
        on_call=on_call,
        media=media,
        matchcuts=matchcuts,
        model_lineage=graph.lineage(trained.version.uri),
    )


