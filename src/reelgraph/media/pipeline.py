"""The standard media pipeline, run by the paved road whenever a media asset is registered.

probe (at registration) -> shots (PySceneDetect on every frame at 96 px) -> canonical frames
(4 fps, short side 160, cached as a proxy artifact) -> per-shot framing and motion embeddings,
materialized into the feature store (``media/shot_framing`` and ``media/shot_motion``, entity
``shot`` keyed ``<asset sha256>:<shot index>``, replicated online and to the vector index) ->
annotations (producer ``media/shots``: a ``shot`` annotation per shot and an ``embedding``
reference per shot and embedder, replacing the producer's previous set atomically) -> a
contact sheet PNG in the artifact store.

``ingest_flow()`` is that pipeline as a flow with an ``on_media_asset`` trigger that catches
up on assets registered before a worker first watched it; ``reelgraph worker --media`` (one
run per new asset, however many workers) picks up what ``register`` adds. The same file twice is one
asset and one run; a file that cannot be read fails alone, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput, ReelgraphError
from reelgraph.features import EntityType, FeatureSet, FeatureStore, Vector
from reelgraph.flows import EVENT_PARAM, Flow, StepContext, Workspace
from reelgraph.graph import NodeKey
from reelgraph.media.annotations import Annotation, AnnotationStore, Producer
from reelgraph.media.assets import DEFAULT_NAMESPACE, MediaAsset, MediaLibrary
from reelgraph.media.contact_sheet import render_contact_sheet
from reelgraph.media.embedders import FrameEmbedder, FramingEmbedder, MotionEmbedder, embed_shot
from reelgraph.media.frames import FrameBatch
from reelgraph.media.proxies import ProxyCache
from reelgraph.media.shots import Shot, detect_shots

SHOT = EntityType("shot", str)
PRODUCER = "media/shots"
PIPELINE_NAMESPACE = "media"  # the pipeline's own runs, whatever the assets' namespace
PIPELINE_VERSION = "1"
EMBED_FPS = 4  # canonical frames for embeddings and thumbnails
EMBED_SIZE = 160
EMBEDDERS: dict[str, type[FramingEmbedder] | type[MotionEmbedder]] = {
    "shot_framing": FramingEmbedder, "shot_motion": MotionEmbedder}


def shot_key(asset: MediaAsset, shot: Shot) -> str:
    return f"{asset.checksum}:{shot.index}"


def _ingested_only(keys: list[str]) -> dict[str, Any]:
    raise InvalidInput("shot embeddings are computed when their asset is ingested, not on "
                       "demand", "register the file (reelgraph media add FILE) and run "
                       "`reelgraph worker --media`")


def shot_features() -> FeatureSet:
    """The feature store's view of the pipeline's shot embeddings."""
    features = FeatureSet("media")
    for name, kind in EMBEDDERS.items():
        embedder = kind()
        features.feature(
            entity=SHOT, value=Vector(embedder.dim), online=True, vector=True, name=name,
            version=f"{embedder.name}-{embedder.version}",
            description=f"mean {embedder.name} embedding of a shot's canonical frames "
                        f"({EMBED_FPS} fps, short side {EMBED_SIZE})")(_ingested_only)
    return features


@dataclass
class ShotEmbeddings:
    vectors: dict[str, dict[str, np.ndarray]]  # feature name -> shot key -> vector
    thumbnails: list[np.ndarray] = field(default_factory=list)  # one per shot


def embed_shots(asset: MediaAsset, shots: list[Shot], frames: FrameBatch) -> ShotEmbeddings:
    """Each shot's mean embedding over its canonical frames (the nearest frame when the shot
    is shorter than the sampling step) and its middle frame as a thumbnail."""
    embedders: dict[str, FrameEmbedder] = {name: kind() for name, kind in EMBEDDERS.items()}
    result = ShotEmbeddings({name: {} for name in embedders})
    if len(frames) == 0:
        raise InvalidInput(f"{asset.file_name} gave no frames",
                           "check the file plays; a video stream is needed")
    times = frames.pts_ns
    for shot in shots:
        inside = np.flatnonzero((times >= shot.start_ns) & (times < shot.end_ns))
        if inside.size == 0:
            middle = (shot.start_ns + shot.end_ns) // 2
            inside = np.array([int(np.argmin(np.abs(times - middle)))])
        images = frames.images[inside]
        for name, embedder in embedders.items():
            result.vectors[name][shot_key(asset, shot)] = embed_shot(embedder, images)
        result.thumbnails.append(images[len(images) // 2])
    return result


def ingest_flow() -> Flow:
    """The pipeline as a flow run once per new media asset of any namespace (``event_uri``
    is its URI); one platform flow, so every worker and ``register`` agree on its name."""
    flow = Flow("media-ingest", namespace=PIPELINE_NAMESPACE, params={EVENT_PARAM: ""},
                description="probe, shots, canonical frames, shot embeddings, annotations")
    flow.on_media_asset(catch_up=True)  # assets registered before any worker ran too

    @flow.step
    def asset(event_uri: str, ctx: StepContext) -> MediaAsset:
        if not event_uri:
            raise InvalidInput("the media pipeline needs an asset",
                               "pass --param event_uri=rg://media_asset/NS/SHA256")
        found = MediaLibrary(ctx.workspace.graph).get(event_uri)
        ctx.read(found.uri)
        return found

    @flow.step
    def shots(asset: MediaAsset, ctx: StepContext) -> list[Shot]:
        found = detect_shots(asset.location)
        ctx.log(f"{len(found)} shots in {asset.file_name}")
        return found

    @flow.step
    def embeddings(asset: MediaAsset, shots: list[Shot], ctx: StepContext) -> ShotEmbeddings:
        cache = ProxyCache(ctx.workspace.graph, ctx.workspace.artifacts)
        frames = cache.frames(asset, fps=EMBED_FPS, size=EMBED_SIZE)
        return embed_shots(asset, shots, frames)

    @flow.step
    def publish(asset: MediaAsset, shots: list[Shot], embeddings: ShotEmbeddings,
                ctx: StepContext) -> dict[str, Any]:
        return publish_results(ctx.workspace, ctx.run_id, asset, shots, embeddings)

    return flow


def publish_results(ws: Workspace, run_id: str, asset: MediaAsset, shots: list[Shot],
                    embeddings: ShotEmbeddings) -> dict[str, Any]:
    """Write what the pipeline found: features, annotations, the contact sheet."""
    store = FeatureStore(ws, [shot_features()])
    try:
        for name, vectors in embeddings.vectors.items():
            store.materialize(f"media/{name}", vectors, run_id=run_id)
        refs = {name: store.definition(f"media/{name}").uri for name in embeddings.vectors}
    finally:
        store.close()
    annotations = [Annotation("shot", s.start_ns, s.end_ns,
                              data={"index": s.index, "method": "content"}) for s in shots]
    annotations += [Annotation("embedding", s.start_ns, s.end_ns,
                               data={"feature": refs[name], "key": shot_key(asset, s)})
                    for name in embeddings.vectors for s in shots]
    written = AnnotationStore(ws)
    try:
        annotation_set = written.put(Producer(PRODUCER, PIPELINE_VERSION, run_id),
                                     asset.uri, annotations)
    finally:
        written.close()
    sheet = _contact_sheet(ws, asset, shots, embeddings)
    return {"asset": asset.uri, "shots": len(shots), "annotation_version": annotation_set.version,
            "features": sorted(refs.values()), "contact_sheet": sheet}


def _contact_sheet(ws: Workspace, asset: MediaAsset, shots: list[Shot],
                   embeddings: ShotEmbeddings) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.png"
        render_contact_sheet(
            [(thumb, s.start_ns, s.end_ns) for thumb, s in
             zip(embeddings.thumbnails, shots, strict=True)],
            path, title=f"{asset.file_name}: {len(shots)} shots")
        digest = ws.artifacts.put_bytes(path.read_bytes())
    key = contact_sheet_key(asset)
    with ws.graph.batch(author="media") as write:
        write.add(key, description=f"contact sheet of {asset.file_name}",
                  properties={"digest": digest, "format": "png", "shots": len(shots)})
        write.link(key, "derived_from", asset.uri)
    return digest


def contact_sheet_key(asset: MediaAsset) -> NodeKey:
    """The graph key of an asset's contact sheet artifact."""
    return NodeKey("artifact", asset.namespace, f"contact-sheets/{asset.checksum}")


@dataclass
class Registered:
    assets: list[MediaAsset]
    failed: dict[str, str]  # path -> why


def register(ws: Workspace, paths: Iterable[str | Path],
             namespace: str = DEFAULT_NAMESPACE) -> Registered:
    """Register files as media assets, each on its own (one unreadable file fails alone);
    a worker watching ``ingest_flow()`` then ingests every new one."""
    done = Registered([], {})
    library = MediaLibrary(ws.graph)
    for path in paths:
        try:
            done.assets.append(library.add(path, namespace))
        except ReelgraphError as exc:
            done.failed[str(path)] = str(exc)
    return done
