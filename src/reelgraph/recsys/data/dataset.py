"""The recommender's data: an interaction log and an item catalog with dense integer ids.

An adapter (``InteractionSource``) hands over Arrow tables with fixed column names;
``build_dataset`` checks them and turns external ids (any string) into dense ids: items in
the item table's order, users in sorted order of their external ids. Times are unix seconds,
UTC. Interaction rows keep the order the source gave them (ties in time keep it too).

- interactions: ``user``, ``item``, ``timestamp`` (int seconds or an Arrow timestamp);
  optional ``event`` (string, default ``"interaction"``) and ``value`` (number);
- items: ``item``, ``title``; optional ``categories`` and ``tags`` (list of strings, or one
  string joined with ``|``);
- tags (optional, a log of who tagged what when): ``item``, ``tag``, optional ``timestamp``.
  Tags without a time (and the items table's ``tags``) count as known from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reelgraph.core import InvalidInput
from reelgraph.recsys.ragged import Ragged

INTERACTION_COLUMNS = ("user", "item", "timestamp")
ITEM_COLUMNS = ("item", "title")
TAG_COLUMNS = ("item", "tag")
DEFAULT_EVENT = "interaction"
SEPARATOR = "|"


class InteractionSource(Protocol):
    """Where a dataset comes from: a log of interactions and the items' metadata."""

    @property
    def name(self) -> str:
        """The dataset's name in the graph (e.g. ``movielens-100k``)."""
        ...

    def interactions(self) -> pa.Table:
        """The log: user, item, time (UTC seconds), maybe event and value columns."""
        ...

    def items(self) -> pa.Table:
        """The items' metadata (``ITEM_COLUMNS``)."""
        ...

    def tags(self) -> pa.Table | None:
        """Item tags (``TAG_COLUMNS``), or None when the source has none."""
        ...


@dataclass(frozen=True)
class Interactions:
    """One row per event, in the source's order."""

    user: np.ndarray  # int32 dense user ids
    item: np.ndarray  # int32 dense item ids
    time: np.ndarray  # int64 unix seconds, UTC
    event: np.ndarray  # int16 index into event_names
    value: np.ndarray  # float32, NaN where the log has no value
    event_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.user)


@dataclass(frozen=True)
class Catalog:
    """Item metadata by dense item id; tags as a log of (item, tag, time) assignments."""

    titles: tuple[str, ...]
    categories: Ragged  # category ids per item
    category_names: tuple[str, ...]
    tag_item: np.ndarray  # int32
    tag_id: np.ndarray  # int32 index into tag_names
    tag_time: np.ndarray  # int64; 0 for tags known from the start
    tag_names: tuple[str, ...]

    def tags_before(self, time: int) -> Ragged:
        """Each item's distinct tags assigned before ``time`` (point-in-time correct)."""
        known = self.tag_time < time
        pairs = np.unique(np.stack([self.tag_item[known], self.tag_id[known]]), axis=1)
        return Ragged.from_pairs(pairs[0], pairs[1].astype(np.int32), len(self.titles))

    @cached_property
    def category_matrix(self) -> np.ndarray:
        """bool (categories, items): which items are in which category."""
        matrix = np.zeros((len(self.category_names), len(self.titles)), dtype=bool)
        matrix[self.categories.values, self.categories.row_ids] = True
        return matrix


@dataclass(frozen=True)
class Dataset:
    name: str
    user_ids: tuple[str, ...]  # external id of each dense user id
    item_ids: tuple[str, ...]  # external id of each dense item id
    interactions: Interactions
    catalog: Catalog

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def describe(self) -> str:
        times = self.interactions.time
        return (f"{self.name}: {len(self.interactions):,} interactions, {self.n_users:,} users, "
                f"{self.n_items:,} items, {len(self.catalog.category_names)} categories, "
                f"{len(self.catalog.tag_names):,} tags, times {int(times.min())}.."
                f"{int(times.max())}")


