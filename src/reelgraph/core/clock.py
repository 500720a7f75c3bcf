"""One clock for the whole platform: timezone-aware UTC, microsecond precision.

Stored timestamps are integers (microseconds since the Unix epoch) so that SQLite and
PostgreSQL compare and index them the same way.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from reelgraph.core.errors import InvalidInput

_lock = threading.Lock()
_last = 0


def now_us() -> int:
    """Microseconds since the epoch, strictly increasing within this process.

    Strictly increasing so that two revisions written back to back never share a
    timestamp, which would make an "as of" query ambiguous.
    """
    global _last
    with _lock:
        t = time.time_ns() // 1000
        _last = t if t > _last else _last + 1
        return _last


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (a naive one is refused)."""
    if moment.tzinfo is None:
        raise InvalidInput(
            f"the time {moment.isoformat()} has no time zone",
            "pass an aware datetime or an ISO-8601 string ending in Z or +00:00",
        )
    return int(moment.timestamp() * 1_000_000)


def from_us(us: int) -> datetime:
    """The aware UTC datetime of a time in microseconds since the epoch."""
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time; a time without a zone is refused rather than guessed."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"'{text}' is not an ISO-8601 time",
            "write it like 2026-11-23T10:00:00Z",
        ) from None
    to_us(moment)  # validates the zone
    return moment
