"""Records of Decision: the fields of Kent's form, sign-offs, declared interests, publication."""

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import ValidationInfo, field_validator

from .base import Aggregate, DomainError, Event, Key, OptionalText, ShortText, Text


class Confidentiality(StrEnum):
    OPEN = "open"
    CONFIDENTIAL = "confidential"


class Signatory(StrEnum):
    """The capacities in which a Record of Decision is signed off."""

    CHIEF_FINANCE_OFFICER = "chief_finance_officer"
    CHIEF_EXECUTIVE = "chief_executive"
    COMMISSIONER = "commissioner"


class DecisionRecorded(Event):
    creates = True
    key: Key
    """The decision's reference, as printed on the Record of Decision."""
    title: ShortText
    originator: ShortText
    confidentiality: Confidentiality = Confidentiality.OPEN
    confidential_reason: OptionalText = ""
    executive_summary: Text
    recommendation: OptionalText = ""
    decision: Text
    financial_advice: OptionalText = ""
    legal_advice: OptionalText = ""
    plan_items: tuple[Key, ...] = ()

    @field_validator("confidential_reason")
    @classmethod
    def _reason_when_confidential(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("confidentiality") is Confidentiality.CONFIDENTIAL and not value:
            raise ValueError("a confidential decision must say why it is confidential")
        return value


class DecisionSignedOff(Event):
    signatory: Signatory
    signed_by: ShortText
    """Who signed: the signing actor's registered name, which the ledger fills in for a write
    made on an actor's behalf (free text is refused); an import transcribes the name the
    document prints."""


class InterestDeclared(Event):
    person: ShortText
    interest: Text


class DecisionPublished(Event):
    published_on: date
    location: OptionalText = ""


class Decision(Aggregate):
    kind = "decision"
    created_by = DecisionRecorded
    changed_by = (DecisionSignedOff, InterestDeclared, DecisionPublished)
    title: str
    originator: str
    confidentiality: Confidentiality
    confidential_reason: str
    executive_summary: str
    recommendation: str
    decision: str
    financial_advice: str
    legal_advice: str
    plan_items: tuple[str, ...]
    signed_off: tuple[tuple[Signatory, str, date], ...] = ()
    interests: tuple[tuple[str, str], ...] = ()
    published_on: date | None = None

    def signed_by(self, signatory: Signatory) -> str | None:
        return next((who for role, who, _ in self.signed_off if role is signatory), None)

    def check(self, event: Event) -> None:
        if isinstance(event, DecisionSignedOff):
            if self.published_on is not None:
                raise DomainError("key", f"decision {self.key} is already published")
            if (who := self.signed_by(event.signatory)) is not None:
                raise DomainError("signatory", f"already signed off as {event.signatory} by {who}")
        if isinstance(event, DecisionPublished):
            if self.published_on is not None:
                raise DomainError(
                    "key", f"decision {self.key} was published on {self.published_on}"
                )
            if self.signed_by(Signatory.COMMISSIONER) is None:
                raise DomainError(
                    "key", "a decision is published only after the commissioner signs"
                )
            if self.confidentiality is Confidentiality.CONFIDENTIAL:
                raise DomainError("key", "a confidential decision is not published")
            if event.published_on < self.effective_from:
                raise DomainError("published_on", f"{event.published_on} is before the "
                                                  f"decision of {self.effective_from}")

    def evolve(self, event: Event) -> Self:
        match event:
            case DecisionSignedOff():
                signed = (event.signatory, event.signed_by, event.effective_date)
                return self._next(event, signed_off=(*self.signed_off, signed))
            case InterestDeclared():
                return self._next(
                    event, interests=(*self.interests, (event.person, event.interest))
                )
            case DecisionPublished():
                return self._next(event, published_on=event.published_on)
        return super().evolve(event)
