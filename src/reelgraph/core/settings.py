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


def _coerce(name: str, value: Any) -> Any:
    if name == "home":
        return Path(value).expanduser()
    if name == "open_reads" and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value
