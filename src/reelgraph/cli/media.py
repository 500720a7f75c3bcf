"""``reelgraph media``: add, list, show, frames, shots, annotations, sheet.

``add`` registers video files as media assets (each file on its own: one unreadable file
fails alone) and, with ``--ingest``, runs one worker pass of the standard media pipeline
(shots, canonical frames, shot embeddings, annotations, contact sheet); otherwise
``reelgraph worker --media`` ingests them. The other commands read what is stored. An asset
is named by its URI, its sha256 or the registered file itself. Times on the command line are
seconds; JSON output keeps the stored nanoseconds. ``reelgraph.media`` is imported inside
the commands, keeping ``import reelgraph.cli`` light.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from reelgraph.cli import render
from reelgraph.cli.session import session
from reelgraph.core import InvalidInput, ReelgraphError

if TYPE_CHECKING:
    from reelgraph.flows import Workspace
    from reelgraph.media import MediaAsset, MediaCatalog

app = typer.Typer(no_args_is_help=True, help="Media assets: register and ingest video files; "
                                             "read their shots, annotations, frames and "
                                             "contact sheets.")

AssetRef = Annotated[str, typer.Argument(
    help="An asset: its URI rg://media_asset/NS/SHA256, its sha256, or the registered file.")]
Namespace = Annotated[str | None, typer.Option(
    "--namespace", "-n", help="The assets' namespace (default: studio).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Start = Annotated[float | None, typer.Option("--start", help="From this time, in seconds.")]
End = Annotated[float | None, typer.Option("--end", help="Until this time, in seconds "
                                                         "(exclusive).")]


class IngestFailed(ReelgraphError):
    """A pipeline run for a registered asset did not succeed."""


@contextmanager
def _catalog(ctx: typer.Context) -> Iterator[MediaCatalog]:
    from reelgraph.media import MediaCatalog

    with session(ctx).workspace() as ws:
        catalog = MediaCatalog(ws)
        try:
            yield catalog
        finally:
            catalog.close()


def _ns(seconds: float | None, option: str) -> int | None:
    if seconds is None:
        return None
    if seconds < 0 or seconds != seconds:
        raise InvalidInput(f"{option} {seconds} is not a time in the media",
                           f"pass {option} as seconds from the start, 0 or more")
    return round(seconds * 1_000_000_000)


def _window(start: float | None, end: float | None) -> tuple[int | None, int | None]:
    if start is not None and end is not None and end <= start:
        raise InvalidInput(f"--end {end:g} is not after --start {start:g}",
                           "pass an --end later than --start (seconds)")
    return _ns(start, "--start"), _ns(end, "--end")


def _time(ns: int) -> str:
    from reelgraph.media import format_timestamp

    return format_timestamp(ns)


def _seconds(ns: int) -> str:
    return f"{ns / 1e9:.3f}s"


def _resolution(info: dict[str, Any]) -> str:
    return f"{info['width']}x{info['height']}" if info["width"] else "-"


def _shots(info: dict[str, Any]) -> str:
    return "[dim]not ingested[/]" if info["shots"] is None else str(info["shots"])


def _asset_table(rows: list[dict[str, Any]], title: str | None = None) -> Table:
    table = Table("asset", "file", "duration", "resolution", "fps", "codec", "shots",
                  show_edge=False, title=title, title_justify="left")
    for info in rows:
        table.add_row(info["sha256"][:12], escape(info["file_name"]),
                      _seconds(info["duration_ns"]), _resolution(info),
                      f"{info['fps']:g}" if info["fps"] else "-", escape(info["codec"] or "-"),
                      _shots(info))
    return render.keep_whole(table, "asset", "file")


# --- add -----------------------------------------------------------------------------------


@app.command()
def add(
    ctx: typer.Context,
    # str, not Path: a Path would fold the '//' of a URL such as s3://bucket/clip.mp4
    paths: Annotated[list[str], typer.Argument(help="Video files (local paths or URLs).")],
    namespace: Namespace = None,
    ingest: Annotated[bool, typer.Option(
        "--ingest", help="Then run the media pipeline on them now (one worker pass).")
    ] = False,
) -> None:
    """Register video files as media assets; each file that cannot be read fails alone."""
    from reelgraph.media import DEFAULT_NAMESPACE, MediaCatalog, register

    namespace = namespace or DEFAULT_NAMESPACE
    out = render.console()
    with session(ctx).workspace() as ws:
        done = register(ws, paths, namespace)
        if done.assets:
            with MediaCatalog(ws) as catalog:
                rows = [catalog.summary(a) for a in done.assets]
            out.print(_asset_table(rows, title=f"registered in {namespace}"))
        for path, why in done.failed.items():
            out.print(Text(f"failed: {path}: {why}", style="red"), soft_wrap=True)
        if ingest and done.assets:
            _ingest(ws, namespace, done.assets)
        elif done.assets:
            out.print("ingest them with `reelgraph worker --media` (or `reelgraph media add "
                      "FILE --ingest`)", soft_wrap=True)
    if done.failed:
        raise InvalidInput(f"{len(done.failed)} of {len(paths)} files could not be registered "
                           f"({', '.join(done.failed)})",
                           "see each file's reason above; repair, re-export or remove them, "
                           "then add them again")


def _ingest(ws: Workspace, namespace: str, assets: list[MediaAsset]) -> None:
    """One worker pass of the pipeline, then each asset's outcome."""
    from reelgraph.flows import Worker
    from reelgraph.media import MediaCatalog, ingest_flow

    out = render.console()
    worker = Worker(ws, [ingest_flow()])
    try:
        with out.status(f"ingesting: shots, frames, embeddings, annotations and contact "
                        f"sheets of {len(assets)} asset(s)"):
            outcomes = worker.run_once()
    finally:
        worker.close()
    by_uri = {o.event.uri: o for o in outcomes if o.event.uri}
    names = {a.uri: a.file_name for a in assets}
    failed: list[str] = []
    table = Table("file", "status", "shots", "run", show_edge=False, title="ingested",
                  title_justify="left")
    with MediaCatalog(ws) as catalog:
        for uri in dict.fromkeys([*names, *by_uri]):
            asset = catalog.resolve(uri)
            shots = catalog.summary(asset)["shots"]
            outcome = by_uri.get(uri)
            if outcome is None:
                status = "[cyan]ingested before[/]" if shots is not None else \
                    "[yellow]not queued[/] (registered before the pipeline was subscribed)"
                run = "-"
            else:
                d = outcome.delivery
                run = d.run_id or "-"
                if d.status == "succeeded":
                    status = "[green]succeeded[/]"
                else:
                    status = f"[red]{d.status}[/]: {escape(d.error or '')}"
                    failed.append(f"{names.get(uri, uri)} (run {run})")
            table.add_row(escape(names.get(uri, asset.file_name)), status,
                          "-" if shots is None else str(shots), run)
    out.print(table)
    if failed:
        raise IngestFailed(f"the media pipeline failed on {', '.join(failed)}",
                           "read the logs with `reelgraph runs logs RUN`; `reelgraph worker "
                           "--media` retries them")


