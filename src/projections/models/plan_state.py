"""Plan state: plans and their versions, items, deliverables and targets, as of any date."""

from __future__ import annotations

import re
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
        members = dict(sorted(
            self.entities(rows, ask, kind=["deliverable", "target"], parent=key).items(),
            key=lambda kv: (kv[0][0], _natural(kv[0][1])),
        ))
        return {
            "plan": _plan(found[("plan", key)]),
            "deliverables": [_member(e) for (k, _), e in members.items() if k == "deliverable"],
            "targets": [_member(e) for (k, _), e in members.items() if k == "target"],
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


def _natural(key: str) -> list[tuple[int, str]]:
    """'plan/1.10' after 'plan/1.9'."""
    return [(int(part), "") if part.isdigit() else (0, part)
            for part in re.split(r"(\d+)", key)]


def _item_order(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item.get("number") or ""), str(item.get("item")))


def _member(entity: Entity) -> dict[str, Any]:
    return public(entity)
