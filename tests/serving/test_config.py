"""The serving configuration: defaults, TOML, and clear errors for bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.core import Settings
from reelgraph.core.errors import InvalidInput
from reelgraph.serving import NEARLINE, ONLINE, ServingConfig


def test_defaults_host_search_and_related_online_the_rest_nearline() -> None:
    config = ServingConfig()
    assert config.canvases_in(ONLINE) == ("related", "search")
    assert config.canvases_in(NEARLINE) == ("category", "notifications")


def test_read_from_the_home_toml(tmp_path: Path) -> None:
    (tmp_path / "serving.toml").write_text(
        'max_age_s = 60\n[environments]\nnotifications = "batch"\n', encoding="utf-8")
    config = ServingConfig.load(Settings(home=tmp_path))
    assert config.max_age_s == 60
    assert config.environment("notifications") == "batch"
    assert config.environment("category") == NEARLINE  # defaults fill the rest


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert ServingConfig.load(Settings(home=tmp_path)) == ServingConfig()


@pytest.mark.parametrize(("text", "named"), [
    ('[environments]\nsearch = "nearline"\n', "search cannot be precomputed"),
    ('[environments]\nrelated = "edge"\n', "unknown environment 'edge'"),
    ('[environments]\nhomepage = "online"\n', "unknown canvas 'homepage'"),
    ("max_age = 5\n", "unknown setting(s) max_age"),
    ("nearline_k = 1000\n", "nearline_k=1000 is out of range"),
    ("max_age_s = 0\n", "must be positive"),
    ("max_age_s = [\n", "is not valid TOML"),
])
def test_bad_settings_name_the_problem(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "serving.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        ServingConfig.load(Settings(home=tmp_path))
    assert named in raised.value.problem
