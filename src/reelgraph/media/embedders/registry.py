"""Embedders by name, so flows and the CLI can pick one with a string."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from reelgraph.core import InvalidInput
from reelgraph.media.embedders.clip import ClipEmbedder
from reelgraph.media.embedders.framing import FramingEmbedder
from reelgraph.media.embedders.motion import MotionEmbedder
from reelgraph.media.embedders.ports import FrameEmbedder

_FACTORIES: dict[str, Callable[..., FrameEmbedder]] = {
    "framing": FramingEmbedder,
    "motion": MotionEmbedder,
    "clip": ClipEmbedder,
}
EMBEDDER_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def embedder(name: str, **options: Any) -> FrameEmbedder:
    """A new embedder called ``name``, built with ``options`` (e.g. ``weights=`` for clip).

    Raises ``InvalidInput`` for an unknown name or option, and ``EmbedderUnavailable`` when
    the embedder needs something missing here (clip: open_clip and its weights).
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InvalidInput(
            f"unknown embedder {name!r}", f"use one of: {', '.join(EMBEDDER_NAMES)}"
        )
    signature = inspect.signature(factory)
    try:
        signature.bind(**options)
    except TypeError:
        accepted = [p for p in signature.parameters if p != "self"]
        raise InvalidInput(
            f"embedder {name!r} does not take the option(s) {sorted(options)}",
            f"pass only {accepted}" if accepted else f"call embedder({name!r}) with no options",
        ) from None
    return factory(**options)
