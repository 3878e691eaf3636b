"""Crime and disorder grants (PRSRA s.9): award, variation, payment, withdrawal."""

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field

from .base import Aggregate, DomainError, Event, Key, Money, OptionalText, ShortText, Text

PositiveMoney = Annotated[Money, Field(gt=0)]


class GrantAwarded(Event):
    creates = True
    key: Key
    recipient: ShortText
    amount: PositiveMoney
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"
    purpose: Text
    conditions: OptionalText = ""
    funding_body: Key
    plan: Key | None = None
    item: Key | None = None
    by_decision: Key | None = None
    """The Record of Decision that awarded the grant (its reference), which must be in the
    ledger. Added after awards were first stored: one stored without it reads as None, so the
    class stays at version 1 (README, "Event schema evolution")."""


class GrantVaried(Event):
    changes_fact = True
    amount: PositiveMoney


class GrantPaid(Event):
    amount: PositiveMoney


class GrantWithdrawn(Event):
    changes_fact = True


class Grant(Aggregate):
    kind = "grant"
    created_by = GrantAwarded
    changed_by = (GrantVaried, GrantPaid, GrantWithdrawn)
    recipient: str
    amount: Decimal
    currency: str
    purpose: str
    conditions: str
    funding_body: str
    plan: str | None
    item: str | None
    by_decision: str | None = None
    paid: Decimal = Decimal(0)
    withdrawn: bool = False

    def check(self, event: Event) -> None:
        if self.withdrawn:
            raise DomainError("key", f"grant {self.key} was withdrawn")
        if isinstance(event, GrantPaid) and self.paid + event.amount > self.amount:
            raise DomainError(
                "amount",
                f"paying {event.amount} would exceed the award of {self.amount}"
                f" ({self.paid} already paid)",
            )
        if isinstance(event, GrantVaried):
            if event.amount == self.amount:
                raise DomainError("amount", f"grant {self.key} already stands at {self.amount}")
            if event.amount < self.paid:
                raise DomainError("amount", f"cannot vary below the {self.paid} already paid")

    def evolve(self, event: Event) -> Self:
        match event:
            case GrantVaried():
                return self._next(event, amount=event.amount)
            case GrantPaid():
                return self._next(event, paid=self.paid + event.amount)
            case GrantWithdrawn():
                return self._next(event, withdrawn=True)
        return super().evolve(event)
