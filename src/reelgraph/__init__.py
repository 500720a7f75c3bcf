"""reelgraph: one model lifecycle graph for every dataset, feature, model, run and deployment.

Packages (see ARCHITECTURE.md for the dependency direction):

- ``reelgraph.core``: settings, errors, clock.
- ``reelgraph.graph``: the lifecycle graph (nodes, edges, history, lineage, discovery).
- ``reelgraph.api``: the FastAPI server; ``reelgraph.cli``: the Typer CLI.
"""

__version__ = "0.1.0"
