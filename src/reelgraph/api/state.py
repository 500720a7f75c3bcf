"""What one application holds: its settings and its open graph, kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from reelgraph.core.settings import Settings
from reelgraph.graph import Graph


@dataclass
class ApiState:
    settings: Settings
    graph: Graph
    owns_graph: bool  # opened by the app (closed on shutdown) or injected by the caller


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.reelgraph
    return state


def get_graph(request: Request) -> Graph:
    return api_state(request).graph


def get_settings(request: Request) -> Settings:
    return api_state(request).settings
