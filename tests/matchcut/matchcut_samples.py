"""A synthetic controlled set for match cutting, written with PyAV: titles whose true
frame and motion matches are known.

Each title is one clip of ``SHOTS`` shots. A shot shows a scene (its own background
colour and blurred random texture, different in every shot of every title) and one subject
(an ellipse with a texture of its own). Two things are assigned per shot, independently:

- a composition (subject position and size, one of ``COMPOSITIONS``): shots of different
  titles with the same composition are true frame matches;
- a motion (camera pan and subject movement, one of ``MOTIONS``): shots of different titles
  with the same motion are true motion matches.

Within a title every shot has a different composition and a different motion, so a shot's
true partners are all in other titles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, RATE = 192, 108, 25
SHOT_FRAMES = 20  # 0.8 s: longer than the shortest shot kept (0.5 s)
SHOTS = 8
# (centre x, centre y, half width, half height) as fractions of the frame
COMPOSITIONS = [(0.25, 0.35, 0.12, 0.22), (0.72, 0.4, 0.1, 0.25), (0.5, 0.5, 0.22, 0.3),
                (0.3, 0.72, 0.16, 0.12), (0.78, 0.75, 0.14, 0.14), (0.5, 0.25, 0.3, 0.1),
                (0.15, 0.6, 0.08, 0.3), (0.62, 0.6, 0.08, 0.08)]
# (camera dx, dy, subject dx, dy) in pixels per frame; the camera pans the background
MOTIONS = [(0, 0, 1.0, 0), (0, 0, 0, 0.8), (-1.2, 0, 0, 0), (0, -1.0, 0, 0),
           (0, 0, -1.0, 0), (1.2, 0, 0, 0.8), (0, 0, 0, 0), (0, 1.0, 1.0, 0)]


@dataclass(frozen=True)
class ControlledShot:
    title: int
    index: int
    composition: int
    motion: int


def layout(titles: int) -> list[ControlledShot]:
    return [ControlledShot(t, s, (s + t) % len(COMPOSITIONS), (s + 3 * t) % len(MOTIONS))
            for t in range(titles) for s in range(SHOTS)]


def _texture(rng: np.random.Generator, height: int, width: int, amplitude: float
             ) -> np.ndarray:
    noise = rng.normal(0, 1, (height, width)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 3)  # type: ignore[assignment]
    return noise / (noise.std() + 1e-6) * amplitude


def _shot_frames(shot: ControlledShot, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, shot.title, shot.index])
    margin = 60  # room for the background to pan
    # Neighbouring shots get far-apart hues, so every cut is a clear one.
    hue = (shot.index * 67 + shot.title * 23 + int(rng.integers(0, 10))) % 180
    value = 70 + 40 * (shot.index % 2)
    base = cv2.cvtColor(np.array([[[hue, 200, value]]], np.uint8),
                        cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
    background = base + _texture(rng, HEIGHT + 2 * margin, WIDTH + 2 * margin, 18)[..., None]
    colour = rng.uniform(170, 250, 3).astype(np.float32)
    skin = _texture(rng, HEIGHT, WIDTH, 12)
    cx, cy, hw, hh = COMPOSITIONS[shot.composition]
    cam_x, cam_y, sub_x, sub_y = MOTIONS[shot.motion]
    frames = []
    for f in range(SHOT_FRAMES):
        t = f - SHOT_FRAMES / 2
        ox, oy = int(margin + cam_x * t), int(margin + cam_y * t)
        image = background[oy:oy + HEIGHT, ox:ox + WIDTH].copy()
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        centre = (int(cx * WIDTH + sub_x * t), int(cy * HEIGHT + sub_y * t))
        cv2.ellipse(mask, centre, (int(hw * WIDTH), int(hh * HEIGHT)), 0, 0, 360, 1, -1)
        shift = np.roll(skin, (int(sub_y * t), int(sub_x * t)), axis=(0, 1))
        subject = colour[None, None, :] + shift[..., None]
        image = np.where(mask[..., None] > 0, subject, image)
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def write_title(path: Path, shots: list[ControlledShot], seed: int = 0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for shot in shots:
            for image in _shot_frames(shot, seed):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def write_set(folder: Path, titles: int, seed: int = 0) -> tuple[list[Path],
                                                                  list[ControlledShot]]:
    shots = layout(titles)
    paths = [write_title(folder / f"controlled-{t}.mp4",
                         [s for s in shots if s.title == t], seed) for t in range(titles)]
    return paths, shots


def write_audio_only(path: Path) -> Path:
    """Half a second of a 440 Hz tone and no video stream: a title with no shots."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 44100) * 0.2).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        frame.sample_rate = 44100
        for packet in stream.encode(frame):
            container.mux(packet)
        container.mux(stream.encode(None))
    return path
