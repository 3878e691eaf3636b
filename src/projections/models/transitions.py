"""Transition history: bodies and their lifespans, office terms, transfers of responsibility,
and what became of each open commitment of the outgoing body at the transfer date.

Where the record says nothing of a commitment after the transfer, the answer is "open at
transfer, no outcome recorded": an outcome is never invented.
"""

from __future__ import annotations

from typing import Any

from ..base import Ask, Rows, asked, day_of
from ..fields import Entity, FieldProjection, public
from . import by_kind_and_key

ENDINGS = {"carried_over", "closed", "completed", "lapsed"}
NO_OUTCOME = "open at transfer, no outcome recorded"


class TransitionHistory(FieldProjection):
    name = "transitions"
    kinds = frozenset({"body", "office-term", "transfer", "plan", "deliverable"})

    def history(self, rows: Rows, ask: Ask) -> dict[str, Any]:
        entities = self.entities(rows, ask)
        by_kind: dict[str, list[Entity]] = {}
        for (kind, _), entity in sorted(entities.items(), key=by_kind_and_key):
            by_kind.setdefault(kind, []).append(entity)
        bodies = [
            {**public(b), "established_on": _created_on(b)} for b in by_kind.get("body", [])
        ]
        terms = [
            {
                "holder": t["holder"],
                "office": t["office"],
                "office_body": t["office_body"],
                "from": _created_on(t),
                "to": t.get("ended_on"),
                "elected_on": t.get("elected_on"),
            }
            for t in by_kind.get("office-term", [])
        ]
        plans = by_kind.get("plan", [])
        deliverables = by_kind.get("deliverable", [])
        transfers = [
            {
                "key": t["key"],
                "from_body": t["from_body"],
                "to_body": t["to_body"],
                "on": _created_on(t),
                "responsibility": t["responsibility"],
                "legal_basis": t["legal_basis"],
                "source": t["source"],
                "commitments": _commitments(t, plans, deliverables),
            }
            for t in sorted(by_kind.get("transfer", []), key=_created_on)
        ]
        return {"bodies": bodies, "office_terms": terms, "transfers": transfers}

    def handover(self, rows: Rows, plan: str, ask: Ask) -> dict[str, dict[str, Any]]:
        """What became of each of one plan's deliverables at the first transfer from the
        plan's body that found it open, keyed by deliverable: the commitments ``history``
        lists under that transfer (the same rows, read for this plan only), with the
        transfer's key, date and bodies."""
        found = self.entities(rows, ask, kind="plan", key=plan)
        if not found:
            return {}
        owner = found[("plan", plan)]["created_by"]["body"]
        transfers = sorted(self.entities(rows, ask, kind="transfer", parent=owner).values(),
                           key=_created_on)
        if not transfers:
            return {}
        deliverables = list(self.entities(rows, ask, kind="deliverable", parent=plan).values())
        handed: dict[str, dict[str, Any]] = {}
        for t in transfers:
            for c in _commitments(t, list(found.values()), deliverables):
                handed.setdefault(c["deliverable"], {
                    "transfer": t["key"], "on": _created_on(t), "from_body": t["from_body"],
                    "to_body": t["to_body"], **c,
                })
        return handed


def _created_on(entity: Entity) -> str:
    return day_of(entity["_rows"][0]["effective_at"])


def _commitments(
    transfer: Entity, plans: list[Entity], deliverables: list[Entity]
) -> list[dict[str, Any]]:
    starts = asked(_created_on(transfer), "on", end=False)
    outgoing_plans = {p["key"] for p in plans if p["created_by"]["body"] == transfer["from_body"]}
    found = []
    for d in deliverables:
        if d["plan"] not in outgoing_plans:
            continue
        before = [r for r in d["_rows"] if r["effective_at"] < starts]
        if not any(r["field"] == "created_by" for r in before):
            continue
        status = _last(before, "status")
        if status in ENDINGS:
            continue
        due_on = _last(before, "due_on")
        after = [r for r in d["_rows"] if r["effective_at"] >= starts and r["field"] == "status"
                 and r["value"] in ENDINGS]
        outcome = after[0] if after else None
        found.append(
            {
                "deliverable": d["key"],
                "plan": d["plan"],
                "number": d.get("number"),
                "title": d["title"],
                "lead": d.get("lead"),
                "deadline": d.get("deadline"),
                "due_on": due_on,
                "status_at_transfer": status,
                "overdue_at_transfer": due_on is not None and due_on < _created_on(transfer),
                "outcome": outcome["value"] if outcome else NO_OUTCOME,
                "outcome_on": day_of(outcome["effective_at"]) if outcome else None,
                "outcome_reason": outcome["reason"] if outcome else None,
                "carried_over_to": d.get("carried_over_to") if outcome else None,
                "carried_over_plan": d.get("carried_over_plan") if outcome else None,
                "source": d["source"],
            }
        )
    return found


def _last(rows: list[dict[str, Any]], field: str) -> Any:
    values = [r for r in rows if r["field"] == field]
    return values[-1]["value"] if values else None
