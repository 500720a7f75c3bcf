"""A title's shots for match cutting: detected once, then read back from annotations.

Shots are written as ``shot`` annotations of the asset by producer ``matchcut/shots``
(producer version = the detector's name), so a second run reads them instead of decoding
the video again. Their frames come from the media proxy cache (canonical frames at
``FRAME_FPS``, short side ``FRAME_SIZE``, decoded once per asset), the same frames the
media pipeline embeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput
from reelgraph.flows import Workspace
from reelgraph.matchcut.detectors import DEFAULT_DETECTOR, shots_of
from reelgraph.matchcut.scorers import ShotRecord
from reelgraph.media import (
    Annotation,
    AnnotationStore,
    FrameBatch,
    MediaAsset,
    Producer,
    ProxyCache,
)

PRODUCER = "matchcut/shots"
FRAME_FPS = 4
FRAME_SIZE = 160


class NoShots(InvalidInput):
    """A title in which no shot could be found (no video frames, or too short)."""


@dataclass(frozen=True)
class Title:
    asset: MediaAsset
    shots: list[ShotRecord]
    detected: bool  # True when this call ran the shot detector (not read back)

    @property
    def name(self) -> str:
        return self.asset.file_name


def shot_key(asset: MediaAsset, index: int) -> str:
    return f"{asset.checksum}:{index}"


def title_shots(ws: Workspace, asset: MediaAsset, detector: str = DEFAULT_DETECTOR) -> Title:
    """The asset's shots, from the annotation store when this detector already ran."""
    store = AnnotationStore(ws)
    try:
        sets = [s for s in store.versions(asset.uri, producer=PRODUCER) if s.current]
        detected = not sets or sets[0].producer.version != detector
        if detected:
            spans = [(s.start_ns, s.end_ns) for s in shots_of(asset.location, detector)]
            if spans:
                store.put(Producer(PRODUCER, detector), asset.uri,
                          [Annotation("shot", a, b, data={"index": i, "method": detector})
                           for i, (a, b) in enumerate(spans)])
        else:
            spans = [(a.start_ns, a.end_ns) for a in
                     store.query(asset.uri, types="shot", producer=PRODUCER)]
    finally:
        store.close()
    if not spans:
        raise NoShots(f"{asset.file_name} has no shots (no video frames were decoded)",
                      "check that the file plays and has a video stream")
    shots = [ShotRecord(shot_key(asset, i), asset.checksum, i, a, b)
             for i, (a, b) in enumerate(spans)]
    return Title(asset, shots, detected)


def frame_source(ws: Workspace, asset: MediaAsset
                 ) -> Callable[[ShotRecord], list[npt.NDArray[np.uint8]]]:
    """A function giving a shot's canonical frames (its nearest frame when the shot is
    shorter than the sampling step); the proxy is read at most once."""
    batch: list[FrameBatch] = []

    def frames(shot: ShotRecord) -> list[npt.NDArray[np.uint8]]:
        if not batch:
            with ProxyCache(ws.graph, ws.artifacts) as cache:
                batch.append(cache.frames(asset, fps=FRAME_FPS, size=FRAME_SIZE))
            if len(batch[0]) == 0:
                raise NoShots(f"{asset.file_name} gave no frames",
                              "check the file plays; a video stream is needed")
        times = batch[0].pts_ns
        inside = np.flatnonzero((times >= shot.start_ns) & (times < shot.end_ns))
        if inside.size == 0:
            middle = (shot.start_ns + shot.end_ns) // 2
            inside = np.array([int(np.argmin(np.abs(times - middle)))])
        return list(batch[0].images[inside])

    return frames
