"""Decision trail for the Police and Crime Panel: Records of Decision with their sign-offs,
declared interests, publication and the grants each awarded, filterable by body, office
holder, dates, plan priority, free text and whether it awarded grants.

Filters, order and paging run in SQL on ``decision_trail_index`` (one row per Record of
Decision); only the decisions on the page are then read from the field history, so a query's
cost follows the page, not the size of the ledger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from ledger.domain import Event
from ledger.domain.decisions import DecisionRecorded
from ledger.domain.grants import GrantAwarded

from ..base import Ask, Rows, Scan, asked, day_of, standard_columns
from ..fields import Entity, FieldProjection

SEARCHED = ("key", "title", "executive_summary", "recommendation", "decision", "originator")
"""Where free text is looked for (the reference is the key)."""
BY_ENTITY = 500
"""Up to this many decisions are read by id; more, and the body's decisions are read whole."""


class DecisionTrail(FieldProjection):
    name = "decision_trail"
    kinds = frozenset({"decision", "office-term"})
    index: Table
    awards: Table

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
        cls.awards = Table(
            "decision_trail_grants",
            metadata,
            *standard_columns(),
            Column("decision", String(128), nullable=False, index=True),
            Column("grant_key", String(128), nullable=False),
            Column("recipient", Text, nullable=False),
            Column("amount", String(40), nullable=False),
            Column("funding_body", String(128), nullable=False),
        )
        """One row per grant award that names the decision behind it."""
        return (cls.index, cls.awards)

    def wants_type(self, cls: type[Event]) -> bool:
        """Also every grant award: one may name its decision, and a restated one may drop
        the name (its earlier row is then retracted)."""
        return super().wants_type(cls) or issubclass(cls, GrantAwarded)

    def rows(self, rows: Rows, event: Event, base: dict[str, Any]) -> list[tuple[Table, Any]]:
        if isinstance(event, GrantAwarded):
            if event.by_decision is None:
                return []
            return [(self.awards, {
                "decision": event.by_decision, "grant_key": event.key,
                "recipient": event.recipient, "amount": str(event.amount),
                "funding_body": event.funding_body,
            })]
        produced = super().rows(rows, event, base)
        if isinstance(event, DecisionRecorded):
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
        holder: str | Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        priority: str | None = None,
        text: str | None = None,
        awarding_grants: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Decisions in the order decided; ``limit`` and ``offset`` page through them. Text
        and keys are matched in any case.

        ``holder`` is an office holder's name in any case and spacing, or several names for
        one person (a name and an actor id, ``ann-barnes``, read as the name written in
        lowercase with hyphens); ``awarding_grants`` keeps the decisions a grant award names.
        """
        terms = list(self.states(rows, ask, kind="office-term").values())
        names = [holder] if isinstance(holder, str) else list(holder or ())
        body = body.strip().casefold() if body else None  # keys are lower case
        priority = priority.strip().casefold() if priority else None
        lo = asked(date_from, "from", end=False) if date_from else None
        hi = asked(date_to, "to") if date_to else None
        bodies = [body] if body else None
        awarding = sorted({r["decision"] for r in rows.visible(self.awards, ask)}) \
            if awarding_grants else None
        if awarding == []:
            return []
        if names:
            held = [t for t in terms if _is_holder(t["holder"], names)]
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
            where={**({"body": bodies} if bodies is not None else {}),
                   **({"key": awarding} if awarding is not None else {})},
            between={"effective_at": (lo, hi)} if lo or hi else {},
            contains={
                **({"search_text": text} if text else {}),
                **({"plan_items": json.dumps(priority)} if priority else {}),
            },
            order_by=("effective_at", "position"),
        )
        if names:  # exact test in Python: page through SQL's candidates until enough
            candidates = (
                row for row in _pages(rows, self.index, ask, scan)
                if any(_is_holder(h, names)
                       for h in _holders(terms, row["body"], day_of(row["effective_at"])))
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
        decided = {e["_first"]["entity_id"]: e
                   for e in self.states(rows, ask, **where).values()}
        awards: dict[str, list[dict[str, Any]]] = {}
        keys = [row["key"] for row in found]
        for award in rows.visible(self.awards, ask, {"decision": keys}) if keys else []:
            awards.setdefault(award["decision"], []).append({
                "grant": award["grant_key"], "recipient": award["recipient"],
                "amount": award["amount"], "funding_body": award["funding_body"],
                "awarded_on": day_of(award["effective_at"]),
            })
        return [_decision(decided[i], terms, awards) for i in ids if i in decided]


def _pages(rows: Rows, table: Table, ask: Ask, scan: Scan) -> Iterator[dict[str, Any]]:
    start = 0
    while True:
        page = rows.page(table, ask, replace(scan, limit=BY_ENTITY, offset=start))
        yield from page
        if len(page) < BY_ENTITY:
            return
        start += len(page)


def _decided_on(entity: Entity) -> str:
    return day_of(entity["_first"]["effective_at"])


def _is_holder(name: str, asked: Sequence[str]) -> bool:
    """Whether an office holder's name is one asked for: the same words in any case and
    spacing, or the name as an id (``Ann Barnes`` as ``ann-barnes``)."""
    return any(_same_name(name, a) or _slug(name) == a.strip().casefold() for a in asked)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def _holders(terms: list[Entity], body: str, decided_on: str) -> list[str]:
    return [
        t["holder"]
        for t in terms
        if t["office_body"] == body
        and _decided_on(t) <= decided_on
        and (t.get("ended_on") is None or decided_on <= t["ended_on"])
    ]


def _decision(
    entity: Entity, terms: list[Entity], awards: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    decided_on = _decided_on(entity)
    body = entity["created_by"]["body"]
    fields: dict[str, Any] = {}
    signed: dict[str, Any] = {}
    interests: list[Any] = []
    for name, value in entity.items():  # one pass: ``public`` and ``prefixed`` each took one
        head, colon, rest = name.partition(":")
        if colon:
            if head == "signed_off":
                signed[rest] = value
            elif head == "interest":
                interests.append(value)
        elif not name.startswith("_") and name not in ("kind", "key"):
            fields[name] = value
    return {
        "reference": entity["key"],
        **fields,
        "body": body,
        "decided_on": decided_on,
        "office_holders": _holders(terms, body, decided_on),
        "signoffs": [{"signatory": s, **details} for s, details in sorted(signed.items())],
        "interests": interests,
        "published_on": entity.get("published_on"),
        "grants_awarded": awards.get(entity["key"], []),
    }
