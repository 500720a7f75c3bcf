from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from reelgraph.core import InvalidInput, Settings, now_us, parse_time, to_us
from reelgraph.core.urls import backend_for


def test_settings_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    (tmp_path / "reelgraph.toml").write_text('api_token = "from-file"\nopen_reads = false\n')
    settings = Settings.load()
    assert settings.api_token == "from-file" and settings.open_reads is False
    assert settings.metadata_url == f"sqlite:///{tmp_path / 'reelgraph.db'}"
    monkeypatch.setenv("REELGRAPH_API_TOKEN", "from-env")
    monkeypatch.setenv("REELGRAPH_OPEN_READS", "yes")
    settings = Settings.load()
    assert (settings.api_token, settings.open_reads) == ("from-env", True)
    assert Settings.load(database_url="postgresql://x/y").metadata_url == "postgresql://x/y"


def test_bad_settings_name_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    (tmp_path / "reelgraph.toml").write_text("api_token = \n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        Settings.load()
    (tmp_path / "reelgraph.toml").write_text('colour = "blue"\n')
    with pytest.raises(InvalidInput, match="unknown setting"):
        Settings.load()


def test_clock_is_strictly_increasing_and_times_need_zones() -> None:
    stamps = [now_us() for _ in range(1000)]
    assert stamps == sorted(set(stamps))
    assert to_us(parse_time("2026-11-23T10:00:00Z")) == 1795428000000000
    with pytest.raises(InvalidInput, match="no time zone"):
        parse_time("2026-11-23T10:00:00")
    with pytest.raises(InvalidInput, match="not an ISO-8601"):
        parse_time("yesterday")
    with pytest.raises(InvalidInput):
        to_us(datetime(2026, 1, 1))


def test_unknown_url_scheme_names_the_choices() -> None:
    with pytest.raises(InvalidInput, match="sqlite://"):
        backend_for("metadata", "mysql://localhost/db")


def test_home_override_reads_its_own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.delenv("REELGRAPH_HOME", raising=False)
    (tmp_path / "reelgraph.toml").write_text('api_token = "here"\n')
    settings = Settings.load(home=str(tmp_path))
    assert (settings.home, settings.api_token) == (tmp_path, "here")


def test_a_numeric_token_or_a_bad_limit_is_refused_at_load(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Issue 16, item 8: `api_token = 12345` loaded, then every write answered 500."""
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    (tmp_path / "reelgraph.toml").write_text("api_token = 12345\n")
    with pytest.raises(InvalidInput, match='api_token = "12345"'):
        Settings.load()
    (tmp_path / "reelgraph.toml").write_text("max_body_bytes = -1\n")
    with pytest.raises(InvalidInput, match="positive"):
        Settings.load()
    for bad in ("-0.1", "nan", "inf", "soon"):  # a queue bound may be 0 (no queue), no less
        (tmp_path / "reelgraph.toml").write_text(f'max_queue_seconds = "{bad}"\n')
        with pytest.raises(InvalidInput, match="max_queue_seconds must be 0 or a positive"):
            Settings.load()
    (tmp_path / "reelgraph.toml").write_text("max_queue_seconds = 0\n")
    assert Settings.load().max_queue_seconds == 0
    (tmp_path / "reelgraph.toml").write_text(
        'media_roots = ["/data/video", "s3://bucket/raw/"]\nmax_in_flight = 8\n')
    loaded = Settings.load()
    assert loaded.media_roots == ("/data/video", "s3://bucket/raw/")
    assert loaded.max_in_flight == 8
    monkeypatch.setenv("REELGRAPH_MEDIA_ROOTS", "/a, /b")
    monkeypatch.setenv("REELGRAPH_MAX_READ_SECONDS", "2.5")
    monkeypatch.setenv("REELGRAPH_ONLINE_URL", "redis://127.0.0.1:6379/0")
    loaded = Settings.load()
    assert (loaded.media_roots, loaded.max_read_seconds) == (("/a", "/b"), 2.5)
    assert loaded.online_url == "redis://127.0.0.1:6379/0"


def test_errors_never_carry_a_password() -> None:
    from reelgraph.core import ReelgraphError
    from reelgraph.core.secrets import mask

    error = ReelgraphError("postgresql://bob:s3cr%40t@db:5432/x refused",
                           "check redis://:hunter2@cache:6379/0 and password=pw1 host=h")
    text = f"{error} {error.to_dict()}"
    for secret in ("s3cr%40t", "hunter2", "pw1"):
        assert secret not in text
    assert "postgresql://bob:***@db:5432/x" in text
    assert mask("http://host/path") == "http://host/path"
