"""One ``Settings`` object, read from the environment and ``$REELGRAPH_HOME/reelgraph.toml``.

Every default is written here once. Environment variables win over the file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from reelgraph.core.errors import InvalidInput


def _default_home() -> Path:
    return Path(os.environ.get("REELGRAPH_HOME", Path.home() / ".reelgraph")).expanduser()


@dataclass(frozen=True)
class Settings:
    """Every setting of the platform, from defaults, ``$REELGRAPH_HOME/reelgraph.toml`` and
    ``REELGRAPH_*`` variables (``Settings.load``)."""
    home: Path = field(default_factory=_default_home)
    # Empty means the embedded SQLite file under ``home``.
    database_url: str = ""
    # Bearer token that write endpoints require; empty means writes are refused over HTTP.
    api_token: str = ""
    # Whether read endpoints answer without a token.
    open_reads: bool = True
    # Empty means the directory ``home/artifacts``; otherwise any fsspec URL (s3://...).
    artifact_url: str = ""
    # Where flows run unless a run says otherwise: "local" or "ray".
    executor: str = "local"
    # Ray cluster address; empty starts a local Ray instance.
    ray_address: str = ""
    # The online feature store: empty means SQLite under ``home``; or redis://host:port/db.
    online_url: str = ""
    # Where the API may register media from: directories and URL prefixes (s3://bucket/dir/).
    # Empty refuses every registration over HTTP (the CLI, run by a local user, is not bound).
    media_roots: tuple[str, ...] = ()
    # The largest request body the API reads, in bytes (413 past it).
    max_body_bytes: int = 8 * 1024 * 1024
    # Requests one server process works on at once (its threads share one GIL: more only
    # slows each; api/admission.py). The rest wait in a queue bounded by time:
    max_in_flight: int = 8
    # Seconds a request may wait for one of those; past it (or while the queue stands), 503
    # with Retry-After. 0: no queue, refused at once when every slot is taken.
    max_queue_seconds: float = 0.25
    # Seconds an expensive read (decoding frames) may run before it stops and says so.
    max_read_seconds: float = 30.0

    @property
    def metadata_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'reelgraph.db'}"

    @property
    def artifacts(self) -> str:
        return self.artifact_url or str(self.home / "artifacts")

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        base = cls()
        if overrides.get("home") is not None:  # the config file lives in the chosen home
            base = replace(base, home=Path(overrides["home"]).expanduser())
        values: dict[str, Any] = {}
        config = base.home / "reelgraph.toml"
        if config.exists():
            try:
                values.update(tomllib.loads(config.read_text()))
            except tomllib.TOMLDecodeError as exc:
                raise InvalidInput(
                    f"{config} is not valid TOML ({exc})", f"correct or remove {config}"
                ) from None
        for f in fields(cls):
            env = os.environ.get(f"REELGRAPH_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidInput(
                f"unknown setting(s) {sorted(unknown)}",
                f"use only {[f.name for f in fields(cls)]}",
            )
        return replace(base, **{k: _coerce(k, v) for k, v in values.items()})


_NUMBERS: dict[str, type[int] | type[float]] = {
    "max_body_bytes": int, "max_in_flight": int, "max_read_seconds": float,
    "max_queue_seconds": float}
_ZERO_ALLOWED = {"max_queue_seconds"}


def _coerce(name: str, value: Any) -> Any:
    if name == "home":
        return Path(value).expanduser()
    if name == "open_reads" and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if name == "media_roots":
        return _roots(value)
    if name in _NUMBERS:
        return _positive(name, value, _NUMBERS[name], zero=name in _ZERO_ALLOWED)
    if name in _TEXT and not isinstance(value, str):
        # A TOML number (api_token = 12345) would fail every request that uses it.
        raise InvalidInput(f"the setting {name} is {type(value).__name__} {value!r}, not text",
                           f'quote it in reelgraph.toml: {name} = "{value}"')
    return value


_TEXT = {"database_url", "api_token", "artifact_url", "executor", "ray_address", "online_url"}


def _roots(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise InvalidInput(f"media_roots must be a list of paths or URL prefixes, not {value!r}",
                           'write media_roots = ["/data/video", "s3://bucket/raw/"] '
                           "(REELGRAPH_MEDIA_ROOTS: comma-separated)")
    return tuple(i.strip() for i in items if i.strip())


def _positive(name: str, value: Any, kind: type[int] | type[float], zero: bool = False
              ) -> int | float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = -1
    least_ok = number >= 0 if zero else number > 0
    if isinstance(value, bool) or not least_ok or not number < float("inf"):
        what = "0 or a positive number" if zero else "a positive number"
        raise InvalidInput(f"the setting {name} must be {what}, not {value!r}",
                           f"set {name} to {what}")
    return number


def home_folder(settings: Settings | None, *parts: str) -> Path:
    """A folder under the home directory of ``settings``: the default of a store given no
    folder. Services never load settings themselves; the caller hands over the workspace's."""
    if settings is None:
        raise InvalidInput(f"no folder given for {'/'.join(parts)} and no settings to find it",
                           "pass the folder, or the workspace's settings (ws.settings)")
    return settings.home.joinpath(*parts)
