"""The SQL ``GraphStore``, shared by SQLite and PostgreSQL; dialect hooks live beside it.

Layout (see migrations/versions/0001_graph.py): ``rg_node`` holds identities, ``rg_node_rev``
one row per revision with [valid_from, valid_to), ``rg_edge`` one row per edge interval.
Rows become ``Node``/``Edge`` values here and never leave this module as rows.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from reelgraph.core import (
    Conflict,
    Database,
    InvalidInput,
    MetadataStore,
    NotFound,
    fault_point,
    now_us,
    unavailable,
    write_connection,
)
from reelgraph.graph.kinds import EdgeKind, KindRegistry, LineageFlow, NodeKind
from reelgraph.graph.model import (
    ApplyResult,
    ChangeSet,
    Edge,
    EdgeSpec,
    Node,
    NodePatch,
    NodeSpec,
    RevisionConflict,
)
from reelgraph.graph.owned import check_owned
from reelgraph.graph.store import Direction, NodeFilter, SearchHit, Step
from reelgraph.graph.uri import NodeKey

_NODE_COLUMNS = (
    "n.id, n.kind, n.namespace, n.name, n.version, r.domain, r.owner, r.description, "
    "r.tags, r.properties, r.rev, r.valid_from, r.valid_to, r.deleted"
)
_CHUNK = 500  # ids per IN (...) list: well under SQLite's variable limit
_EDGE_COLUMNS = "e.id, e.src_id, e.dst_id, e.kind, e.properties, e.valid_from, e.valid_to"


def _at(alias: str, as_of: int | None, mark: str = ":as_of") -> str:
    """The SQL condition for "valid at as_of", which ``mark`` binds (twice when positional)."""
    if as_of is None:
        return f"{alias}.valid_to IS NULL"
    return (
        f"{alias}.valid_from <= {mark} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {mark})"
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _node(row: Any) -> Node:
    return Node(
        id=row[0],
        key=NodeKey(row[1], row[2], row[3], row[4]),
        domain=row[5],
        owner=row[6],
        description=row[7],
        tags=tuple(json.loads(row[8])),
        properties=json.loads(row[9]),
        revision=row[10],
        valid_from=row[11],
        valid_to=row[12],
        deleted=bool(row[13]),
    )


def _edge(row: Any) -> Edge:
    # Most edges carry no properties; skipping the parser for those halves a walk's decoding.
    properties = {} if row[4] == "{}" else json.loads(row[4])
    return Edge(row[0], row[1], row[2], row[3], properties, row[5], row[6])


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _in(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """An expanded ``IN`` list with named parameters (works on every driver)."""
    params = {f"{name}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{p}" for p in params) + ")", params


class SqlGraphStore(MetadataStore):
    """``GraphStore`` over SQLAlchemy Core. Subclasses supply the engine and search.

    The hot reads (walks, nodes by id) go to the driver's cursor with positional parameters:
    SQLAlchemy's per-statement work costs more than these index lookups themselves.
    """

    _mark = "?"  # the driver's positional parameter marker

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._registry: KindRegistry | None = None

    # --- dialect hooks -----------------------------------------------------------------

    sql_binary_order = ""  # what makes ORDER BY on text compare code points, as Python does

    @staticmethod
    def sql_ascii_lower(expr: str) -> str:
        """SQL lower-casing at least the ASCII letters of ``expr`` (SQLite: only those)."""
        return f"LOWER({expr})"

    def sql_prefilter_lower(self, expr: str) -> str:
        """The as-of search's cheap row test: ``find``'s lower case, so the same rows."""
        return self.sql_ascii_lower(expr)

    @staticmethod
    def sql_tags_text(column: str) -> str:
        """SQL for a revision's tags (a JSON list) as Python's ``" ".join(tags)``."""
        return f"COALESCE((SELECT group_concat(value, ' ') FROM json_each({column})), '')"

    def _write(self) -> Connection:
        """A connection whose transaction holds the write lock from its first statement."""
        return write_connection(self.engine)

    @abstractmethod
    def _index_texts(
        self, conn: Connection, entries: Iterable[tuple[int, NodeSpec | None]]
    ) -> None:
        """Replace (or with None, remove) nodes' entries in the full-text index."""

    @abstractmethod
    def _search_ids(
        self, conn: Connection, text_query: str, limit: int
    ) -> list[tuple[int, float]]:
        """Node ids matching the query over current text, best first, with a score."""

    @abstractmethod
    def _bulk_insert(self, conn: Connection, table: str, columns: Sequence[str],
                     rows: Iterable[tuple[Any, ...]]) -> None: ...

    # --- kinds ---------------------------------------------------------------------------

    def registry(self) -> KindRegistry:
        if self._registry is None:
            registry = KindRegistry()
            with self.engine.connect() as conn:
                for name, description in conn.execute(
                    text("SELECT name, description FROM rg_node_kind")
                ):
                    registry.add_node_kind(NodeKind(name, description))
                for name, flow, acyclic, connects, description in conn.execute(
                    text("SELECT name, flow, acyclic, connects, description FROM rg_edge_kind")
                ):
                    pairs = frozenset((s, d) for s, d in json.loads(connects))
                    registry.add_edge_kind(
                        EdgeKind(name, LineageFlow(flow), pairs, bool(acyclic), description)
                    )
            self._registry = registry
        return self._registry

    def register_node_kind(self, kind: NodeKind) -> None:
        self.registry().add_node_kind(kind)
        with self._write() as conn, conn.begin():
            conn.execute(text("DELETE FROM rg_node_kind WHERE name = :n"), {"n": kind.name})
            conn.execute(
                text("INSERT INTO rg_node_kind (name, description) VALUES (:n, :d)"),
                {"n": kind.name, "d": kind.description},
            )

    def register_edge_kind(self, kind: EdgeKind) -> None:
        self.registry().add_edge_kind(kind)
        with self._write() as conn, conn.begin():
            conn.execute(text("DELETE FROM rg_edge_kind WHERE name = :n"), {"n": kind.name})
            conn.execute(
                text(
                    "INSERT INTO rg_edge_kind (name, flow, acyclic, connects, description) "
                    "VALUES (:n, :f, :a, :c, :d)"
                ),
                {
                    "n": kind.name,
                    "f": kind.flow.value,
                    "a": kind.acyclic,
                    "c": _dumps(sorted(list(p) for p in kind.connects)),
                    "d": kind.description,
                },
            )

    # --- writes --------------------------------------------------------------------------

    def apply(self, changes: ChangeSet) -> ApplyResult:
        registry = self.registry()
        for spec in changes.nodes:
            registry.node_kind(spec.key.kind)
        for edge in [*changes.edges, *changes.delete_edges]:
            registry.edge_kind(edge.kind)
        try:
            with self._write() as conn, conn.begin():
                result = _Writer(conn, self, registry, changes).run()
                fault_point("graph.apply.before_commit")
                return result
        except OperationalError as exc:
            raise unavailable(self.url, exc, "take the write") from None

    def bulk_load(self, nodes: Iterable[NodeSpec], edges: Iterable[tuple[str, str, str]]
                  ) -> None:
        t = now_us()
        specs = list(nodes)
        ids = {spec.uri: i for i, spec in enumerate(specs, start=1)}
        with self._write() as conn, conn.begin():
            if conn.execute(text("SELECT 1 FROM rg_node LIMIT 1")).first():
                raise Conflict("bulk_load needs an empty graph", "use apply() on a graph with data")
            self._bulk_insert(
                conn,
                "rg_node",
                ("id", "uri", "kind", "namespace", "name", "version", "created_at"),
                ((ids[s.uri], s.uri, s.key.kind, s.key.namespace, s.key.name, s.key.version, t)
                 for s in specs),
            )
            self._bulk_insert(
                conn,
                "rg_node_rev",
                ("node_id", "rev", "valid_from", "valid_to", "deleted", "domain", "owner",
                 "description", "tags", "properties", "author"),
                ((ids[s.uri], 1, t, None, False, s.effective_domain, s.owner, s.description,
                  _dumps(list(s.tags)), _dumps(s.properties), "bulk_load") for s in specs),
            )
            self._bulk_insert(
                conn,
                "rg_edge",
                ("src_id", "dst_id", "kind", "properties", "valid_from", "valid_to"),
                ((ids[s], ids[d], k, "{}", t, None) for s, k, d in edges),
            )
            self._index_texts(conn, ((ids[s.uri], s) for s in specs))
            self._after_bulk_load(conn)

    def _after_bulk_load(self, conn: Connection) -> None:
        """Dialect hook: e.g. move the id sequence past the loaded ids."""

    # --- reads ---------------------------------------------------------------------------

    def get(self, key: NodeKey, as_of: int | None = None) -> Node | None:
        with self.engine.connect() as conn:
            return _get(conn, key, as_of)

    def nodes(self, ids: Sequence[int], as_of: int | None = None) -> dict[int, Node]:
        with self._cursor() as cursor:
            return self._nodes(cursor, ids, as_of)

    def _among(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """Dialect hook: ``column`` is one of ``values``, as SQL and its positional params."""
        return f"{column} IN ({', '.join(self._mark for _ in values)})", list(values)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A driver cursor in one read transaction: one snapshot for all it reads."""
        with self.engine.connect() as conn, conn.begin():
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    def _nodes(self, cursor: Any, ids: Sequence[int], as_of: int | None) -> dict[int, Node]:
        found: dict[int, Node] = {}
        at = _at("r", as_of, self._mark)
        for chunk in _chunks(list(ids)):
            where, params = self._among("n.id", chunk)
            cursor.execute(
                f"SELECT {_NODE_COLUMNS} FROM rg_node n JOIN rg_node_rev r ON r.node_id = n.id "
                f"WHERE {where} AND {at} AND NOT r.deleted",
                [*params, *([as_of, as_of] if as_of is not None else [])],
            )
            found.update((row[0], _node(row)) for row in cursor.fetchall())
        return found

    def history(self, key: NodeKey) -> list[Node]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT {_NODE_COLUMNS} FROM rg_node n JOIN rg_node_rev r "
                    "ON r.node_id = n.id WHERE n.uri = :uri ORDER BY r.rev"
                ),
                {"uri": key.uri},
            )
            return [_node(row) for row in rows]

    def edges(
        self,
        node_ids: Sequence[int],
        direction: Direction,
        kinds: Sequence[str] | None = None,
        as_of: int | None = None,
    ) -> list[Edge]:
        column = "src_id" if direction == "out" else "dst_id"
        found: list[Edge] = []
        kind_clause, kind_params = _in("k", list(kinds)) if kinds else ("", {})
        with self.engine.connect() as conn:
            for chunk in _chunks(list(node_ids)):
                clause, params = _in("i", chunk)
                sql = (
                    "SELECT e.id, e.src_id, e.dst_id, e.kind, e.properties, e.valid_from, "
                    f"e.valid_to FROM rg_edge e WHERE e.{column} IN {clause} AND {_at('e', as_of)}"
                )
                if kinds:
                    sql += f" AND e.kind IN {kind_clause}"
                rows = conn.execute(text(sql), {**params, **kind_params, "as_of": as_of})
                found.extend(_edge(row) for row in rows)
        return found

    def reach(
        self,
        root_id: int,
        forward: Sequence[str],
        backward: Sequence[str],
        depth: int,
        as_of: int | None = None,
    ) -> list[list[Step]]:
        hops: list[list[Step]] = []
        seen, frontier = {root_id}, [root_id]
        with self._cursor() as cursor:
            for _ in range(depth):
                ahead: list[Step] = []
                behind: list[Step] = []
                for chunk in _chunks(frontier):
                    more_ahead, more_behind = self._hop(cursor, chunk, forward, backward, as_of)
                    ahead += more_ahead
                    behind += more_behind
                found = ahead + behind  # forward steps first, as edges(out) then edges(in)
                hops.append(found)
                fresh = {target for _, _, target in found} - seen
                if not fresh:
                    break
                seen |= fresh
                frontier = sorted(fresh)
        return hops

    def _hop(self, cursor: Any, ids: list[int], forward: Sequence[str],
             backward: Sequence[str], as_of: int | None) -> tuple[list[Step], list[Step]]:
        """Forward and backward steps from ``ids`` in one round trip (a UNION ALL)."""
        mark, parts, params = self._mark, [], []
        at = _at("e", as_of, mark)
        for way, kinds, column in ((0, forward, "src_id"), (1, backward, "dst_id")):
            if kinds:
                among_ids, id_params = self._among(f"e.{column}", ids)
                among_kinds, kind_params = self._among("e.kind", kinds)
                parts.append(
                    f"SELECT {_EDGE_COLUMNS}, {way} FROM rg_edge e "
                    f"WHERE {among_ids} AND {among_kinds} AND {at}"
                )
                params += [*id_params, *kind_params,
                           *([as_of, as_of] if as_of is not None else [])]
        steps: tuple[list[Step], list[Step]] = ([], [])
        if parts:
            cursor.execute(" UNION ALL ".join(parts), params)
            for row in cursor.fetchall():
                edge = _edge(row)
                if row[7]:
                    steps[1].append((edge, edge.dst_id, edge.src_id))
                else:
                    steps[0].append((edge, edge.src_id, edge.dst_id))
        return steps

    def all_edges(self, kinds: Sequence[str] | None = None, as_of: int | None = None
                  ) -> Iterator[Edge]:
        kind_clause, kind_params = _in("k", list(kinds)) if kinds else ("", {})
        sql = (
            "SELECT e.id, e.src_id, e.dst_id, e.kind, e.properties, e.valid_from, e.valid_to "
            f"FROM rg_edge e WHERE {_at('e', as_of)}"
        )
        if kinds:
            sql += f" AND e.kind IN {kind_clause}"
        with self.engine.connect() as conn:
            for row in conn.execute(text(sql + " ORDER BY e.id"), {**kind_params, "as_of": as_of}):
                yield _edge(row)

    def find(self, where: NodeFilter, as_of: int | None = None, limit: int = 1000,
             terms: Sequence[str] = ()) -> list[Node]:
        """``terms``: only nodes whose text holds every term (lower case), tested in SQL."""
        clause, params = _filter_sql(where)
        for i, term in enumerate(terms):
            clause += (f" AND (LOWER(n.name || ' ' || n.namespace || ' ' || r.tags || ' ' || "
                       f"r.description || ' ' || r.properties) LIKE :term{i} ESCAPE '\\')")
            params[f"term{i}"] = f"%{_literal(term)}%"
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT {_NODE_COLUMNS} FROM rg_node n JOIN rg_node_rev r "
                    f"ON r.node_id = n.id WHERE {_at('r', as_of)} AND NOT r.deleted{clause} "
                    "ORDER BY n.uri LIMIT :limit"
                ),
                {**params, "as_of": as_of, "limit": limit},
            )
            return [_node(row) for row in rows]

    def search(
        self, text_query: str, where: NodeFilter, limit: int = 20, as_of: int | None = None
    ) -> list[SearchHit]:
        terms = _terms(text_query)
        if as_of is not None:
            return search_history(self, terms, where, limit, as_of)
        with self.engine.connect() as conn:
            # Over-fetch so filters applied afterwards still leave ``limit`` hits.
            ranked = self._search_ids(conn, " ".join(terms), limit * 20 + 100)
        nodes = self.nodes([node_id for node_id, _ in ranked])
        hits = [
            SearchHit(nodes[node_id], score)
            for node_id, score in ranked
            if node_id in nodes and _matches(nodes[node_id], where)
        ]
        return hits[:limit]

    def changes(self, after: int, kinds: Sequence[str] | None = None, limit: int = 1000
                ) -> list[tuple[int, Node]]:
        kind_clause, kind_params = _in("k", list(kinds)) if kinds else ("", {})
        sql = (f"SELECT r.id, {_NODE_COLUMNS} FROM rg_node_rev r JOIN rg_node n "
               "ON n.id = r.node_id WHERE r.id > :after")
        if kinds:
            sql += f" AND n.kind IN {kind_clause}"
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql + " ORDER BY r.id LIMIT :limit"),
                                {**kind_params, "after": after, "limit": limit})
            return [(row[0], _node(row[1:])) for row in rows]


def search_fields(spec: NodeSpec) -> tuple[str, str, str, str]:
    """The indexed text of a node: (name, tags, description, properties), words only."""
    key = spec.key
    name = " ".join((key.kind, key.namespace, key.name, key.version or ""))
    props = " ".join(_flatten(spec.properties))
    return _words(name), _words(" ".join(spec.tags)), spec.description, _words(props)


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield str(value)


def _words(text_value: str) -> str:
    return "".join(c if c.isalnum() else " " for c in text_value)


def _terms(query: str) -> list[str]:
    terms = _words(query.lower()).split()
    if not terms:
        raise InvalidInput(
            f"the search query {query!r} has no words", "search for at least one word or number"
        )
    return terms


def _matches(node: Node, where: NodeFilter) -> bool:
    return (
        (where.kind is None or node.key.kind == where.kind)
        and (where.namespace is None or node.key.namespace == where.namespace)
        and (where.domain is None or node.domain == where.domain)
        and (where.owner is None or node.owner == where.owner)
        and (where.tag is None or where.tag in node.tags)
    )


def _filter_sql(where: NodeFilter) -> tuple[str, dict[str, Any]]:
    clause, params = "", {}
    for column, value in (
        ("n.kind", where.kind),
        ("n.namespace", where.namespace),
        ("r.domain", where.domain),
        ("r.owner", where.owner),
    ):
        if value is not None:
            name = column.replace(".", "_")
            clause += f" AND {column} = :{name}"
            params[name] = value
    if where.tag is not None:
        # The tag is data, not a pattern: '%' or '_' in it must match only itself.
        clause += " AND r.tags LIKE :tag ESCAPE '\\'"
        params["tag"] = f"%{_literal(json.dumps(where.tag))}%"
    return clause, params


def _literal(text_value: str) -> str:
    """``text_value`` as a LIKE pattern that matches only itself (escape character '\\')."""
    return text_value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The weighted fields of an as-of search, best first: a term scores its best field's weight
# (columns of the matched rows, named as in ``_NODE_COLUMNS``).
_HISTORY_FIELDS = ((5.0, "name || ' ' || namespace"), (3.0, "{tags}"), (2.0, "description"),
                   (1.0, "properties"))


def folded_to_ascii(expr: str) -> str:
    """``expr`` with the two characters whose Python lower case holds an ASCII letter (the
    Kelvin sign, dotted capital I) replaced by that lower case, so an ASCII-only lower case
    then matches Python's for ASCII terms."""
    return f"REPLACE(REPLACE({expr}, '\u0130', 'i\u0307'), '\u212a', 'k')"


def search_history(
    store: SqlGraphStore, terms: list[str], where: NodeFilter, limit: int, as_of: int
) -> list[SearchHit]:
    """Search as of a past time, scored and ranked by the database: the revisions valid then
    that hold every term, each term worth its best field's weight (name 5, tags 3,
    description 2, properties 1), best first, then by URI; only ``limit`` rows come back.
    The text index covers current revisions only, so this scans the revisions valid then
    (in SQL). Non-ASCII terms take the Python path (``search_history_scan``): SQLite lower
    cases ASCII only."""
    if not all(term.isascii() for term in terms):
        return search_history_scan(store, terms, where, limit, as_of)
    clause, params = _filter_sql(where)
    scores = []
    tags = store.sql_tags_text("tags")
    for i, term in enumerate(terms):
        params[f"term{i}"] = f"%{_literal(term)}%"
        cases = " ".join(
            f"WHEN {store.sql_ascii_lower(folded_to_ascii(expr.format(tags=tags)))} "
            f"LIKE :term{i} ESCAPE '\\' THEN {weight}"
            for weight, expr in _HISTORY_FIELDS)
        scores.append(f"CASE {cases} ELSE 0 END")
        # A cheap test first, over the raw row: a superset of the rows the scores keep.
        clause += f" AND {store.sql_prefilter_lower(_HAYSTACK)} LIKE :term{i} ESCAPE '\\'"
    score = " + ".join(f"s{i}" for i in range(len(terms)))
    # The rows are matched first, apart (MATERIALIZED): a plain scan PostgreSQL can run in
    # parallel; the scores' per-row subqueries (the tags) then run on the matches only.
    sql = (
        f"WITH matched AS MATERIALIZED (SELECT {_NODE_COLUMNS}, n.uri AS hit_uri "
        f"FROM rg_node n JOIN rg_node_rev r ON r.node_id = n.id WHERE {_at('r', as_of)} "
        f"AND NOT r.deleted{clause}) "
        "SELECT * FROM (SELECT matched.*, "
        + ", ".join(f"{s} AS s{i}" for i, s in enumerate(scores))
        + " FROM matched) hits WHERE "
        + " AND ".join(f"s{i} > 0" for i in range(len(terms)))
        + f" ORDER BY {score} DESC, hit_uri{store.sql_binary_order} LIMIT :limit"
    )
    with store.engine.connect() as conn:
        rows = conn.execute(text(sql), {**params, "as_of": as_of, "limit": limit})
        return [SearchHit(_node(row), float(sum(row[15:]))) for row in rows]


_HAYSTACK = "n.name || ' ' || n.namespace || ' ' || r.tags || ' ' || r.description || ' ' || " \
    "r.properties"


def search_history_scan(
    store: SqlGraphStore, terms: list[str], where: NodeFilter, limit: int, as_of: int
) -> list[SearchHit]:
    """Search as of a past time, scored in Python: the database picks the revisions valid
    then that hold every ASCII term; Python scores all of those."""
    hits = []
    # SQLite lowers ASCII only, so other terms are left to Python.
    ascii_terms = [t for t in terms if t.isascii()]
    for node in store.find(where, as_of=as_of, limit=1_000_000, terms=ascii_terms):
        fields = (
            (5.0, f"{node.key.name} {node.key.namespace}"),
            (3.0, " ".join(node.tags)),
            (2.0, node.description),
            (1.0, _dumps(node.properties)),
        )
        score = 0.0
        for term in terms:
            best = max((w for w, f in fields if term in f.lower()), default=0.0)
            if best == 0.0:
                break
            score += best
        else:
            hits.append(SearchHit(node, score))
    hits.sort(key=lambda h: (-h.score, h.node.uri))
    return hits[:limit]


def _get(conn: Connection, key: NodeKey, as_of: int | None) -> Node | None:
    row = conn.execute(
        text(
            f"SELECT {_NODE_COLUMNS} FROM rg_node n JOIN rg_node_rev r ON r.node_id = n.id "
            f"WHERE n.uri = :uri AND {_at('r', as_of)}"
        ),
        {"uri": key.uri, "as_of": as_of},
    ).first()
    return _node(row) if row else None


class _Writer:
    """One atomic change set, inside the caller's write transaction."""

    def __init__(
        self, conn: Connection, store: SqlGraphStore, registry: KindRegistry, changes: ChangeSet
    ) -> None:
        self.conn = conn
        self.store = store
        self.registry = registry
        self.changes = changes
        self.t = now_us()
        self.counts = dict.fromkeys(
            ("nw", "nu", "nd", "ew", "eu", "ed"), 0
        )
        self.live: dict[str, tuple[int, str]] = {}  # uri -> (id, kind) of live nodes
        self.new_acyclic: list[tuple[EdgeSpec, int, int]] = []  # checked once, at the end

    def run(self) -> ApplyResult:
        self._check_expected()
        for spec in self.changes.nodes:
            self._put_node(spec)
        for patch in self.changes.patches:
            self._patch_node(patch)
        for key in self.changes.delete_nodes:
            self._delete_node(key)
        for edge in self.changes.delete_edges:
            self._delete_edge(edge)
        for edge in self.changes.edges:
            self._put_edge(edge)
        self._refuse_cycles()
        c = self.counts
        return ApplyResult(c["nw"], c["nu"], c["nd"], c["ew"], c["eu"], c["ed"])

    def _check_expected(self) -> None:
        for uri, expected in self.changes.expected.items():
            current = _get(self.conn, NodeKey.parse(uri), None)
            revision = 0 if current is None else current.revision
            if revision != expected:
                raise RevisionConflict(uri, expected, revision)

    def _patch_node(self, patch: NodePatch) -> None:
        current = _get(self.conn, patch.key, None)
        if current is None or current.deleted:
            state = "was deleted" if current else "does not exist"
            raise NotFound(f"node {patch.key.uri} {state}",
                           "create the node with a full write before patching it")
        self._put_node(patch.apply_to(current))

    def _live_id(self, key: NodeKey) -> tuple[int, str]:
        if key.uri not in self.live:
            node = _get(self.conn, key, None)
            if node is None or node.deleted:
                state = "was deleted" if node else "does not exist"
                raise NotFound(
                    f"node {key.uri} {state}",
                    "create the node first (in the same change set or before)",
                )
            self.live[key.uri] = (node.id, node.key.kind)
        return self.live[key.uri]

    def _put_node(self, spec: NodeSpec) -> None:
        current = _get(self.conn, spec.key, None)
        check_owned(spec, current)
        if current is None:
            node_id = self.conn.execute(
                text(
                    "INSERT INTO rg_node (uri, kind, namespace, name, version, created_at) "
                    "VALUES (:uri, :kind, :ns, :name, :version, :t) RETURNING id"
                ),
                {"uri": spec.uri, "kind": spec.key.kind, "ns": spec.key.namespace,
                 "name": spec.key.name, "version": spec.key.version, "t": self.t},
            ).scalar_one()
            rev, t = 1, self.t
        else:
            node_id = current.id
            same = not current.deleted and {
                "domain": current.domain,
                "owner": current.owner,
                "description": current.description,
                "tags": list(current.tags),
                "properties": current.properties,
            } == spec.content()
            if same:
                self.counts["nu"] += 1
                self.live[spec.uri] = (node_id, spec.key.kind)
                return
            # Another process's clock may be a hair behind: keep intervals ordered.
            t = max(self.t, current.valid_from + 1)
            self._close_revision(node_id, t)
            rev = current.revision + 1
        self._insert_revision(node_id, rev, t, spec, deleted=False)
        self.store._index_texts(self.conn, [(node_id, spec)])  # noqa: SLF001 (same module)
        self.live[spec.uri] = (node_id, spec.key.kind)
        self.counts["nw"] += 1

    def _close_revision(self, node_id: int, t: int) -> None:
        self.conn.execute(
            text("UPDATE rg_node_rev SET valid_to = :t WHERE node_id = :id AND valid_to IS NULL"),
            {"t": t, "id": node_id},
        )

    def _insert_revision(self, node_id: int, rev: int, t: int, spec: NodeSpec, deleted: bool
                         ) -> None:
        self.conn.execute(
            text(
                "INSERT INTO rg_node_rev (node_id, rev, valid_from, valid_to, deleted, domain, "
                "owner, description, tags, properties, author) VALUES (:id, :rev, :t, NULL, "
                ":deleted, :domain, :owner, :description, :tags, :props, :author)"
            ),
            {"id": node_id, "rev": rev, "t": t, "deleted": deleted,
             "domain": spec.effective_domain, "owner": spec.owner,
             "description": spec.description, "tags": _dumps(list(spec.tags)),
             "props": _dumps(spec.properties), "author": self.changes.author},
        )

    def _delete_node(self, key: NodeKey) -> None:
        current = _get(self.conn, key, None)
        if current is None or current.deleted:
            raise NotFound(
                f"node {key.uri} {'was already deleted' if current else 'does not exist'}",
                "check the URI (reelgraph graph search) before deleting",
            )
        t = max(self.t, current.valid_from + 1)
        self._close_revision(current.id, t)
        tombstone = NodeSpec(current.key, current.domain, current.owner, current.description,
                             current.tags, current.properties)
        self._insert_revision(current.id, current.revision + 1, t, tombstone, deleted=True)
        closed = self.conn.execute(
            text(
                "UPDATE rg_edge SET valid_to = :t WHERE valid_to IS NULL "
                "AND (src_id = :id OR dst_id = :id)"
            ),
            {"t": t, "id": current.id},
        )
        self.counts["ed"] += closed.rowcount or 0
        self.store._index_texts(self.conn, [(current.id, None)])  # noqa: SLF001 (same module)
        self.live.pop(key.uri, None)
        self.counts["nd"] += 1

    def _current_edge(self, src: int, kind: str, dst: int) -> tuple[int, str] | None:
        row = self.conn.execute(
            text(
                "SELECT id, properties FROM rg_edge WHERE src_id = :s AND kind = :k "
                "AND dst_id = :d AND valid_to IS NULL"
            ),
            {"s": src, "k": kind, "d": dst},
        ).first()
        return (row[0], row[1]) if row else None

    def _delete_edge(self, edge: EdgeSpec) -> None:
        src, _ = self._live_id(edge.src)
        dst, _ = self._live_id(edge.dst)
        current = self._current_edge(src, edge.kind, dst)
        if current is None:
            raise NotFound(
                f"there is no {edge.kind!r} edge from {edge.src.uri} to {edge.dst.uri}",
                "list the node's edges (reelgraph graph show URI) to find the one to delete",
            )
        self.conn.execute(
            text("UPDATE rg_edge SET valid_to = :t WHERE id = :id"), {"t": self.t, "id": current[0]}
        )
        self.counts["ed"] += 1

    def _put_edge(self, edge: EdgeSpec) -> None:
        src, src_kind = self._live_id(edge.src)
        dst, dst_kind = self._live_id(edge.dst)
        edge_kind = self.registry.check_edge(src_kind, edge.kind, dst_kind)
        props = _dumps(edge.properties)
        current = self._current_edge(src, edge.kind, dst)
        if current is not None:
            if current[1] == props:
                self.counts["eu"] += 1
                return
            self.conn.execute(
                text("UPDATE rg_edge SET valid_to = :t WHERE id = :id"),
                {"t": self.t, "id": current[0]},
            )
        elif edge_kind.acyclic:
            self.new_acyclic.append((edge, src, dst))
        self.conn.execute(
            text(
                "INSERT INTO rg_edge (src_id, dst_id, kind, properties, valid_from, valid_to) "
                "VALUES (:s, :d, :k, :p, :t, NULL)"
            ),
            {"s": src, "d": dst, "k": edge.kind, "p": props, "t": self.t},
        )
        self.counts["ew"] += 1

    def _refuse_cycles(self) -> None:
        """Refuse the batch if its new acyclic edges close a cycle: one walk per edge kind
        over what the new edges' targets reach (one query per hop for the whole batch), then
        a cycle search in memory. The stored graph had no cycle, so any cycle found runs
        through a new edge."""
        by_kind: dict[str, list[tuple[EdgeSpec, int, int]]] = {}
        for item in self.new_acyclic:
            by_kind.setdefault(item[0].kind, []).append(item)
        for kind, new in by_kind.items():
            out = self._reachable(kind, {dst for _, _, dst in new})
            cycle = find_cycle(out, [dst for _, _, dst in new])
            if cycle is None:
                continue
            hops = set(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
            edge = next(e for e, src, dst in new if (src, dst) in hops)
            raise Conflict(
                f"the {kind!r} edge {edge.src.uri} -> {edge.dst.uri} would close a cycle "
                f"({edge.dst.uri} already leads back to {edge.src.uri} through {kind!r})",
                f"{kind!r} edges must form no cycle; reverse or drop one of them",
            )

    def _reachable(self, kind: str, starts: set[int]) -> dict[int, list[int]]:
        """The current ``kind`` edges leaving every node reachable from ``starts``."""
        out: dict[int, list[int]] = {}
        frontier, seen = set(starts), set(starts)
        while frontier:
            found: set[int] = set()
            for chunk in _chunks(sorted(frontier)):
                clause, params = _in("i", chunk)
                rows = self.conn.execute(
                    text(f"SELECT src_id, dst_id FROM rg_edge WHERE src_id IN {clause} "
                         "AND kind = :k AND valid_to IS NULL"),
                    {**params, "k": kind},
                )
                for src, dst in rows:
                    out.setdefault(src, []).append(dst)
                    found.add(dst)
            frontier = found - seen
            seen |= frontier
        return out


def find_cycle(out: dict[int, list[int]], starts: Iterable[int]) -> list[int] | None:
    """The nodes of a cycle reachable from ``starts``, in order, or None (iterative DFS)."""
    state: dict[int, int] = {}  # 1: on the current path, 2: fully explored
    for start in starts:
        if start in state:
            continue
        path, branches = [start], [iter(out.get(start, ()))]
        state[start] = 1
        while branches:
            target = next(branches[-1], None)
            if target is None:
                state[path.pop()] = 2
                branches.pop()
            elif state.get(target) == 1:
                return path[path.index(target):]
            elif target not in state:
                state[target] = 1
                path.append(target)
                branches.append(iter(out.get(target, ())))
    return None
