"""The HTTP API: the only place HTTP lives. ``create_app`` builds the FastAPI application;
each package has one router under ``/api/v1/<package>`` (see ``routers/``)."""

from reelgraph.api.app import create_app

__all__ = ["create_app"]
