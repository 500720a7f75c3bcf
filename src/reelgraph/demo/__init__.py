"""``reelgraph demo``: the main job on embedded defaults and the bundled MovieLens data.

``run(graph)`` registers the data and a two-domain catalog (``catalog``), derives links and
returns a ``DemoReport`` with the answers; the CLI renders it.
"""

from reelgraph.demo import catalog
from reelgraph.demo.job import DemoReport, default_data_dir, run
from reelgraph.demo.media import MediaReport
from reelgraph.demo.recommender import RecommenderReport

__all__ = [
    "DemoReport",
    "MediaReport",
    "RecommenderReport",
    "catalog",
    "default_data_dir",
    "run",
]
