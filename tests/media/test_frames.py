"""read_frames: one canonical access API over containers, codecs, rates, sizes and ranges."""

from __future__ import annotations

import inspect
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from media_samples import Sample, read_index

from reelgraph.core.errors import InvalidInput
from reelgraph.media import FrameBatch, FrameSpec, MediaError, probe, read_frames

MS = 1_000_000
VIDEO_SAMPLES = ["mp4-h264", "mkv-h264", "webm-vp9", "webm-vp8", "avi-mpeg4", "mkv-av1"]


def _video(samples: dict[str, Sample], name: str) -> Sample:
    if name not in samples:
        pytest.skip(f"this FFmpeg build cannot encode the {name} sample")
    return samples[name]


@pytest.mark.parametrize("name", VIDEO_SAMPLES)
def test_every_frame_with_exact_times_and_size(samples: dict[str, Sample], name: str) -> None:
    sample = _video(samples, name)
    frames = list(read_frames(sample.path, size=48))
    assert [f.index for f in frames] == list(range(60))
    assert [f.pts_ns for f in frames] == [i * 40 * MS for i in range(60)]
    assert all(f.sample_ns == f.pts_ns and f.duration_ns == 40 * MS for f in frames)
    assert [read_index(f.image) for f in frames] == list(range(60))
    image = frames[0].image
    assert image.shape == (48, 80, 3) and image.dtype == np.uint8
    assert image.flags.c_contiguous
    assert frames[7].seconds == pytest.approx(0.28)


def test_size_keeps_the_aspect_with_even_sides(samples: dict[str, Sample]) -> None:
    path = samples["mp4-h264"].path
    assert next(read_frames(path, size=50)).image.shape == (50, 84, 3)  # 160x96 -> 83.3x50
    assert next(read_frames(path, size=31)).image.shape == (32, 54, 3)  # odd: nearest even
    assert next(read_frames(path)).image.shape == (96, 160, 3)  # None keeps decoded size


def test_colours_survive(samples: dict[str, Sample]) -> None:
    first = next(read_frames(samples["mp4-h264"].path, size=48)).image
    assert np.abs(first[20, 60].astype(int) - (220, 40, 40)).max() < 12  # RGB, not BGR


