"""Settings, errors and the clock that every other package shares."""

from reelgraph.core.clock import from_us, now_us, parse_time, to_us
from reelgraph.core.errors import (
    Conflict,
    InvalidInput,
    MissingDependency,
    NotFound,
    ReelgraphError,
    Unauthorized,
)
from reelgraph.core.settings import Settings
from reelgraph.core.urls import backend_for

__all__ = [
    "Conflict",
    "InvalidInput",
    "MissingDependency",
    "NotFound",
    "ReelgraphError",
    "Settings",
    "Unauthorized",
    "backend_for",
    "from_us",
    "now_us",
    "parse_time",
    "to_us",
]
