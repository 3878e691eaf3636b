"""Source documents as entities: what was imported, when, and exactly which text."""

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field

from .base import Aggregate, DomainError, Event, Key, ShortText


class SourceDocumentRegistered(Event):
    """The text of a document the ledger holds facts from; its SHA-256 pins the exact text."""

    creates = True
    key: Key
    title: ShortText
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    line_count: int = Field(ge=1)


class TotalStated(Event):
    """A total the document states, and exactly which recorded lines it claims to sum.

    ``sums`` names them: ``budget/<budget>/line/<line>``, ``budget/<budget>/savings/<year>``
    or ``grant/<grant>``. The stated figure is kept as printed (``unit``, ``precision``), so
    reconciliation compares at the precision the document uses and changes nothing.
    """

    check: Key
    what: ShortText
    amount: Decimal
    unit: Annotated[str, Field(pattern=r"^(GBP|GBP million)$")] = "GBP"
    precision: Decimal = Decimal("0.01")
    sums: tuple[Annotated[str, Field(pattern=r"^(budget|grant)/[a-z0-9._:/-]+$")], ...] = Field(
        min_length=1
    )


class SourceDocument(Aggregate):
    kind = "document"
    created_by = SourceDocumentRegistered
    changed_by = (TotalStated,)
    title: str
    sha256: str
    line_count: int
    totals: tuple[TotalStated, ...] = ()

    def check(self, event: Event) -> None:
        if isinstance(event, TotalStated) and any(t.check == event.check for t in self.totals):
            raise DomainError("check", f"{self.key} already states the total '{event.check}'")

    def evolve(self, event: Event) -> Self:
        if isinstance(event, TotalStated):
            return self._next(event, totals=(*self.totals, event))
        return super().evolve(event)
