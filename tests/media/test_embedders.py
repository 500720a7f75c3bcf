"""Frame embedders on synthetic frames (no video needed), plus one check on a real clip."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core import Settings
from reelgraph.core.errors import InvalidInput
from reelgraph.media.embedders import (
    EMBEDDER_NAMES,
    ClipEmbedder,
    EmbedderUnavailable,
    FrameEmbedder,
    FramingEmbedder,
    MotionEmbedder,
    check_frames,
    embed_shot,
    embedder,
)

BIKES = Path(__file__).resolve().parents[3] / "shared" / "data" / "video" / "bikes.mp4"


def scene(height: int = 90, width: int = 160) -> np.ndarray:
    """Sky, ground, and a yellow block on the left third."""
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = (40, 60, 90)
    frame[height * 2 // 3:, :] = (30, 120, 40)
    frame[height // 5:height * 3 // 4, width // 10:width * 2 // 5] = (220, 180, 40)
    return frame


def brighter(frame: np.ndarray, amount: int = 25) -> np.ndarray:
    return np.clip(frame.astype(np.int16) + amount, 0, 255).astype(np.uint8)


def texture(height: int = 120, width: int = 400, seed: int = 1) -> np.ndarray:
    """A smooth random grey pattern, so optical flow has something to track."""
    import cv2

    coarse = np.random.default_rng(seed).integers(0, 256, (height // 6, width // 6), np.uint8)
    grey = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.repeat(grey[:, :, np.newaxis], 3, axis=2)


def panning(step: int, count: int = 4, width: int = 200, seed: int = 1) -> list[np.ndarray]:
    """A window sliding over a texture; the content moves by ``step`` pixels per frame."""
    pattern = texture(seed=seed)
    start = 100
    return [np.ascontiguousarray(pattern[:, start - step * i:start - step * i + width])
            for i in range(count)]


# --- framing -------------------------------------------------------------------------------


def test_framing_rows_are_unit_float32_of_the_declared_dim() -> None:
    framing = FramingEmbedder()
    rows = framing.embed([scene(), scene(120, 120), scene()[:, ::-1]])
    assert rows.shape == (3, framing.dim)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert isinstance(framing, FrameEmbedder)


def test_framing_is_deterministic() -> None:
    frames = [scene(), brighter(scene())]
    first = FramingEmbedder().embed(frames)
    assert FramingEmbedder().embed(frames).tobytes() == first.tobytes()  # same call, same bytes
    # a list or one stacked array: the same numbers (summation order may differ in the ulp)
    np.testing.assert_allclose(FramingEmbedder().embed(np.stack(frames)), first, atol=1e-6)


def test_framing_ranks_the_same_composition_above_a_different_one() -> None:
    original, lit, mirrored = FramingEmbedder().embed(
        [scene(), brighter(scene()), np.ascontiguousarray(scene()[:, ::-1])]
    )
    assert original @ lit > 0.98
    assert original @ lit > original @ mirrored + 0.3


def test_featureless_frames_are_alike_not_zero() -> None:
    black = np.zeros((40, 60, 3), dtype=np.uint8)
    rows = FramingEmbedder().embed([black, black + 2])
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert rows[0] @ rows[1] > 0.99


# --- motion --------------------------------------------------------------------------------


def direction_histogram(vector: np.ndarray) -> np.ndarray:
    return vector[:8]


def test_motion_tells_still_from_moving_and_right_from_left() -> None:
    motion = MotionEmbedder()
    still = embed_shot(motion, panning(0))
    right = embed_shot(motion, panning(4))
    left = embed_shot(motion, panning(-4))

    assert np.abs(direction_histogram(still)).max() < 0.01
    assert np.argmax(direction_histogram(right)) == 0  # bin 0: rightwards
    assert np.argmax(direction_histogram(left)) == 4  # bin 4: leftwards
    hist_right, hist_left = direction_histogram(right), direction_histogram(left)
    assert hist_right @ hist_left < 0.01 * np.linalg.norm(hist_right) * np.linalg.norm(hist_left)

    right_elsewhere = embed_shot(motion, panning(4, seed=2))
    assert right @ right_elsewhere > 0.95
    assert right @ left < 0.5 and right @ still < 0.6 and left @ still < 0.6


def test_motion_rows_shape_and_single_frame_is_zero_motion() -> None:
    motion = MotionEmbedder()
    rows = motion.embed(panning(3, count=5))
    assert rows.shape == (5, motion.dim) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)

    single = motion.embed([texture()])
    expected = np.zeros((1, motion.dim), dtype=np.float32)
    expected[0, -1] = 1.0
    np.testing.assert_array_equal(single, expected)


# --- shots, registry, validation ----------------------------------------------------------


def test_embed_shot_is_the_normalised_mean() -> None:
    framing = FramingEmbedder()
    frames = [scene(), brighter(scene(), 60), np.ascontiguousarray(scene()[::-1])]
    shot = embed_shot(framing, frames)
    mean = framing.embed(frames).mean(axis=0)
    assert shot.shape == (framing.dim,) and shot.dtype == np.float32
    np.testing.assert_allclose(shot, mean / np.linalg.norm(mean), atol=1e-6)


def test_embed_shot_refuses_an_embedder_that_breaks_the_contract() -> None:
    class Broken:
        name = "broken"
        version = "0"
        dim = 4

        def embed(self, frames: Any) -> np.ndarray:
            return np.zeros((1, 3), dtype=np.float64)

    with pytest.raises(InvalidInput, match=r"expected float32 rows of shape \(2, 4\)"):
        embed_shot(Broken(), [scene(), scene()])


def test_registry_builds_by_name_and_lists_the_known_names() -> None:
    assert EMBEDDER_NAMES == ("framing", "motion", "clip")
    assert isinstance(embedder("framing"), FramingEmbedder)
    assert isinstance(embedder("motion"), MotionEmbedder)
    with pytest.raises(InvalidInput) as caught:
        embedder("resnet")
    assert "unknown embedder 'resnet'" in str(caught.value)
    assert "framing, motion, clip" in str(caught.value)
    with pytest.raises(InvalidInput, match="does not take the option"):
        embedder("framing", grid=32)


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        ([], "no frames"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        ([np.zeros((8, 8, 3), np.float32)], "dtype float32, expected uint8"),
        ([np.zeros((8, 8), np.uint8)], r"shape \(8, 8\), expected \(H, W, 3\)"),
        ([np.zeros((8, 8, 4), np.uint8)], r"shape \(8, 8, 4\)"),
        ([np.zeros((0, 8, 3), np.uint8)], r"shape \(0, 8, 3\)"),
        (np.zeros((8, 8, 3), np.uint8), "pass \\[frame\\] for a single frame"),
        ([[1, 2, 3]], "frame 0 is a list"),
        ("frames.mp4", "got str"),
    ],
)
@pytest.mark.parametrize("name", ["framing", "motion"])
def test_bad_frames_raise_invalid_input(name: str, frames: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        embedder(name).embed(frames)
    assert "Fix:" in str(caught.value)


def test_check_frames_returns_contiguous_frames() -> None:
    mirrored = scene()[:, ::-1]
    (checked,) = check_frames([mirrored])
    assert checked.flags.c_contiguous
    np.testing.assert_array_equal(checked, mirrored)


# --- clip ----------------------------------------------------------------------------------


@pytest.fixture
def no_clip_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("REELGRAPH_CLIP_WEIGHTS", raising=False)
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path / "not-this-home"))
    return tmp_path / "home" / "models" / "clip" / "ViT-B-32.pt"


def given_home(weights: Path) -> Settings:
    """Settings whose home holds (or would hold) ``weights``, as a workspace hands over."""
    return Settings(home=weights.parents[2])


def test_clip_without_open_clip_says_how_to_provide_it(
    monkeypatch: pytest.MonkeyPatch, no_clip_weights: Path
) -> None:
    monkeypatch.setitem(sys.modules, "open_clip", None)  # importing it now fails
    with pytest.raises(EmbedderUnavailable) as caught:
        embedder("clip", settings=given_home(no_clip_weights))
    message = str(caught.value)
    assert "'open_clip_torch' is not installed" in message
    assert "pip install open_clip_torch" in message
    assert str(no_clip_weights) in message
    assert "REELGRAPH_CLIP_WEIGHTS" in message


def fake_open_clip(loaded: list[str]) -> types.ModuleType:
    """Enough of open_clip's surface for ClipEmbedder: a tiny model over mean colours."""
    import torch

    class Visual:
        output_dim = 3

    class Model:
        visual = Visual()

        def eval(self) -> Model:
            return self

        def encode_image(self, batch: torch.Tensor) -> torch.Tensor:
            return batch.mean(dim=(2, 3)) + 0.01

    def preprocess(image: Any) -> torch.Tensor:
        return torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1) / 255

    def create_model_and_transforms(name: str, pretrained: str, device: str) -> tuple[Any, ...]:
        loaded.append(pretrained)
        return Model(), None, preprocess

    module = types.ModuleType("open_clip")
    module.create_model_and_transforms = create_model_and_transforms  # type: ignore[attr-defined]
    return module


