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

TOPIC_RENAMES: dict[str, str] = {}
"""Old event type name -> the name it was renamed to. Events are stored under their class's
name and never rewritten, so a renamed class is entered here and still reads its old events
(a name renamed twice follows both entries). Add to it; never remove an entry."""


def stored_event_type(topic: str) -> type[Event]:
    """The class that reads events stored under ``topic``, following renames."""
    found = EVENT_TYPES.get(topic)
    if found is not None:
        return found
    name, seen = topic, {topic}
    while name not in EVENT_TYPES:
        name = TOPIC_RENAMES.get(name, "")
        if not name or name in seen:
            raise DomainError(
                "topic",
                f"unknown event type '{topic}' in the store (written by a newer program?)",
            )
        seen.add(name)
    return EVENT_TYPES[name]


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
