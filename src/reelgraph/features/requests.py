"""Who computes which missing values: claims and queued requests in the metadata database.

One row per (feature version URI, entity key) in ``rg_feature_claim``:

- ``queued``: someone asked for the value (``FeatureStore.request``); a worker will claim it;
- ``claimed``: ``owner`` is computing it until ``expires_at``; others wait, then read the
  offline store; a claim past its expiry, or whose process is gone (``owner`` starts with
  the claimant's ``host:pid:start``, see ``core.liveness``), may be taken over at once;
- ``failed``: the last computation raised; ``error`` says why; anyone may claim it again.

A computed value's row is deleted: the offline store then has it. Claims are taken in a
``write_connection`` transaction (the database's write lock), so two callers never both
claim the same key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from reelgraph.core import MetadataStore, is_dead, now_us, this_process, write_connection

QUEUED, CLAIMED, FAILED = "queued", "claimed", "failed"
_CHUNK = 500  # keys per IN (...) list


def _chunks(keys: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield list(keys[start:start + _CHUNK])


@dataclass(frozen=True)
class Claim:
    key: str
    status: str
    owner: str | None
    expires_at: int | None
    error: str | None

    def held(self, now: int) -> bool:
        """Claimed by a computation that may still run: its lease has not expired and its
        process is not known to be dead (a killed claimant's keys are free at once)."""
        return (self.status == CLAIMED and (self.expires_at or 0) >= now
                and not is_dead((self.owner or "").split("/", 1)[0]))


def claimant(tag: str) -> str:
    """An owner for claims: this process (checked for liveness), then the caller's tag."""
    return f"{this_process()}/{tag}"


class ClaimStore(MetadataStore):
    def rows(self, feature: str, keys: Sequence[str]) -> dict[str, Claim]:
        with self.engine.connect() as conn:
            return self._rows_in(conn, feature, keys)

    def _set(self, conn: Connection, feature: str, keys: list[str], status: str,
             owner: str | None, expires_at: int | None, error: str | None) -> None:
        for chunk in _chunks(keys):
            params = {f"k{i}": k for i, k in enumerate(chunk)}
            names = ", ".join(f":{n}" for n in params)
            conn.execute(text(f"DELETE FROM rg_feature_claim WHERE feature = :feature "
                              f"AND key IN ({names})"), {"feature": feature, **params})
        if keys:
            conn.execute(text(
                "INSERT INTO rg_feature_claim (feature, key, status, owner, expires_at, "
                "created_at, error) VALUES (:feature, :key, :status, :owner, :expires, "
                ":created, :error)"),
                [{"feature": feature, "key": k, "status": status, "owner": owner,
                  "expires": expires_at, "created": now_us(), "error": error} for k in keys])

    def claim(self, feature: str, keys: Sequence[str], owner: str, ttl_s: float) -> list[str]:
        """Claim the keys nobody is computing (free, queued, failed or expired claims);
        returns those now claimed by ``owner``, in the given order."""
        now = now_us()
        with write_connection(self.engine) as conn, conn.begin():
            current = self._rows_in(conn, feature, keys)
            mine = [k for k in keys if k not in current or not current[k].held(now)
                    or current[k].owner == owner]
            self._set(conn, feature, mine, CLAIMED, owner, now + int(ttl_s * 1e6), None)
        return mine

    def renew(self, feature: str, owner: str, ttl_s: float) -> None:
        """Extend the lease of ``owner``'s claims on ``feature`` (its heartbeat)."""
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(text("UPDATE rg_feature_claim SET expires_at = :t WHERE feature = :f "
                              "AND owner = :o AND status = :claimed"),
                         {"t": now_us() + int(ttl_s * 1e6), "f": feature, "o": owner,
                          "claimed": CLAIMED})

    def _rows_in(self, conn: Connection, feature: str, keys: Sequence[str]) -> dict[str, Claim]:
        found: dict[str, Claim] = {}
        for chunk in _chunks(list(keys)):
            params = {f"k{i}": k for i, k in enumerate(chunk)}
            names = ", ".join(f":{n}" for n in params)
            for row in conn.execute(text(
                    "SELECT key, status, owner, expires_at, error FROM rg_feature_claim "
                    f"WHERE feature = :feature AND key IN ({names})"),
                    {"feature": feature, **params}):
                found[row.key] = Claim(row.key, row.status, row.owner, row.expires_at,
                                       row.error)
        return found

    def release(self, feature: str, owner: str, done: Sequence[str],
                failed: dict[str, str]) -> None:
        """Drop the claims of computed keys; mark failed ones with their error."""
        with write_connection(self.engine) as conn, conn.begin():
            current = self._rows_in(conn, feature, [*done, *failed])
            ours = {k for k, c in current.items() if c.owner == owner}
            for chunk in _chunks([k for k in done if k in ours]):
                params = {f"k{i}": k for i, k in enumerate(chunk)}
                names = ", ".join(f":{n}" for n in params)
                conn.execute(text(f"DELETE FROM rg_feature_claim WHERE feature = :feature "
                                  f"AND key IN ({names})"), {"feature": feature, **params})
            for key, error in failed.items():
                if key in ours:
                    self._set(conn, feature, [key], FAILED, None, None, error)

    def enqueue(self, feature: str, keys: Sequence[str]) -> list[str]:
        """Queue the keys that nobody is computing or has queued; returns those queued."""
        now = now_us()
        with write_connection(self.engine) as conn, conn.begin():
            current = self._rows_in(conn, feature, keys)
            new = [k for k in dict.fromkeys(keys) if k not in current
                   or current[k].status == FAILED
                   or (current[k].status == CLAIMED and not current[k].held(now))]
            self._set(conn, feature, new, QUEUED, None, None, None)
        return new

    def queued(self, limit: int = 10_000) -> dict[str, list[str]]:
        """Queued keys (and claims of dead or expired claimants) per feature URI, oldest
        first."""
        now = now_us()
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT feature, key, status, owner, expires_at FROM rg_feature_claim "
                "WHERE status IN (:queued, :claimed) ORDER BY created_at"),
                {"queued": QUEUED, "claimed": CLAIMED})
            found: dict[str, list[str]] = {}
            taken = 0
            for row in rows:
                if taken == limit:
                    break
                claim = Claim(row.key, row.status, row.owner, row.expires_at, None)
                if claim.status == QUEUED or not claim.held(now):
                    found.setdefault(row.feature, []).append(row.key)
                    taken += 1
        return found
