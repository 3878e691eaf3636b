"""Synthetic governance histories for benchmarks: realistic shapes and dates, deterministic.

A synthetic log is made as a real one is: a genesis (a records office and its administrator),
the administrator registering a records officer, then the records officer's transcription of
the police areas' documents, every event signed. Keys come from fixed seeds, so a history is
data: the same ``events`` and ``seed`` give the same facts, and the same signers.

Each police area's financial year: a plan with deliverables whose leads, deadlines and
statuses change, targets revised with reasons and measured, grants awarded and paid (a tenth
paid wrongly and restated), and, once the commissioner has taken over from the police
authority (22 November 2012, as in England and Wales), decisions recorded, signed off and
published. The years run from April 2010 to March 2025 whatever the size: a larger history
has more areas (up to 43) and more of each per area-year, never more years, so its dates stay
real (20 decisions a year put a 1M-event history past the year 4000).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .domain import aggregate_id, event_id
from .services import Fact, Ledger, genesis

if TYPE_CHECKING:
    from .adapters.keys import Signer

ADMIN, RECORDS_OFFICER, RECORDS_BODY = (
    "synthetic-admin", "synthetic-records-officer", "synthetic-records",
)
FIRST_YEAR, YEARS, MOST_AREAS = 2010, 15, 43
TRANSFER = date(2012, 11, 22)
"""Police authorities hand over to police and crime commissioners."""
PER_AREA_YEAR = 365
"""Facts one area-year yields at scale 1 (on average; fewer before the commissioner)."""
SOURCE = {"document": "synthetic", "location": ""}


def area_bodies(area: int) -> tuple[str, str, str]:
    """An area's police authority, commissioner's office and police and crime panel."""
    return f"area-{area:02d}-authority", f"area-{area:02d}-pcc", f"area-{area:02d}-panel"


AUTHORITY, COMMISSIONER, PANEL = area_bodies(0)


def signer(actor: str) -> Signer:
    """A synthetic actor's key, from a seed fixed by its id: never use one outside a bench."""
    from .adapters.keys import Signer

    return Signer.from_seed(actor, hashlib.sha256(f"synthetic-key:{actor}".encode()).digest())


def create(url: str) -> Ledger:
    """A new log at ``url``: the genesis, signed by the synthetic administrator, and the
    records officer it registers. The ledger returned signs as the records officer."""
    admin, officer = signer(ADMIN), signer(RECORDS_OFFICER)
    ledger = Ledger(url, signer=admin)
    try:
        ledger.init(genesis(admin=ADMIN, name="Synthetic administrator", body=RECORDS_BODY,
                            body_name="Synthetic records office", body_type="other",
                            public_key=admin.public_text,
                            effective_at=f"{FIRST_YEAR}-01-01"),
                    admin=ADMIN, signer=admin)
        register(ledger, RECORDS_OFFICER, "Synthetic records officer", ["records_officer"],
                 RECORDS_BODY, officer.public_text)
    except BaseException:
        ledger.close()
        raise
    ledger.signer = officer
    return ledger


def register(ledger: Ledger, actor: str, name: str, roles: list[str], acts_for: str,
             public_key: str) -> None:
    """The administrator registers ``actor`` and its key (the ledger holds the genesis)."""
    admin = signer(ADMIN)
    fields = {"actor": ADMIN, "role": "administrator", "body": RECORDS_BODY,
              "effective_at": f"{FIRST_YEAR}-01-01", "source": SOURCE, "name": name,
              "acts_for": acts_for, "roles": roles, "public_key": public_key}
    ledger.record([Fact(type="ActorRegistered", key=actor, fields=fields)], acting=ADMIN,
                  signer=admin)


def shape(events: int) -> tuple[int, float]:
    """How many areas, and at what scale, make about ``events`` facts in ``YEARS`` years."""
    area_years = events / PER_AREA_YEAR
    areas = min(MOST_AREAS, max(1, math.ceil(area_years / YEARS)))
    # 8% over: the years before the commissioner record no decisions, and the steps are random
    return areas, events / (areas * YEARS * PER_AREA_YEAR) * 1.08


def history(events: int, seed: int = 7) -> Iterator[Fact]:
    """About ``events`` facts (never more), in an order the domain accepts: the records
    officer's transcription, to record after ``create`` with the ledger it returns."""
    rng = random.Random(seed)
    areas, scale = shape(events)

    def count(base: int) -> int:
        return max(1, round(base * scale))

    def body_on(area: int, day: date) -> str:
        authority, commissioner, _ = area_bodies(area)
        return authority if day < TRANSFER else commissioner

    def emit(type_: str, key: str, day: date, body: str, **fields: Any) -> Fact:
        return Fact(type=type_, key=key, fields={
            "actor": "synthetic-officer", "role": "officer", "body": body,
            "effective_at": day.isoformat(),
            "source": {"document": f"{body}/{day:%Y}", "location": f"{day:%Y-%m}"}, **fields})

    produced = 0
    start = date(FIRST_YEAR, 4, 1)
    batch: list[Fact] = []
    for area in range(areas):
        authority, commissioner, panel = area_bodies(area)
        batch += [
            emit("BodyEstablished", authority, start, authority,
                 name=f"Police Authority of area {area}", body_type="police_authority"),
            emit("BodyEstablished", commissioner, start, commissioner,
                 name=f"Office of the Police and Crime Commissioner of area {area}",
                 body_type="pcc_office"),
            emit("BodyEstablished", panel, start, panel,
                 name=f"Police and Crime Panel of area {area}",
                 body_type="police_and_crime_panel"),
        ]
    year = 0
    while produced < events:  # ends in year YEARS - 1 (2024-25); later only if shape() erred
        day = date(FIRST_YEAR + year, 4, 1)
        for area in range(areas):
            batch += _area_year(rng, emit, body_on, area, year, day, count)
            if len(batch) >= events - produced:
                break
        yield from batch[: events - produced]
        produced += len(batch)
        batch = []
        year += 1


