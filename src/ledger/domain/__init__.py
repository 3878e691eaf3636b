"""The domain: immutable governance facts and the entities they describe. No SQL, no CLI."""

from .base import (
    Aggregate,
    DomainError,
    Event,
    EventRetracted,
    Role,
    Source,
    aggregate_id,
    effective_events,
    event_id,
    fold,
)
from .catalogue import AGGREGATE_OF, AGGREGATES, EVENT_TYPES, aggregate_kind, event_type

__all__ = [
    "AGGREGATES",
    "AGGREGATE_OF",
    "EVENT_TYPES",
    "Aggregate",
    "DomainError",
    "Event",
    "EventRetracted",
    "Role",
    "Source",
    "aggregate_id",
    "aggregate_kind",
    "effective_events",
    "event_id",
    "event_type",
    "fold",
]
