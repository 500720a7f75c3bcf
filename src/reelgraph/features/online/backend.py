"""Opening an online store: the back-end is chosen by the URL's scheme."""

from __future__ import annotations

from reelgraph.core import Settings, backend_for, home_folder
from reelgraph.features.ports import OnlineStore


def default_online_url(settings: Settings | None) -> str:
    """``Settings.online_url`` (REELGRAPH_ONLINE_URL), else the SQLite file under home."""
    if settings is not None and settings.online_url:
        return settings.online_url
    return f"sqlite:///{home_folder(settings, 'features', 'online.db')}"


def open_online_store(url: str | None = None, settings: Settings | None = None) -> OnlineStore:
    """The online store at ``url`` (default: the SQLite file under the home directory)."""
    url = url or default_online_url(settings)
    store: OnlineStore = backend_for("online", url)(url)
    return store