def test_sampling_takes_the_latest_frame_at_or_before_each_sample(
        samples: dict[str, Sample]) -> None:
    frames = list(read_frames(samples["mp4-h264"].path, fps=10, size=32))
    assert [f.sample_ns for f in frames] == [k * 100 * MS for k in range(24)]
    assert [read_index(f.image) for f in frames] == [k * 10 // 4 for k in range(24)]
    assert all(f.pts_ns == read_index(f.image) * 40 * MS for f in frames)


def test_sampling_a_variable_frame_rate(samples: dict[str, Sample]) -> None:
    sample = samples["vfr-mkv-h264"]
    frames = list(read_frames(sample.path, fps=7, size=32))
    end_ms = sample.pts_ms[-1] + 40
    assert len(frames) == math.ceil(end_ms * 7 / 1000)
    for k, frame in enumerate(frames):
        t = Fraction(k, 7) * 1000
        expected = max(i for i, p in enumerate(sample.pts_ms) if p <= t)
        assert read_index(frame.image) == expected
        assert frame.pts_ns == sample.pts_ms[expected] * MS
        assert frame.sample_ns == math.floor(Fraction(k, 7) * 10**9)


def test_every_frame_of_a_variable_frame_rate(samples: dict[str, Sample]) -> None:
    sample = samples["vfr-mkv-h264"]
    frames = list(read_frames(sample.path, size=32))
    assert [f.pts_ns for f in frames] == [p * MS for p in sample.pts_ms]


def test_a_rate_above_the_source_repeats_frames_as_copies(samples: dict[str, Sample]) -> None:
    frames = list(read_frames(samples["mp4-h264"].path, fps=50, size=32))
    assert [read_index(f.image) for f in frames] == [k // 2 for k in range(120)]
    assert frames[0].image is not frames[1].image


@pytest.mark.parametrize("name", VIDEO_SAMPLES)
def test_a_range_seeks_and_matches_a_full_read(samples: dict[str, Sample], name: str) -> None:
    sample = _video(samples, name)
    start, end = 1_010 * MS, 1_500 * MS
    part = list(read_frames(sample.path, size=32, start_ns=start, end_ns=end))
    assert [f.pts_ns for f in part] == [i * 40 * MS for i in range(26, 38)]
    assert [read_index(f.image) for f in part] == list(range(26, 38))
    assert part[0].index == 0  # indices count this read's frames
    sampled = list(read_frames(sample.path, fps=4, size=32, start_ns=start, end_ns=end))
    assert [f.sample_ns for f in sampled] == [start, start + 250 * MS]
    assert [read_index(f.image) for f in sampled] == [25, 31]  # at or before each sample


def test_any_thread_count_gives_the_same_frames(samples: dict[str, Sample]) -> None:
    path = samples["webm-vp8"].path
    automatic = FrameBatch.collect(read_frames(path, size=32))
    single = FrameBatch.collect(read_frames(path, size=32, threads=1))
    assert np.array_equal(automatic.images, single.images)
    assert np.array_equal(automatic.pts_ns, single.pts_ns)


def test_it_streams(samples: dict[str, Sample]) -> None:
    frames = read_frames(samples["mp4-h264"].path, size=32)
    assert inspect.isgenerator(frames)
    assert next(frames).index == 0  # type: ignore[attr-defined]
    frames.close()  # stopping early closes the file


def test_real_clip_at_two_per_second(video_dir: Path) -> None:
    frames = list(read_frames(video_dir / "big_buck_bunny_0_30.webm", fps=2, size=224))
    assert len(frames) == 60
    assert frames[0].image.shape == (224, 398, 3)
    assert frames[0].pts_ns == 3 * MS  # the stream's own timeline starts at 3 ms
    assert [f.sample_ns for f in frames] == [3 * MS + k * 500 * MS for k in range(60)]


def test_ntsc_timestamps_are_exact(video_dir: Path) -> None:
    frames = list(read_frames(video_dir / "flower.mp4", size=32))
    assert len(frames) == 150
    assert [f.pts_ns for f in frames] == [i * 1001 * 10**9 // 30000 for i in range(150)]


def test_batches_round_trip(samples: dict[str, Sample]) -> None:
    batch = FrameBatch.collect(read_frames(samples["webm-vp9"].path, fps=5, size=32))
    again = FrameBatch.from_bytes(batch.to_bytes())
    assert len(again) == len(batch) == 12
    assert np.array_equal(again.images, batch.images)
    assert np.array_equal(again.pts_ns, batch.pts_ns)
    assert [f.sample_ns for f in again.frames()] == [k * 200 * MS for k in range(12)]


def test_bad_arguments(samples: dict[str, Sample]) -> None:
    path = samples["mp4-h264"].path
    for bad in ({"fps": 0}, {"fps": -1.0}, {"fps": float("nan")}, {"size": 1},
                {"start_ns": 5, "end_ns": 5}, {"threads": 0}):
        with pytest.raises(InvalidInput):
            read_frames(path, **bad)  # checked on the call
    assert FrameSpec(Fraction(30000, 1001), 224).key == "fps-30000-1001_short-224"
    assert FrameSpec(None, None).key == "fps-all_short-native"


def test_unreadable_media(samples: dict[str, Sample], broken: dict[str, Path]) -> None:
    with pytest.raises(MediaError, match="has no video stream"):
        next(read_frames(samples["audio-wav"].path))
    with pytest.raises(MediaError, match=r"damaged\.mp4 as media at"):
        list(read_frames(broken["damaged.mp4"]))
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        next(read_frames(broken["junk.mp4"]))


def test_an_fsspec_url(samples: dict[str, Sample]) -> None:
    import fsspec

    url = "memory://reelgraph-media-test/clip.webm"
    with fsspec.open(url, "wb") as handle:
        handle.write(samples["webm-vp9"].path.read_bytes())
    try:
        frames = list(read_frames(url, fps=5, size=32, start_ns=1_000 * MS))
        assert [read_index(f.image) for f in frames] == [25, 30, 35, 40, 45, 50, 55]
        assert probe(url).checksum == probe(samples["webm-vp9"].path).checksum
    finally:
        fsspec.filesystem("memory").rm("/reelgraph-media-test", recursive=True)
