"""Decision trail for the Police and Crime Panel: Records of Decision with their sign-offs,
declared interests and publication, filterable by body, office holder, dates, plan priority
and free text.

Filters, order and paging run in SQL on ``decision_trail_index`` (one row per Record of
Decision); only the decisions on the page are then read from the field history, so a query's
cost follows the page, not the size of the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from ledger.domain import Event
from ledger.domain.decisions import DecisionRecorded

from ..base import Ask, Rows, Scan, asked, day_of, standard_columns
from ..fields import Entity, FieldProjection, prefixed, public

SEARCHED = ("key", "title", "executive_summary", "recommendation", "decision", "originator")
"""Where free text is looked for (the reference is the key)."""
BY_ENTITY = 500
"""Up to this many decisions are read by id; more, and the body's decisions are read whole."""


class DecisionTrail(FieldProjection):
    name = "decision_trail"
    kinds = frozenset({"decision", "office-term"})
    index: Table

    @classmethod
    def extra_tables(cls, metadata: MetaData) -> tuple[Table, ...]:
        cls.index = Table(
            "decision_trail_index",
            metadata,
            *standard_columns(),
            Column("entity_id", String(36), nullable=False),
            Column("key", String(128), nullable=False),
            Column("body", String(128), nullable=False),
            Column("search_text", Text, nullable=False),
            Column("plan_items", Text, nullable=False),
            Index("ix_decision_trail_index_order", "effective_at", "position"),
            Index("ix_decision_trail_index_body", "body", "effective_at"),
        )
        return (cls.index,)

    def rows(self, rows: Rows, event: Event, base: dict[str, Any]) -> list[tuple[Table, Any]]:
        produced = super().rows(rows, event, base)
        if produced and isinstance(event, DecisionRecorded):
            produced.append((self.index, {
                "entity_id": str(event.originator_id),
                "key": event.key,
                "body": event.body,
                "search_text": "\n".join(str(getattr(event, n)) for n in SEARCHED).casefold(),
                "plan_items": json.dumps(list(event.plan_items)),
            }))
        return produced

    def decisions(
        self,
        rows: Rows,
        ask: Ask,
        *,
        body: str | None = None,
        holder: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        priority: str | None = None,
        text: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Decisions in the order decided; ``limit`` and ``offset`` page through them."""
        terms = list(self.entities(rows, ask, kind="office-term").values())
        lo = asked(date_from, "from", end=False) if date_from else None
        hi = asked(date_to, "to") if date_to else None
        bodies = [body] if body else None
        if holder:
            held = [t for t in terms if t["holder"].casefold() == holder.casefold()]
            if not held:
                return []
            # a coarse bound in SQL (the holder's offices and years), the exact test below
            bodies = [b for b in {t["office_body"] for t in held} if body in (None, b)]
            starts = [asked(_decided_on(t), "holder", end=False) for t in held]
            ends = [asked(t["ended_on"], "holder") if t.get("ended_on") else None for t in held]
            lo = max(filter(None, [lo, min(starts)]))
            hi = min(filter(None, [hi, None if None in ends else max(e for e in ends if e)]),
                     default=None)
        scan = Scan(
            where={"body": bodies} if bodies is not None else {},
            between={"effective_at": (lo, hi)} if lo or hi else {},
            contains={
                **({"search_text": text} if text else {}),
                **({"plan_items": json.dumps(priority)} if priority else {}),
            },
            order_by=("effective_at", "position"),
        )
        if holder:  # exact test in Python: page through SQL's candidates until enough
            wanted = holder.casefold()
            candidates = (
                row for row in _pages(rows, self.index, ask, scan)
                if wanted in (h.casefold() for h in
                              _holders(terms, row["body"], day_of(row["effective_at"])))
            )
            end = None if limit is None else offset + limit
            found = list(islice(candidates, offset, end))
        else:
            found = rows.page(self.index, ask, replace(scan, limit=limit, offset=offset))
        ids = [row["entity_id"] for row in found]
        where: dict[str, Any] = (
            {"entity_id": ids} if len(ids) <= BY_ENTITY else
            {"kind": "decision", **({"parent": body} if body else {})}
        )
        decided = {e["_rows"][0]["entity_id"]: e
                   for e in self.entities(rows, ask, **where).values()}
        return [_decision(decided[i], terms) for i in ids if i in decided]


def _pages(rows: Rows, table: Table, ask: Ask, scan: Scan) -> Iterator[dict[str, Any]]:
    start = 0
    while True:
        page = rows.page(table, ask, replace(scan, limit=BY_ENTITY, offset=start))
        yield from page
        if len(page) < BY_ENTITY:
            return
        start += len(page)


def _decided_on(entity: Entity) -> str:
    return day_of(entity["_rows"][0]["effective_at"])


def _holders(terms: list[Entity], body: str, decided_on: str) -> list[str]:
    return [
        t["holder"]
        for t in terms
        if t["office_body"] == body
        and _decided_on(t) <= decided_on
        and (t.get("ended_on") is None or decided_on <= t["ended_on"])
    ]


def _decision(entity: Entity, terms: list[Entity]) -> dict[str, Any]:
    decided_on = _decided_on(entity)
    body = entity["created_by"]["body"]
    signoffs = [
        {"signatory": signatory, **details}
        for signatory, details in sorted(prefixed(entity, "signed_off").items())
    ]
    return {
        "reference": entity["key"],
        **{k: v for k, v in public(entity).items() if k not in ("kind", "key")},
        "body": body,
        "decided_on": decided_on,
        "office_holders": _holders(terms, body, decided_on),
        "signoffs": signoffs,
        "interests": list(prefixed(entity, "interest").values()),
        "published_on": entity.get("published_on"),
    }
