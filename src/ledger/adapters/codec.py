"""How events become stored bytes and back: canonical JSON under the event's class name."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from ..domain import EVENT_TYPES, Event


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class EventMapper(Mapper[UUID]):
    """Stores each event as canonical JSON under its class name (stable across refactors)."""

    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: Event = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=type(event).__name__,
            state=canonical_json(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )


def decode_event(originator_id: UUID | str, version: int, topic: str, state: bytes) -> Event:
    data = json.loads(state)
    data["originator_id"] = originator_id
    data["originator_version"] = version
    return EVENT_TYPES[topic].model_validate(data)