# --- reads ---------------------------------------------------------------------------------


@app.command("list")
def list_assets(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", help="Only this namespace (default: all).")] = None,
    as_json: AsJson = False,
) -> None:
    """Registered media assets, with their duration, picture, codec and shot count."""
    with _catalog(ctx) as catalog:
        rows = [catalog.summary(a) for a in catalog.assets(namespace)]
    if as_json:
        render.echo_json(rows)
        return
    if not rows:
        render.console().print("no media assets yet: register files with `reelgraph media add "
                               "FILE --ingest`")
        return
    render.console().print(_asset_table(rows))


@app.command()
def show(ctx: typer.Context, asset: AssetRef, namespace: Namespace = None,
         as_json: AsJson = False) -> None:
    """One asset: its probe, shots, annotation sets and shot features."""
    with _catalog(ctx) as catalog:
        info = catalog.describe(catalog.resolve(asset, namespace))
    if as_json:
        render.echo_json(info)
        return
    out = render.console()
    probe = info["probe"]
    video = probe["video"] or {}
    audio = ", ".join(f"{a['codec']} {a['channels']}ch {a['sample_rate']} Hz"
                      for a in probe["audio"])
    picture = "-"
    if video:
        variable = " (variable)" if video["variable_frame_rate"] else ""
        picture = escape(f"{video['codec']} {video['width']}x{video['height']} "
                         f"{video['fps']:.3f} fps{variable}, {video['frame_count']} frames, "
                         f"{video['pixel_format']}")
    fields = Table.grid(padding=(0, 2))
    for label, value in (
        ("uri", info["uri"]), ("file", escape(info["file_name"])),
        ("location", escape(info["location"])),
        ("container", escape(info["container"])),
        ("size", f"{info['size_bytes']:,} bytes"),
        ("duration", f"{_seconds(info['duration_ns'])} from {_seconds(info['start_ns'])}"),
        ("video", picture),
        ("audio", escape(audio) or "-"),
        ("shots", _shots(info)),
        ("contact sheet", info["contact_sheet"] or "-"),
    ):
        fields.add_row(f"[bold]{label}[/]", value)
    out.print(fields)
    sets = Table("producer", "version", "annotations", "types", "run", "written", "current",
                 show_edge=False, title="annotation sets", title_justify="left")
    for s in info["annotation_sets"]:
        sets.add_row(escape(s["producer"]["name"]), str(s["version"]), str(s["count"]),
                     escape(", ".join(s["types"])), s["producer"]["run_id"] or "-",
                     render.when(s["created_at"]), "yes" if s["current"] else "")
    out.print(sets)
    if info["features"]:
        features = Table("feature", "shots", show_edge=False, title="features",
                         title_justify="left")
        for f in info["features"]:
            features.add_row(f["feature"], str(f["shots"]))
        out.print(features)


