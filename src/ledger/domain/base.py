"""The envelope every fact carries, the aggregate base, and how corrections fold.

Events are frozen pydantic models (the style of eventsourcing's ``examples/aggregate7``): building
one validates it, so an invalid fact can never reach the store. That is the only validation: a
stored event is read back without validating it again (``adapters/codec.py``), so every rule,
defaults included, must hold when the event is built. Aggregates are frozen state folded from
events; ``check`` decides whether a new event is allowed now, ``evolve`` applies it and never
raises, so a history that was valid when written always replays.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar, get_args
from uuid import UUID, uuid5

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..dates import FORMS, checked, local_day, not_after, parse_day, parse_when
from ..errors import DomainError
from .wording import a

# Fixed forever: aggregate ids and event ids are derived from it.
LEDGER_NAMESPACE = UUID("6f1d3a52-2c4e-5b8a-9d37-0a1c6e4b7f21")


def domain_error_from(exc: ValidationError) -> DomainError:
    """Turns pydantic's report into one line naming the first bad field."""
    first = exc.errors()[0]
    raised = first.get("ctx", {}).get("error")
    if isinstance(raised, DomainError):  # a model validator's own error names its field
        return raised
    parts = [str(p) for p in first["loc"] if not _is_type_tag(p)]
    field = ".".join(parts) or "event"
    message = first["msg"].removeprefix("Value error, ")
    return DomainError(field, message)


_TYPE_TAGS = frozenset({"date", "datetime", "decimal", "str", "int", "float", "bool", "none"})


def _is_type_tag(part: object) -> bool:
    """pydantic names union members in error locations; users need only the field."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or "-" in part)


Key = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._:/-]{0,127}$"),
]
"""A stable human identifier: lowercase letters, digits and ``. _ : / -``."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Money = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
"""Pounds and pence; amounts are never floats."""


class Role(StrEnum):
    """The capacity an actor acted in; permissions (later) hang off these."""

    OFFICER = "officer"
    CHIEF_EXECUTIVE = "chief_executive"
    CHIEF_FINANCE_OFFICER = "chief_finance_officer"
    TREASURER = "treasurer"
    COMMISSIONER = "commissioner"
    DEPUTY_COMMISSIONER = "deputy_commissioner"
    AUTHORITY_MEMBER = "authority_member"
    PANEL_MEMBER = "panel_member"
    CHIEF_CONSTABLE = "chief_constable"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    RECORDS_OFFICER = "records_officer"
    """Transcribes source documents into the ledger (``ledger import``)."""


REFUSED_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (C0, DEL, C1) other than tab and newline, and unpaired surrogates: refused
in every text field. PostgreSQL cannot store NUL in text, none of them belongs in a record
people read, and an unpaired surrogate cannot be written as UTF-8 at all."""


def refused_character(text: str) -> str | None:
    """What is wrong with the first refused character of ``text``, if it has one."""
    found = REFUSED_CHARACTERS.search(text)
    if found is None:
        return None
    code = ord(found.group())
    what = "unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "control character"
    return f"{what} U+{code:04X} is not allowed"


def first_refused(value: Any, path: str) -> DomainError | None:
    """The first refused character in ``value`` (text, a tuple of it, or a nested model such as
    Source), as an error naming its field; None when there is none."""
    if type(value) is str:
        problem = None if value.isprintable() else refused_character(value)
        return DomainError(path, problem) if problem is not None else None
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            if (found := first_refused(item, f"{path}.{i}")) is not None:
                return found
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            if (found := first_refused(item, f"{path}.{name}")) is not None:
                return found
    return None


class Source(BaseModel):
    """Where a fact comes from: a document and a place inside it (lines, paragraph, page)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", defer_build=True, validate_default=True
    )

    document: ShortText
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


@functools.lru_cache(maxsize=65_536)  # a bulk import asks for the same few ids many times
def aggregate_id(kind: str, key: str) -> UUID:
    """Aggregate ids follow from natural keys, so re-importing a document finds the same ids."""
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{key}")


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """An event's id follows from its place in its aggregate: nothing extra to store or forge."""
    return uuid5(originator_id, str(originator_version))


