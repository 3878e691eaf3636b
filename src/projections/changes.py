"""The field-level view of every event: which entity it touches and which fields it sets.

Read models are built from this one mapping, so "what did this event change" has a single
answer across the plan state, audit trail, registers and transition history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain import AGGREGATE_OF, Event

Fields = dict[str, Any]

_SETS: dict[str, Callable[[Any], Fields]] = {
    "BodyAbolished": lambda e: {"abolished_on": e.effective_date.isoformat()},
    "OfficeTermEnded": lambda e: {"ended_on": e.effective_date.isoformat()},
    "PlanSentToPanel": lambda e: {"status": "sent_to_panel", "panel": e.panel},
    "PanelReportReceived": lambda e: {"status": "panel_reported", "panel_report": e.summary},
    "PlanIssued": lambda e: {"status": "issued", "issued_on": e.effective_date.isoformat()},
    "PlanVaried": lambda e: {f"variation:{e.id}": e.summary},
    "PlanExtended": lambda e: {"period_to": e.period_to.isoformat()},
    "PlanSuperseded": lambda e: {"status": "superseded", "superseded_by": e.by_plan},
    "PlanItemAdded": lambda e: {
        f"item:{e.item}": {
            "item": e.item, "item_kind": e.item_kind.value, "parent": e.parent,
            "number": e.number, "title": e.title,
        }
    },
    "DeliverableLeadAssigned": lambda e: {"lead": e.lead},
    "DeliverableDeadlineChanged": lambda e: {
        "deadline": e.deadline, "due_on": e.due_on.isoformat() if e.due_on else None,
    },
    "DeliverableStatusChanged": lambda e: {"status": e.status.value},
    "DeliverableCarriedOver": lambda e: {
        "status": "carried_over", "carried_over_to": e.to_body, "carried_over_plan": e.to_plan,
    },
    "DeliverableLapsed": lambda e: {"status": "lapsed"},
    "BaselineRecorded": lambda e: {"baseline": str(e.value), "baseline_period": e.period},
    "TargetRevised": lambda e: {"value": str(e.new_value)},
    "OutcomeMeasured": lambda e: {"outcome": str(e.value), "outcome_period": e.period},
    "GrantVaried": lambda e: {"amount": str(e.amount)},
    "GrantPaid": lambda e: {f"payment:{e.id}": str(e.amount)},
    "GrantWithdrawn": lambda e: {"status": "withdrawn"},
    "DecisionSignedOff": lambda e: {
        f"signed_off:{e.signatory.value}": {
            "signed_by": e.signed_by, "signed_on": e.effective_date.isoformat(),
        }
    },
    "InterestDeclared": lambda e: {f"interest:{e.id}": {"person": e.person,
                                                        "interest": e.interest}},
    "DecisionPublished": lambda e: {
        "published_on": e.published_on.isoformat(), "published_at": e.location,
    },
    "BudgetLineSet": lambda e: {
        f"line:{e.line}": {"heading": e.heading, "category": e.category.value,
                           "amount": str(e.amount)}
    },
    "SavingsRequirementSet": lambda e: {f"savings:{e.financial_year}": str(e.amount)},
    "PreceptProposed": lambda e: {"precept_stage": "proposed", "band_d": str(e.band_d)},
    "PreceptReviewed": lambda e: {"precept_stage": "reviewed", "panel_outcome": e.outcome},
    "PreceptVetoed": lambda e: {"precept_stage": "vetoed"},
    "PreceptIssued": lambda e: {"precept_stage": "issued", "band_d": str(e.band_d)},
    "EventRedacted": lambda e: {f"redacted:{e.id}": {
        "position": e.position, "fields": list(e.fields), "basis": e.basis}},
    "RedactionReleased": lambda e: {f"released:{e.id}": {
        "position": e.position, "fields": list(e.fields)}},
    "InspectionGraded": lambda e: {f"grade:{e.question}": e.grade.value},
    "AreaForImprovementRaised": lambda e: {f"point:{e.point}": e.payload()},
    "ImprovementActionPlanned": lambda e: {f"action:{e.action}": e.payload()},
    "ImprovementActionCompleted": lambda e: {
        f"action_completed:{e.action}": e.effective_date.isoformat()
    },
}

_CREATED_STATUS = {
    "plan": {"status": "draft"},
    "deliverable": {"status": "open"},
    "grant": {"status": "awarded"},
    "budget": {"precept_stage": "none"},
}


def kind_of(event: Event) -> str | None:
    """The entity kind an event belongs to (None for a retraction, a redaction or a release:
    they name no kind)."""
    return kind_of_type(type(event))


def kind_of_type(cls: type[Event]) -> str | None:
    """``kind_of`` for any event of this type."""
    aggregate = AGGREGATE_OF.get(cls)
    return aggregate.kind if aggregate else None


def fields_set(event: Event) -> Fields:
    """The fields this event sets on its entity (JSON-ready values)."""
    if event.creates:
        kind = kind_of(event)
        payload = event.payload()
        payload.pop("key", None)
        return {**payload, **_CREATED_STATUS.get(kind or "", {})}
    setter = _SETS.get(event.type)
    return setter(event) if setter else {}


PARENT_FIELD = {
    "deliverable": "plan",
    "target": "plan",
    "grant": "funding_body",
    "office-term": "office_body",
    "transfer": "from_body",
    "inspection": "inspected_body",
}
"""The entity a row is grouped under, for filtering in SQL (a plan's deliverables, ...)."""


def parent_of(kind: str, key: str, fields: Fields, acting_body: str) -> str:
    name = PARENT_FIELD.get(kind)
    if name is not None and fields.get(name):
        return str(fields[name])
    if kind in ("plan", "decision", "budget"):
        return acting_body
    return key
