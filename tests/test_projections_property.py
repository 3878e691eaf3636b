"""Property: for random valid command sequences, rebuild == incremental catch-up == naive fold.

Incremental read models live in the store's database and catch up every few commands; a
rebuild replays the whole log into a second, separate set of tables; the naive fold applies the
same events to plain Python lists. Every query of every projection, asked for several
(as_of, known_at) pairs, must give the same answer from all three, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine

from ledger.domain import AGGREGATE_OF, DomainError
from ledger.services import Fact
from projections.base import Ask, BufferedSqlRows, MemoryRows, Rows, moment
from projections.runner import PROJECTIONS, Runner

from conftest import _require_postgres, pg_connect, pg_url
from helpers import open_ledger

DAY0 = date(2010, 1, 1)
RECORDED0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
OPS = (
    "deliverable", "status", "deadline", "lead", "carry", "lapse", "target", "revise",
    "baseline", "measure", "grant", "pay", "vary", "withdraw", "decision", "signoff",
    "publish", "term", "transfer", "retract", "restate_payment",
)
op_strategy = st.tuples(
    st.sampled_from(OPS), st.integers(0, 2), st.integers(0, 3000), st.integers(1, 500)
)


class World:
    """Turns abstract operations into facts, tracking just enough to make most of them valid."""

    def __init__(self) -> None:
        self.created: dict[str, int] = {}
        self.target_values: dict[str, int | None] = {}
        self.recorded: list[Any] = []

    def envelope(self, day: int, body: str = "pa", role: str = "officer") -> dict[str, Any]:
        return {
            "actor": "clerk", "role": role, "body": body,
            "effective_at": (DAY0 + timedelta(days=day)).isoformat(),
            "source": {"document": "generated", "location": f"day {day}"},
        }

    def start(self) -> list[Fact]:
        env = self.envelope(0)
        self.created["plan"] = 0
        return [
            Fact(type="BodyEstablished", key="pa", fields={**env, "name": "PA",
                                                          "body_type": "police_authority"}),
            Fact(type="BodyEstablished", key="pcc", fields={**env, "name": "PCC",
                                                           "body_type": "pcc_office"}),
            Fact(type="PlanDrafted", key="plan", fields={**env, "title": "Plan",
                                                        "plan_type": "business-plan",
                                                        "period_from": "2010-01-01"}),
        ]

    def fact(self, op: str, i: int, day: int, value: int) -> Fact | None:
        d, t, g, x = f"d{i}", f"t{i}", f"g{i}", f"x{i}"
        after = {k: max(day, self.created.get(k, day)) for k in (d, t, g, x)}
        changed = {"reason": f"because {value}"}
        match op:
            case "deliverable":
                self.created.setdefault(d, day)
                return Fact(type="DeliverableAdded", key=d, fields={
                    **self.envelope(day), "plan": "plan", "title": f"D{i}",
                    "lead": "Chief Executive", "deadline": "Ongoing"})
            case "status":
                status = ("in_progress", "completed", "closed")[value % 3]
                return Fact(type="DeliverableStatusChanged", key=d, fields={
                    **self.envelope(after[d]), "status": status, **changed})
            case "deadline":
                return Fact(type="DeliverableDeadlineChanged", key=d, fields={
                    **self.envelope(after[d]), "deadline": f"day {value}", **changed})
            case "lead":
                return Fact(type="DeliverableLeadAssigned", key=d, fields={
                    **self.envelope(after[d]), "lead": f"Lead {value}", **changed})
            case "carry":
                return Fact(type="DeliverableCarriedOver", key=d, fields={
                    **self.envelope(after[d]), "to_body": "pcc", **changed})
            case "lapse":
                return Fact(type="DeliverableLapsed", key=d, fields={
                    **self.envelope(after[d]), **changed})
            case "target":
                self.created.setdefault(t, day)
                return Fact(type="TargetSet", key=t, fields={
                    **self.envelope(day), "plan": "plan", "title": f"T{i}", "value": value})
            case "revise":
                return Fact(type="TargetRevised", key=t, fields={
                    **self.envelope(after[t]), "old_value": self.target_values.get(t),
                    "new_value": value, **changed})
            case "baseline":
                return Fact(type="BaselineRecorded", key=t, fields={
                    **self.envelope(after[t]), "value": value, "period": "2012-13"})
            case "measure":
                return Fact(type="OutcomeMeasured", key=t, fields={
                    **self.envelope(after[t]), "value": value, "period": "2013-14"})
            case "grant":
                self.created.setdefault(g, day)
                return Fact(type="GrantAwarded", key=g, fields={
                    **self.envelope(day, "pcc"), "recipient": f"R{value % 2}",
                    "amount": value * 10, "purpose": "p", "funding_body": "pcc"})
            case "pay":
                return Fact(type="GrantPaid", key=g, fields={
                    **self.envelope(after[g], "pcc"), "amount": value % 7 + 1})
            case "vary":
                return Fact(type="GrantVaried", key=g, fields={
                    **self.envelope(after[g], "pcc"), "amount": value * 20, **changed})
            case "withdraw":
                return Fact(type="GrantWithdrawn", key=g, fields={
                    **self.envelope(after[g], "pcc"), **changed})
            case "decision":
                self.created.setdefault(x, day)
                return Fact(type="DecisionRecorded", key=x, fields={
                    **self.envelope(day, "pcc"), "title": f"Decision {value}",
                    "originator": "officer", "executive_summary": "s", "decision": "d"})
            case "signoff":
                signatory = ("chief_finance_officer", "chief_executive", "commissioner")[value % 3]
                return Fact(type="DecisionSignedOff", key=x, fields={
                    **self.envelope(after[x], "pcc"), "signatory": signatory,
                    "signed_by": f"S{value}"})
            case "publish":
                return Fact(type="DecisionPublished", key=x, fields={
                    **self.envelope(after[x], "pcc"), "published_on": "2013-01-01"})
            case "term":
                return Fact(type="OfficeTermStarted", key=f"term{i}", fields={
                    **self.envelope(day, "pcc"), "office_body": "pcc",
                    "office": "Commissioner", "holder": f"H{i}"})
            case "transfer":
                return Fact(type="ResponsibilityTransferred", key=f"tr{i}", fields={
                    **self.envelope(day), "from_body": "pa", "to_body": "pcc",
                    "responsibility": "all", "legal_basis": "PRSRA 2011"})
            case "retract":
                changes = [r for r in self.recorded if not r.event.creates
                           and r.event.corrects is None]
                if not changes:
                    return None
                target = changes[value % len(changes)].event
                return Fact(type="EventRetracted", key=self.key_of(target),
                            kind=AGGREGATE_OF[type(target)].kind, fields={
                                **self.envelope(day), "corrects": str(target.id), **changed})
            case "restate_payment":
                payments = [r for r in self.recorded if r.event.type == "GrantPaid"]
                if not payments:
                    return None
                target = payments[value % len(payments)].event
                return Fact(type="GrantPaid", key=self.key_of(target), fields={
                    **self.envelope(day, "pcc"), "amount": 1, "corrects": str(target.id),
                    **changed})
        return None

    def key_of(self, event: Any) -> str:
        return next(str(r.event.key) for r in self.recorded
                    if r.event.originator_id == event.originator_id and r.event.creates)

    def note(self, recorded: list[Any]) -> None:
        self.recorded += recorded
        for r in recorded:
            if r.event.type in ("TargetSet", "TargetRevised") and r.event.corrects is None:
                key = self.key_of(r.event)
                self.target_values[key] = int(
                    r.event.value if r.event.type == "TargetSet" else r.event.new_value
                )


def answers(rows: Rows, asks: list[Ask], keys: list[tuple[str, str]]) -> list[Any]:
    """Every query of every projection, for every question."""
    out: list[Any] = []
    plan_state, audit, transitions = (PROJECTIONS[n] for n in
                                      ("plan_state", "audit_trail", "transitions"))
    decisions, targets, grants = (PROJECTIONS[n] for n in
                                  ("decision_trail", "target_history", "grants"))
    for ask in asks:
        out.append(plan_state.plans(rows, ask))  # type: ignore[attr-defined]
        out.append(plan_state.plan(rows, "plan", ask))  # type: ignore[attr-defined]
        out.append(transitions.history(rows, ask))  # type: ignore[attr-defined]
        out.append(decisions.decisions(rows, ask))  # type: ignore[attr-defined]
        out.append(decisions.decisions(rows, ask, text="decision 1"))  # type: ignore[attr-defined]
        out.append(targets.targets(rows, ask))  # type: ignore[attr-defined]
        out.append(grants.register(rows, ask))  # type: ignore[attr-defined]
        out.append(grants.register(rows, ask, recipient="R1"))  # type: ignore[attr-defined]
        for kind, key in keys:
            out.append(audit.trail(rows, kind, key, ask))  # type: ignore[attr-defined]
    return out


@contextmanager
def fresh_store(backend: str) -> Iterator[tuple[str, Engine]]:
    """A new store plus a separate database for the rebuilt read models."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            rebuilt = create_engine(f"sqlite:///{Path(folder) / 'rebuilt.db'}")
            yield f"sqlite:///{Path(folder) / 'ledger.db'}", rebuilt
            rebuilt.dispose()
        return
    schema, other = f"p_{uuid.uuid4().hex[:12]}", f"r_{uuid.uuid4().hex[:12]}"
    with pg_connect() as conn:
        conn.execute(f'CREATE SCHEMA "{other}"')
    rebuilt = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        connect_args={"options": f"-csearch_path={other}"},
    )
    try:
        yield pg_url(schema), rebuilt
    finally:
        rebuilt.dispose()
        with pg_connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