def _require(table: pa.Table, columns: tuple[str, ...], what: str, source: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInput(
            f"the {what} of {source} lack the column(s) {', '.join(missing)} "
            f"(found: {', '.join(table.column_names) or 'none'})",
            f"give the {what} the columns {', '.join(columns)} (rename yours to match)")
    for column in columns:
        nulls = table.column(column).null_count
        if nulls:
            raise InvalidInput(f"the {what} of {source} have {nulls} empty value(s) in "
                               f"column {column!r}",
                               f"fill or drop the rows whose {column!r} is empty")


def _strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(column, pa.string())


def _seconds(column: pa.ChunkedArray, source: str) -> np.ndarray:
    if pa.types.is_timestamp(column.type):
        column = pc.cast(pc.cast(column, pa.timestamp("s", tz="UTC")), pa.int64())
    try:
        return np.asarray(pc.cast(column, pa.int64()).to_numpy(), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InvalidInput(f"the interactions' timestamp column of {source} is "
                           f"{column.type}, not unix seconds or a timestamp",
                           "store timestamps as integer unix seconds (UTC)") from None


def _lists(column: pa.ChunkedArray) -> list[list[str]]:
    """A list<string> column, or strings joined with ``|``, as clean lists."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        rows = column.to_pylist()
    else:
        rows = [(v or "").split(SEPARATOR) for v in _strings(column).to_pylist()]
    return [[s.strip() for s in row or [] if s and s.strip()] for row in rows]


def _vocabulary(rows: list[list[str]]) -> tuple[tuple[str, ...], Ragged]:
    names = tuple(sorted({name for row in rows for name in row}))
    index = {name: i for i, name in enumerate(names)}
    return names, Ragged.from_rows([[index[n] for n in dict.fromkeys(row)] for row in rows])


def _catalog(items: pa.Table, tags: pa.Table | None, item_index: dict[str, int],
             source: str) -> Catalog:
    titles = tuple(str(t) for t in items.column("title").to_pylist())
    n_items = len(titles)
    if "categories" in items.column_names:
        category_names, categories = _vocabulary(_lists(items.column("categories")))
    else:
        category_names, categories = (), Ragged.from_rows([[] for _ in range(n_items)])
    tag_rows: list[tuple[int, str, int]] = []
    if "tags" in items.column_names:
        for item, row in enumerate(_lists(items.column("tags"))):
            tag_rows += [(item, tag.lower(), 0) for tag in row]
    if tags is not None:
        _require(tags, TAG_COLUMNS, "tags", source)
        times = (_seconds(tags.column("timestamp"), source) if "timestamp" in tags.column_names
                 else np.zeros(tags.num_rows, dtype=np.int64))
        names = _strings(tags.column("item")).to_pylist()
        unknown = sorted({n for n in names if n not in item_index})
        if unknown:
            raise InvalidInput(f"{len(unknown)} tagged item(s) of {source} are not in the item "
                               f"table (e.g. {', '.join(unknown[:3])})",
                               "add them to the item table or drop their tags")
        for name, tag, time in zip(names, _strings(tags.column("tag")).to_pylist(),
                                   times.tolist(), strict=True):
            if tag and tag.strip():
                tag_rows.append((item_index[name], tag.strip().lower(), time))
    tag_names = tuple(sorted({tag for _, tag, _ in tag_rows}))
    tag_index = {tag: i for i, tag in enumerate(tag_names)}
    return Catalog(
        titles=titles, categories=categories, category_names=category_names,
        tag_item=np.array([r[0] for r in tag_rows], dtype=np.int32),
        tag_id=np.array([tag_index[r[1]] for r in tag_rows], dtype=np.int32),
        tag_time=np.array([r[2] for r in tag_rows], dtype=np.int64),
        tag_names=tag_names)


def build_dataset(source: InteractionSource) -> Dataset:
    """Check an adapter's tables and encode them (raises ``InvalidInput`` naming the fix)."""
    name = source.name
    log, items = source.interactions(), source.items()
    _require(log, INTERACTION_COLUMNS, "interactions", name)
    _require(items, ITEM_COLUMNS, "items", name)
    if log.num_rows == 0:
        raise InvalidInput(f"the interactions of {name} are empty",
                           "point the loader at a log with at least one interaction")
    item_ids = _strings(items.column("item"))
    if len(pc.unique(item_ids)) != len(item_ids):
        raise InvalidInput(f"the items of {name} name some item more than once",
                           "keep one row per item in the item table")
    dense_item = pc.index_in(_strings(log.column("item")), value_set=item_ids.combine_chunks())
    if dense_item.null_count:
        missing = pc.filter(_strings(log.column("item")), pc.is_null(dense_item))
        examples = ", ".join(pc.unique(missing).to_pylist()[:3])
        raise InvalidInput(
            f"{dense_item.null_count} interaction(s) of {name} name items missing from the "
            f"item table (e.g. {examples})",
            "add those items to the item table or drop their interactions")
    users, user = np.unique(np.asarray(_strings(log.column("user")).to_numpy(zero_copy_only=False),
                                       dtype=str), return_inverse=True)
    if "event" in log.column_names:
        events, event = np.unique(np.asarray(
            pc.fill_null(_strings(log.column("event")), DEFAULT_EVENT).to_numpy(
                zero_copy_only=False), dtype=str), return_inverse=True)
    else:
        events, event = np.array([DEFAULT_EVENT]), np.zeros(log.num_rows, dtype=np.int64)
    if "value" in log.column_names:
        value = np.asarray(pc.cast(log.column("value"), pa.float32()).to_numpy(
            zero_copy_only=False), dtype=np.float32)
    else:
        value = np.full(log.num_rows, np.nan, dtype=np.float32)
    item_list = [str(i) for i in item_ids.to_pylist()]
    interactions = Interactions(
        user=user.astype(np.int32), item=np.asarray(dense_item.to_numpy(), dtype=np.int32),
        time=_seconds(log.column("timestamp"), name), event=event.astype(np.int16),
        value=value, event_names=tuple(str(e) for e in events))
    catalog = _catalog(items, source.tags(), {i: n for n, i in enumerate(item_list)}, name)
    return Dataset(name, tuple(str(u) for u in users), tuple(item_list), interactions,
                   catalog)
