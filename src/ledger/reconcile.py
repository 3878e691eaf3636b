"""Reconciliation: every total a document states against the sum of the lines it names.

Nothing is adjusted: the stated figure and the computed one are both reported, compared at
the precision the document prints (a total in £m to one decimal is compared to the sum
rounded to £0.1m).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .domain import DomainError
from .services import Ledger

SCALE = {"GBP": Decimal(1), "GBP million": Decimal(1_000_000)}


@dataclass
class Check:
    document: str
    check: str
    what: str
    unit: str
    stated: str
    computed: str
    difference: str
    source: str
    lines_summed: int

    @property
    def differs(self) -> bool:
        return Decimal(self.difference) != 0


def reconcile(ledger: Ledger) -> list[Check]:
    states: dict[tuple[str, str], Any] = {}

    def state(kind: str, key: str) -> Any:
        if (kind, key) not in states:
            states[(kind, key)] = ledger.get(kind, key)
        return states[(kind, key)]

    checks = []
    for key in _documents(ledger):
        document = state("document", key)
        for total in document.totals:
            computed = sum((_amount(state, ref) for ref in total.sums), Decimal(0))
            in_unit = (computed / SCALE[total.unit]).quantize(total.precision, ROUND_HALF_UP)
            checks.append(Check(
                document=key, check=total.check, what=total.what, unit=total.unit,
                stated=str(total.amount), computed=str(in_unit),
                difference=str(in_unit - total.amount), source=total.source.location,
                lines_summed=len(total.sums),
            ))
    return checks


def _documents(ledger: Ledger) -> list[str]:
    found = ledger.recorder.select_notifications(start=None, limit=10_000,
                                                 topics=["SourceDocumentRegistered"])
    return sorted({json.loads(n.state)["key"] for n in found})


def _amount(state: Any, ref: str) -> Decimal:
    kind, _, rest = ref.partition("/")
    if kind == "grant":
        grant = state("grant", rest)
        if grant is None:
            raise DomainError("sums", f"{ref}: no such grant")
        return Decimal(0) if grant.withdrawn else Decimal(grant.amount)
    for part in ("/line/", "/savings/"):
        budget_key, found, name = rest.partition(part)
        if found:
            budget = state("budget", budget_key)
            values = ({row[0]: row[3] for row in budget.lines} if part == "/line/"
                      else dict(budget.savings)) if budget is not None else {}
            if name not in values:
                raise DomainError("sums", f"{ref}: no such line")
            return Decimal(values[name])
    raise DomainError("sums", f"{ref}: not a line a total can sum")


def as_dicts(checks: list[Check]) -> list[dict[str, Any]]:
    return [{**asdict(c), "differs": c.differs} for c in checks]
