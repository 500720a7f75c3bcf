"""Annotations: typed, versioned, time-ranged marks on media assets.

Object model: an ``Annotation`` marks ``[start_ns, end_ns)`` of an asset (any string id: its
content checksum or its graph URI), optionally a ``Region`` of the frame, with a type from
the ``SchemaRegistry`` (``shot``, ``scene``, ``label``, ``detection``, ``embedding``,
``json``, or one you register) whose JSON Schema version it was checked against. A
``Producer`` (a detector, a model) writes all its annotations of an asset at once as an
``AnnotationSet``; writing again makes the next version and makes it current in one
transaction, so readers see the old set or the new, never a mix, and old versions stay
readable. ``AnnotationStore`` is the API (``put``, ``query``, ``versions``, ``get``,
``neighbours``); every ``put`` also logs an ``annotations`` event (``EVENT_KIND``) in the
flows event log, in the same transaction.
"""

from reelgraph.media.annotations.model import Annotation, AnnotationSet, Producer, Region
from reelgraph.media.annotations.schemas import SchemaRegistry
from reelgraph.media.annotations.store import EVENT_KIND, AnnotationStore

__all__ = [
    "EVENT_KIND",
    "Annotation",
    "AnnotationSet",
    "AnnotationStore",
    "Producer",
    "Region",
    "SchemaRegistry",
]
