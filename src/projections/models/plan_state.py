"""Plan state: plans and their versions, items, deliverables and targets, as of any date."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.dates import today

from ..base import END_OF_TIME, Ask, Rows, day_of
from ..fields import Entity, FieldProjection, prefixed, public
from . import natural
from .transitions import ENDINGS, NO_OUTCOME, TransitionHistory

TRANSITIONS = TransitionHistory()
"""The transition history's queries (its own tables): what became of a commitment at a
transfer is worked out there once, and read here for one plan."""


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
            key=lambda kv: (kv[0][0], natural(kv[0][1])),
        ))
        on = as_of_day(ask)
        handed = TRANSITIONS.handover(rows, key, ask)
        return {
            "plan": _plan(found[("plan", key)]),
            "as_of": on.isoformat(),
            "deliverables": [_deliverable(e, on, handed.get(e["key"]))
                             for (k, _), e in members.items() if k == "deliverable"],
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
    extensions = [
        {
            "period_to": row["value"],
            "effective_at": day_of(row["effective_at"]),
            "reason": row["reason"],
            "position": row["position"],
        }
        for row in entity["_rows"]
        if row["event_type"] == "PlanExtended" and row["field"] == "period_to"
    ]
    return {
        **public(entity),
        "items": sorted(prefixed(entity, "item").values(), key=_item_order),
        "variations": variations,
        "extensions": extensions,
    }


def _item_order(item: dict[str, Any]) -> list[tuple[int, str]]:
    """Outline order where keys nest (s1, s1.d1, s1.d2, s2), numbers by value (1.2 before
    1.10)."""
    return natural(str(item.get("item")))


def _member(entity: Entity) -> dict[str, Any]:
    return public(entity)


def as_of_day(ask: Ask) -> date:
    """The London day a question is asked for: its ``as_of``, or today when it has none."""
    return today() if ask.as_of == END_OF_TIME else date.fromisoformat(day_of(ask.as_of))


def _deliverable(entity: Entity, on: date, handed: dict[str, Any] | None) -> dict[str, Any]:
    """A deliverable with whether it is overdue on ``on`` (its due date has passed and no
    outcome is recorded) and, where a transfer found it open, what became of it then."""
    found = public(entity)
    due = found.get("due_on")
    found["overdue"] = bool(due) and str(due) < on.isoformat() and (
        found.get("status") not in ENDINGS)
    found["at_transfer"] = None if handed is None else {
        k: handed[k] for k in ("transfer", "on", "from_body", "to_body", "status_at_transfer",
                               "overdue_at_transfer", "outcome", "outcome_on",
                               "outcome_reason", "carried_over_to", "carried_over_plan")}
    found["handover"] = None if handed is None else _handover(handed)
    return found


def _handover(handed: dict[str, Any]) -> str:
    """One short line for a person: what became of the commitment at the transfer (whether
    it was overdue then is ``at_transfer.overdue_at_transfer``)."""
    outcome = handed["outcome"]
    if outcome == NO_OUTCOME:
        return f"open at transfer to {handed['to_body']}; no outcome recorded"
    if outcome == "carried_over":
        plan = handed["carried_over_plan"]
        return f"carried over to {handed['carried_over_to'] or handed['to_body']}" + (
            f" for plan {plan}" if plan else "")
    return f"{outcome} on {handed['outcome_on']}"
