"""Every event type and entity kind the ledger knows, by the name stored with each event."""

from __future__ import annotations

from .actors import Actor
from .base import Aggregate, DomainError, Event, EventRetracted
from .bodies import Body, OfficeTerm, Transfer
from .decisions import Decision
from .documents import SourceDocument
from .finance import Budget
from .grants import Grant
from .inspections import Inspection
from .plans import Deliverable, Plan, Target

AGGREGATES: dict[str, type[Aggregate]] = {
    cls.kind: cls
    for cls in (
        Body,
        OfficeTerm,
        Transfer,
        Plan,
        Deliverable,
        Target,
        Grant,
        Decision,
        Budget,
        Inspection,
        Actor,
        SourceDocument,
    )
}

AGGREGATE_OF: dict[type[Event], type[Aggregate]] = {}
for _aggregate in AGGREGATES.values():
    for _event_type in (_aggregate.created_by, *_aggregate.changed_by):
        AGGREGATE_OF[_event_type] = _aggregate

_ALL_EVENTS: list[type[Event]] = [*AGGREGATE_OF, EventRetracted]
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in _ALL_EVENTS}


def event_type(name: str) -> type[Event]:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise DomainError("type", f"unknown event type '{name}'") from None


def aggregate_kind(name: str) -> type[Aggregate]:
    try:
        return AGGREGATES[name]
    except KeyError:
        known = ", ".join(sorted(AGGREGATES))
        raise DomainError("kind", f"unknown kind '{name}' (known: {known})") from None
