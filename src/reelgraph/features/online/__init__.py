"""Online stores: the latest value per entity key, for low-latency reads.

``open_online_store(url)`` picks the back-end by URL scheme (``core.urls``):
``sqlite:///path.db`` (default, under ``$REELGRAPH_HOME/features/online.db``) or
``redis://host:port/db?prefix=name`` (``online_url`` in the settings, so the CLI and the
server select it too). Both implement ``ports.OnlineStore``.
"""

from reelgraph.features.online.backend import default_online_url, open_online_store

__all__ = ["default_online_url", "open_online_store"]
