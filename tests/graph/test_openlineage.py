"""OpenLineage 2-0-2: import of Airflow, Spark and dbt run events, export, round trip, rejects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

import reelgraph.graph.openlineage as openlineage_module
from reelgraph.core.errors import ReelgraphError
from reelgraph.graph import Graph
from reelgraph.graph.adapters import Ingestor, OpenLineageSource, import_events
from reelgraph.graph.openlineage import (
    InvalidOpenLineageEvent,
    dataset_key,
    export_run_events,
    job_key,
    run_key,
    validate,
)

SCHEMA = json.loads(
    (Path(openlineage_module.__file__).parent / "openlineage_schema" / "OpenLineage.json")
    .read_text()
)
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SCHEMA_FACET = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"


def facet(producer: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": SCHEMA_FACET, **fields}


def schema_facet(producer: str, *columns: tuple[str, str]) -> dict[str, Any]:
    return {"schema": facet(producer, fields=[{"name": n, "type": t} for n, t in columns])}


AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/1.8.0"
SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark"
DBT = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt"
PG = "postgres://warehouse.internal:5432"


def airflow_events() -> list[dict[str, Any]]:
    """An Airflow task's START and COMPLETE: copy raw orders from Postgres to S3."""
    base = {
        "run": {"runId": "01908f1c-5e2a-7c4b-9d3e-2f1a0b9c8d7e", "facets": {
            "nominalTime": facet(AIRFLOW, nominalStartTime="2024-06-01T02:00:00Z")}},
        "job": {"namespace": "airflow-prod", "name": "orders_daily.extract_orders",
                "facets": {"documentation": facet(AIRFLOW, description="nightly orders copy")}},
        "producer": AIRFLOW,
        "schemaURL": RUN_EVENT,
        "inputs": [{"namespace": PG, "name": "shop.public.orders",
                    "facets": schema_facet(AIRFLOW, ("id", "integer"), ("amount", "numeric"))}],
    }
    start = {**copy.deepcopy(base), "eventType": "START", "eventTime": "2024-06-01T02:00:05Z"}
    complete = {**copy.deepcopy(base), "eventType": "COMPLETE",
                "eventTime": "2024-06-01T02:04:51.123Z",
                "outputs": [{"namespace": "s3://lake-raw", "name": "orders/2024-06-01"}]}
    return [start, complete]


def spark_event() -> dict[str, Any]:
    """A Spark job reading the raw S3 orders and writing a Parquet table on HDFS."""
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-06-01T03:10:00+00:00",
        "run": {"runId": "5b8f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"},
        "job": {"namespace": "spark-cluster-1", "name": "orders_enrich.execute_insert_into"},
        "producer": SPARK,
        "schemaURL": RUN_EVENT,
        "inputs": [{"namespace": "s3://lake-raw", "name": "orders/2024-06-01"}],
        "outputs": [{"namespace": "hdfs://namenode:8020", "name": "/warehouse/orders_enriched",
                     "facets": schema_facet(SPARK, ("id", "long"), ("amount", "double"),
                                            ("country", "string"))}],
    }


