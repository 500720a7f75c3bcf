"""What a media file is: container, streams, timing and the sha256 of its bytes.

``probe`` reads the whole file twice, never holding it in memory: once to hash it, once to
demux every packet (no decoding, except the first video frame to prove the codec works).
From the packets it learns the exact frame count, the video's start and end, and whether
the frame rate is variable. It refuses, with a ``MediaError`` naming the file and the
reason, a file that is empty, not media, damaged, truncated (fewer frames than its index
lists, or data ending well before the duration in its header) or in a codec this build
cannot decode.

Time rules: times are integer nanoseconds on the stream's own timeline
(``pts * time_base``, rounded down), so ``start_ns`` may be non-zero. ``duration_ns`` is the
video stream's extent (first frame's start to last frame's end) where there is video, else
the container's duration. The frame rate is variable when the gaps between consecutive
presentation times differ by more than one time-base tick and 2% of the typical gap.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

from reelgraph.media.errors import MediaError
from reelgraph.media.source import (
    Source,
    av_module,
    checksum,
    location,
    open_media,
    unreadable,
)

NS = 1_000_000_000
# How far a file's data may end before the duration its header states (seconds + share):
# headers round, and audio may stop a little early; a cut-off download falls far short.
TRUNCATION_SLACK_S = 0.5
TRUNCATION_SLACK_SHARE = 0.02


def ticks_to_ns(ticks: int, time_base: Fraction) -> int:
    """``ticks * time_base`` in integer nanoseconds, rounded down (exact when it divides)."""
    return ticks * time_base.numerator * NS // time_base.denominator


@dataclass(frozen=True)
class AudioStream:
    codec: str
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int  # coded pixels; display width is width * sample_aspect_ratio
    height: int
    pixel_format: str
    frame_rate: Fraction  # average frames per second
    variable_frame_rate: bool
    frame_count: int
    time_base: Fraction
    sample_aspect_ratio: Fraction = Fraction(1)

    @property
    def fps(self) -> float:
        return float(self.frame_rate)


@dataclass(frozen=True)
class MediaProbe:
    """What FFmpeg reports about a file: checksum, size, container, duration and streams."""
    checksum: str  # sha256 of the file's bytes, hex
    size_bytes: int
    container: str  # FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"
    start_ns: int
    duration_ns: int
    video: VideoStream | None
    audio: tuple[AudioStream, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.duration_ns / NS

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (fractions as "num/den" strings), the form stored on graph nodes."""
        video = None
        if self.video is not None:
            v = self.video
            video = {"codec": v.codec, "width": v.width, "height": v.height,
                     "pixel_format": v.pixel_format, "frame_rate": str(v.frame_rate),
                     "fps": v.fps, "variable_frame_rate": v.variable_frame_rate,
                     "frame_count": v.frame_count, "time_base": str(v.time_base),
                     "sample_aspect_ratio": str(v.sample_aspect_ratio)}
        return {"checksum": self.checksum, "size_bytes": self.size_bytes,
                "container": self.container, "start_ns": self.start_ns,
                "duration_ns": self.duration_ns, "duration_s": self.duration_s,
                "video": video,
                "audio": [{"codec": a.codec, "channels": a.channels,
                           "sample_rate": a.sample_rate} for a in self.audio]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaProbe:
        v = data.get("video")
        video = None if v is None else VideoStream(
            v["codec"], int(v["width"]), int(v["height"]), v["pixel_format"],
            Fraction(v["frame_rate"]), bool(v["variable_frame_rate"]), int(v["frame_count"]),
            Fraction(v["time_base"]), Fraction(v.get("sample_aspect_ratio", "1")))
        return cls(data["checksum"], int(data["size_bytes"]), data["container"],
                   int(data["start_ns"]), int(data["duration_ns"]), video,
                   tuple(AudioStream(a["codec"], int(a["channels"]), int(a["sample_rate"]))
                         for a in data.get("audio", [])))


def probe(source: Source, *, hashed: tuple[str, int] | None = None) -> MediaProbe:
    """Probe a local path or fsspec URL; see the module docstring for what is checked.

    ``hashed`` is ``(sha256, size)`` from ``source.checksum`` when the caller already has
    it, to save reading the file once more.
    """
    where = location(source)
    digest, size = hashed or checksum(source)
    if size == 0:
        raise MediaError(f"{where} is empty (0 bytes)",
                         "copy or download the file again; it has no content")
    with open_media(where) as container:
        videos, audios = list(container.streams.video), list(container.streams.audio)
        if not videos and not audios:
            raise MediaError(f"{where} has no video or audio stream",
                             "register a video or audio file")
        scan = _scan(where, container, videos[0] if videos else None)
        header_s = container.duration / 1_000_000 if container.duration else None
        video = _video(where, videos[0], scan) if videos else None
        if header_s is not None and scan.data_end_s < header_s - (
                TRUNCATION_SLACK_S + TRUNCATION_SLACK_SHARE * header_s):
            raise _truncated(where, f"its header says {header_s:.2f} s but its data ends at "
                                    f"{scan.data_end_s:.2f} s")
        if video is not None:
            start, duration = scan.video_start_ns, scan.video_end_ns - scan.video_start_ns
        else:
            start = ticks_to_ns(container.start_time or 0, Fraction(1, 1_000_000))
            duration = int((header_s or scan.data_end_s) * NS)
        return MediaProbe(digest, size, container.format.name, start, duration, video,
                          tuple(_audio(a) for a in audios))


@dataclass
class _Scan:
    video_pts: list[int]
    video_start_ns: int
    video_end_ns: int
    data_end_s: float
    decoded_one: bool


def _scan(where: str, container: Any, video: Any) -> _Scan:
    """Demux every packet (decoding only until the first video frame comes out)."""
    pts: list[int] = []
    start_ns: int | None = None
    end_ns = 0
    data_end = Fraction(0)
    decoded = False
    ffmpeg_error = av_module().error.FFmpegError
    try:
        for packet in container.demux():
            stamp = packet.pts if packet.pts is not None else packet.dts
            if not packet.size or stamp is None:
                continue
            tb = packet.time_base
            data_end = max(data_end, (stamp + (packet.duration or 0)) * tb)
            if video is None or packet.stream.index != video.index:
                continue
            pts.append(stamp)
            first = ticks_to_ns(stamp, tb)
            start_ns = first if start_ns is None else min(start_ns, first)
            end_ns = max(end_ns, ticks_to_ns(stamp + (packet.duration or 0), tb))
            if not decoded:
                decoded = bool(packet.decode())
        if video is not None and pts and not decoded:
            decoded = bool(video.codec_context.decode(None))
    except ffmpeg_error as exc:
        raise unreadable(where, exc, f"{float(data_end):.2f} s") from None
    return _Scan(pts, start_ns or 0, end_ns, float(data_end), decoded)


def _video(where: str, stream: Any, scan: _Scan) -> VideoStream:
    if not scan.video_pts:
        raise MediaError(f"{where} has a video stream with no frames in it",
                         "the file is truncated or damaged; copy or download it again")
    if stream.frames and len(scan.video_pts) < stream.frames:
        raise _truncated(where, f"its index lists {stream.frames} video frames but only "
                                f"{len(scan.video_pts)} are in the file")
    context = stream.codec_context
    if not scan.decoded_one:
        raise MediaError(
            f"cannot decode the video of {where} (codec {context.name if context else '?'})",
            "convert it to a common codec, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4")
    tb = Fraction(stream.time_base)
    stamps = sorted(set(scan.video_pts))
    gaps = [b - a for a, b in pairwise(stamps)]
    variable = False
    if gaps:
        typical = statistics.median(gaps)
        variable = max(gaps) - min(gaps) > max(1.0, 0.02 * typical)
    rate = Fraction(stream.average_rate) if stream.average_rate else None
    span_ns = scan.video_end_ns - scan.video_start_ns
    if (variable or not rate) and span_ns > 0:
        rate = Fraction(len(stamps) * NS, span_ns).limit_denominator(100_000)
    sar = stream.sample_aspect_ratio
    return VideoStream(_codec_name(context), context.width, context.height,
                       context.pix_fmt or "unknown", rate or Fraction(0), variable,
                       len(scan.video_pts), tb, Fraction(sar) if sar else Fraction(1))


def _audio(stream: Any) -> AudioStream:
    context = stream.codec_context
    return AudioStream(_codec_name(context), int(context.channels or 0),
                       int(context.sample_rate or 0))


def _codec_name(context: Any) -> str:
    """The format's name ("av1", "mp3"), not the decoder's ("libdav1d", "mp3float")."""
    codec = getattr(context, "codec", None)
    return str(getattr(codec, "canonical_name", None) or context.name)


def _truncated(where: str, why: str) -> MediaError:
    return MediaError(f"{where} is truncated: {why}",
                      "copy or download the file again (the end of it is missing)")
