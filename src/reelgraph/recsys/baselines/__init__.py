"""Classical baselines: popularity, EASE (personalized canvases), fuzzy titles (search)."""

from reelgraph.recsys.baselines.ease import Ease
from reelgraph.recsys.baselines.fuzzy import FuzzyTitles
from reelgraph.recsys.baselines.popularity import Popularity

__all__ = ["Ease", "FuzzyTitles", "Popularity"]
