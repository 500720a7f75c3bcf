"""``reelgraph demo``: the main job on embedded defaults and the bundled MovieLens data.

``run(ws, config=SMALL, stages=...)`` registers the data and a two-domain catalog
(``catalog``), trains, embeds, serves, operates (a simulated week on call, ``WeekReport``)
and ingests in the ``SMALL`` or ``FULL`` configuration,
reports each stage to ``stages`` and returns a ``DemoReport`` with the answers; the CLI
renders it.
"""

from reelgraph.demo import catalog
from reelgraph.demo.config import FULL, SMALL, DemoConfig
from reelgraph.demo.job import DemoReport, default_data_dir, run
from reelgraph.demo.matchcuts import MatchCutReport
from reelgraph.demo.media import MediaReport
from reelgraph.demo.operations import WeekReport
from reelgraph.demo.progress import Stages
from reelgraph.demo.recommender import RecommenderReport

__all__ = [
    "FULL",
    "SMALL",
    "DemoConfig",
    "DemoReport",
    "MatchCutReport",
    "MediaReport",
    "RecommenderReport",
    "Stages",
    "WeekReport",
    "catalog",
    "default_data_dir",
    "run",
]
