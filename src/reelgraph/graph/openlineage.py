"""OpenLineage (spec 2-0-2) run events: validation, naming, merging and export.

Mapping between the two models:

- job ``(namespace, name)`` → ``rg://job/NS/NAME``;
- run ``runId`` of a job → ``rg://run/NS/JOBNAME/RUNID``, ``run_of`` the job;
- input dataset → ``rg://dataset/NS/NAME`` that the run ``reads``;
- output dataset → a dataset ``produced_by`` the run.

OpenLineage namespaces are often URLs (``postgres://db:5432``, ``s3://bucket``) and names may
hold characters a node URI does not allow; such parts become a readable slug plus eight hex
digits of their SHA-256, deterministically, and the original namespace and name stay in the
node's ``openlineage`` property so export gives them back unchanged. Facets are kept as sent
(``_deleted: true`` removes one); the schema facet also becomes the ``schema`` property
(``[{"name", "type"}]``), the same shape the file adapter writes.

Imports go through the event log in ``adapters/openlineage.py``; this module is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs

from reelgraph.core import InvalidInput, from_us, parse_time, to_us
from reelgraph.graph.adapters.base import STUB, EntityState
from reelgraph.graph.lifecycle import Graph, Ref, key_of
from reelgraph.graph.model import Json, Node, check_properties
from reelgraph.graph.uri import _NAME, _PART, NodeKey

SPEC_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT_URL = f"{SPEC_URL}#/$defs/RunEvent"
SCHEMA_FACET_URL = (
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
DOCUMENTATION_FACET_URL = (
    "https://openlineage.io/spec/facets/1-0-1/DocumentationDatasetFacet.json"
    "#/$defs/DocumentationDatasetFacet"
)
PRODUCER = "urn:reelgraph:graph:0.1.0"
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
# reelgraph run statuses (and OpenLineage's own, lower-cased) as OpenLineage event types
_STATUS = {
    **{t.lower(): t for t in EVENT_TYPES},
    "started": "START", "succeeded": "COMPLETE", "success": "COMPLETE",
    "completed": "COMPLETE", "failed": "FAIL", "aborted": "ABORT", "cancelled": "ABORT",
}
_SCHEMA_FILE = Path(__file__).resolve().parent / "openlineage_schema" / "OpenLineage.json"
_FIX = f"send a RunEvent that validates against {SPEC_URL}"


class InvalidOpenLineageEvent(InvalidInput):
    """An OpenLineage event that is not JSON or not a valid 2-0-2 RunEvent."""


# --- validation ------------------------------------------------------------------------


def _is_datetime(value: object) -> bool:
    """RFC 3339 date-time: a date, a time and a zone, a real instant (checked by parsing)."""
    if not isinstance(value, str):
        return True
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
                    value):
        return False
    try:
        parse_time(value.replace("z", "Z").replace("t", "T"))
    except InvalidInput:
        return False
    return True


def _is_uri(value: object) -> bool:
    """An absolute URI: a scheme and something after it, no spaces."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*$", parts.scheme)) and len(value) > len(
        parts.scheme
    ) + 1 and not re.search(r"\s", value)


@cache
def _validator() -> jsonschema_rs.Validator:
    """The RunEvent schema compiled once (formats checked; no reference fetched)."""
    spec = json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))
    registry = jsonschema_rs.Registry([(SPEC_URL, spec)])
    return jsonschema_rs.Draft202012Validator(
        {"$ref": RUN_EVENT_URL}, registry=registry, validate_formats=True,
        formats={"date-time": _is_datetime, "uri": _is_uri}, offline=True)


def validate(event: Json) -> None:
    """Raise ``InvalidOpenLineageEvent`` naming the first problem when ``event`` is invalid."""
    try:
        _validator().validate(event)
    except jsonschema_rs.ValidationError as error:
        where = "/".join(str(p) for p in error.instance_path) or "the event"
        raise InvalidOpenLineageEvent(
            f"the OpenLineage event is invalid at {where}: {error.message}", _FIX
        ) from None


def parse_event(raw: str | bytes | Mapping[str, Any]) -> Json:
    """A validated RunEvent from JSON text or an already decoded object."""
    if isinstance(raw, str | bytes):
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidOpenLineageEvent(
                f"the OpenLineage event is not JSON ({exc})", f"send one JSON object; {_FIX}"
            ) from None
    else:
        event = raw
    if not isinstance(event, dict):
        raise InvalidOpenLineageEvent(
            f"the OpenLineage event is a JSON {type(event).__name__}, not an object",
            f"send one JSON object per event; {_FIX}",
        )
    # Facets become node properties: the same limits, before the event is logged.
    check_properties(event, "the OpenLineage event")
    validate(event)
    return dict(event)


