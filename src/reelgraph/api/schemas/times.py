"""Times in API bodies: integer microseconds since the Unix epoch (UTC), exact and easy to
compare, and beside each the same moment as ISO-8601 (what the CLI prints), named
``<field>_iso``: ``created_at`` 1764547200000000 comes with ``created_at_iso``
``2025-12-01T00:00:00.000000Z``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from reelgraph.core import from_us

TIME_FIELDS = frozenset({"at", "created_at", "ended_at", "next_at", "registered_at",
                         "started_at", "updated_at", "valid_from", "valid_to"})


def iso(us: int | None) -> str | None:
    if us is None:
        return None
    return from_us(us).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Timed(BaseModel):
    """A response body whose integer time fields each gain an ISO-8601 twin ``<name>_iso``."""

    @model_serializer(mode="wrap")
    def _with_iso_times(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in TIME_FIELDS & set(type(self).model_fields):
            if name in data:
                data[f"{name}_iso"] = iso(data[name])
        return data
