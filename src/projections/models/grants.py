"""Grants register: awards (with the decision behind each, where named), variations,
payments and withdrawals, with totals; by financial year, April to March."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from ..base import Ask, Rows, day_of
from ..fields import Entity, FieldProjection, public
from . import by_kind_and_key


def financial_year(iso_date: str) -> str:
    """April to March: 2013-05-01 -> '2013-14'."""
    year, month = int(iso_date[:4]), int(iso_date[5:7])
    start = year if month >= 4 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


_YEAR = re.compile(r"(\d{4})(?:[-/](\d{2}|\d{4}))?", re.ASCII)


def financial_year_asked(text: str) -> str:
    """A financial year as a person writes it, as the register keys it: '2013', '2013/14',
    '2013-14' and '2013/2014' all mean April 2013 to March 2014, '2013-14'. ValueError
    for anything else."""
    found = _YEAR.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a financial year (2013, 2013/14 or 2013-14)")
    start, end = int(found[1]), found[2]
    if end is not None and int(end) != (start + 1) % 10 ** len(end):
        raise ValueError(f"{text!r} is not a financial year: one runs April {start} to "
                         f"March {start + 1} ({start}/{(start + 1) % 100:02d})")
    return f"{start}-{(start + 1) % 100:02d}"


class GrantsRegister(FieldProjection):
    name = "grants"
    kinds = frozenset({"grant"})

    def register(
        self,
        rows: Rows,
        ask: Ask,
        *,
        recipient: str | None = None,
        year: str | None = None,
        funding_body: str | None = None,
        decision: str | None = None,
    ) -> dict[str, Any]:
        """The register, filtered: ``recipient`` is found in the recipient's name in any
        case; ``year`` is a financial year in any form ``financial_year_asked`` reads (a
        ValueError otherwise); ``funding_body`` and ``decision`` (the decision that awarded
        the grant) are keys, in any case."""
        fy = financial_year_asked(year) if year is not None else None
        wanted = recipient.casefold() if recipient is not None else None
        by = decision.strip().casefold() if decision is not None else None
        where = {"parent": funding_body.strip().casefold()} if funding_body else {}
        grants = [
            _grant(entity)
            for _, entity in sorted(self.entities(rows, ask, kind="grant", **where).items(),
                                    key=by_kind_and_key)
        ]
        grants = [
            g for g in grants
            if (wanted is None or wanted in g["recipient"].casefold())
            and (fy is None or g["financial_year"] == fy)
            and (by is None or g.get("by_decision") == by)
        ]
        return {"grants": grants, "totals": _totals(grants)}


def _grant(entity: Entity) -> dict[str, Any]:
    rows = entity["_rows"]
    awarded_on = next(day_of(r["effective_at"]) for r in rows if r["event_type"] == "GrantAwarded")
    payments = [
        {"amount": entity[r["field"]], "paid_on": day_of(r["effective_at"]),
         "position": r["position"]}
        for r in rows
        if r["field"].startswith("payment:")
    ]
    variations = [
        {"amount": r["value"], "varied_on": day_of(r["effective_at"]),
         "reason": r["reason"], "position": r["position"]}
        for r in rows
        if r["event_type"] == "GrantVaried"
    ]
    paid = sum((Decimal(p["amount"]) for p in payments), Decimal(0))
    return {
        **public(entity),
        "awarded_on": awarded_on,
        "financial_year": financial_year(awarded_on),
        "variations": variations,
        "payments": payments,
        "paid": str(paid),
    }


def _totals(grants: list[dict[str, Any]]) -> dict[str, Any]:
    live = [g for g in grants if g["status"] != "withdrawn"]
    groups: dict[str, dict[str, Decimal]] = {
        "by_recipient": defaultdict(Decimal),
        "by_year": defaultdict(Decimal),
        "by_funding_body": defaultdict(Decimal),
    }
    for g in live:
        amount = Decimal(g["amount"])
        groups["by_recipient"][g["recipient"]] += amount
        groups["by_year"][g["financial_year"]] += amount
        groups["by_funding_body"][g["funding_body"]] += amount
    return {
        "count": len(live),
        "withdrawn": len(grants) - len(live),
        "awarded": str(sum((Decimal(g["amount"]) for g in live), Decimal(0))),
        "paid": str(sum((Decimal(g["paid"]) for g in grants), Decimal(0))),
        **{name: {k: str(v) for k, v in sorted(g.items())} for name, g in groups.items()},
    }
