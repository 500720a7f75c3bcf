"""Source adapters: other systems feed the graph through thin events (see ``base``)."""

from reelgraph.graph.adapters.base import EntityState, Ingestor, SourceAdapter, ThinEvent
from reelgraph.graph.adapters.files import FileDatasetSource
from reelgraph.graph.adapters.openlineage import (
    OpenLineageLog,
    OpenLineageSource,
    import_events,
)

__all__ = [
    "EntityState",
    "FileDatasetSource",
    "Ingestor",
    "OpenLineageLog",
    "OpenLineageSource",
    "SourceAdapter",
    "ThinEvent",
    "import_events",
]
