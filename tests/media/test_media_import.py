"""Importing the media package loads none of its heavy libraries; they load on first use."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("av", "cv2", "scenedetect", "torch")


def test_importing_media_loads_no_decoder_or_detector() -> None:
    code = ("import sys, reelgraph.media\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
