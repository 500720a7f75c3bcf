"""What does one JSON-schema check cost: jsonschema (pure Python) or jsonschema-rs (compiled)?

Two documents the platform validates on every write: a detection annotation against the
built-in ``detection`` schema, and an OpenLineage 2-0-2 RunEvent (with a schema facet)
against the bundled spec. Each is checked ``--checks`` times by both validators in the same
run, over ``--rounds`` alternating rounds; the report gives CPU microseconds per check (median
over rounds, with the range), the ratio, and the load average. ``registry_validate`` is the
whole path a write takes (``SchemaRegistry.validate``: document building, then the check).

    python benchmarks/schema_validation.py                # ~20 s
    python benchmarks/schema_validation.py --checks 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from referencing import Registry, Resource

from machine import machine, versions
from reelgraph.graph import openlineage
from reelgraph.media.annotations import Annotation, Region, SchemaRegistry
from reelgraph.media.annotations.model import check_annotation
from reelgraph.media.annotations.schemas import BUILTIN, document

RESULTS = Path(__file__).resolve().parent / "results" / "schema_validation.json"
_COLUMNS = (("id", "long"), ("amount", "double"), ("country", "string"))


def run_event() -> dict[str, Any]:
    """A Spark job's COMPLETE event: one input, one output with a three-column schema."""
    facet = {
        "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.9.1/spark",
        "_schemaURL": openlineage.SCHEMA_FACET_URL,
        "fields": [{"name": n, "type": t} for n, t in _COLUMNS],
    }
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-06-01T03:10:00+00:00",
        "run": {"runId": "5b8f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"},
        "job": {"namespace": "spark-cluster-1", "name": "orders_enrich.execute_insert_into"},
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.9.1/spark",
        "schemaURL": openlineage.RUN_EVENT_URL,
        "inputs": [{"namespace": "s3://lake-raw", "name": "orders/2024-06-01"}],
        "outputs": [
            {
                "namespace": "hdfs://namenode:8020",
                "name": "/warehouse/orders_enriched",
                "facets": {"schema": facet},
            }
        ],
    }


def python_event_validator() -> jsonschema.Draft202012Validator:
    """The pure-Python validator the graph used before, with the same format checks."""
    spec = json.loads(openlineage._SCHEMA_FILE.read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        openlineage.SPEC_URL, Resource.from_contents(spec)
    )
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(openlineage._is_datetime)
    checker.checks("uri")(openlineage._is_uri)
    return jsonschema.Draft202012Validator(
        {"$ref": openlineage.RUN_EVENT_URL}, registry=registry, format_checker=checker
    )


def _cpu_us(check: Callable[[], Any], checks: int) -> float:
    started = time.process_time()
    for _ in range(checks):
        check()
    return (time.process_time() - started) / checks * 1e6


def measure(
    candidates: dict[str, Callable[[], Any]], checks: int, rounds: int
) -> dict[str, dict[str, float]]:
    """CPU µs per check for each candidate, rounds interleaved so load hits all alike."""
    for check in candidates.values():
        check()  # warm: compiled regexes, imports
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, check in candidates.items():
            samples[name].append(_cpu_us(check, checks))
    return {
        name: {
            "cpu_us_median": round(statistics.median(s), 2),
            "cpu_us_min": round(min(s), 2),
            "cpu_us_max": round(max(s), 2),
        }
        for name, s in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    detection = Annotation(
        "detection",
        0,
        41_666_667,
        region=Region.box(0.1, 0.2, 0.3, 0.4),
        label="dog",
        confidence=0.9,
        data={"track_id": 7},
    )
    start, end = check_annotation(detection, "annotation #0")
    doc = document(detection, start, end, dict(detection.data))
    schema = BUILTIN["detection"][1]
    py_detection = jsonschema.Draft202012Validator(schema)
    rs_detection = jsonschema_rs.Draft202012Validator(schema)
    registry = SchemaRegistry()
    event = run_event()
    py_event, rs_event = python_event_validator(), openlineage._validator()
    for valid in (
        py_detection.is_valid(doc),
        rs_detection.is_valid(doc),
        py_event.is_valid(event),
        rs_event.is_valid(event),
    ):
        assert valid, "the benchmark's documents must be valid for both validators"

    results = {
        "detection": measure(
            {
                "jsonschema": lambda: py_detection.validate(doc),
                "jsonschema_rs": lambda: rs_detection.validate(doc),
                "registry_validate": lambda: registry.validate(
                    detection, start, end, dict(detection.data), "a"
                ),
            },
            args.checks,
            args.rounds,
        ),
        "openlineage_run_event": measure(
            {
                "jsonschema": lambda: py_event.validate(event),
                "jsonschema_rs": lambda: rs_event.validate(event),
            },
            args.checks // 4,
            args.rounds,
        ),
    }
    ratios = {
        doc_name: round(
            row["jsonschema"]["cpu_us_median"] / row["jsonschema_rs"]["cpu_us_median"], 1
        )
        for doc_name, row in results.items()
    }
    report = {
        "question": "CPU per JSON-schema check: jsonschema vs jsonschema-rs",
        "config": vars(args),
        "results": results,
        "cpu_ratio_jsonschema_over_rs": ratios,
        "versions": versions("jsonschema", "jsonschema_rs"),
        "machine": machine(),
    }
    for doc_name, row in results.items():
        for name, figures in row.items():
            print(
                f"{doc_name:>22} {name:>17}: {figures['cpu_us_median']:9.2f} µs CPU "
                f"(range {figures['cpu_us_min']}-{figures['cpu_us_max']})"
            )
    print(
        f"jsonschema / jsonschema-rs CPU: {ratios} "
        f"(load average {report['machine']['load_average_1m_at_end']})"
    )
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
