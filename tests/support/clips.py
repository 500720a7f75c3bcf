"""A tiny two-shot H.264 clip for the media CLI and API tests (written with PyAV)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

RATE, FRAMES, CUT = 25, 40, 20  # two shots: [0, 0.8 s) and [0.8 s, 1.6 s)
COLOURS = ((220, 40, 40), (20, 40, 110), (40, 170, 60))


def write_clip(path: Path, cut: int = CUT, frames: int = FRAMES, shade: int = 0) -> Path:
    """A 160x96 H.264 clip: a solid colour per shot and a moving square in every frame;
    ``shade`` shifts the colours so two clips have different bytes."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for i in range(frames):
            image = np.zeros((96, 160, 3), np.uint8)
            image[:] = COLOURS[(shade + (i >= cut)) % len(COLOURS)]
            image[8:24, i * 3 % 144:i * 3 % 144 + 16] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path