@pytest.mark.slow
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    ops=st.lists(op_strategy, min_size=1, max_size=40),
    every=st.integers(1, 6),
    days=st.lists(st.integers(0, 3200), min_size=2, max_size=2),
    known=st.integers(0, 45),
)
def test_rebuild_equals_incremental_equals_naive_fold(
    backend: str, ops: list[tuple[str, int, int, int]], every: int, days: list[int], known: int
) -> None:
    if backend == "postgresql":
        _require_postgres()
    with (
        fresh_store(backend) as (url, rebuilt_engine),
        open_ledger(url) as ledger,
        pytest.MonkeyPatch.context() as patch,
    ):
        # a tiny cache, so that catching up also reads evicted entities back from the tables
        patch.setattr(BufferedSqlRows, "ENTITY_LIMIT", 3)
        world = World()
        incremental = Runner(ledger)
        world.note(ledger.record(world.start(), now=RECORDED0))
        for n, op in enumerate(ops, start=1):
            fact = world.fact(*op)
            if fact is not None:
                # a fact not valid in the state reached is refused, and the sequence skips it
                with suppress(DomainError):
                    world.note(ledger.record([fact], now=RECORDED0 + timedelta(minutes=n)))
            if n % every == 0:
                incremental.catch_up()
        incremental.catch_up()

        naive = MemoryRows()
        for position, event in ledger.log():
            for projection in PROJECTIONS.values():
                projection.apply(naive, position, event)

        rebuilt = Runner(ledger, rebuilt_engine)
        rebuilt.rebuild()

        asks = [
            Ask.of(),
            Ask.of((DAY0 + timedelta(days=days[0])).isoformat()),
            Ask.of((DAY0 + timedelta(days=days[1])).isoformat(),
                   RECORDED0 + timedelta(minutes=known)),
            Ask(known_at=moment(RECORDED0 + timedelta(minutes=known, seconds=30))),
        ]
        entity_keys = sorted({(AGGREGATE_OF[type(r.event)].kind, str(r.event.key))
                              for r in world.recorded if r.event.creates})
        with incremental.engine.connect() as conn:
            from projections.base import SqlRows

            by_increments = answers(SqlRows(conn), asks, entity_keys)
        with rebuilt.engine.connect() as conn:
            by_rebuild = answers(SqlRows(conn), asks, entity_keys)
        by_fold = answers(naive, asks, entity_keys)
        assert by_increments == by_fold
        assert by_rebuild == by_fold
        incremental.close()
