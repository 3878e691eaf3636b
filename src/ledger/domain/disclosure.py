"""Withholding recorded content from public view, and releasing it: facts in their own right.

A redaction never changes the event it is about: the log keeps every byte, and the chain still
commits to it. It is a later, signed event on the same entity, saying which fields of which
earlier event the public may not read, and on what legal basis; a release says that some or
all of them may be read again. Like a retraction, both apply to an entity of any kind. What a
reader is shown is decided by the read policy (``ledger.disclosure``), from these events and
from each Record of Decision's own confidentiality.
"""

import functools
from collections.abc import Iterable, Sequence
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator

from .base import ENVELOPE_FIELDS, DomainError, Event, ShortText, effective_events
from .wording import a

FieldName = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]{0,63})$")]
"""An event field's name, or ``*`` for every text field of the event."""


def _distinct(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("name at least one field (or * for the whole payload)")
    return tuple(dict.fromkeys(value))


class Disclosure(Event):
    """What a redaction and a release share: the earlier event they are about."""

    event: UUID
    """The id of the event whose fields are withheld or released."""
    position: int = Field(ge=1)
    """Its position in the log (checked against ``event`` when recorded)."""
    fields: tuple[FieldName, ...]

    _fields = field_validator("fields")(_distinct)


class EventRedacted(Disclosure):
    """From now on the named fields of an earlier event (``event``, at ``position``) are
    withheld from public view, on the stated legal basis (e.g. "FOIA 2000 s.43(2) commercial
    interests", or personal data under the UK GDPR / DPA 2018)."""

    basis: ShortText


class RedactionReleased(Disclosure):
    """The named fields of an earlier event may be read by the public again (the interest that
    justified withholding them has lapsed); ``*`` releases everything withheld from it,
    a confidential decision's content included."""

    changes_fact = True


DISCLOSURE_EVENTS = (EventRedacted, RedactionReleased)

CONFIDENTIAL_FIELDS: tuple[str, ...] = (
    "title", "executive_summary", "recommendation", "decision", "financial_advice",
    "legal_advice",
)
"""What a confidential Record of Decision withholds from public view, on its own stated
``confidential_reason``, until a release: its words. Its reference, originator, dates, signers
and the reason it is confidential stay public."""


@functools.cache
def withholdable(cls: type[Event]) -> tuple[str, ...]:
    """The fields of an event type that can be withheld: its free text (and the envelope's
    ``reason``), never a key, date, amount or choice, which the ledger's own rules read."""
    names = []
    for name, info in cls.model_fields.items():
        if name in ENVELOPE_FIELDS:
            continue
        if info.annotation in (str, str | None) and not any(
            getattr(m, "pattern", None) for m in info.metadata
        ):
            names.append(name)
    return (*names, "reason")


def confidential_fields(event: Event) -> tuple[str, ...]:
    """The fields an event withholds by its own terms (a confidential decision's words)."""
    if type(event).__name__ == "DecisionRecorded" and event.confidentiality == "confidential":  # type: ignore[attr-defined]
        return CONFIDENTIAL_FIELDS
    return ()


def withheld_fields(target: Event, changes: Iterable[Disclosure]) -> dict[str, str]:
    """The fields of ``target`` withheld from the public, each with its basis, after
    ``changes`` (the redactions and releases naming it, in the order recorded)."""
    withheld = dict.fromkeys(confidential_fields(target),
                             getattr(target, "confidential_reason", "") or "confidential")
    for change in changes:
        names = withholdable(type(target)) if "*" in change.fields else change.fields
        for name in names:
            if isinstance(change, EventRedacted):
                withheld[name] = change.basis
            else:
                withheld.pop(name, None)
    return withheld


def withheld_in(history: Sequence[Event], target: Event) -> set[str]:
    """The fields of ``target`` withheld from the public after ``history`` (its entity's)."""
    return set(withheld_fields(target, (
        e for e in effective_events(history) if isinstance(e, Disclosure) and e.event == target.id
    )))


def check_disclosure(history: Sequence[Event], event: Event) -> None:
    """A redaction names fields its target has; a release names fields withheld now."""
    if not isinstance(event, Disclosure):
        return
    target = next((e for e in effective_events(history) if e.id == event.event), None)
    if target is None:
        raise DomainError("event", f"no event {event.event} in this entity's history")
    if isinstance(target, Disclosure):
        raise DomainError("position", "a redaction or release is public: it cannot be withheld")
    allowed = withholdable(type(target))
    unknown = [f for f in event.fields if f != "*" and f not in allowed]
    if unknown:
        raise DomainError("fields", f"{a(target.type)} has no text field '{unknown[0]}' "
                                    f"(these can be withheld: {', '.join(allowed)})")
    withheld = withheld_in(history, target)
    if isinstance(event, EventRedacted):
        wanted = set(allowed) if "*" in event.fields else set(event.fields)
        if wanted <= withheld:
            raise DomainError("fields", "already withheld: " + ", ".join(sorted(wanted)))
    else:
        if not withheld:
            raise DomainError("fields", f"nothing of the event at {event.position} is withheld")
        named = withheld if "*" in event.fields else set(event.fields)
        if not named <= withheld:
            raise DomainError("fields", "not withheld: " + ", ".join(sorted(named - withheld)))
