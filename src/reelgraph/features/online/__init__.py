"""Online stores: the latest value per entity key, for low-latency reads.

``open_online_store(url)`` picks the back-end by URL scheme (``core.urls``):
``sqlite:///path.db`` (default, under ``$REELGRAPH_HOME/features/online.db``) or
``redis://host:port/db?prefix=name`` (``online_url`` in the settings, so the CLI and the
server select it too). Both implement ``ports.OnlineStore``.
"""

from __future__ import annotations

from reelgraph.core.settings import Settings
from reelgraph.core.urls import backend_for
from reelgraph.features.ports import OnlineStore


def default_online_url(settings: Settings | None = None) -> str:
    """``Settings.online_url`` (REELGRAPH_ONLINE_URL), else the SQLite file under home."""
    settings = settings or Settings.load()
    return settings.online_url or f"sqlite:///{settings.home / 'features' / 'online.db'}"


def open_online_store(url: str | None = None, settings: Settings | None = None) -> OnlineStore:
    """The online store at ``url`` (default: the SQLite file under the home directory)."""
    url = url or default_online_url(settings)
    store: OnlineStore = backend_for("online", url)(url)
    return store


__all__ = ["default_online_url", "open_online_store"]
