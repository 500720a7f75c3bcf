"""Where the shared test data lives, and what a test that needs it says when it is absent."""

from __future__ import annotations

from pathlib import Path

# tests/support/shared_data.py -> the checkout -> the folder beside it
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def missing(what: Path) -> str:
    """A skip reason that says what ``../shared/data`` is and how to get it."""
    return (f"{what} is missing: these tests read ../shared/data beside the checkout "
            "(MovieLens ml-latest-small and ml-100k from GroupLens, and twelve openly "
            "licensed short videos); copy the team's shared data folder there (its README.md "
            "gives each file's source and sha256), see 'Test data' in README.md")
