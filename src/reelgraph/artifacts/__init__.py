"""Content-addressed artifact storage: atomic writes, checksummed reads, typed formats."""

from reelgraph.artifacts.store import ArtifactError, ArtifactRef, ArtifactStore

__all__ = ["ArtifactError", "ArtifactRef", "ArtifactStore"]
