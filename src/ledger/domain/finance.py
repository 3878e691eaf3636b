"""A body's budget for one financial year: its lines, savings requirement and precept cycle.

Precept: proposed -> reviewed by the Panel -> (vetoed -> proposed again) -> issued.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field

from .base import Aggregate, DomainError, Event, Key, Money, ShortText, Text

FinancialYear = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
"""'2013-14'."""


class LineCategory(StrEnum):
    EXPENDITURE = "expenditure"
    INCOME = "income"
    FINANCING = "financing"


class PreceptStage(StrEnum):
    NONE = "none"
    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    VETOED = "vetoed"
    ISSUED = "issued"


class BudgetDrafted(Event):
    creates = True
    key: Key
    financial_year: FinancialYear
    title: ShortText


class BudgetLineSet(Event):
    """Setting a line that already has an amount is a change: it needs a reason."""

    line: Key
    heading: ShortText
    category: LineCategory
    amount: Money


class SavingsRequirementSet(Event):
    financial_year: FinancialYear
    amount: Money


class PreceptProposed(Event):
    band_d: Annotated[Money, Field(gt=0)]


class PreceptReviewed(Event):
    panel: Key
    outcome: Text


class PreceptVetoed(Event):
    changes_fact = True
    panel: Key


class PreceptIssued(Event):
    band_d: Annotated[Money, Field(gt=0)]


class Budget(Aggregate):
    kind = "budget"
    created_by = BudgetDrafted
    changed_by = (
        BudgetLineSet,
        SavingsRequirementSet,
        PreceptProposed,
        PreceptReviewed,
        PreceptVetoed,
        PreceptIssued,
    )
    financial_year: str
    title: str
    lines: tuple[tuple[str, str, LineCategory, Decimal], ...] = ()
    savings: tuple[tuple[str, Decimal], ...] = ()
    precept_stage: PreceptStage = PreceptStage.NONE
    band_d: Decimal | None = None

    def line(self, line: str) -> tuple[str, str, LineCategory, Decimal] | None:
        return next((row for row in self.lines if row[0] == line), None)

    def check(self, event: Event) -> None:
        if isinstance(event, BudgetLineSet | SavingsRequirementSet) and not event.reason:
            existing = (
                self.line(event.line)
                if isinstance(event, BudgetLineSet)
                else next((s for s in self.savings if s[0] == event.financial_year), None)
            )
            if existing is not None:
                raise DomainError("reason", "a reason is required when changing an existing fact")
        stage = self.precept_stage
        if isinstance(event, PreceptProposed) and stage not in (
            PreceptStage.NONE,
            PreceptStage.VETOED,
        ):
            raise DomainError("band_d", f"the precept is already {stage}")
        if isinstance(event, PreceptReviewed) and stage is not PreceptStage.PROPOSED:
            raise DomainError("panel", "the Panel reviews a proposed precept")
        if isinstance(event, PreceptVetoed) and stage is not PreceptStage.REVIEWED:
            raise DomainError("panel", "the Panel vetoes only a precept it has reviewed")
        if isinstance(event, PreceptIssued) and stage is not PreceptStage.REVIEWED:
            raise DomainError("band_d", "a precept is issued after the Panel's review")

    def evolve(self, event: Event) -> Self:
        match event:
            case BudgetLineSet():
                row = (event.line, event.heading, event.category, event.amount)
                others = tuple(r for r in self.lines if r[0] != event.line)
                return self._next(event, lines=(*others, row))
            case SavingsRequirementSet():
                others_s = tuple(s for s in self.savings if s[0] != event.financial_year)
                return self._next(event, savings=(*others_s, (event.financial_year, event.amount)))
            case PreceptProposed():
                return self._next(event, precept_stage=PreceptStage.PROPOSED, band_d=event.band_d)
            case PreceptReviewed():
                return self._next(event, precept_stage=PreceptStage.REVIEWED)
            case PreceptVetoed():
                return self._next(event, precept_stage=PreceptStage.VETOED)
            case PreceptIssued():
                return self._next(event, precept_stage=PreceptStage.ISSUED, band_d=event.band_d)
        return super().evolve(event)