def test_clip_without_weights_says_where_to_put_them(
    monkeypatch: pytest.MonkeyPatch, no_clip_weights: Path
) -> None:
    monkeypatch.setitem(sys.modules, "open_clip", fake_open_clip([]))
    with pytest.raises(EmbedderUnavailable) as caught:
        embedder("clip", settings=given_home(no_clip_weights))
    message = str(caught.value)
    assert f"no ViT-B-32 weights file at {no_clip_weights}" in message
    assert "REELGRAPH_CLIP_WEIGHTS=/path/to/weights.pt" in message


def test_clip_reads_weights_from_the_home_it_is_given_not_the_environment(
    monkeypatch: pytest.MonkeyPatch, no_clip_weights: Path
) -> None:
    loaded: list[str] = []
    monkeypatch.setitem(sys.modules, "open_clip", fake_open_clip(loaded))
    no_clip_weights.parent.mkdir(parents=True)
    no_clip_weights.write_bytes(b"not really weights")
    clip = embedder("clip", settings=given_home(no_clip_weights))
    assert isinstance(clip, ClipEmbedder)
    assert loaded == [str(no_clip_weights)] and clip.weights == no_clip_weights
    with pytest.raises(InvalidInput) as caught:  # no settings: it does not load its own
        embedder("clip")
    assert "no weights file and no settings" in str(caught.value)
    assert "settings=ws.settings" in caught.value.fix