class Event(BaseModel):
    """One immutable fact with its envelope: who, when (two times), why and from what.

    Defaults are validated too (``validate_default``): a rule that looks at a defaulted field
    runs when the event is built, never first on a later read.

    ``class_version`` is the version of the class's stored shape. A class at version N > 1 is
    stored with ``"class_version": N`` in its state (absent means 1), and must define a static
    method ``upcast_v{k}_v{k+1}(state: dict) -> dict`` for each k < N, turning a stored state of
    version k into version k+1; reading runs them in turn. Change a class's fields only this way,
    and rename a class only through ``catalogue.TOPIC_RENAMES``: stored events are never edited.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", defer_build=True, validate_default=True
    )

    class_version: ClassVar[int] = 1
    creates: ClassVar[bool] = False
    changes_fact: ClassVar[bool] = False
    """True where the event changes something already recorded: a reason is then mandatory."""

    originator_id: UUID
    originator_version: int = Field(ge=1)
    actor: Key
    role: Role
    body: Key
    effective_at: AwareDatetime | date
    recorded_at: AwareDatetime
    source: Source
    corrects: UUID | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000)] | None = (
        Field(default=None, validate_default=True)
    )

    @model_validator(mode="before")
    @classmethod
    def _read_dates(cls, data: Any) -> Any:
        """Every date given, as text or as an object, by the ledger's one set of date rules
        (``ledger.dates``), before pydantic reads it (pydantic would take ``20130501`` for Unix
        seconds); and the fact has happened by the time it is recorded."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, timestamps in _date_fields(cls):
            value = data.get(name)
            if isinstance(value, str):
                data[name] = parse_when(value, name) if timestamps else parse_day(value, name)
            elif isinstance(value, date):
                checked(value, name)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                raise DomainError(name, f"{value!r} is a number, not a date ({FORMS})")
        effective, recorded = data.get("effective_at"), data.get("recorded_at")
        if isinstance(effective, date) and isinstance(recorded, datetime):
            not_after(effective, recorded)
        return data

    @model_validator(mode="after")
    def _no_refused_characters(self) -> Self:
        """Every text field, nested ones too, in one pass (a validator per field costs a call
        per field on every write)."""
        for name, value in self.__dict__.items():
            if type(value) is str and value.isprintable():  # quick: none of them is printable
                continue
            if (found := first_refused(value, name)) is not None:
                raise found
        return self

    @field_validator("reason")
    @classmethod
    def _reason_when_changing(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and (cls.changes_fact or info.data.get("corrects") is not None):
            raise ValueError("a reason is required when changing an existing fact")
        return value or None

    @property
    def id(self) -> UUID:
        return event_id(self.originator_id, self.originator_version)

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def effective_date(self) -> date:
        """The London day the fact happened on (``ledger.dates``)."""
        return local_day(self.effective_at)

    def payload(self) -> dict[str, Any]:
        """The fact itself, without the envelope."""
        return self.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))

    def check_corrected_by(self, correction: "Event") -> None:
        """Raises DomainError when ``correction`` (a restatement or a retraction) may not take
        this event's place; most events may be corrected freely."""


ENVELOPE_FIELDS = frozenset(Event.model_fields)


@functools.cache
def _date_fields(cls: type[Event]) -> tuple[tuple[str, bool], ...]:
    """An event class's date fields given by people, each with whether it takes a timestamp
    (only ``effective_at``: ``recorded_at`` is the ledger's own clock)."""
    return tuple(
        (name, name == "effective_at")
        for name, info in cls.model_fields.items()
        if name != "recorded_at" and _holds_dates(info.annotation)
    )


def _holds_dates(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, date)
    return any(_holds_dates(a) for a in get_args(annotation))


class EventRetracted(Event):
    """The corrected event should never have been recorded; it stays in the log, inert."""

    changes_fact = True
    corrects: UUID


class Aggregate(BaseModel):
    """Frozen state of one entity, folded from its events."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: ClassVar[str]
    created_by: ClassVar[type[Event]]
    changed_by: ClassVar[tuple[type[Event], ...]] = ()
    """The events that may follow creation (a retraction always may)."""

    id: UUID
    version: int
    key: str
    body: str
    effective_from: date

    @classmethod
    def create(cls, event: Event) -> Self:
        """State from the creation event: every field the two share is copied across."""
        shared = {
            name: getattr(event, name)
            for name in cls.model_fields
            if name not in _AGGREGATE_BASE_FIELDS and name in type(event).model_fields
        }
        return cls(
            id=event.originator_id,
            version=event.originator_version,
            key=getattr(event, "key"),  # noqa: B009 - every creating event has a key
            body=event.body,
            effective_from=event.effective_date,
            **shared,
        )

    def check(self, event: Event) -> None:
        """Raises DomainError when ``event`` may not happen to this entity in its state now."""

    def evolve(self, event: Event) -> Self:
        """Applies an event; never raises, so every stored history replays."""
        return self.model_copy(update={"version": event.originator_version})

    def _next(self, event: Event, **changes: Any) -> Self:
        return self.model_copy(update={"version": event.originator_version, **changes})


_AGGREGATE_BASE_FIELDS = frozenset(Aggregate.model_fields)


def effective_events(events: Iterable[Event]) -> list[Event]:
    """Resolves corrections: a correcting event takes the place of the event it corrects.

    A retraction removes it. The log itself keeps both; this is only how history is read.
    """
    slots: list[Event | None] = []
    slot_of: dict[UUID, int] = {}
    for event in events:
        if event.corrects is not None and event.corrects in slot_of:
            slot = slot_of[event.corrects]
            slots[slot] = None if isinstance(event, EventRetracted) else event
            slot_of[event.id] = slot
        else:
            slot_of[event.id] = len(slots)
            slots.append(event)
    return [event for event in slots if event is not None]


A = TypeVar("A", bound=Aggregate)


def fold(cls: type[A], events: Sequence[Event]) -> A | None:
    """The state of one entity after ``events`` (corrections resolved)."""
    state: A | None = None
    for event in effective_events(events):
        if event.creates:
            state = cls.create(event)
        elif state is not None:
            state = state.evolve(event)
    if state is not None and events:
        state = state.model_copy(update={"version": events[-1].originator_version})
    return state


def check_correction(history: Sequence[Event], event: Event) -> None:
    """A correction names an earlier event of the same entity and restates the same kind of fact."""
    if event.corrects is None:
        return
    target = next((e for e in history if e.id == event.corrects), None)
    if target is None:
        raise DomainError("corrects", f"no event {event.corrects} in this entity's history")
    if not isinstance(event, EventRetracted) and type(event) is not type(target):
        raise DomainError(
            "corrects",
            f"{a(event.type)} cannot correct {a(target.type)}; restate it as {a(target.type)}"
            " or retract it",
        )
    if any(e.corrects == target.id and isinstance(e, EventRetracted) for e in history):
        raise DomainError("corrects", f"event {target.id} was already retracted")
    target.check_corrected_by(event)


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A key from a name: 'Kent Police Authority' -> 'kent-police-authority'."""
    return _SLUG.sub("-", text.lower()).strip("-")[:128]
