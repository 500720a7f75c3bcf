"""Contact sheets: one thumbnail per shot in a grid, its time range underneath, as a PNG.

The layout is fixed by the numbers below and the thumbnail width, never by the font, so a
sheet's size is known in advance (``ContactSheet.cells`` says where each shot landed).
Each thumbnail keeps its aspect ratio inside a box whose aspect is the first shot's, centred
on a dark background. The PNG is written atomically: a temporary file in the target's
directory, then one rename, so a reader never sees half a sheet. Times are nanoseconds from
the start of the media and are printed as ``MM:SS.mmm`` (``H:MM:SS.mmm`` from one hour on),
truncated to the millisecond.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from reelgraph.core import InvalidInput, write_atomic

MARGIN = 16  # pixels around the grid
GAP = 12  # pixels between cells
TITLE_HEIGHT = 36  # pixels for the title band (0 when there is no title)
LABEL_HEIGHT = 22  # pixels for the time range under each thumbnail
FONT_SIZE = 14
# Narrower boxes than this would let a time range overlap its neighbours.
MIN_THUMB_WIDTH = 160
MAX_THUMB_WIDTH = 4096
TITLE_FONT_SIZE = 20
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)
# A font with the en dash used in time ranges; Pillow's bundled font lacks it.
_FONT_FILES = ("DejaVuSans.ttf",)


@dataclass(frozen=True)
class ContactSheet:
    """A written sheet: where it is, its grid, its size, and each shot's thumbnail box."""

    path: Path
    columns: int
    rows: int
    width: int
    height: int
    cells: tuple[tuple[int, int, int, int], ...]  # (left, top, right, bottom) per shot


def format_timestamp(ns: int) -> str:
    """``MM:SS.mmm`` (or ``H:MM:SS.mmm`` from one hour on) for ``ns`` nanoseconds, truncated."""
    total_ms = ns // 1_000_000
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{minutes:02d}:{seconds:02d}.{millis:03d}"


def format_time_range(start_ns: int, end_ns: int, separator: str = "–") -> str:
    """E.g. ``00:01.250–00:03.000``."""
    return f"{format_timestamp(start_ns)}{separator}{format_timestamp(end_ns)}"


def _check_shots(shots: Sequence[tuple[npt.NDArray[np.uint8], int, int]]) -> None:
    if len(shots) == 0:
        raise InvalidInput("a contact sheet needs at least one shot", "pass one or more shots")
    for index, shot in enumerate(shots):
        if not isinstance(shot, tuple | list) or len(shot) != 3:
            raise InvalidInput(
                f"shot {index} is not a (thumbnail, start_ns, end_ns) triple",
                "pass a list of (RGB uint8 array, start_ns, end_ns) tuples",
            )
        frame, start_ns, end_ns = shot
        if (not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3
                or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1):
            described = (f"a {frame.dtype} array of shape {frame.shape}"
                         if isinstance(frame, np.ndarray) else f"a {type(frame).__name__}")
            raise InvalidInput(
                f"shot {index}'s thumbnail is {described}, expected an RGB uint8 (H, W, 3) array",
                "pass frames as decoded RGB arrays (e.g. frame.to_ndarray(format='rgb24'))",
            )
        for label, value in (("start_ns", start_ns), ("end_ns", end_ns)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise InvalidInput(
                    f"shot {index}'s {label} is {value!r}, expected nanoseconds as an int >= 0",
                    "pass times as integer nanoseconds from the start of the media",
                )
        if end_ns < start_ns:
            raise InvalidInput(
                f"shot {index} ends ({end_ns} ns) before it starts ({start_ns} ns)",
                "pass (thumbnail, start_ns, end_ns) with start_ns <= end_ns",
            )


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str]:
    """A font and the range separator it can draw."""
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size), "–"
        except OSError:
            continue
    return ImageFont.load_default(size), "-"


def _fit(frame: npt.NDArray[np.uint8], box: tuple[int, int]) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(frame))
    scale = min(box[0] / image.width, box[1] / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def render_contact_sheet(shots: Sequence[tuple[npt.NDArray[np.uint8], int, int]],
                         path: Path | str, *, title: str = "", columns: int = 4,
                         thumb_width: int = 240) -> ContactSheet:
    """Draw ``shots`` (thumbnail, start_ns, end_ns), in order, left to right then top to
    bottom, and write the sheet to ``path`` (a ``.png``; missing folders are created).

    The grid has ``min(columns, len(shots))`` columns; each box is ``thumb_width`` wide and
    as tall as the first thumbnail's aspect ratio makes it. Sheet size:
    width = 2*MARGIN + cols*thumb_width + (cols-1)*GAP,
    height = 2*MARGIN + (TITLE_HEIGHT if title) + rows*(box height + LABEL_HEIGHT)
    + (rows-1)*GAP. Raises ``InvalidInput`` for bad shots, options or path.
    """
    _check_shots(shots)
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InvalidInput(f"contact sheets are PNG files, got {target.name!r}",
                           "give a path ending in .png")
    if columns < 1 or not MIN_THUMB_WIDTH <= thumb_width <= MAX_THUMB_WIDTH:
        raise InvalidInput(
            f"columns={columns} and thumb_width={thumb_width} do not make a sheet",
            f"use columns >= 1 and {MIN_THUMB_WIDTH} <= thumb_width <= {MAX_THUMB_WIDTH}",
        )

    first = shots[0][0]
    box = (thumb_width, max(1, round(thumb_width * first.shape[0] / first.shape[1])))
    cols = min(columns, len(shots))
    rows = math.ceil(len(shots) / cols)
    top = MARGIN + (TITLE_HEIGHT if title else 0)
    width = 2 * MARGIN + cols * box[0] + (cols - 1) * GAP
    height = top + rows * (box[1] + LABEL_HEIGHT) + (rows - 1) * GAP + MARGIN

    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font, separator = _font(FONT_SIZE)
    if title:
        title_font, _ = _font(TITLE_FONT_SIZE)
        draw.text((MARGIN, MARGIN + TITLE_HEIGHT // 2), title, fill=TEXT, font=title_font,
                  anchor="lm")
    cells: list[tuple[int, int, int, int]] = []
    for index, (frame, start_ns, end_ns) in enumerate(shots):
        row, col = divmod(index, cols)
        left = MARGIN + col * (box[0] + GAP)
        cell_top = top + row * (box[1] + LABEL_HEIGHT + GAP)
        thumbnail = _fit(frame, box)
        x = left + (box[0] - thumbnail.width) // 2
        y = cell_top + (box[1] - thumbnail.height) // 2
        sheet.paste(thumbnail, (x, y))
        cells.append((x, y, x + thumbnail.width, y + thumbnail.height))
        label = format_time_range(int(start_ns), int(end_ns), separator)
        draw.text((left + box[0] // 2, cell_top + box[1] + LABEL_HEIGHT // 2), label,
                  fill=TEXT, font=font, anchor="mm")

    png = io.BytesIO()
    sheet.save(png, format="PNG")
    write_atomic(target, png.getvalue())
    return ContactSheet(path=target, columns=cols, rows=rows, width=width, height=height,
                        cells=tuple(cells))
