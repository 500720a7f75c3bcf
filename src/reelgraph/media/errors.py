"""The media package's one error: a file that cannot be read as media."""

from __future__ import annotations

from reelgraph.core import InvalidInput


class MediaError(InvalidInput):
    """A media file is damaged, truncated, empty or in a format/codec this build cannot read.

    The message names the file and the reason; the fix says what to do about it.
    """
