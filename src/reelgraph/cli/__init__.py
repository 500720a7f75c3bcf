"""The ``reelgraph`` command line: thin Typer commands over the Python API, Rich output.

``main`` is the console script; ``app`` is the Typer application (for ``CliRunner``).
Heavy modules (the demo, uvicorn, the API) are imported inside the commands that use them.
"""

from reelgraph.cli.app import app, main

__all__ = ["app", "main"]
