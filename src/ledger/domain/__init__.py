"""The domain: immutable governance facts and the entities they describe. No SQL, no CLI.

``AGGREGATES``, ``AGGREGATE_OF`` and ``EVENT_TYPES`` are the whole catalogue, loaded on first
use (``catalogue``): importing the domain builds only the base classes.
"""

from typing import TYPE_CHECKING, Any

from . import _plugins  # noqa: F401  (before any model is built: no pydantic plugins)
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
from .catalogue import aggregate_kind, aggregate_of, event_type

if TYPE_CHECKING:
    from .catalogue import AGGREGATE_OF, AGGREGATES, EVENT_TYPES


def __getattr__(name: str) -> Any:
    if name in ("AGGREGATES", "AGGREGATE_OF", "EVENT_TYPES"):
        from . import catalogue

        return getattr(catalogue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "aggregate_of",
    "effective_events",
    "event_id",
    "event_type",
    "fold",
]