# --- naming ----------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _slug(text: str, allowed: str, pattern: re.Pattern[str]) -> str:
    """``text`` if a URI allows it, else a readable slug plus a hash of the original."""
    if pattern.match(text):
        return text
    slug = re.sub(f"[^{allowed}]+", "-", text).strip("-./:_")
    slug = re.sub(r"^[^A-Za-z0-9]+", "", slug)
    return f"{slug}-{_digest(text)}" if slug else f"ol-{_digest(text)}"


def namespace_part(namespace: str) -> str:
    return _slug(namespace, r"A-Za-z0-9._\-", _PART)


def name_part(name: str) -> str:
    return _slug(name, r"A-Za-z0-9._\-/:", _NAME)


def job_key(namespace: str, name: str) -> NodeKey:
    return NodeKey("job", namespace_part(namespace), name_part(name))


def dataset_key(namespace: str, name: str) -> NodeKey:
    return NodeKey("dataset", namespace_part(namespace), name_part(name))


def run_key(job_namespace: str, job_name: str, run_id: str) -> NodeKey:
    return NodeKey("run", namespace_part(job_namespace), f"{name_part(job_name)}/{run_id.lower()}")


def event_keys(event: Json) -> list[NodeKey]:
    """Every node a validated run event describes: job, datasets, then the run."""
    job = event["job"]
    keys = [job_key(job["namespace"], job["name"])]
    for ds in [*event.get("inputs", []), *event.get("outputs", [])]:
        key = dataset_key(ds["namespace"], ds["name"])
        if key not in keys:
            keys.append(key)
    keys.append(run_key(job["namespace"], job["name"], event["run"]["runId"]))
    return keys


# --- merging the events that mention one node ------------------------------------------


def event_order(event: Json) -> int:
    return to_us(parse_time(event["eventTime"]))


def _merge_facets(facets: Iterable[Mapping[str, Any] | None]) -> Json:
    merged: Json = {}
    for group in facets:
        for name, facet in (group or {}).items():
            if isinstance(facet, dict) and facet.get("_deleted") is True:
                merged.pop(name, None)
            else:
                merged[name] = facet
    return merged


def _documentation(facets: Json) -> str:
    doc = facets.get("documentation")
    return str(doc.get("description", "")) if isinstance(doc, dict) else ""


def run_state(events: Sequence[Json]) -> EntityState:
    """A run from its events in time order: the latest state, facets merged, all datasets."""
    last = events[-1]
    job = last["job"]
    key = run_key(job["namespace"], job["name"], last["run"]["runId"])
    edges = [(key, "run_of", job_key(job["namespace"], job["name"]))]
    for event in events:
        for ds in event.get("inputs", []):
            edges.append((key, "reads", dataset_key(ds["namespace"], ds["name"])))
        for ds in event.get("outputs", []):
            edges.append((dataset_key(ds["namespace"], ds["name"]), "produced_by", key))
    event_type = next(
        (e["eventType"] for e in reversed(events) if e.get("eventType")), "OTHER"
    )
    return EntityState(
        description=f"OpenLineage run of {job['namespace']}/{job['name']}",
        properties={
            "status": event_type.lower(),
            "openlineage": {
                "runId": last["run"]["runId"],
                "eventType": event_type,
                "eventTime": last["eventTime"],
                "producer": last["producer"],
                "facets": _merge_facets(e["run"].get("facets") for e in events),
            },
        },
        edges=tuple(dict.fromkeys(edges)),
    )


def job_state(events: Sequence[Json]) -> EntityState:
    job = events[-1]["job"]
    facets = _merge_facets(e["job"].get("facets") for e in events)
    return EntityState(
        description=_documentation(facets),
        properties={"openlineage": {"namespace": job["namespace"], "name": job["name"],
                                    "facets": facets}},
    )


