"""probe: container, streams, exact timing and checksum; clear errors for broken files."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import pytest
from media_samples import Sample

from reelgraph.core.errors import NotFound, ReelgraphError
from reelgraph.media import MediaError, MediaProbe, probe

CODEC_NAMES = {"libx264": "h264", "libvpx-vp9": "vp9", "libvpx": "vp8", "mpeg4": "mpeg4",
               "libsvtav1": "av1"}


def test_every_container_and_codec(samples: dict[str, Sample]) -> None:
    for name, sample in samples.items():
        if name in ("audio-wav", "vfr-mkv-h264"):
            continue
        found = probe(sample.path)
        assert found.video is not None, name
        assert found.video.codec == CODEC_NAMES[sample.codec], name
        assert (found.video.width, found.video.height) == (160, 96), name
        assert found.video.frame_count == 60, name
        assert found.video.frame_rate == 25, name
        assert not found.video.variable_frame_rate, name
        assert (found.start_ns, found.duration_ns) == (0, 2_400_000_000), name
        assert found.checksum == hashlib.sha256(sample.path.read_bytes()).hexdigest()
        assert found.size_bytes == sample.path.stat().st_size
        assert found.audio == ()


def test_containers_are_named(samples: dict[str, Sample]) -> None:
    assert probe(samples["mp4-h264"].path).container.startswith("mov,mp4")
    assert probe(samples["webm-vp9"].path).container == "matroska,webm"
    assert probe(samples["avi-mpeg4"].path).container == "avi"


def test_variable_frame_rate(samples: dict[str, Sample]) -> None:
    sample = samples["vfr-mkv-h264"]
    found = probe(sample.path)
    assert found.video is not None and found.video.variable_frame_rate
    assert found.video.frame_count == 40
    end_ms = sample.pts_ms[-1] + 40  # the muxer gives the last frame the nominal 1/25 s
    assert found.duration_ns == end_ms * 1_000_000
    assert found.video.frame_rate == Fraction(40 * 1000, end_ms)


def test_audio_only(samples: dict[str, Sample]) -> None:
    found = probe(samples["audio-wav"].path)
    assert found.video is None
    assert [(a.codec, a.channels, a.sample_rate) for a in found.audio] == [("pcm_s16le", 1, 8000)]
    assert found.duration_ns == 1_000_000_000


def test_real_clip_with_audio(video_dir: Path) -> None:
    found = probe(video_dir / "big_buck_bunny_0_30.webm")
    assert found.checksum == "3f75b7340272df508ebc95ca57c8e30089069310762547b7b45c189e8b4987d5"
    assert found.container == "matroska,webm"
    assert found.video is not None
    assert (found.video.codec, found.video.width, found.video.height) == ("vp8", 1280, 720)
    assert (found.video.frame_rate, found.video.frame_count) == (24, 720)  # type: ignore[comparison-overlap]
    assert found.start_ns == 3_000_000  # this stream starts 3 ms in
    assert [(a.codec, a.channels, a.sample_rate) for a in found.audio] == [("vorbis", 2, 44100)]
    flower = probe(video_dir / "flower.mp4")
    assert flower.video is not None and flower.video.frame_rate == Fraction(30000, 1001)


def test_round_trips_through_json(samples: dict[str, Sample]) -> None:
    for name in ("mp4-h264", "vfr-mkv-h264", "audio-wav"):
        found = probe(samples[name].path)
        assert MediaProbe.from_dict(json.loads(json.dumps(found.to_dict()))) == found


@pytest.mark.parametrize(("name", "says"), [
    ("junk.mp4", "cannot read"),
    ("empty.mp4", "is empty"),
    ("truncated.mp4", "cannot read"),
    ("truncated.webm", "is truncated: its header says 2.40 s"),
    ("truncated-faststart.mp4", "is truncated: its index lists 60 video frames"),
])
def test_broken_files_raise_a_media_error_naming_the_file(broken: dict[str, Path], name: str,
                                                           says: str) -> None:
    with pytest.raises(MediaError) as caught:
        probe(broken[name])
    assert isinstance(caught.value, ReelgraphError)
    assert str(broken[name]) in caught.value.problem
    assert says in caught.value.problem
    assert caught.value.fix


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        probe(tmp_path / "nothing.mp4")
