"""Every event type round-trips through the store; invalid facts are refused and write nothing."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import demo
from ledger.demo import corrections, disclosures, sample_history
from ledger.disclosure import Reader
from ledger.domain import EVENT_TYPES, DomainError
from ledger.domain.base import ENVELOPE_FIELDS
from ledger.services import Fact, Ledger

from helpers import ENVELOPE, authority, fact, grant

SAMPLE = sample_history()
SAMPLE_BY_TYPE = {f.type: f for f in reversed(
    [*SAMPLE, *corrections(str(uuid4())), *disclosures((str(uuid4()), 1), (str(uuid4()), 2))]
)}


def record_sample(service: Ledger) -> list[Any]:
    return demo.record_sample(service)


def test_every_event_type_round_trips(service: Ledger) -> None:
    recorded = record_sample(service)
    assert {r.event.type for r in recorded} == set(EVENT_TYPES)
    service.reader = Reader("kent-pcc-auditor", frozenset({"kent-pcc"}))  # sees every word
    assert [r.position for r in recorded] == list(range(3, len(recorded) + 3))  # after genesis
    logged = dict(service.log())
    for r in recorded:
        assert logged[r.position] == r.event
        assert logged[r.position].model_dump() == r.event.model_dump()
    for r in recorded:
        kind = {"EventRetracted": "plan", "EventRedacted": "decision",
                "RedactionReleased": "decision"}.get(r.event.type)
        events = service.history(kind or _kind_of(r.event), _key_of(recorded, r.event))
        assert r.event in events


def _kind_of(event: Any) -> str:
    from ledger.domain import AGGREGATE_OF

    return AGGREGATE_OF[type(event)].kind


def _key_of(recorded: list[Any], event: Any) -> str:
    creator = next(
        r.event
        for r in recorded
        if r.event.originator_id == event.originator_id and r.event.creates
    )
    return str(creator.key)


def test_state_is_folded_from_history_with_corrections(service: Ledger) -> None:
    record_sample(service)
    plan = service.get("plan", "kpa-business-plan-2011-12")
    assert plan is not None
    assert plan.status == "issued"  # the wrong 'superseded' entry was retracted
    assert str(plan.period_to) == "2012-11-21"
    target = service.get("target", "kent-pcc/victim-based-crime")
    assert target is not None and str(target.value) == "-2" and target.revisions == 2
    grant_state = service.get("grant", "kent-pcc/grant/2013/community-safety")
    assert grant_state is not None
    assert (str(grant_state.amount), str(grant_state.paid)) == ("120000.00", "60000.00")
    decision = service.get("decision", "kpcc-001-2013")
    assert decision is not None and str(decision.published_on) == "2013-05-04"
    assert len(decision.signed_off) == 3
    carried = service.get("deliverable", "kpa-business-plan-2011-12/1.8")
    assert carried is not None and carried.status == "carried_over"
    assert carried.carried_over_to == "kent-pcc"
    # the log still holds the corrected event: nothing was edited
    assert any(
        e.type == "PlanSuperseded" for e in service.history("plan", "kpa-business-plan-2011-12")
    )


BAD_FACTS = [
    ("missing reason on a change", "GrantVaried", {"amount": "5.00"}, "reason"),
    ("negative amount", "GrantPaid", {"amount": "-1"}, "amount"),
    ("amount with fractions of a penny", "GrantPaid", {"amount": "1.001"}, "amount"),
    ("amount not a number", "GrantPaid", {"amount": "lots"}, "amount"),
    ("unknown role", "GrantPaid", {"amount": "1", "role": "mayor"}, "role"),
    (
        "effective_at not a date",
        "GrantPaid",
        {"amount": "1", "effective_at": "2012-02-30"},
        "effective_at",
    ),
    (
        "naive timestamp",
        "GrantPaid",
        {"amount": "1", "effective_at": "2012-02-01T10:00:00"},
        "effective_at",
    ),
    (
        "source without document",
        "GrantPaid",
        {"amount": "1", "source": {"location": "p1"}},
        "source.document",
    ),
    ("unknown field", "GrantPaid", {"amount": "1", "colour": "red"}, "colour"),
    ("actor not a key", "GrantPaid", {"amount": "1", "actor": "Ann Barnes"}, "actor"),
    ("overpaying", "GrantPaid", {"amount": "1000.01"}, "amount"),
    ("unknown acting body", "GrantPaid", {"amount": "1", "body": "nowhere"}, "body"),
]


@pytest.mark.parametrize(
    ("why", "type_", "fields", "field"), BAD_FACTS, ids=[b[0] for b in BAD_FACTS]
)
def test_invalid_fact_names_the_field_and_writes_nothing(
    service: Ledger, why: str, type_: str, fields: dict[str, Any], field: str
) -> None:
    service.record([authority(), grant()])
    before = service.chain.event_count()
    with pytest.raises(DomainError) as error:
        service.record([fact(type_, "grant-1", **fields)])
    assert error.value.field == field, why
    assert service.chain.event_count() == before


def test_structural_rules(service: Ledger) -> None:
    service.record([authority(), grant()])
    cases = [
        (
            fact(
                "GrantAwarded",
                "grant-1",
                recipient="x",
                amount="1",
                purpose="p",
                funding_body="test-authority",
            ),
            "key",
            "already exists",
        ),
        (fact("GrantPaid", "grant-2", amount="1"), "key", "no grant"),
        (fact("PlanIssued", "grant-1"), "key", "no plan"),
        (fact("NoSuchThing", "grant-1"), "type", "unknown event type"),
        (
            fact(
                "EventRetracted",
                "grant-1",
                corrects="00000000-0000-0000-0000-000000000000",
                reason="r",
            ),
            "kind",
            "say which kind",
        ),
        (
            fact(
                "EventRetracted",
                "grant-1",
                kind="grant",
                reason="wrong",
                corrects="00000000-0000-0000-0000-000000000000",
            ),
            "corrects",
            "no event",
        ),
    ]
    for bad, field, words in cases:
        with pytest.raises(DomainError) as error:
            service.record([bad])
        assert (error.value.field, words in error.value.problem) == (field, True), bad
    assert service.chain.event_count() == 2 + 2  # the genesis and these two


def test_a_correction_restates_the_fact_and_keeps_the_original(service: Ledger) -> None:
    (_, awarded) = service.record([authority(), grant(amount="1000.00")])
    restated = fact(
        "GrantAwarded",
        "grant-1",
        recipient="Someone",
        amount="100.00",
        purpose="testing",
        funding_body="test-authority",
        corrects=str(awarded.event.id),
        reason="typed an extra zero",
    )
    service.record([restated])
    state = service.get("grant", "grant-1")
    assert state is not None and str(state.amount) == "100.00"
    assert [e.type for e in service.history("grant", "grant-1")] == ["GrantAwarded"] * 2
    wrong_type = fact(
        "GrantPaid", "grant-1", amount="1", corrects=str(awarded.event.id), reason="r"
    )
    with pytest.raises(DomainError) as error:
        service.record([wrong_type])
    assert error.value.field == "corrects"


# Property: any field of any event type given a value of the wrong shape is refused, naming it.
WRONG_SHAPES = st.sampled_from([{"unexpected": [1]}, [["nested"]], {"a": {"b": None}}])
FIELD_CHOICES = [
    (name, field)
    for name, f in SAMPLE_BY_TYPE.items()
    for field in (*f.fields, *ENVELOPE_FIELDS)
    if field not in ("originator_id", "originator_version", "recorded_at")
] + [("EventRetracted", field) for field in ("corrects", "reason", "actor")]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choice=st.sampled_from(FIELD_CHOICES), wrong=WRONG_SHAPES, drop=st.booleans())
def test_any_malformed_field_is_named_and_nothing_is_written(
    populated: Ledger, choice: tuple[str, str], wrong: Any, drop: bool
) -> None:
    type_, field = choice
    base = SAMPLE_BY_TYPE[type_]
    fields = dict(base.fields)
    required = EVENT_TYPES[type_].model_fields.get(field)
    if drop and required is not None and required.is_required() and field in fields:
        del fields[field]
    else:
        fields[field] = wrong
    before = populated.chain.event_count()
    with pytest.raises(DomainError) as error:
        populated.record([Fact(type=type_, key=base.key, kind=base.kind, fields=fields)])
    assert error.value.field.split(".")[0] == field
    assert populated.chain.event_count() == before


@pytest.fixture
def populated(service: Ledger) -> Ledger:
    record_sample(service)
    return service


def test_envelope_fields_are_the_documented_ones() -> None:
    assert set(ENVELOPE) | {"reason", "corrects", "recorded_at"} <= ENVELOPE_FIELDS
