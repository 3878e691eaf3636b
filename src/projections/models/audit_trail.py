"""Audit trail: every change to an entity as a row, corrections showing both events."""

from __future__ import annotations

from typing import Any

from ..base import Ask, Rows, iso
from ..fields import FieldProjection

_BOOKKEEPING = {"created_by"}


class AuditTrail(FieldProjection):
    name = "audit_trail"
    with_before = True
    kinds = frozenset(
        {"body", "office-term", "transfer", "plan", "deliverable", "target", "grant",
         "decision", "budget", "inspection"}
    )

    def trail(self, rows: Rows, kind: str, key: str, ask: Ask) -> list[dict[str, Any]]:
        """Changes known at ``known_at`` and effective by ``as_of``, in the order recorded.

        A corrected change stays in the trail; ``corrected_by`` names the correcting event's
        position once that correction is known.
        """
        found = self.field_rows(rows, ask, {"kind": kind, "key": key}, with_retracted=True)
        return [
            {
                "position": r["position"],
                "event_id": r["event_id"],
                "event_type": r["event_type"],
                "field": r["field"],
                "before": r["before"],
                "after": r["value"],
                "actor": r["actor"],
                "role": r["role"],
                "body": r["body"],
                "effective_at": iso(r["effective_at"], date_if_midnight=True),
                "recorded_at": iso(r["recorded_at"]),
                "reason": r["reason"],
                "source": {"document": r["source_document"], "location": r["source_location"]},
                "corrects": r["corrects"],
                "corrected_by": r["corrected_by"]
                if r["retracted_at"] is not None and r["retracted_at"] <= ask.known_at
                else None,
            }
            for r in found
            if r["field"] not in _BOOKKEEPING
        ]
