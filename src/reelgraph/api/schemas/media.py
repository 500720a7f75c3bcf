"""Bodies of the media API. Times are integer nanoseconds on the asset's own timeline, ranges
half-open ``[start_ns, end_ns)``; ``created_at`` is microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reelgraph.api.schemas.times import Timed
from reelgraph.media import DEFAULT_NAMESPACE

SHA256 = "6d7ba9b54f22d07ccbc3d4f407c2874e4a13f6b4a050e3d3e58e3e632f87f4fa"
ASSET_URI = f"rg://media_asset/studio/{SHA256}"
FEATURE_URI = "rg://embedding/media/shot_framing@framing-1"


class AssetOut(BaseModel):
    uri: str = Field(examples=[ASSET_URI])
    sha256: str = Field(examples=[SHA256], description="the content's checksum: the identity")
    namespace: str = Field(examples=["studio"])
    file_name: str = Field(examples=["big_buck_bunny_432_433.webm"])
    location: str = Field(description="where the bytes were last registered from",
                          examples=["/data/video/big_buck_bunny_432_433.webm"])
    container: str = Field(examples=["matroska,webm"])
    size_bytes: int = Field(examples=[86056])
    start_ns: int = Field(description="the video's first frame, on its own timeline")
    duration_ns: int = Field(examples=[999000000])
    duration_s: float = Field(examples=[0.999])
    width: int | None = Field(examples=[1280], description="null without a video stream")
    height: int | None = Field(examples=[720])
    fps: float | None = Field(examples=[24.0], description="average frames per second")
    codec: str | None = Field(examples=["vp8"], description="the video's (else the audio's)")
    audio_streams: int
    shots: int | None = Field(examples=[1], description="shots the media pipeline found; "
                              "null until it has ingested the asset")


class AssetList(BaseModel):
    assets: list[AssetOut]


class ProducerOut(BaseModel):
    name: str = Field(examples=["media/shots"])
    version: str = Field(examples=["1"])
    run_id: str | None
    model_version: str | None


class AnnotationSetOut(Timed):
    id: int
    asset: str = Field(examples=[ASSET_URI])
    producer: ProducerOut
    version: int = Field(description="counts from 1 per (asset, producer)")
    count: int
    types: list[str] = Field(examples=[["embedding", "shot"]])
    created_at: int
    current: bool = Field(description="the set queries read by default")


class FeatureUse(BaseModel):
    feature: str = Field(examples=[FEATURE_URI])
    shots: int = Field(description="shots whose embedding the feature holds")


class AssetDetail(AssetOut):
    probe: dict[str, Any] = Field(description="container, streams and timing, as probed at "
                                  "registration")
    annotation_sets: list[AnnotationSetOut] = Field(description="every producer's sets, "
                                                    "by producer then version")
    features: list[FeatureUse] = Field(description="shot embeddings the pipeline stored")
    contact_sheet: str | None = Field(description="the stored contact sheet's artifact node",
                                      examples=[f"rg://artifact/studio/contact-sheets/{SHA256}"])


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    paths: list[str] = Field(min_length=1, max_length=1000,
                             description="files (absolute paths) or URLs under the server's "
                             "media roots (media_roots)",
                             examples=[["/data/video/big_buck_bunny_432_433.webm"]])
    namespace: str = Field(DEFAULT_NAMESPACE, examples=[DEFAULT_NAMESPACE])


class RegisterOut(BaseModel):
    assets: list[AssetOut] = Field(description="registered (or already there), in order")
    failed: dict[str, str] = Field(description="path -> why it could not be registered",
                                   examples=[{"/data/broken.mp4": "cannot read "
                                              "/data/broken.mp4 as media: Invalid data found "
                                              "when processing input. Fix: ..."}])


class ShotOut(BaseModel):
    index: int
    start_ns: int = Field(examples=[0])
    end_ns: int = Field(examples=[999000000])
    duration_ns: int = Field(examples=[999000000])


class ShotList(BaseModel):
    asset: str = Field(examples=[ASSET_URI])
    producer: str = Field(examples=["media/shots"])
    version: int = Field(description="the producer's current set")
    run_id: str | None = Field(description="the pipeline run that found them")
    shots: list[ShotOut]


class AnnotationOut(BaseModel):
    id: int | None
    asset: str | None
    producer: str | None = Field(examples=["media/shots"])
    version: int | None = Field(description="of the producer's set")
    type: str = Field(examples=["shot"])
    schema_version: int | None
    start_ns: int
    end_ns: int
    region: dict[str, Any] | None = Field(description="{box: [x0, y0, x1, y1]} in 0..1, "
                                          "and polygon when there is one")
    label: str | None
    confidence: float | None
    data: dict[str, Any] = Field(examples=[{"index": 0, "method": "content"}])
    vector: list[float] | None


class AnnotationList(BaseModel):
    asset: str = Field(examples=[ASSET_URI])
    annotations: list[AnnotationOut] = Field(description="by start, end, id")


class FrameOut(BaseModel):
    index: int = Field(description="position in this read, from 0")
    sample_ns: int = Field(description="the sample time asked for")
    pts_ns: int = Field(description="the presentation time of the frame on screen then")
    duration_ns: int


class FrameList(BaseModel):
    asset: str = Field(examples=[ASSET_URI])
    fps: float = Field(examples=[2.0])
    size: int = Field(examples=[224])
    width: int | None = Field(description="of the pictures at this size", examples=[398])
    height: int | None = Field(examples=[224])
    frames: list[FrameOut]
    truncated: bool = Field(description="more frames follow: the read stopped at the limit "
                            "or at the server's time budget (max_read_seconds)")
