"""The feature store: memoized features and embeddings, replicated by how they are read.

Object model: a ``FeatureSet`` holds ``FeatureDef``s (entity type, value type, function,
parameters, ``depends_on``; a version hashed from code and parameters), declared with
``@features.feature(...)``. ``FeatureStore`` is the API: ``get_or_compute`` computes only
the missing values (once across callers, as a recorded flow run), ``request`` queues them
for ``serve_requests``, ``materialize`` stores values computed elsewhere, ``historical``
joins point-in-time correct values for training. Storage sits behind ``ports``: the offline
store (Parquet + DuckDB, the source of truth) and replicas (online store, vector index).
"""

from reelgraph.features.catalog import (
    MAX_NEIGHBORS,
    FeatureCatalog,
    ResolvedFeature,
    feature_files_from_env,
    jsonable,
)
from reelgraph.features.compute import ComputeFailed, ComputeReport
from reelgraph.features.definition import (
    FeatureDef,
    FeatureDefinitionError,
    FeatureSet,
    UnknownFeature,
)
from reelgraph.features.inner_product import InnerProductIndex
from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import (
    FeatureRef,
    FeatureRows,
    OfflineStore,
    OnlineStore,
    VectorIndex,
)
from reelgraph.features.replication import VerifyReport
from reelgraph.features.store import FeatureStore
from reelgraph.features.values import EntityType, InvalidValue, Scalar, TableValue, Vector

__all__ = [
    "MAX_NEIGHBORS",
    "ComputeFailed",
    "ComputeReport",
    "EntityType",
    "FeatureCatalog",
    "FeatureDef",
    "FeatureDefinitionError",
    "FeatureRef",
    "FeatureRows",
    "FeatureSet",
    "FeatureStore",
    "InnerProductIndex",
    "InvalidValue",
    "OfflineStore",
    "OnlineStore",
    "ParquetOfflineStore",
    "ResolvedFeature",
    "Scalar",
    "TableValue",
    "UnknownFeature",
    "Vector",
    "VectorIndex",
    "VerifyReport",
    "feature_files_from_env",
    "jsonable",
    "open_online_store",
]