def _area_year(rng: random.Random, emit: Any, body_on: Any, area: int, year: int, day: date,
               count: Any) -> list[Fact]:
    """One area's financial year of governance records."""
    authority, commissioner, _ = area_bodies(area)
    body = body_on(area, day)
    plan = f"plan-{area:02d}-{FIRST_YEAR + year}"
    facts = [emit("PlanDrafted", plan, day, body, title=f"Plan {FIRST_YEAR + year}",
                  plan_type="police-and-crime-plan", period_from=day.isoformat()),
             emit("PlanIssued", plan, day, body)]
    if day <= TRANSFER < day.replace(year=day.year + 1):
        facts += [
            emit("ResponsibilityTransferred", f"transfer-{area:02d}", TRANSFER, authority,
                 from_body=authority, to_body=commissioner, responsibility="All functions",
                 legal_basis="Police Reform and Social Responsibility Act 2011"),
            emit("OfficeTermStarted", f"term-{area:02d}-1", TRANSFER, commissioner,
                 office_body=commissioner, office="Police and Crime Commissioner",
                 holder=f"Commissioner of area {area}"),
        ]
    for n in range(count(40)):
        key = f"{plan}/{n}"
        facts.append(emit("DeliverableAdded", key, day, body, plan=plan, number=str(n),
                          title=f"Deliverable {n} of {plan}", lead="Chief Executive",
                          deadline="March", risk_links=[f"r{n % 30}"]))
        for step in range(rng.randint(1, 4)):
            later = day + timedelta(days=30 * (step + 1))
            if rng.random() < 0.5:
                facts.append(emit("DeliverableLeadAssigned", key, later, body_on(area, later),
                                  lead=f"Officer {step}", reason="reorganisation"))
            else:
                facts.append(emit("DeliverableDeadlineChanged", key, later,
                                  body_on(area, later), deadline=f"month {step}",
                                  reason="slipped"))
        review = day + timedelta(days=300)
        facts.append(emit("DeliverableStatusChanged", key, review, body_on(area, review),
                          status=rng.choice(["completed", "closed", "in_progress"]),
                          reason="year end review"))
    for n in range(count(10)):
        key = f"{plan}/target-{n}"
        value = rng.randint(1, 50)
        facts.append(emit("TargetSet", key, day, body, plan=plan, title=f"Target {n}",
                          value=str(value), unit="percent"))
        for step in range(2):
            new = value + rng.randint(1, 5)
            when = day + timedelta(days=90 * (step + 1))
            facts.append(emit("TargetRevised", key, when, body_on(area, when),
                              old_value=str(value), new_value=str(new), reason="new baseline"))
            value = new
        measured = day + timedelta(days=360)
        facts.append(emit("OutcomeMeasured", key, measured, body_on(area, measured),
                          value=str(rng.randint(0, 60)), period=f"{FIRST_YEAR + year}"))
    for n in range(count(30)):
        key = f"grant-{area:02d}-{FIRST_YEAR + year}-{n}"
        amount = rng.randint(10, 500) * 100
        awarded = day + timedelta(days=n % 300)
        funder = body_on(area, awarded)
        facts.append(emit("GrantAwarded", key, awarded, funder,
                          recipient=f"Recipient {n % 12}", amount=str(amount),
                          purpose="Community safety", funding_body=funder))
        paid = awarded + timedelta(days=60)
        facts.append(emit("GrantPaid", key, paid, body_on(area, paid), amount=str(amount // 2)))
        if n % 10 == 0:  # a payment entered wrongly, corrected by restating it
            wrong = event_id(aggregate_id("grant", key), 2)
            facts.append(emit("GrantPaid", key, paid, body_on(area, paid),
                              amount=str(amount // 4), corrects=str(wrong),
                              reason="amount keyed wrongly"))
    decisions = count(20)
    for n in range(decisions):
        taken = day + timedelta(days=n * 360 // decisions)
        if taken < TRANSFER:  # records of decision are the commissioner's
            continue
        key = f"decision-{area:02d}-{FIRST_YEAR + year}-{n}"
        facts += [
            emit("DecisionRecorded", key, taken, commissioner,
                 title=f"Decision {n} of {FIRST_YEAR + year}", originator="Policy officer",
                 executive_summary="Summary of the decision", decision="Agreed",
                 plan_items=[]),
            emit("DecisionSignedOff", key, taken + timedelta(days=1), commissioner,
                 signatory="chief_finance_officer", signed_by="Chief Finance Officer"),
            emit("DecisionSignedOff", key, taken + timedelta(days=2), commissioner,
                 signatory="commissioner", signed_by=f"Commissioner of area {area}"),
            emit("DecisionPublished", key, taken + timedelta(days=3), commissioner,
                 published_on=(taken + timedelta(days=3)).isoformat()),
        ]
    return facts