def dbt_events() -> list[dict[str, Any]]:
    """Two dbt models: stg_orders from the enriched table, fct_revenue from stg_orders."""
    def model(run_id: str, name: str, reads: tuple[str, str], writes: str,
              columns: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        return {
            "eventType": "COMPLETE",
            "eventTime": "2024-06-01T04:00:00Z",
            "run": {"runId": run_id},
            "job": {"namespace": "dbt-analytics", "name": f"analytics.{name}"},
            "producer": DBT,
            "schemaURL": RUN_EVENT,
            "inputs": [{"namespace": reads[0], "name": reads[1]}],
            "outputs": [{"namespace": "snowflake://acme.eu-west-1", "name": writes,
                         "facets": schema_facet(DBT, *columns)}],
        }

    return [
        model("9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "stg_orders",
              ("hdfs://namenode:8020", "/warehouse/orders_enriched"), "ANALYTICS.STG.ORDERS",
              (("ID", "NUMBER"), ("AMOUNT", "FLOAT"))),
        model("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "fct_revenue",
              ("snowflake://acme.eu-west-1", "ANALYTICS.STG.ORDERS"), "ANALYTICS.MART.REVENUE",
              (("COUNTRY", "TEXT"), ("REVENUE", "FLOAT"))),
    ]


def all_events() -> list[dict[str, Any]]:
    return [*airflow_events(), spark_event(), *dbt_events()]


def dump(graph: Graph) -> str:
    nodes = graph.find(limit=1_000_000)
    uris = {n.id: n.uri for n in nodes}
    return json.dumps({
        "nodes": sorted([n.uri, n.description, list(n.tags), n.properties] for n in nodes),
        "edges": sorted([uris[e.src_id], e.kind, uris[e.dst_id], e.properties]
                        for e in graph.store.all_edges() if e.src_id in uris and e.dst_id in uris),
    }, sort_keys=True)


def official_validator() -> Draft202012Validator:
    """The whole official schema (oneOf RunEvent/DatasetEvent/JobEvent), as a consumer would."""
    return Draft202012Validator(SCHEMA, format_checker=FormatChecker())


# --- import ----------------------------------------------------------------------------


def test_fixtures_are_valid_run_events() -> None:
    for event in all_events():
        official_validator().validate(event)
        validate(event)


def test_airflow_spark_and_dbt_lineage_lands_in_the_graph(graph: Graph) -> None:
    runs = import_events(graph, [json.dumps(e) for e in all_events()])
    assert len(runs) == 4

    revenue = dataset_key("snowflake://acme.eu-west-1", "ANALYTICS.MART.REVENUE")
    up = graph.lineage(revenue, depth=20)
    datasets = {n.properties["openlineage"]["name"] for n in up.of_kind("dataset")}
    assert datasets == {"ANALYTICS.STG.ORDERS", "/warehouse/orders_enriched",
                        "orders/2024-06-01", "shop.public.orders"}
    jobs = {n.properties["openlineage"]["name"] for n in up.of_kind("job")}
    assert jobs == {"analytics.fct_revenue", "analytics.stg_orders",
                    "orders_enrich.execute_insert_into", "orders_daily.extract_orders"}

    orders = graph.show(dataset_key(PG, "shop.public.orders"))
    assert orders.key.namespace.startswith("postgres-warehouse.internal-5432-")
    assert orders.properties["schema"] == [{"name": "id", "type": "integer"},
                                           {"name": "amount", "type": "numeric"}]
    assert orders.properties["openlineage"]["namespace"] == PG
    down = graph.lineage(orders.key, way="downstream", depth=20)
    assert revenue in {n.key for n in down.of_kind("dataset")}

    airflow_run = graph.show(run_key("airflow-prod", "orders_daily.extract_orders",
                                     "01908f1c-5e2a-7c4b-9d3e-2f1a0b9c8d7e"))
    assert airflow_run.properties["status"] == "complete"  # START then COMPLETE
    assert "nominalTime" in airflow_run.properties["openlineage"]["facets"]
    kinds = {(d, e.kind, n.key.kind) for d, e, n in graph.edges(airflow_run.key)}
    assert kinds == {("out", "run_of", "job"), ("out", "reads", "dataset"),
                     ("in", "produced_by", "dataset")}
    job = graph.show(job_key("airflow-prod", "orders_daily.extract_orders"))
    assert job.description == "nightly orders copy"


def test_events_in_any_order_or_twice_give_the_same_graph(graph: Graph, tmp_path: Path) -> None:
    import_events(graph, all_events())
    expected = dump(graph)
    other = Graph.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        events = all_events()
        for event in [*reversed(events), *events[:2]]:
            import_events(other, [event])
        assert dump(other) == expected
    finally:
        other.close()
    again = import_events(graph, all_events())  # a repeat changes nothing
    assert len(again) == 4 and dump(graph) == expected


def test_resync_rebuilds_from_the_log(graph: Graph) -> None:
    import_events(graph, all_events())
    expected = dump(graph)
    source = OpenLineageSource.for_graph(graph)
    before = {n.uri: n.revision for n in graph.find(limit=1000)}
    Ingestor(graph).resync(source)
    assert dump(graph) == expected
    assert {n.uri: n.revision for n in graph.find(limit=1000)} == before


# --- export ----------------------------------------------------------------------------


def test_export_of_native_runs_validates(graph: Graph) -> None:
    with graph.batch() as b:
        b.add("rg://dataset/movielens/ratings.csv", description="MovieLens ratings",
              properties={"schema": [{"name": "userId", "type": "integer"}]})
        b.add("rg://job/personalization/train-ranker")
        b.add("rg://run/personalization/train-ranker/17", properties={"status": "failed"})
        b.add("rg://model/personalization/ranker@3")
        b.link("rg://run/personalization/train-ranker/17", "run_of",
               "rg://job/personalization/train-ranker")
        b.link("rg://run/personalization/train-ranker/17", "reads",
               "rg://dataset/movielens/ratings.csv")
        b.link("rg://model/personalization/ranker@3", "produced_by",
               "rg://run/personalization/train-ranker/17")
    [event] = export_run_events(graph)
    official_validator().validate(event)
    assert event["eventType"] == "FAIL"
    assert event["job"] == {"namespace": "personalization", "name": "train-ranker"}
    assert event["inputs"][0]["facets"]["schema"]["fields"] == [
        {"name": "userId", "type": "integer"}
    ]
    assert event["outputs"] == [{"namespace": "personalization", "name": "ranker@3"}]
    assert export_run_events(graph) == [event]  # deterministic, runId included


def test_export_round_trips(graph: Graph, tmp_path: Path) -> None:
    import_events(graph, all_events())
    exported = export_run_events(graph)
    assert len(exported) == 4
    for event in exported:
        official_validator().validate(event)
    names = {d["name"] for e in exported for d in e["inputs"] + e["outputs"]}
    assert "/warehouse/orders_enriched" in names  # original names, not slugs
    expected = dump(graph)

    fresh = Graph.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        import_events(fresh, [json.dumps(e) for e in exported])
        assert dump(fresh) == expected
    finally:
        fresh.close()
    revisions = {n.uri: n.revision for n in graph.find(limit=1000)}
    import_events(graph, exported)  # importing our own export is a no-op
    assert {n.uri: n.revision for n in graph.find(limit=1000)} == revisions


# --- bad input -------------------------------------------------------------------------


def _without(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != key}


BAD: list[tuple[str, Any, str]] = [
    ("not json", '{"eventType": "START", ', "not JSON"),
    ("not an object", "[1, 2]", "not an object"),
    ("no run", _without(spark_event(), "run"), '"run" is a required property'),
    ("no job", _without(spark_event(), "job"), '"job" is a required property'),
    ("runId not a uuid", {**spark_event(), "run": {"runId": "run-42"}}, "run/runId"),
    ("bad time", {**spark_event(), "eventTime": "yesterday"}, "eventTime"),
    ("time without zone", {**spark_event(), "eventTime": "2024-06-01T03:10:00"}, "eventTime"),
    ("wrong type", {**spark_event(), "inputs": {"namespace": "a", "name": "b"}}, "inputs"),
    ("unknown eventType", {**spark_event(), "eventType": "DONE"}, "eventType"),
    ("producer not a uri", {**spark_event(), "producer": "spark job"}, "producer"),
]


@pytest.mark.parametrize(("label", "raw", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_events_are_refused_and_nothing_is_stored(graph: Graph, label: str, raw: Any,
                                                      message: str) -> None:
    with pytest.raises(InvalidOpenLineageEvent, match=message) as caught:
        import_events(graph, [spark_event(), raw])  # the good one must not land either
    assert isinstance(caught.value, ReelgraphError)
    assert "2-0-2" in caught.value.fix
    assert graph.find(limit=10) == []
    assert list(OpenLineageSource.for_graph(graph).list_ids()) == []
