"""The demo's media part: the bundled clips go through the standard pipeline by its trigger.

Registering the clips logs one event per new asset; one worker pass runs the ingest flow for
each (a second demo run registers the same bytes, logs nothing and runs nothing). The report
then reads back what the pipeline wrote: shots from the annotation store, shot embeddings
from the feature store, each clip's contact sheet, and the shots most alike across titles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelgraph.demo.progress import Quiet, Stages
from reelgraph.features import FeatureStore
from reelgraph.flows import Worker, Workspace
from reelgraph.media import SHOTS_PRODUCER as PRODUCER
from reelgraph.media import MediaAsset, contact_sheet_key, ingest_flow, register, shot_features
from reelgraph.media.annotations import AnnotationStore

VIDEO = "video"
SUFFIXES = (".mp4", ".webm", ".mkv", ".avi", ".mov")
SIMILAR = "media/shot_framing"


@dataclass(frozen=True)
class ClipReport:
    asset: MediaAsset
    shots: list[tuple[int, int]]  # [start_ns, end_ns) per shot
    embeddings: int  # shot embeddings stored in the feature store
    sheet: Path | None  # the contact sheet, copied out of the artifact store


@dataclass(frozen=True)
class MediaReport:
    """The demo's media part: each clip's shots and embeddings, failures, and shots alike across
    titles."""
    clips: list[ClipReport]
    runs: int  # pipeline runs this demo started (0 when every clip was ingested before)
    failed: dict[str, str]  # file or asset -> why
    alike: list[tuple[str, str, float]]  # (shot, shot of another title, cosine)


def ingest_clips(ws: Workspace, data_dir: Path, out_dir: Path, stages: Stages | None = None
                 ) -> MediaReport:
    """Register the bundled clips and run the pipeline for the new ones: only the demo's own
    assets' events (another user's pending or failed events in this home are left alone)."""
    stages = stages or Quiet()
    files = sorted(p for p in (data_dir / VIDEO).glob("*") if p.suffix in SUFFIXES)
    stages.begin(f"ingesting {len(files)} clips (shots, embeddings, contact sheets)", len(files))
    registered = register(ws, files)
    own = {asset.uri for asset in registered.assets}
    worker = Worker(ws, [ingest_flow()], backoff_s=0, max_attempts=1,
                    accept=lambda event: event.uri in own)
    try:
        outcomes = worker.run_once()
    finally:
        worker.close()
    stages.update(len(files))
    stages.end()
    failed = dict(registered.failed)
    failed.update({o.event.uri or "?": o.delivery.error or "" for o in outcomes
                   if o.delivery.status != "succeeded"})
    clips = [_clip(ws, asset, out_dir) for asset in registered.assets]
    return MediaReport(clips, len(outcomes), failed, _alike(ws, clips))


def _clip(ws: Workspace, asset: MediaAsset, out_dir: Path) -> ClipReport:
    annotations = AnnotationStore(ws)
    try:
        shots = annotations.query(asset.uri, types="shot", producer=PRODUCER)
        refs = annotations.query(asset.uri, types="embedding", producer=PRODUCER)
    finally:
        annotations.close()
    sheet_node = ws.graph.get(contact_sheet_key(asset))
    sheet = None
    if sheet_node is not None:
        sheet = out_dir / f"{Path(asset.file_name).stem}.png"
        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_bytes(ws.artifacts.get_bytes(sheet_node.properties["digest"]))
    return ClipReport(asset, [(a.start_ns, a.end_ns) for a in shots], len(refs), sheet)


def _alike(ws: Workspace, clips: list[ClipReport]) -> list[tuple[str, str, float]]:
    """For each clip's first shot, the most similar shot of another clip (framing)."""
    names = {c.asset.checksum: Path(c.asset.file_name).stem for c in clips}
    store = FeatureStore(ws, [shot_features()])
    try:
        index = store.replicator.vector
        ref = store.definition(SIMILAR).ref
        pairs: list[tuple[str, str, float]] = []
        for clip in clips:
            if not clip.shots or index is None:
                continue
            key = f"{clip.asset.checksum}:0"
            vector = store.get(SIMILAR, [key]).get(key)
            if vector is None:
                continue
            for hit, score in index.search(ref, vector, 50):
                asset, shot = hit.split(":")
                if asset != clip.asset.checksum and asset in names:
                    pairs.append((f"{names[clip.asset.checksum]} #0",
                                  f"{names[asset]} #{shot}", score))
                    break
    finally:
        store.close()
    return pairs
