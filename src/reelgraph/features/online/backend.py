"""Opening an online store: the back-end is chosen by the URL's scheme."""

from __future__ import annotations

from reelgraph.core import Settings, backend_for
from reelgraph.features.ports import OnlineStore


def default_online_url(settings: Settings | None = None) -> str:
    home = (settings or Settings.load()).home
    return f"sqlite:///{home / 'features' / 'online.db'}"


def open_online_store(url: str | None = None, settings: Settings | None = None) -> OnlineStore:
    """The online store at ``url`` (default: the SQLite file under the home directory)."""
    url = url or default_online_url(settings)
    store: OnlineStore = backend_for("online", url)(url)
    return store

