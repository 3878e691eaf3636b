"""Plan state: plans and their versions, items, deliverables and targets, as of any date."""

from __future__ import annotations

from typing import Any

from ..base import Ask, Rows
from ..fields import Entity, FieldProjection, prefixed, public


class PlanState(FieldProjection):
    name = "plan_state"
    kinds = frozenset({"plan", "deliverable", "target"})

    def plans(self, rows: Rows, ask: Ask) -> list[dict[str, Any]]:
        return [_plan(e) for e in self.entities(rows, ask, kind="plan").values()]

    def plan(self, rows: Rows, key: str, ask: Ask) -> dict[str, Any] | None:
        found = self.entities(rows, ask, kind="plan", key=key)
        if not found:
            return None
        members = self.entities(rows, ask, kind=["deliverable", "target"], parent=key)
        return {
            "plan": _plan(found[("plan", key)]),
            "deliverables": [
                _member(e) for (kind, _), e in sorted(members.items()) if kind == "deliverable"
            ],
            "targets": [
                _member(e) for (kind, _), e in sorted(members.items()) if kind == "target"
            ],
        }


def _plan(entity: Entity) -> dict[str, Any]:
    summaries = prefixed(entity, "variation")
    variations = [
        {
            "summary": summaries[row["field"].split(":", 1)[1]],
            "effective_at": row["effective_at"][:10],
            "reason": row["reason"],
            "position": row["position"],
        }
        for row in entity["_rows"]
        if row["field"].startswith("variation:")
    ]
    return {
        **public(entity),
        "items": sorted(prefixed(entity, "item").values(), key=_item_order),
        "variations": variations,
    }


def _item_order(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item.get("number") or ""), str(item.get("item")))


def _member(entity: Entity) -> dict[str, Any]:
    return public(entity)
