"""Synthetic governance histories for benchmarks: realistic shapes, deterministic by seed.

Each "year" of a county's history: a plan with deliverables whose leads, deadlines and
statuses change, targets revised with reasons, grants awarded, varied and paid, decisions
recorded, signed off and published, and now and then a correction. One transition (authority
to commissioner) happens early on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .domain import aggregate_id, event_id
from .services import Fact

AUTHORITY, COMMISSIONER, PANEL = "synthetic-authority", "synthetic-pcc", "synthetic-panel"


def _envelope(day: date, body: str, role: str = "officer") -> dict[str, Any]:
    return {
        "actor": "synthetic-officer",
        "role": role,
        "body": body,
        "effective_at": day.isoformat(),
        "source": {"document": "synthetic", "location": f"{day:%Y-%m}"},
    }


def history(events: int, seed: int = 7) -> Iterator[Fact]:
    """About ``events`` facts (never more), in an order the domain accepts."""
    rng = random.Random(seed)
    produced = 0

    def emit(type_: str, key: str, day: date, body: str, **fields: Any) -> Fact:
        return Fact(type=type_, key=key, fields={**_envelope(day, body), **fields})

    start = date(2010, 4, 1)
    batch = [
        emit("BodyEstablished", AUTHORITY, start, AUTHORITY, name="Synthetic Police Authority",
             body_type="police_authority"),
        emit("BodyEstablished", COMMISSIONER, start, COMMISSIONER,
             name="Synthetic PCC office", body_type="pcc_office"),
        emit("BodyEstablished", PANEL, start, PANEL, name="Synthetic Panel",
             body_type="police_and_crime_panel"),
    ]
    year = 0
    while produced < events:
        day = start + timedelta(days=365 * year)
        body = AUTHORITY if year < 2 else COMMISSIONER
        plan = f"plan-{year}"
        batch += [emit("PlanDrafted", plan, day, body, title=f"Plan year {year}",
                      plan_type="police-and-crime-plan", period_from=day.isoformat()),
                 emit("PlanIssued", plan, day, body)]
        if year == 2:
            batch.append(emit("ResponsibilityTransferred", "transfer", day, AUTHORITY,
                              from_body=AUTHORITY, to_body=COMMISSIONER,
                              responsibility="All functions", legal_basis="PRSRA 2011"))
            batch.append(emit("OfficeTermStarted", "term-1", day, COMMISSIONER,
                              office_body=COMMISSIONER, office="Commissioner",
                              holder="Synthetic Commissioner"))
        for n in range(40):
            key = f"{plan}/{n}"
            batch.append(emit("DeliverableAdded", key, day, body, plan=plan, number=str(n),
                              title=f"Deliverable {n} of year {year}", lead="Chief Executive",
                              deadline="March", risk_links=[f"r{n % 30}"]))
            for step in range(rng.randint(1, 4)):
                later = day + timedelta(days=30 * (step + 1))
                batch.append(rng.choice([
                    emit("DeliverableLeadAssigned", key, later, body, lead=f"Officer {step}",
                         reason="reorganisation"),
                    emit("DeliverableDeadlineChanged", key, later, body,
                         deadline=f"month {step}", reason="slipped"),
                ]))
            batch.append(emit("DeliverableStatusChanged", key, day + timedelta(days=300), body,
                              status=rng.choice(["completed", "closed", "in_progress"]),
                              reason="year end review"))
        for n in range(10):
            key = f"{plan}/target-{n}"
            value = rng.randint(1, 50)
            batch.append(emit("TargetSet", key, day, body, plan=plan, title=f"Target {n}",
                              value=str(value), unit="percent"))
            for step in range(2):
                new = value + rng.randint(1, 5)
                batch.append(emit("TargetRevised", key, day + timedelta(days=90 * (step + 1)),
                                  body, old_value=str(value), new_value=str(new),
                                  reason="new baseline"))
                value = new
            batch.append(emit("OutcomeMeasured", key, day + timedelta(days=360), body,
                              value=str(rng.randint(0, 60)), period=f"year {year}"))
        for n in range(30):
            key = f"grant-{year}-{n}"
            amount = rng.randint(10, 500) * 100
            batch.append(emit("GrantAwarded", key, day, COMMISSIONER,
                              recipient=f"Recipient {n % 12}", amount=str(amount),
                              purpose="Community safety", funding_body=COMMISSIONER))
            batch.append(emit("GrantPaid", key, day + timedelta(days=60), COMMISSIONER,
                              amount=str(amount // 2)))
            if n % 10 == 0:  # a payment entered wrongly, corrected by restating it
                paid = event_id(aggregate_id("grant", key), 2)
                batch.append(emit("GrantPaid", key, day + timedelta(days=60), COMMISSIONER,
                                  amount=str(amount // 4), corrects=str(paid),
                                  reason="amount keyed wrongly"))
        for n in range(20):
            key = f"decision-{year}-{n}"
            batch += [
                emit("DecisionRecorded", key, day + timedelta(days=n), COMMISSIONER,
                     title=f"Decision {n} of year {year}", originator="Policy officer",
                     executive_summary="Summary of the decision", decision="Agreed",
                     plan_items=[]),
                emit("DecisionSignedOff", key, day + timedelta(days=n + 1), COMMISSIONER,
                     signatory="chief_finance_officer", signed_by="CFO"),
                emit("DecisionSignedOff", key, day + timedelta(days=n + 2), COMMISSIONER,
                     signatory="commissioner", signed_by="Synthetic Commissioner"),
                emit("DecisionPublished", key, day + timedelta(days=n + 3), COMMISSIONER,
                     published_on=(day + timedelta(days=n + 3)).isoformat()),
            ]
        yield from batch[: events - produced]
        produced += len(batch)
        batch = []
        year += 1
