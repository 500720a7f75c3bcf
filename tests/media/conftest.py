"""Fixtures for the media tests: the shared real clips, and small synthetic videos with known
cuts and timestamps written once per session (see ``media_samples``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from media_samples import Sample, write
from shared_data import SHARED_DATA, missing

VIDEO_DIR = SHARED_DATA / "video"
CUTS = Path(__file__).resolve().parent / "fixtures" / "cuts.json"
SYNTHETIC_CUTS = (15, 32, 48)  # each shot at least 0.6 s at 25 fps (the default min_shot_s)
VFR_DURATIONS_MS = (40, 40, 80, 20, 120)
X264 = {"crf": "18", "preset": "ultrafast"}

# name -> (file name, encoder, encoder options)
CODECS: dict[str, tuple[str, str, dict[str, str]]] = {
    "mp4-h264": ("clip.mp4", "libx264", X264),
    "mkv-h264": ("clip.mkv", "libx264", X264),
    "webm-vp9": ("clip.webm", "libvpx-vp9",
                 {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"}),
    "webm-vp8": ("clip-vp8.webm", "libvpx", {"crf": "10", "b": "1M"}),
    "avi-mpeg4": ("clip.avi", "mpeg4", {"qscale": "2"}),
    "mkv-av1": ("clip-av1.mkv", "libsvtav1", {"preset": "10", "crf": "30"}),
}


@pytest.fixture
def video_dir() -> Path:
    """The real clips in ../shared/data/video (beside the repository root)."""
    if not VIDEO_DIR.is_dir():
        pytest.skip(missing(VIDEO_DIR.resolve()))
    return VIDEO_DIR.resolve()


@pytest.fixture(scope="session")
def labelled_cuts() -> dict[str, Any]:
    clips: dict[str, Any] = json.loads(CUTS.read_text())["clips"]
    return clips


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    """One 60-frame, 25 fps clip per container/codec, a variable-frame-rate one and an
    audio-only file; AV1 only where this FFmpeg build has the SVT-AV1 encoder."""
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner otherwise
    folder = tmp_path_factory.mktemp("media")
    made: dict[str, Sample] = {}
    for name, (file_name, codec, options) in CODECS.items():
        if codec not in av.codecs_available:
            continue
        made[name] = write(folder / file_name, codec, SYNTHETIC_CUTS, 60, options=options)
    made["vfr-mkv-h264"] = write(folder / "vfr.mkv", "libx264", (10, 25), 40,
                                 durations_ms=VFR_DURATIONS_MS, options=X264)
    made["audio-wav"] = _audio(folder / "tone.wav")
    return made


@pytest.fixture(scope="session")
def broken(samples: dict[str, Sample], tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, Path]:
    """Files that must be refused: not media, empty, cut short, damaged inside."""
    folder = tmp_path_factory.mktemp("broken")
    mp4 = samples["mp4-h264"].path.read_bytes()
    webm = samples["webm-vp9"].path.read_bytes()
    faststart = folder / "faststart.mp4"
    with av.open(str(samples["mp4-h264"].path)) as source, \
            av.open(str(faststart), "w", options={"movflags": "faststart"}) as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    damaged = bytearray(mp4)
    for i in range(len(mp4) * 3 // 10, len(mp4) // 2, 7):
        damaged[i] ^= 0xFF
    files = {
        "junk.mp4": np.random.default_rng(0).bytes(5000),
        "empty.mp4": b"",
        "truncated.mp4": mp4[: len(mp4) // 2],  # its index (moov) is at the end: gone
        "truncated.webm": webm[: len(webm) // 2],
        "truncated-faststart.mp4": faststart.read_bytes()[: faststart.stat().st_size // 2],
        "damaged.mp4": bytes(damaged),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def _audio(path: Path) -> Sample:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000, layout="mono")
        tone = (np.sin(np.arange(8000) * 0.3) * 8000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Sample(path, 0, (), (), "pcm_s16le")
