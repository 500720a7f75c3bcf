"""Feature definitions: versions from code and parameters, the mesh's order, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from reelgraph.features import EntityType, FeatureDefinitionError, FeatureSet, Scalar, Vector

TITLE = EntityType("title", int)


def make(scale: float, version: str | None = None) -> FeatureSet:
    features = FeatureSet("ml")

    @features.feature(entity=TITLE, value=Scalar("string"))
    def text(keys: list[str]) -> dict[str, Any]:
        return {k: k for k in keys}

    @features.feature(entity=TITLE, value=Vector(2), depends_on=["text"],
                      params={"scale": scale}, version=version)
    def emb(keys: list[str], text: dict[str, str], scale: float) -> dict[str, Any]:
        return {k: [scale, 0.0] for k in keys}

    return features


def test_version_follows_params_and_is_overridable() -> None:
    assert make(1.0).get("emb").version == make(1.0).get("emb").version
    assert make(1.0).get("emb").version != make(2.0).get("emb").version
    assert make(1.0).get("text").version == make(2.0).get("text").version
    assert make(1.0, version="v7").get("emb").uri == "rg://embedding/ml/emb@v7"


def test_upstream_is_topological() -> None:
    assert [d.name for d in make(1.0).upstream("emb")] == ["text", "emb"]


def test_bad_definitions_are_refused() -> None:
    features = make(1.0)
    with pytest.raises(FeatureDefinitionError, match="not a feature defined above"):
        features.feature(entity=TITLE, value=Scalar(), name="x",
                         depends_on=["nope"])(lambda keys, nope: {})
    with pytest.raises(FeatureDefinitionError, match="entity"):
        features.feature(entity=EntityType("user"), value=Scalar(),
                         name="y", depends_on=["text"])(lambda keys, text: {})
    with pytest.raises(FeatureDefinitionError, match="arguments"):
        features.feature(entity=TITLE, value=Scalar(), name="z",
                         params={"k": 1})(lambda keys: {})
    with pytest.raises(FeatureDefinitionError, match="vector index"):
        features.feature(entity=TITLE, value=Scalar(), name="w", vector=True)(lambda keys: {})
    with pytest.raises(FeatureDefinitionError, match="twice"):
        features.feature(entity=TITLE, value=Scalar(), name="text")(lambda keys: {})
