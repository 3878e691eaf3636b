"""A whole story, asked at three dates and two knowledge times, with the exact rows expected.

A police authority issues a plan; a target is revised twice with reasons; responsibility passes
to a Commissioner's office, one commitment is carried over and one is left silent; a
deliverable's lead was typed wrong and is corrected by a later event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.services import Ledger
from projections.base import Ask, SqlRows
from projections.runner import PROJECTIONS, Runner

from helpers import ENVELOPE, STORY, lead_corrected

GENESIS_BODY = "test-records"  # the body that keeps the tests' logs (their genesis)
R1, R2, R3, R4 = (datetime(2026, 1, d, 9, 0, tzinfo=UTC) for d in (10, 11, 12, 13))
K1 = "2026-01-11T12:00:00+00:00"  # after the first revision was recorded, before the rest
A1, A2, A3 = "2011-06-01", "2012-01-01", "2013-01-01"


@pytest.fixture
def story(service: Ledger) -> Iterator[tuple[Ledger, SqlRows]]:
    for facts, now in zip(STORY, (R1, R2, R3), strict=True):
        service.record(facts, now=now)
    typo = service.history("deliverable", "plan/2")[0]
    service.record([lead_corrected(typo.id)], now=R4)
    runner = Runner(service)
    with runner.reading() as rows:
        yield service, rows
    runner.close()


def pick(records: list[dict[str, Any]], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(r.get(name) for name in fields) for r in records]


@pytest.mark.parametrize(
    ("as_of", "known_at", "deliverables", "target"),
    [
        (A1, None, [("plan/1", "Chief Executive", "open"), ("plan/2", "Treasurer", "open")],
         "10"),
        (A1, K1, [("plan/1", "Chief Executive", "open"), ("plan/2", "Tresurer", "open")], "10"),
        (A2, None, [("plan/1", "Chief Executive", "open"), ("plan/2", "Treasurer", "open")],
         "12"),
        (A2, K1, [("plan/1", "Chief Executive", "open"), ("plan/2", "Tresurer", "open")], "12"),
        (A3, None, [("plan/1", "Chief Executive", "carried_over"),
                    ("plan/2", "Treasurer", "open")], "15"),
        (A3, K1, [("plan/1", "Chief Executive", "open"), ("plan/2", "Tresurer", "open")], "12"),
    ],
)
def test_plan_state(story: tuple[Ledger, SqlRows], as_of: str, known_at: str | None,
                    deliverables: list[tuple[str, str, str]], target: str) -> None:
    _, rows = story
    found = PROJECTIONS["plan_state"].plan(rows, "plan", Ask.of(as_of, known_at))  # type: ignore[attr-defined]
    assert (found["plan"]["status"], found["plan"]["period_to"]) == ("issued", "2012-05-31")
    assert pick(found["deliverables"], "key", "lead", "status") == deliverables
    assert pick(found["targets"], "key", "value", "unit") == [("t", target, "percent")]
    assert found["deliverables"][0]["source"] == ENVELOPE["source"]


@pytest.mark.parametrize(
    ("as_of", "known_at", "series"),
    [
        (A1, None, [("set", "10", None, None)]),
        (A2, K1, [("set", "10", None, None), ("revised", "12", "10", "r1")]),
        (A3, K1, [("set", "10", None, None), ("revised", "12", "10", "r1")]),
        (A3, None, [("set", "10", None, None), ("revised", "12", "10", "r1"),
                    ("revised", "15", "12", "r2")]),
    ],
)
def test_target_history(story: tuple[Ledger, SqlRows], as_of: str, known_at: str | None,
                        series: list[tuple[Any, ...]]) -> None:
    _, rows = story
    found = PROJECTIONS["target_history"].target(rows, "t", Ask.of(as_of, known_at))  # type: ignore[attr-defined]
    assert pick(found["series"], "step", "value", "old_value", "justification") == series


@pytest.mark.parametrize(
    ("as_of", "known_at", "transfers"),
    [
        (A2, None, []),
        (A3, K1, []),
        (A3, None, [("tr", "2012-11-22", "pa", "pcc", [
            ("plan/1", "open", "carried_over", "2012-11-22", "pcc", "continues"),
            ("plan/2", "open", "open at transfer, no outcome recorded", None, None, None),
        ])]),
    ],
)
def test_transition_history(story: tuple[Ledger, SqlRows], as_of: str, known_at: str | None,
                            transfers: list[tuple[Any, ...]]) -> None:
    _, rows = story
    found = PROJECTIONS["transitions"].history(rows, Ask.of(as_of, known_at))  # type: ignore[attr-defined]
    assert [
        (t["key"], t["on"], t["from_body"], t["to_body"],
         pick(t["commitments"], "deliverable", "status_at_transfer", "outcome", "outcome_on",
              "carried_over_to", "outcome_reason"))
        for t in found["transfers"]
    ] == transfers
    bodies = [b for b in pick(found["bodies"], "key", "established_on") if b[0] != GENESIS_BODY]
    assert bodies == ([("pa", "1995-04-01"), ("pcc", "2012-11-22")] if as_of == A3
                      else [("pa", "1995-04-01")])
    terms = pick(found["office_terms"], "holder", "office_body", "from", "to")
    assert terms == ([("Ann Barnes", "pcc", "2012-11-22", None)]
                     if (as_of, known_at) == (A3, None) else [])


def test_audit_trail_shows_the_corrected_and_the_correcting_event(
    story: tuple[Ledger, SqlRows],
) -> None:
    service, rows = story
    audit = PROJECTIONS["audit_trail"]
    typo, fix = service.history("deliverable", "plan/2")
    now = audit.trail(rows, "deliverable", "plan/2", Ask.of(A3))  # type: ignore[attr-defined]
    then = audit.trail(rows, "deliverable", "plan/2", Ask.of(A3, K1))  # type: ignore[attr-defined]
    leads_now = [r for r in now if r["field"] == "lead"]
    assert pick(leads_now, "event_id", "before", "after", "reason", "corrects") == [
        (str(typo.id), None, "Tresurer", None, None),
        (str(fix.id), "Tresurer", "Treasurer", "lead was mistyped", str(typo.id)),
    ]
    correcting_position = leads_now[1]["position"]
    assert leads_now[0]["corrected_by"] == correcting_position
    assert (leads_now[1]["effective_at"], leads_now[1]["recorded_at"]) == (
        "2011-03-01", "2026-01-13T09:00:00.000000+00:00")
    leads_then = [r for r in then if r["field"] == "lead"]
    assert pick(leads_then, "after", "corrected_by") == [("Tresurer", None)]
    assert {r["actor"] for r in now} == {"test-officer"}


@pytest.mark.parametrize(
    ("as_of", "known_at", "amount", "paid", "total_paid"),
    [(A1, None, "5000.00", [], "0"), (A2, K1, "5000.00", ["2000.00"], "2000.00"),
     (A3, None, "5000.00", ["2000.00"], "2000.00")],
)
def test_grants_register(story: tuple[Ledger, SqlRows], as_of: str, known_at: str | None,
                         amount: str, paid: list[str], total_paid: str) -> None:
    _, rows = story
    found = PROJECTIONS["grants"].register(rows, Ask.of(as_of, known_at))  # type: ignore[attr-defined]
    assert pick(found["grants"], "key", "recipient", "funding_body", "financial_year",
                "amount") == [("g", "Victim Support", "pa", "2011-12", amount)]
    assert [p["amount"] for p in found["grants"][0]["payments"]] == paid
    assert (found["totals"]["awarded"], found["totals"]["paid"]) == (amount, total_paid)
    assert found["totals"]["by_recipient"] == {"Victim Support": amount}


@pytest.mark.parametrize(
    ("as_of", "known_at", "signoffs"),
    [("2011-04-30", None, None), (A1, K1, []), (A1, None, [("chief_executive", "CE")]),
     (A3, None, [("chief_executive", "CE")])],
)
def test_decision_trail(story: tuple[Ledger, SqlRows], as_of: str, known_at: str | None,
                        signoffs: list[tuple[str, str]] | None) -> None:
    _, rows = story
    trail = PROJECTIONS["decision_trail"]
    found = trail.decisions(rows, Ask.of(as_of, known_at))  # type: ignore[attr-defined]
    if signoffs is None:
        assert found == []
        return
    assert pick(found, "reference", "decided_on", "body", "title", "published_on") == [
        ("d-1", "2011-05-01", "pa", "Grant to Victim Support", None)]
    assert pick(found[0]["signoffs"], "signatory", "signed_by") == signoffs
    ask = Ask.of(as_of, known_at)
    assert trail.decisions(rows, ask, text="victim support") == found  # type: ignore[attr-defined]
    assert trail.decisions(rows, ask, text="nothing like it") == []  # type: ignore[attr-defined]
    assert trail.decisions(rows, ask, body="pcc") == []  # type: ignore[attr-defined]
    assert trail.decisions(rows, ask, date_from="2011-05-02") == []  # type: ignore[attr-defined]
    assert trail.decisions(rows, ask, holder="Ann Barnes") == []  # type: ignore[attr-defined]


def test_rebuild_then_status_shows_every_projection_at_the_head(
    story: tuple[Ledger, SqlRows],
) -> None:
    service, _ = story
    runner = Runner(service)
    runner.rebuild()
    head, _ = service.chain.head()
    assert {(s.name, s.position, s.behind) for s in runner.status()} == {
        (name, head, 0) for name in PROJECTIONS
    }
    assert runner.catch_up() == 0, "catching up at the head reads nothing"
    runner.close()


def test_a_large_catch_up_leaves_fresh_planner_statistics(
    story: tuple[Ledger, SqlRows], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without them PostgreSQL plans the Panel's queries for empty tables (seq scans)."""
    from sqlalchemy import text

    from projections import runner as runner_module

    service, _ = story
    monkeypatch.setattr(runner_module, "ANALYZE_AFTER", 1)
    runner = Runner(service)
    runner.rebuild(["decision_trail"])
    if runner.engine.dialect.name == "postgresql":
        with runner.engine.connect() as conn:
            analyzed = conn.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND last_analyze IS NOT NULL"
            )).scalars().all()
        assert {"entity_fields", "decision_trail_index"} <= set(analyzed)
    runner.close()
