"""The interaction log: what members did after a model was trained, read at request time.

    log = InteractionLog(ws)
    log.append("42", "1210", time=1700000000)           # member 42 just watched item 1210
    log.recent("42", since=recommender.now)            # [Interaction(...)], oldest first

One append-only table (``rg_interaction``) in the metadata database; an append is one
INSERT, so concurrent appends never lose each other. The serving path passes a member's
events since the model's cut-off to ``UnifiedRecommender.request(recent=...)``, so the next
answer reflects them without retraining.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import text

from reelgraph.core import InvalidInput, MetadataStore, now_us, write_connection

DEFAULT_EVENT = "interaction"
MAX_ID = 200
RECENT = 200  # events read per request, at most: more than any model's history length


@dataclass(frozen=True)
class Interaction:
    user: str
    item: str
    time: int  # unix seconds, UTC
    event: str = DEFAULT_EVENT
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checked(user: object, item: object, time: object, event: object = DEFAULT_EVENT,
            value: object = None) -> Interaction:
    """An interaction from untrusted input, or ``InvalidInput`` naming what is wrong."""
    for name, given in (("user", user), ("item", item), ("event", event)):
        if not isinstance(given, str | int) or isinstance(given, bool) \
                or not str(given).strip() or len(str(given)) > MAX_ID:
            raise InvalidInput(f"the interaction's {name} {given!r} is not an id",
                               f"give the {name} as a non-empty string of at most {MAX_ID} "
                               "characters")
    if isinstance(time, bool) or not isinstance(time, int | float) or not math.isfinite(time) \
            or not 0 <= time < 2**40:
        raise InvalidInput(f"the interaction's time {time!r} is not unix seconds",
                           "give when it happened as unix seconds (UTC), e.g. 1700000000")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not math.isfinite(value)):
        raise InvalidInput(f"the interaction's value {value!r} is not a finite number",
                           "give a number (e.g. a rating) or leave the value out")
    return Interaction(str(user), str(item), int(time), str(event),
                       None if value is None else float(value))


class InteractionLog(MetadataStore):
    """Interactions in a workspace's metadata database (``InteractionLog(ws)``)."""

    def append(self, user: str | int, item: str | int, time: int | float | None = None,
               event: str = DEFAULT_EVENT, value: float | None = None) -> Interaction:
        """Log one interaction at ``time`` (unix seconds, default now); checked first, so
        nothing is written when it is refused."""
        found = checked(user, item, now_us() // 1_000_000 if time is None else time, event,
                        value)
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(text("INSERT INTO rg_interaction (user_id, item_id, time, event, "
                              "value, created_at) VALUES (:u, :i, :t, :e, :v, :at)"),
                         {"u": found.user, "i": found.item, "t": found.time, "e": found.event,
                          "v": found.value, "at": now_us()})
        return found

    def recent(self, user: str | int, since: int = 0, limit: int = RECENT
               ) -> list[Interaction]:
        """The user's ``limit`` latest interactions at or after ``since``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, item_id, time, event, value FROM rg_interaction "
                     "WHERE user_id = :u AND time >= :s ORDER BY time DESC, id DESC "
                     "LIMIT :n"), {"u": str(user), "s": since, "n": limit}).all()
        return [Interaction(r[0], r[1], int(r[2]), r[3], r[4]) for r in reversed(rows)]

    def forget(self, user: str | int) -> int:
        """Delete every interaction of ``user`` (how many there were)."""
        with write_connection(self.engine) as conn, conn.begin():
            done = conn.execute(text("DELETE FROM rg_interaction WHERE user_id = :u"),
                                {"u": str(user)})
        return int(done.rowcount)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM rg_interaction")).scalar() or 0)

