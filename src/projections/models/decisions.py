"""Decision trail for the Police and Crime Panel: Records of Decision with their sign-offs,
declared interests and publication, filterable by body, office holder, dates, plan priority
and free text."""

from __future__ import annotations

from typing import Any

from ..base import Ask, Rows
from ..fields import Entity, FieldProjection, prefixed, public


class DecisionTrail(FieldProjection):
    name = "decision_trail"
    kinds = frozenset({"decision", "office-term"})

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
    ) -> list[dict[str, Any]]:
        where: dict[str, Any] = {"kind": "decision"}
        if body:
            where["parent"] = body
        decided = self.entities(rows, ask, **where)
        terms = list(self.entities(rows, ask, kind="office-term").values())
        found = []
        for _, entity in sorted(decided.items(), key=lambda kv: _decided_on(kv[1])):
            decision = _decision(entity, terms)
            if date_from and decision["decided_on"] < date_from:
                continue
            if date_to and decision["decided_on"] > date_to:
                continue
            if holder and not any(h.casefold() == holder.casefold()
                                  for h in decision["office_holders"]):
                continue
            if priority and priority not in decision["plan_items"]:
                continue
            if text and not _mentions(decision, text):
                continue
            found.append(decision)
        return found


def _decided_on(entity: Entity) -> str:
    return str(entity["_rows"][0]["effective_at"][:10])


def _decision(entity: Entity, terms: list[Entity]) -> dict[str, Any]:
    decided_on = _decided_on(entity)
    body = entity["created_by"]["body"]
    holders = [
        t["holder"]
        for t in terms
        if t["office_body"] == body
        and _decided_on(t) <= decided_on
        and (t.get("ended_on") is None or decided_on <= t["ended_on"])
    ]
    signoffs = [
        {"signatory": signatory, **details}
        for signatory, details in sorted(prefixed(entity, "signed_off").items())
    ]
    return {
        "reference": entity["key"],
        **{k: v for k, v in public(entity).items() if k not in ("kind", "key")},
        "body": body,
        "decided_on": decided_on,
        "office_holders": holders,
        "signoffs": signoffs,
        "interests": list(prefixed(entity, "interest").values()),
        "published_on": entity.get("published_on"),
    }


def _mentions(decision: dict[str, Any], text: str) -> bool:
    needle = text.casefold()
    return any(
        needle in str(decision.get(name) or "").casefold()
        for name in ("reference", "title", "executive_summary", "recommendation", "decision",
                     "originator")
    )
