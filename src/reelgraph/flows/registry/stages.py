"""The stages of a model version and the moves allowed between them.

    none ──> staging ──> production ──> archived
      │        │  ▲                        │
      │        ▼  └────────────────────────┘  (an archived version comes back via staging)
      │       none                             (staging can be withdrawn)
      └──> archived                            (a version never worth testing)

At most one version of a model is in production: promoting one archives the one before.
Nothing skips staging, so every production version was staged first (and passed the
staging gates, if any).
"""

from __future__ import annotations

from reelgraph.core import Conflict, InvalidInput

NONE, STAGING, PRODUCTION, ARCHIVED = "none", "staging", "production", "archived"
STAGES = (NONE, STAGING, PRODUCTION, ARCHIVED)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    NONE: (STAGING, ARCHIVED),
    STAGING: (PRODUCTION, NONE, ARCHIVED),
    PRODUCTION: (ARCHIVED,),
    ARCHIVED: (STAGING,),
}
GATED_STAGES = (STAGING, PRODUCTION)  # the stages a gate may guard


class InvalidTransition(Conflict):
    """The version's current stage does not lead to the stage asked for."""


def check_stage(stage: str, allowed: tuple[str, ...] = STAGES) -> str:
    if stage not in allowed:
        raise InvalidInput(f"unknown stage {stage!r}", f"use one of {', '.join(allowed)}")
    return stage


def check_transition(model: str, version: int, current: str, target: str) -> None:
    check_stage(target)
    if target == current:
        raise InvalidTransition(f"{model} v{version} is already in {current}",
                                "nothing to do; `reelgraph models show` lists the stages")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current])
        raise InvalidTransition(
            f"{model} v{version} cannot move from {current} to {target}",
            f"from {current} a version may move to {allowed}"
            + (" (promote it to staging first)" if target == PRODUCTION else ""),
        )