@app.command()
def frames(
    ctx: typer.Context,
    asset: AssetRef,
    fps: Annotated[float, typer.Option(help="Samples per second.")] = 2.0,
    size: Annotated[int, typer.Option(help="Short side of the pictures, in pixels.")] = 224,
    start: Start = None,
    end: End = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write each frame as a PNG into this folder, named by its "
                               "time.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many frames.")] = None,
    namespace: Namespace = None,
    as_json: AsJson = False,
) -> None:
    """Canonical frames: their timestamps, and with -o the pictures as PNG files."""
    from reelgraph.core import write_atomic
    from reelgraph.media import png

    rows: list[dict[str, Any]] = []
    with _catalog(ctx) as catalog:
        found = catalog.resolve(asset, namespace)
        start_ns, end_ns = _window(start, end)
        stream = catalog.frames(found, fps=fps, size=size, start_ns=start_ns, end_ns=end_ns)
        for frame in stream:
            row: dict[str, Any] = {"index": frame.index, "sample_ns": frame.sample_ns,
                                   "pts_ns": frame.pts_ns, "duration_ns": frame.duration_ns,
                                   "width": int(frame.image.shape[1]),
                                   "height": int(frame.image.shape[0])}
            if output is not None:
                path = output / f"frame-{frame.sample_ns / 1e9:010.3f}s.png"
                write_atomic(path, png(frame.image))
                row["file"] = str(path)
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    if as_json:
        render.echo_json({"asset": found.uri, "fps": fps, "size": size, "frames": rows})
        return
    out = render.console()
    table = Table("frame", "sample", "shown (pts)", "duration", "size",
                  *(["file"] if output is not None else []), show_edge=False)
    for row in rows:
        table.add_row(str(row["index"]), _time(row["sample_ns"]), _time(row["pts_ns"]),
                      _seconds(row["duration_ns"]), f"{row['width']}x{row['height']}",
                      *([escape(Path(row["file"]).name)] if output is not None else []))
    out.print(table)
    where = f" written to {escape(str(output))}" if output is not None else ""
    out.print(f"{len(rows)} frames of {escape(found.file_name)}{where}", soft_wrap=True)