def dataset_state(events: Sequence[Json], key: NodeKey) -> EntityState | None:
    """A dataset from every event that mentions it; None when none does."""
    mentions = [
        ds
        for event in events
        for ds in [*event.get("inputs", []), *event.get("outputs", [])]
        if dataset_key(ds["namespace"], ds["name"]) == key
    ]
    if not mentions:
        return None
    facets = _merge_facets(ds.get("facets") for ds in mentions)
    properties: Json = {
        "openlineage": {"namespace": mentions[-1]["namespace"], "name": mentions[-1]["name"],
                        "facets": facets}
    }
    schema = facets.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("fields"), list):
        properties["schema"] = [
            {"name": f["name"], "type": f["type"]}
            for f in schema["fields"]
            if isinstance(f, dict) and "name" in f and "type" in f
        ]
    return EntityState(description=_documentation(facets), properties=properties)


# --- export ----------------------------------------------------------------------------


def _ol_name(node: Node) -> tuple[str, str]:
    ol = node.properties.get("openlineage")
    if isinstance(ol, dict) and isinstance(ol.get("namespace"), str):
        return ol["namespace"], str(ol["name"])
    tail = f"@{node.key.version}" if node.key.version else ""
    return node.key.namespace, node.key.name + tail


def _dataset(node: Node) -> Json:
    namespace, name = _ol_name(node)
    ol = node.properties.get("openlineage")
    if isinstance(ol, dict) and isinstance(ol.get("facets"), dict):
        facets: Json = ol["facets"]
    else:
        facets = {}
        schema = node.properties.get("schema")
        if isinstance(schema, list) and schema:
            facets["schema"] = {
                "_producer": PRODUCER,
                "_schemaURL": SCHEMA_FACET_URL,
                "fields": [{"name": str(f["name"]), "type": str(f["type"])} for f in schema],
            }
        if node.description and not node.properties.get(STUB):
            facets["documentation"] = {"_producer": PRODUCER,
                                       "_schemaURL": DOCUMENTATION_FACET_URL,
                                       "description": node.description}
    out: Json = {"namespace": namespace, "name": name}
    if facets:
        out["facets"] = facets
    return out


def _time(value: object, fallback: int) -> str:
    if isinstance(value, str) and _is_datetime(value):
        return value
    return from_us(fallback).isoformat()


def run_event(graph: Graph, run: Node) -> Json:
    """One RunEvent describing ``run`` now: its job, the datasets it read and produced."""
    ol = run.properties.get("openlineage")
    ol = ol if isinstance(ol, dict) else {}
    edges = graph.edges(run.key)
    jobs = [n for d, e, n in edges if d == "out" and e.kind == "run_of"]
    inputs = [n for d, e, n in edges if d == "out" and e.kind == "reads"]
    outputs = [n for d, e, n in edges if d == "in" and e.kind == "produced_by"]
    if jobs:
        namespace, name = _ol_name(jobs[0])
        job: Json = {"namespace": namespace, "name": name}
        job_ol = jobs[0].properties.get("openlineage")
        if isinstance(job_ol, dict) and job_ol.get("facets"):
            job["facets"] = job_ol["facets"]
    else:
        job = {"namespace": run.key.namespace, "name": run.key.name}
    status = str(run.properties.get("status", "")).lower()
    event_type = ol.get("eventType") or _STATUS.get(status, "OTHER" if status else "COMPLETE")
    run_id = ol.get("runId") or str(uuid.uuid5(uuid.NAMESPACE_URL, run.uri))
    run_part: Json = {"runId": run_id}
    if ol.get("facets"):
        run_part["facets"] = ol["facets"]
    event: Json = {
        "eventType": event_type,
        "eventTime": _time(ol.get("eventTime"), run.valid_from),
        "run": run_part,
        "job": job,
        "inputs": [_dataset(n) for n in sorted(inputs, key=lambda n: n.uri)],
        "outputs": [_dataset(n) for n in sorted(outputs, key=lambda n: n.uri)],
        "producer": ol.get("producer") or PRODUCER,
        "schemaURL": RUN_EVENT_URL,
    }
    validate(event)  # what we send must be what we accept
    return event


def export_run_events(graph: Graph, runs: Sequence[Ref] | None = None) -> list[Json]:
    """RunEvents for the given runs, or for every run in the graph, in URI order."""
    nodes = ([graph.show(key_of(r)) for r in runs] if runs is not None
             else graph.find(kind="run", limit=10_000_000))
    for node in nodes:
        if node.kind != "run":
            raise InvalidInput(f"{node.uri} is a {node.kind}, not a run",
                               "export runs (rg://run/...) as OpenLineage run events")
    return [run_event(graph, node) for node in sorted(nodes, key=lambda n: n.uri)]
