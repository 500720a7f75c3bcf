"""The canvases (surfaces of the app) one model serves, and the rules each one follows.

- ``related``: an item -> the items people go on to watch after it (no user);
- ``category``: a user and a category (genre) -> the user's ranking of that category's items;
- ``search``: a query string (maybe partial or misspelt), optionally a user -> the item meant;
- ``notifications``: a user at a time -> the few unseen items most worth a notification.

A canvas names the inputs a request must carry, which items it never returns (what the user
already saw, the source item) and the canvas-specific context features it has; features a
canvas lacks take the model's learned defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from reelgraph.core import InvalidInput

# Canvas-specific context features (columns of Requests.dense), each scaled to ~0..5.
DENSE_FEATURES = ("days_since_last_event", "events_last_30_days", "query_length")


@dataclass(frozen=True)
class Canvas:
    name: str
    index: int  # the canvas input of the model
    requires: tuple[str, ...]  # request inputs that must be given: item, category, query, user
    takes_user: bool  # whether a user (and their history) is an input
    excludes_seen: bool  # never return what the user interacted with before the request
    excludes_source: bool  # never return the request's item
    within_category: bool  # rank only the category's items
    features: tuple[str, ...]  # the DENSE_FEATURES this canvas has
    description: str


RELATED = Canvas("related", 0, ("item",), False, False, True, False, (),
                 "items people go on to watch after an item")
CATEGORY = Canvas("category", 1, ("category",), True, True, False, True, (),
                  "a user's ranking of the items in a category")
SEARCH = Canvas("search", 2, ("query",), True, False, False, False, ("query_length",),
                "the item a (partial or misspelt) query means")
NOTIFICATIONS = Canvas("notifications", 3, ("user",), True, True, False, False,
                       ("days_since_last_event", "events_last_30_days"),
                       "unseen items worth a notification now")
CANVASES = (RELATED, CATEGORY, SEARCH, NOTIFICATIONS)
CANVAS_NAMES = tuple(c.name for c in CANVASES)


def canvas(name: str) -> Canvas:
    for known in CANVASES:
        if known.name == name:
            return known
    raise InvalidInput(f"unknown canvas {name!r}",
                       f"use one of {', '.join(CANVAS_NAMES)}")