@app.command()
def shots(ctx: typer.Context, asset: AssetRef, namespace: Namespace = None,
          as_json: AsJson = False) -> None:
    """The shots the media pipeline found."""
    with _catalog(ctx) as catalog:
        found = catalog.resolve(asset, namespace)
        result = catalog.shots(found)
    if as_json:
        render.echo_json(result)
        return
    out = render.console()
    out.print(f"{escape(found.file_name)}: {len(result['shots'])} shot(s), producer "
              f"{result['producer']} v{result['version']}", soft_wrap=True)
    table = Table("shot", "start", "end", "duration", show_edge=False)
    for s in result["shots"]:
        table.add_row(str(s["index"]), _time(s["start_ns"]), _time(s["end_ns"]),
                      _seconds(s["duration_ns"]))
    out.print(table)


def _data(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True) if data else ""
    return escape(text if len(text) <= 60 else text[:57] + "...")


@app.command("annotations")
def list_annotations(
    ctx: typer.Context,
    asset: AssetRef,
    types: Annotated[list[str] | None, typer.Option(
        "--type", "-t", help="Only this type: shot, label, detection, embedding, ... "
                             "(repeatable).")] = None,
    start: Start = None,
    end: End = None,
    label: Annotated[str | None, typer.Option(help="Only this label.")] = None,
    min_confidence: Annotated[float | None, typer.Option(
        "--min-confidence", help="Only with at least this confidence (0 to 1).")] = None,
    producer: Annotated[str | None, typer.Option(help="Only this producer's, e.g. "
                                                      "media/shots.")] = None,
    version: Annotated[int | None, typer.Option(
        help="That version of the producer's set instead of the current one (needs "
             "--producer).")] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many.")] = None,
    namespace: Namespace = None,
    as_json: AsJson = False,
) -> None:
    """An asset's annotations that overlap the window and match every filter."""
    with _catalog(ctx) as catalog:
        found = catalog.resolve(asset, namespace)
        start_ns, end_ns = _window(start, end)
        rows = catalog.query(found, types=types, start_ns=start_ns, end_ns=end_ns, label=label,
                             min_confidence=min_confidence, producer=producer,
                             version=version, limit=limit)
    if as_json:
        render.echo_json({"asset": found.uri, "annotations": [a.to_dict() for a in rows]})
        return
    if not rows:
        render.console().print(f"no annotations of {escape(found.file_name)} match; "
                               "`reelgraph media show ASSET` lists its annotation sets",
                               soft_wrap=True)
        return
    out = render.console()
    out.print(f"{escape(found.file_name)}: {len(rows)} annotation(s)", soft_wrap=True)
    table = Table("id", "producer", "type", "start", "end", "label", "confidence", "data",
                  show_edge=False)
    for a in rows:
        table.add_row(str(a.id), escape(f"{a.producer} v{a.version}"), escape(a.type),
                      _time(a.start_ns), _time(a.end_ns), escape(a.label or ""),
                      "" if a.confidence is None else f"{a.confidence:.2f}",
                      _data(dict(a.data)))
    out.print(table)


@app.command()
def sheet(
    ctx: typer.Context,
    asset: AssetRef,
    output: Annotated[Path, typer.Option("--output", "-o", help="The PNG file to write.")],
    namespace: Namespace = None,
) -> None:
    """Write the asset's contact sheet (one thumbnail per shot) to a PNG file."""
    from reelgraph.core import write_atomic

    if output.suffix.lower() != ".png":
        raise InvalidInput(f"contact sheets are PNG files, not {output.name!r}",
                           "give -o a path ending in .png")
    with _catalog(ctx) as catalog:
        found = catalog.resolve(asset, namespace)
        data, stored = catalog.contact_sheet(found)
    write_atomic(output, data)
    how = "the pipeline's stored sheet" if stored else "drawn from the stored shots"
    render.console().print(f"wrote {escape(str(output))} ({len(data):,} bytes, {how})",
                           soft_wrap=True)
