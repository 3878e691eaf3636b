"""What must hold in the world on the day a fact happened, whoever records it and whenever.

Two times are kept apart. The recorder (its registration, roles and deactivation) is judged
when the fact is recorded, in ``permissions``: an officer registered in 2017 may record today
a decision taken in 2013. The world is judged at the fact's ``effective_at``, here:

- the body a fact is by (its ``body``) or for (a body it names: ``funding_body``,
  ``office_body``, ``to_body``, ...) existed on that day: established on or before it, and not
  abolished before it;
- the entity a fact happens to existed on that day: nothing is signed off, paid, varied or
  published before the entity was created;
- every other entity a fact names (a plan, a decision) existed on that day.

The ledger's own administration (actors and their keys, establishing and abolishing bodies,
registering documents, withholding words) is about the record, not the world, and is judged
when it is recorded only. A correction is made by whoever is responsible when it is recorded,
so its recorder's body is not asked to have existed on the corrected fact's day; a retraction
states nothing about the world at all. Each rule is a DomainError (exit 2) naming
``effective_at``; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from .domain import Aggregate, DomainError, Event, aggregate_id, aggregate_kind
from .domain.base import EventRetracted
from .domain.bodies import Body

if TYPE_CHECKING:
    from .services import _Batch

ADMINISTRATION = frozenset({
    "BodyEstablished", "BodyAbolished", "SourceDocumentRegistered", "TotalStated",
    "EventRedacted", "RedactionReleased",
})
"""Event types about the record rather than the world (with every event on an actor)."""


def check(batch: _Batch, event: Event, aggregate: type[Aggregate],
          references: Iterable[tuple[str, str]]) -> None:
    """Raises DomainError unless the world allowed ``event`` on its effective day."""
    if isinstance(event, EventRetracted) or aggregate.kind == "actor" \
            or event.type in ADMINISTRATION:
        return
    on = event.effective_date
    if event.corrects is None:
        _body_alive(batch, event.body, on)
    if not event.creates:
        _existed(batch.state(aggregate, event.originator_id), on)
    for field, kind in references:
        ref = getattr(event, field)
        if ref is None or field == "body":  # the recorder's body: above
            continue
        if kind == "body":
            _body_alive(batch, ref, on)
        else:
            _existed(batch.state(aggregate_kind(kind), aggregate_id(kind, ref)), on)


def _body_alive(batch: _Batch, key: str, on: date) -> None:
    body = batch.state(Body, aggregate_id("body", key))
    if body is None:  # an absent body is reported as such by the reference check
        return
    if on < body.effective_from:
        raise DomainError("effective_at", f"{key} was established on {body.effective_from}: "
                                          f"nothing is by or for it on {on}")
    if body.abolished_on is not None and on > body.abolished_on:
        raise DomainError("effective_at", f"{key} was abolished on {body.abolished_on}: "
                                          f"nothing is by or for it on {on}")


def _existed(state: Aggregate | None, on: date) -> None:
    if state is not None and on < state.effective_from:
        raise DomainError("effective_at", f"{state.kind} '{state.key}' dates from "
                                          f"{state.effective_from}: nothing happens to it "
                                          f"on {on}, before it existed")