def test_clip_with_local_weights_embeds_in_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    weights = tmp_path / "clip.pt"
    weights.write_bytes(b"not really weights")
    monkeypatch.setenv("REELGRAPH_CLIP_WEIGHTS", str(weights))
    loaded: list[str] = []
    monkeypatch.setitem(sys.modules, "open_clip", fake_open_clip(loaded))

    clip = embedder("clip", batch_size=2)
    assert isinstance(clip, ClipEmbedder)
    assert loaded == [str(weights)]
    assert clip.dim == 3 and clip.version.startswith("ViT-B-32-")
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    rows = clip.embed([red, red, scene()])
    assert rows.shape == (3, 3) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.argmax(rows[0]) == 0


# --- a real clip ---------------------------------------------------------------------------


@pytest.mark.skipif(not BIKES.exists(), reason=f"no sample clip at {BIKES}")
def test_framing_on_a_real_clip_keeps_neighbouring_frames_close() -> None:
    import av

    wanted = {*range(5), *range(200, 205)}  # no cut inside either run of frames
    frames: dict[int, np.ndarray] = {}
    with av.open(str(BIKES)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                frames[index] = frame.to_ndarray(format="rgb24")
            if index >= max(wanted):
                break
    rows = dict(zip(sorted(frames), FramingEmbedder().embed([frames[i] for i in sorted(frames)]),
                    strict=True))
    near = [rows[i] @ rows[i + 1] for run in (0, 200) for i in range(run, run + 4)]
    far = [rows[i] @ rows[j] for i in range(5) for j in range(200, 205)]
    assert min(near) > max(far)
