"""Shot segmentation: known cuts in synthetic videos, labelled cuts in the real clips."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from media_samples import Sample

from reelgraph.core.errors import InvalidInput
from reelgraph.media import (
    CutScore,
    FrameBatch,
    ShotConfig,
    detect_shots,
    read_frames,
    score_cuts,
    shots_from_frames,
)
from reelgraph.media.probe import NS
from reelgraph.media.shots import cut_frames, plan_segments

MS = 1_000_000
# The floor the content detector must keep on the labelled clips (pooled over all of them).
# It scores 0.94 (31 of 33 cuts, 2 false alarms); the misses are two shots shorter than
# its 0.6 s minimum, which PySceneDetect merges into the next one by design.
F1_FLOOR = 0.9
ADAPTIVE_F1_FLOOR = 0.8


@pytest.mark.parametrize("name", ["mp4-h264", "mkv-h264", "webm-vp9", "webm-vp8",
                                  "avi-mpeg4", "mkv-av1"])
@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_finds_the_cuts_of_synthetic_videos(samples: dict[str, Sample], name: str,
                                            detector: Any) -> None:
    if name not in samples:
        pytest.skip(f"this FFmpeg build cannot encode the {name} sample")
    sample = samples[name]
    shots = detect_shots(sample.path, ShotConfig(detector=detector))
    assert cut_frames(shots) == list(sample.cuts)
    bounds = list(pairwise([0, *sample.cuts, 60]))
    assert [(s.start_frame, s.end_frame) for s in shots] == bounds
    assert [(s.start_ns, s.end_ns) for s in shots] == [(a * 40 * MS, b * 40 * MS)
                                                       for a, b in bounds]


def test_variable_frame_rate_cuts_and_times(samples: dict[str, Sample]) -> None:
    sample = samples["vfr-mkv-h264"]
    shots = detect_shots(sample.path)
    assert cut_frames(shots) == [10, 25]
    assert [s.start_ns for s in shots] == [0, sample.pts_ms[10] * MS, sample.pts_ms[25] * MS]
    assert shots[-1].end_ns == (sample.pts_ms[-1] + 40) * MS
    assert shots[1].start_s == pytest.approx(sample.pts_ms[10] / 1000)


def test_min_shot_length_is_in_seconds(samples: dict[str, Sample]) -> None:
    path = samples["mp4-h264"].path  # cuts at 15, 32, 48: shots of 0.68 s and 0.64 s
    assert cut_frames(detect_shots(path, ShotConfig(min_shot_s=0.66))) != [15, 32, 48]
    assert cut_frames(detect_shots(path, ShotConfig(min_shot_s=0.2))) == [15, 32, 48]


def test_a_range(samples: dict[str, Sample]) -> None:
    shots = detect_shots(samples["mp4-h264"].path, start_ns=400 * MS, end_ns=1_600 * MS)
    assert [(s.start_ns, s.end_ns) for s in shots] == [(400 * MS, 1_280 * MS),
                                                      (1_280 * MS, 1_600 * MS)]
    assert cut_frames(shots) == [22]  # frame 32 of the file is frame 22 of this read


def test_one_decoder_thread_finds_the_same(samples: dict[str, Sample]) -> None:
    path = samples["mkv-h264"].path
    assert detect_shots(path, ShotConfig(decoder_threads=1)) == detect_shots(path)


def test_runs_on_frames_you_already_have(samples: dict[str, Sample]) -> None:
    sample = samples["webm-vp9"]
    batch = FrameBatch.collect(read_frames(sample.path, size=96))
    assert shots_from_frames(batch.frames()) == detect_shots(sample.path)
    assert shots_from_frames([]) == []


def test_bad_settings() -> None:
    with pytest.raises(InvalidInput):
        ShotConfig(detector="histogram")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        ShotConfig(size=8)


def _score(video_dir: Path, labelled: dict[str, Any], config: ShotConfig) -> CutScore:
    total = CutScore(0, 0, 0)
    for name, clip in labelled.items():
        shots = detect_shots(video_dir / name, config)
        assert shots[-1].end_frame == clip["frames"]
        ignore = [(g["first"], g["last"]) for g in clip["gradual"]]
        total = total + score_cuts(cut_frames(shots), [c["frame"] for c in clip["cuts"]],
                                   tolerance=2, ignore=ignore)
    return total


def test_labelled_clips_content_detector(video_dir: Path, labelled_cuts: dict[str, Any]
                                         ) -> None:
    score = _score(video_dir, labelled_cuts, ShotConfig())
    assert score.f1 >= F1_FLOOR, score.to_dict()
    assert score.false_positives <= 3, score.to_dict()


@pytest.mark.slow
def test_labelled_clips_adaptive_detector(video_dir: Path, labelled_cuts: dict[str, Any]
                                          ) -> None:
    score = _score(video_dir, labelled_cuts, ShotConfig(detector="adaptive"))
    assert score.f1 >= ADAPTIVE_F1_FLOOR, score.to_dict()


@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_parallel_segments_find_exactly_what_one_pass_finds(video_dir: Path,
                                                            detector: str) -> None:
    clip = video_dir / "tears-of-steel-battle-clip-medium.webm"  # 70 s: several segments
    config = ShotConfig(detector=detector, workers=3)  # type: ignore[arg-type]
    assert len(plan_segments(str(clip), config)) == 3
    split = detect_shots(clip, config)
    whole = detect_shots(clip, ShotConfig(detector=detector, workers=1))  # type: ignore[arg-type]
    assert split == whole and len(whole) > 10
    start, end = 20 * NS, 60 * NS  # a range splits too, and keeps to itself
    ranged = detect_shots(clip, ShotConfig(detector=detector, workers=2),  # type: ignore[arg-type]
                          start_ns=start, end_ns=end)
    assert ranged[0].start_ns >= start and ranged[-1].end_ns <= end + NS

    def inner(shots: list[Any]) -> list[int]:  # away from the range's edges
        return [s.start_ns for s in shots if start + 2 * NS < s.start_ns < end - 2 * NS]

    assert inner(ranged) == inner(whole) and inner(whole)
