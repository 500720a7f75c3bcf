"""Redis online store: one hash per feature version, ``PREFIX:feature:<slug>``, field = key.

Batch reads are ``HMGET`` in chunks; a put is one ``MULTI``/``EXEC`` pipeline, so it is
applied whole or not at all. A staged generation waits in ``PREFIX:staged:<slug>:<write id>``
(values) and ``...:<write id>:deleted`` (keys it removes), listed in ``PREFIX:staged:<slug>``;
``publish`` moves it into the live hash with one Lua script, which Redis runs atomically.
The URL is ``redis://host:port/db``; ``?prefix=name`` sets the key prefix (default
``reelgraph``) so several deployments or tests can share one server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from reelgraph.core import ReelgraphError
from reelgraph.features.online.codec import decode, decoder, encode, value_type_of
from reelgraph.features.ports import FeatureRef

_CHUNK = 1000
# KEYS: live hash, staged values, staged deletions, the feature's list of staged ids.
_PUBLISH = """
local values = redis.call('HGETALL', KEYS[2])
for i = 1, #values, 2000 do
  redis.call('HSET', KEYS[1], unpack(values, i, math.min(i + 1999, #values)))
end
local gone = redis.call('SMEMBERS', KEYS[3])
for i = 1, #gone, 1000 do
  redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 999, #gone)))
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return #values / 2
"""


class OnlineStoreUnavailable(ReelgraphError):
    status_code = 503


class RedisOnlineStore:
    def __init__(self, url: str, prefix: str | None = None) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.prefix = prefix or query.pop("prefix", "reelgraph")
        self.url = urlunsplit(parts._replace(query=urlencode(query)))
        self._client = redis.Redis.from_url(self.url, socket_connect_timeout=3)

    def _hash(self, feature: FeatureRef) -> str:
        return f"{self.prefix}:feature:{feature.slug}"

    def _unavailable(self, exc: Exception) -> NoReturn:
        raise OnlineStoreUnavailable(
            f"the Redis online store at {self.url} did not answer ({exc})",
            "start Redis or correct the online store URL, then retry") from exc

    def put(self, feature: FeatureRef, values: dict[str, Any]) -> None:
        value_type = value_type_of(feature)
        mapping = {key: encode(feature, value_type, key, value) for key, value in values.items()}
        if not mapping:
            return
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(self._hash(feature), mapping=mapping)  # type: ignore[arg-type]
                pipe.execute()
        except redis.RedisError as exc:
            self._unavailable(exc)

    def get(self, feature: FeatureRef, keys: Sequence[str]) -> dict[str, Any]:
        value_type = value_type_of(feature)
        name = self._hash(feature)
        found: dict[str, Any] = {}
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                for key, stored in zip(chunk, self._client.hmget(name, chunk), strict=True):
                    if stored is not None:
                        found[key] = decode(value_type, stored)
        except redis.RedisError as exc:
            self._unavailable(exc)
        return found

    def read(self, features: Sequence[FeatureRef], keys: Sequence[str]
             ) -> list[dict[str, Any]]:
        """Several features of the same keys in one round trip per chunk (a pipeline)."""
        decoders = [decoder(value_type_of(f)) for f in features]
        found: list[dict[str, Any]] = [{} for _ in features]
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                with self._client.pipeline(transaction=False) as pipe:
                    for feature in features:
                        pipe.hmget(self._hash(feature), chunk)
                    answers = pipe.execute()
                for values, decode_value, stored in zip(found, decoders, answers, strict=True):
                    values.update((key, decode_value(raw))
                                  for key, raw in zip(chunk, stored, strict=True)
                                  if raw is not None)
        except redis.RedisError as exc:
            self._unavailable(exc)
        return found

    def delete(self, feature: FeatureRef, keys: Sequence[str]) -> None:
        if not keys:
            return
        try:
            self._client.hdel(self._hash(feature), *keys)
        except redis.RedisError as exc:
            self._unavailable(exc)

    def keys(self, feature: FeatureRef) -> set[str]:
        try:
            names = self._client.hkeys(self._hash(feature))
            return {key.decode() if isinstance(key, bytes) else key for key in names}
        except redis.RedisError as exc:
            self._unavailable(exc)

    def _staged_names(self, feature: FeatureRef, write_id: str) -> list[str]:
        listing = f"{self.prefix}:staged:{feature.slug}"
        return [self._hash(feature), f"{listing}:{write_id}", f"{listing}:{write_id}:deleted",
                listing]

    def stage(self, feature: FeatureRef, write_id: str, values: dict[str, Any],
              deleted: Sequence[str]) -> None:
        value_type = value_type_of(feature)
        mapping = {key: encode(feature, value_type, key, value) for key, value in values.items()}
        _, staged, gone, listing = self._staged_names(feature, write_id)
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.sadd(listing, write_id)  # listed first, so a partial stage is found
                if mapping:
                    pipe.hset(staged, mapping=mapping)  # type: ignore[arg-type]
                if deleted:
                    pipe.sadd(gone, *deleted)
                pipe.execute()
        except redis.RedisError as exc:
            self._unavailable(exc)

    def publish(self, feature: FeatureRef, write_id: str) -> None:
        try:
            self._client.eval(_PUBLISH, 4, *self._staged_names(feature, write_id), write_id)
        except redis.RedisError as exc:
            self._unavailable(exc)

    def drop(self, feature: FeatureRef, write_id: str) -> None:
        _, staged, gone, listing = self._staged_names(feature, write_id)
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(staged, gone)
                pipe.srem(listing, write_id)
                pipe.execute()
        except redis.RedisError as exc:
            self._unavailable(exc)

    def staged(self, feature: FeatureRef) -> set[str]:
        try:
            ids = self._client.smembers(f"{self.prefix}:staged:{feature.slug}")
        except redis.RedisError as exc:
            self._unavailable(exc)
        return {i.decode() if isinstance(i, bytes) else str(i) for i in ids}

    def drop_prefix(self) -> None:
        """Delete every hash under this store's prefix (tests, or retiring a deployment)."""
        names = [*self._client.scan_iter(match=f"{self.prefix}:feature:*"),
                 *self._client.scan_iter(match=f"{self.prefix}:staged:*")]
        if names:
            self._client.delete(*names)

    def close(self) -> None:
        self._client.close()
