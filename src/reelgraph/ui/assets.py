"""Where the UI's files are, and how a FastAPI application serves them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def mount(app: FastAPI) -> FastAPI:
    """Serve the UI on ``app``: the page at ``/``, its assets under ``/ui``. Routes under
    ``/api`` keep their own JSON errors (the UI claims no catch-all path)."""
    app.mount("/ui", StaticFiles(directory=STATIC), name="ui")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        # Always revalidated, so a new release's page never pairs with old cached modules.
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app
