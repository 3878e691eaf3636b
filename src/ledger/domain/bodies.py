"""Bodies, the terms of their office holders, and transfers of responsibility between them."""

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import ValidationInfo, field_validator

from .base import Aggregate, DomainError, Event, Key, ShortText, Text


class BodyType(StrEnum):
    POLICE_AUTHORITY = "police_authority"
    PCC_OFFICE = "pcc_office"
    POLICE_AND_CRIME_PANEL = "police_and_crime_panel"
    FORCE = "force"
    INSPECTORATE = "inspectorate"
    OTHER = "other"


class BodyEstablished(Event):
    creates = True
    key: Key
    name: ShortText
    body_type: BodyType
    area: str = ""
    note: str = ""
    """Where the sources do not give the establishment date, says so (the date is then the
    first the sources show the body in existence)."""


class BodyAbolished(Event):
    changes_fact = True


class Body(Aggregate):
    kind = "body"
    created_by = BodyEstablished
    changed_by = (BodyAbolished,)
    name: str
    body_type: BodyType
    area: str
    abolished_on: date | None = None

    def check(self, event: Event) -> None:
        if self.abolished_on is not None:
            raise DomainError("key", f"{self.key} was abolished on {self.abolished_on}")
        if isinstance(event, BodyAbolished) and event.effective_date < self.effective_from:
            raise DomainError(
                "effective_at", "a body cannot be abolished before it was established"
            )

    def evolve(self, event: Event) -> Self:
        if isinstance(event, BodyAbolished):
            return self._next(event, abolished_on=event.effective_date)
        return super().evolve(event)


class OfficeTermStarted(Event):
    """A person begins holding an office of a body (e.g. the Commissioner of the PCC office)."""

    creates = True
    key: Key
    office_body: Key
    office: ShortText
    holder: ShortText
    elected_on: date | None = None


class OfficeTermEnded(Event):
    changes_fact = True


class OfficeTerm(Aggregate):
    kind = "office-term"
    created_by = OfficeTermStarted
    changed_by = (OfficeTermEnded,)
    office_body: str
    office: str
    holder: str
    elected_on: date | None
    ended_on: date | None = None

    def current_on(self, day: date) -> bool:
        """Whether the holder is in office on ``day``: from the start to the end, both
        included (a successor's term may start the day after)."""
        return self.effective_from <= day and (self.ended_on is None or day <= self.ended_on)

    def check(self, event: Event) -> None:
        if self.ended_on is not None:
            raise DomainError("key", f"the office term {self.key} ended on {self.ended_on}")
        if isinstance(event, OfficeTermEnded) and event.effective_date < self.effective_from:
            raise DomainError("effective_at", "a term cannot end before it started")

    def evolve(self, event: Event) -> Self:
        if isinstance(event, OfficeTermEnded):
            return self._next(event, ended_on=event.effective_date)
        return super().evolve(event)


class ResponsibilityTransferred(Event):
    """Responsibility passes from one body to another (e.g. under PRSRA 2011 Schedule 15)."""

    creates = True
    key: Key
    from_body: Key
    to_body: Key
    responsibility: Text
    legal_basis: ShortText

    @field_validator("to_body")
    @classmethod
    def _not_to_itself(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("from_body"):
            raise ValueError("a body cannot transfer responsibility to itself")
        return value


class Transfer(Aggregate):
    """A transfer is one fact; it is corrected or retracted, never changed."""

    kind = "transfer"
    created_by = ResponsibilityTransferred
    from_body: str
    to_body: str
    responsibility: str
    legal_basis: str


def responsible_body(body: str, on: date, transfers: Iterable[Transfer]) -> str:
    """The body responsible on ``on`` for what ``body`` was responsible for: each transfer
    from the body then responsible, effective on or before ``on``, moves it on, in the order
    they took effect (KPA's records are the Kent PCC's from 22 November 2012)."""
    for transfer in sorted(transfers, key=lambda t: (t.effective_from, t.key)):
        if transfer.effective_from > on:
            break
        if transfer.from_body == body:
            body = transfer.to_body
    return body
