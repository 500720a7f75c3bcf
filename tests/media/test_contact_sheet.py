"""Contact sheets: grid geometry, labels, atomic PNG writes, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reelgraph.core.errors import InvalidInput
from reelgraph.media import contact_sheet
from reelgraph.media.contact_sheet import (
    GAP,
    LABEL_HEIGHT,
    MARGIN,
    TITLE_HEIGHT,
    format_time_range,
    format_timestamp,
    render_contact_sheet,
)

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]


def solid(colour: tuple[int, int, int], height: int = 90, width: int = 160) -> np.ndarray:
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = colour
    return frame


def shots(count: int = 5) -> list[tuple[np.ndarray, int, int]]:
    return [(solid(COLOURS[i % len(COLOURS)]), i * 2_000_000_000, (i + 1) * 2_000_000_000)
            for i in range(count)]


def test_sheet_is_a_png_grid_of_the_documented_size(tmp_path: Path) -> None:
    target = tmp_path / "sheets" / "film.png"
    sheet = render_contact_sheet(shots(5), target, title="Film — shots", columns=3,
                                 thumb_width=160)

    assert (sheet.columns, sheet.rows) == (3, 2)
    box_height = 90  # 160 wide at the first thumbnail's 16:9
    assert sheet.width == 2 * MARGIN + 3 * 160 + 2 * GAP
    assert sheet.height == 2 * MARGIN + TITLE_HEIGHT + 2 * (box_height + LABEL_HEIGHT) + GAP
    with Image.open(target) as image:
        assert image.format == "PNG"
        assert image.size == (sheet.width, sheet.height)
        pixels = np.asarray(image.convert("RGB"))
    assert len(sheet.cells) == 5
    for (left, top, right, bottom), colour in zip(sheet.cells, COLOURS, strict=True):
        assert (right - left, bottom - top) == (160, box_height)
        centre = pixels[(top + bottom) // 2, (left + right) // 2]
        assert np.abs(centre.astype(int) - colour).max() <= 2
    # Row-major order: the fourth shot starts the second row under the first.
    assert sheet.cells[3][0] == sheet.cells[0][0] and sheet.cells[3][1] > sheet.cells[0][3]
    # Labels are drawn: the band under the first thumbnail is not all background.
    left, _, right, bottom = sheet.cells[0]
    label = pixels[bottom:bottom + LABEL_HEIGHT, left:right]
    assert (label != contact_sheet.BACKGROUND).any()
    assert [p.name for p in target.parent.iterdir()] == ["film.png"]  # no temporary left


def test_thumbnails_keep_their_aspect_ratio_inside_the_box(tmp_path: Path) -> None:
    sheet = render_contact_sheet(
        [(solid(COLOURS[0]), 0, 1), (solid(COLOURS[1], 100, 100), 1, 2)],
        tmp_path / "mixed.png", thumb_width=160,
    )
    assert (sheet.columns, sheet.rows) == (2, 1)
    left, top, right, bottom = sheet.cells[1]
    assert (right - left, bottom - top) == (90, 90)  # a square fitted into 160x90
    assert sheet.height == 2 * MARGIN + 90 + LABEL_HEIGHT  # no title band


def test_a_rewrite_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "sheet.png"
    render_contact_sheet(shots(1), target)
    first = target.stat().st_ino
    render_contact_sheet(shots(4), target, columns=2)
    with Image.open(target) as image:
        box_height = 135  # 240 wide at 16:9
        assert image.size == (2 * MARGIN + 2 * 240 + GAP,
                              2 * MARGIN + 2 * (box_height + LABEL_HEIGHT) + GAP)
    assert target.stat().st_ino != first  # a rename, not an overwrite in place


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        render_contact_sheet(shots(2), tmp_path / "sheet.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "00:00.000"),
        (1_250_000_000, "00:01.250"),
        (61_999_999_999, "01:01.999"),
        (3_723_004_000_000, "1:02:03.004"),
    ],
)
def test_timestamps(ns: int, text: str) -> None:
    assert format_timestamp(ns) == text


def test_time_range() -> None:
    assert format_time_range(1_250_000_000, 3_000_000_000) == "00:01.250–00:03.000"


@pytest.mark.parametrize(
    ("bad_shots", "problem"),
    [
        ([], "at least one shot"),
        ([(solid(COLOURS[0]), 0)], "not a \\(thumbnail, start_ns, end_ns\\) triple"),
        ([(solid(COLOURS[0]).astype(np.float32), 0, 1)], "float32 array of shape"),
        ([(np.zeros((9, 16), np.uint8), 0, 1)], r"shape \(9, 16\)"),
        ([("thumb.png", 0, 1)], "thumbnail is a str"),
        ([(solid(COLOURS[0]), -1, 1)], "start_ns is -1"),
        ([(solid(COLOURS[0]), 0, 1.5)], "end_ns is 1.5"),
        ([(solid(COLOURS[0]), 5, 1)], "ends \\(1 ns\\) before it starts \\(5 ns\\)"),
    ],
)
def test_bad_shots_raise_invalid_input(tmp_path: Path, bad_shots: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        render_contact_sheet(bad_shots, tmp_path / "sheet.png")
    assert "Fix:" in str(caught.value)
    assert not (tmp_path / "sheet.png").exists()


def test_bad_options_raise_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="PNG files"):
        render_contact_sheet(shots(1), tmp_path / "sheet.jpg")
    with pytest.raises(InvalidInput, match="columns=0"):
        render_contact_sheet(shots(1), tmp_path / "sheet.png", columns=0)
    with pytest.raises(InvalidInput, match="thumb_width=20"):
        render_contact_sheet(shots(1), tmp_path / "sheet.png", thumb_width=20)
