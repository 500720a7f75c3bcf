"""Keep a loaded model out of the garbage collector's full passes.

A served model is hundreds of thousands of long-lived Python objects (vectors, vocabularies,
tensors' wrappers). CPython's full (generation-2) collection walks every one of them, and on
a loaded server one such pass took 234 ms: a stall that lands on whatever request is in
flight. Nothing in a loaded model is garbage, so after a swap the server collects once and
freezes what survives (``gc.freeze``): later full passes walk only what was made since.
Frozen objects are still freed by reference counting; ``release`` unfreezes them before the
process ends, so interpreter shutdown collects them (native extensions report leaks
otherwise).
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect what a swap left behind, then freeze everything alive; the frozen count."""
    gc.unfreeze()  # the previous model's cycles become collectable again
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def release() -> None:
    """Give every frozen object back to the collector (before shutdown)."""
    gc.unfreeze()
    gc.collect()
