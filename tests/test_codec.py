"""The event codec: validation once, at write time; reading never validates; schema evolution;
golden fixtures of every event type as first stored, which must replay after any change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, PlainSerializer

from ledger.adapters import codec
from ledger.adapters.codec import EventMapper, canonical_json, decode_event, encode_event
from ledger.domain import (
    AGGREGATE_OF,
    AGGREGATES,
    EVENT_TYPES,
    Aggregate,
    DomainError,
    Event,
    aggregate_id,
    catalogue,
    fold,
)
from ledger.domain.base import Key, ShortText, Source
from ledger.domain.decisions import DecisionRecorded
from ledger.services import Fact, Ledger

from helpers import ENVELOPE, authority, fact, open_ledger
from test_events import SAMPLE_BY_TYPE, record_sample

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_SETS = sorted(p for p in GOLDEN.iterdir() if (p / "stored.jsonl").exists())
RECORDED_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def stored_of(ledger: Ledger) -> list[Any]:
    """Every stored event as the recorder returns it (bytes, not decoded)."""
    return list(ledger.recorder.select_notifications(start=None, limit=1_000_000))


def validated(originator_id: Any, version: int, topic: str, state: bytes) -> Event:
    """What reading did before: validate the stored JSON (the reference decode must equal)."""
    data = json.loads(state)
    data.update(originator_id=originator_id, originator_version=version)
    return EVENT_TYPES[topic].model_validate(data)


def build(type_: str, key: str = "k", version: int = 1, **fields: Any) -> Event:
    """A validated event of ``type_`` from the demo's sample fields, with changes."""
    sample = SAMPLE_BY_TYPE[type_]
    cls = EVENT_TYPES[type_]
    data = {**sample.fields, **({"key": key} if cls.creates else {}), **fields}
    return cls.model_validate(
        {"originator_id": uuid4(), "originator_version": version, "recorded_at": RECORDED_AT,
         **data}
    )


def insert_raw(ledger: Ledger, originator_id: UUID, version: int, topic: str, state: Any) -> None:
    """Stores an event through the recorder directly, as an older program might have: no
    mapper, no validation."""
    data = state if isinstance(state, bytes) else canonical_json(state)
    ledger.recorder.insert_events([StoredEvent(originator_id, version, topic, data)])


# ------------------------------------------------------------------ reading never validates


def test_decode_equals_validation_for_every_event_type(service: Ledger) -> None:
    """Every event type as the store holds it on this backend: decoding gives what validating
    gave (same fields, same order, same types), and dumping it again gives the stored bytes."""
    record_sample(service)
    stored = stored_of(service)
    assert {s.topic for s in stored} == set(EVENT_TYPES)
    for s in stored:
        event = decode_event(s.originator_id, s.originator_version, s.topic, s.state)
        reference = validated(s.originator_id, s.originator_version, s.topic, s.state)
        assert event == reference, s.topic
        assert type(event) is type(reference)
        assert list(event.model_dump()) == list(reference.model_dump())
        assert json.dumps(event.model_dump(mode="json")) == json.dumps(
            reference.model_dump(mode="json")
        )
        for name in type(event).model_fields:
            assert type(getattr(event, name)) is type(getattr(reference, name)), name
        assert encode_event(event).state == s.state


def test_originator_ids_read_the_same_in_every_form_a_driver_returns() -> None:
    event = build("GrantPaid")
    stored = encode_event(event)
    oid = event.originator_id
    for form in (oid, str(oid), oid.bytes):
        assert decode_event(form, 1, stored.topic, stored.state) == event


def test_reading_runs_no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored state that breaks every rule still reads, and pydantic's validation is never
    called: rules are checked once, when the event is written."""
    state = build("DecisionRecorded").model_dump(mode="json", exclude={"originator_id",
                                                                       "originator_version"})
    state.update(
        key="Not A Key", title="x" * 600, confidentiality="confidential", confidential_reason="",
        executive_summary="nul \x00 inside", plan_items=["BAD KEY"],
        source={"document": "", "location": "\x1b"},
    )

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("reading validated an event")

    monkeypatch.setattr(BaseModel, "model_validate", classmethod(refuse))
    monkeypatch.setattr(BaseModel, "__init__", refuse)
    event = decode_event(str(uuid4()), 1, "DecisionRecorded", canonical_json(state))
    assert isinstance(event, DecisionRecorded)
    assert event.key == "Not A Key" and len(event.title) == 600
    assert event.executive_summary == "nul \x00 inside"
    assert event.plan_items == ("BAD KEY",)
    assert event.source == Source.model_construct(document="", location="\x1b")


def test_conversion_plan_is_made_once_per_class() -> None:
    rows = [json.loads(line) for p in GOLDEN_SETS for line in (p / "stored.jsonl").open()]
    codec._plan.cache_clear()
    for row in rows:
        decode_event(row["originator_id"], row["originator_version"], row["topic"],
                     row["state"].encode())
    classes = {catalogue.stored_event_type(r["topic"]) for r in rows}
    assert codec._plan.cache_info().misses == len(classes) + 1  # and Source
    for row in rows:
        decode_event(row["originator_id"], row["originator_version"], row["topic"],
                     row["state"].encode())
    assert codec._plan.cache_info().misses == len(classes) + 1


def test_fields_missing_from_a_stored_state_take_their_defaults() -> None:
    """An event stored before a defaulted field existed reads with the default, as validating
    it would have; a missing required field is named."""
    state = json.loads(encode_event(build("BodyEstablished")).state)
    del state["note"], state["area"]
    event = decode_event(uuid4(), 1, "BodyEstablished", canonical_json(state))
    assert (event.note, event.area) == ("", "")
    assert event == validated(event.originator_id, 1, "BodyEstablished", canonical_json(state))
    assert event.model_fields_set == set(type(event).model_fields) - {"note", "area"}
    del state["name"]
    with pytest.raises(DomainError) as error:
        decode_event(uuid4(), 1, "BodyEstablished", canonical_json(state))
    assert error.value.field == "name"


def test_unknown_topic_is_named() -> None:
    with pytest.raises(DomainError) as error:
        decode_event(uuid4(), 1, "NoSuchEvent", b"{}")
    assert (error.value.field, "NoSuchEvent" in error.value.problem) == ("topic", True)


def test_a_field_type_the_codec_cannot_read_is_refused_when_its_plan_is_made() -> None:
    class Floating(Event):
        ratio: float

    with pytest.raises(TypeError, match="cannot read"):
        codec._plan(Floating)


TIMES = st.one_of(
    st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)),
    st.datetimes(
        min_value=datetime(1800, 1, 2), max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)),
                                   timezone(timedelta(hours=-5, minutes=-30))]),
    ),
)
TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs")),
    min_size=1, max_size=40,
).filter(lambda t: t.strip() == t and t)
MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999999.99"), places=2)


@settings(max_examples=150, deadline=None)
@given(effective_at=TIMES, recorded_at=TIMES, text=TEXT, amount=MONEY, location=TEXT,
       plan=st.one_of(st.none(), st.just("some-plan")))
def test_any_valid_event_decodes_to_what_validation_gives(
    effective_at: Any, recorded_at: Any, text: str, amount: Decimal, location: str,
    plan: str | None,
) -> None:
    if not isinstance(recorded_at, datetime):
        recorded_at = datetime(recorded_at.year, recorded_at.month, recorded_at.day, tzinfo=UTC)
    happened = effective_at if isinstance(effective_at, datetime) else datetime(
        effective_at.year, effective_at.month, effective_at.day, tzinfo=UTC) + timedelta(days=1)
    recorded_at = max(recorded_at, happened)  # a valid event is recorded once it happened
    event = build("GrantAwarded", effective_at=effective_at, purpose=text, amount=amount,
                  recipient=text, plan=plan, source={"document": text, "location": location},
                  recorded_at=recorded_at)
    stored = encode_event(event)  # refuses anything that would not read back equal
    back = decode_event(event.originator_id, 1, stored.topic, stored.state)
    assert back == event == validated(event.originator_id, 1, stored.topic, stored.state)
    assert type(back.effective_at) is type(event.effective_at)
    assert encode_event(back).state == stored.state


# ------------------------------------------------------------------ validation once, at write


def test_confidential_decision_without_a_reason_is_refused_at_write(service: Ledger) -> None:
    """The defect: the reason's validator did not run on its default when written, but did on
    every read, and the store could no longer be read."""
    service.record([authority()])
    before = service.chain.event_count()
    decision = {**SAMPLE_BY_TYPE["DecisionRecorded"].fields, **ENVELOPE,
                "confidentiality": "confidential"}
    decision.pop("confidential_reason", None)
    with pytest.raises(DomainError) as error:
        service.record([Fact(type="DecisionRecorded", key="d-1", fields=decision)])
    assert error.value.field == "confidential_reason"
    assert service.chain.event_count() == before
    service.record([Fact(type="DecisionRecorded", key="d-1",
                         fields={**decision, "confidential_reason": "personal data"})])
    assert service.get("decision", "d-1") is not None


def test_every_event_class_validates_its_defaults() -> None:
    for cls in (*EVENT_TYPES.values(), Source):
        assert cls.model_config.get("validate_default") is True, cls.__name__


def test_a_stored_confidential_decision_without_a_reason_still_reads(service: Ledger) -> None:
    """Such an event, stored by an earlier version, reads, folds, projects and can be added to."""
    from projections.base import Ask
    from projections.runner import DECISION_TRAIL, Runner

    service.record([authority()])
    state = json.loads(encode_event(build("DecisionRecorded", key="legacy", **ENVELOPE)).state)
    state.update(confidentiality="confidential", confidential_reason="")
    insert_raw(service, aggregate_id("decision", "legacy"), 1, "DecisionRecorded", state)
    service.record([fact("DecisionSignedOff", "legacy", signatory="chief_executive",
                         signed_by="Someone")])
    decision = service.get("decision", "legacy")
    assert decision is not None and decision.confidentiality == "confidential"
    assert len(decision.signed_off) == 1
    runner = Runner(service)
    try:
        with runner.reading() as rows:
            found = DECISION_TRAIL.decisions(rows, Ask.of())
    finally:
        runner.close()
    assert [d["reference"] for d in found] == ["legacy"]


class Lossy(Event):
    """Test-only: a field whose stored form does not read back as written."""

    creates: ClassVar[bool] = True
    key: Key
    note: Annotated[str, PlainSerializer(lambda v: v.upper(), return_type=str)]


class Thing(Aggregate):
    kind = "test-thing"
    created_by = Lossy


@pytest.fixture
def lossy_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EVENT_TYPES, "Lossy", Lossy)
    monkeypatch.setitem(AGGREGATE_OF, Lossy, Thing)
    monkeypatch.setitem(AGGREGATES, "test-thing", Thing)


def test_an_event_that_would_not_read_back_equal_is_refused(
    service: Ledger, lossy_catalogue: None
) -> None:
    service.record([authority()])
    before = service.chain.event_count()
    with pytest.raises(DomainError) as error:
        service.record([fact("Lossy", "t-1", note="quiet")])
    assert error.value.field == "note"
    assert "read back" in error.value.problem
    assert service.chain.event_count() == before
    service.record([fact("Lossy", "t-2", note="LOUD")])  # reads back equal: stored
    assert service.chain.event_count() == before + 1


def test_an_event_class_outside_the_catalogue_is_not_stored() -> None:
    event = Lossy.model_validate({**ENVELOPE, "key": "t", "note": "A", "originator_id": uuid4(),
                                  "originator_version": 1, "recorded_at": RECORDED_AT})
    with pytest.raises(DomainError) as error:
        EventMapper().to_stored_event(event)
    assert error.value.field == "type"


# ------------------------------------------------------------------ control characters

REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x80", "\x85",
           "\x9f"]


def _text_fields(type_: str) -> Iterator[tuple[str, Any]]:
    """(field path, value holding a NUL) for every text field of a sample event of ``type_``."""
    event = build(type_)
    for name in type(event).model_fields:
        value = getattr(event, name)
        if isinstance(value, str) and not isinstance(value, Enum):
            yield name, f"a\x00{value}"
        elif isinstance(value, tuple) and not any(isinstance(v, Enum) for v in value):
            yield name, [*value, "a\x00b"]
        elif isinstance(value, Source):
            yield "source.document", {"document": "a\x00b", "location": value.location}
            yield "source.location", {"document": value.document, "location": "a\x00b"}
    for name in ("reason", "confidential_reason"):
        if name in type(event).model_fields and getattr(event, name) is None:
            yield name, "a\x00b"


def text_fields() -> list[tuple[str, str, Any]]:
    return [(t, path, value) for t in EVENT_TYPES for path, value in _text_fields(t)]


def test_every_event_type_has_text_fields_to_try() -> None:
    found = text_fields()
    assert {t for t, _, _ in found} == set(EVENT_TYPES)
    assert len(found) > 2 * len(EVENT_TYPES)


def test_nul_in_any_text_field_of_any_event_is_refused_naming_it(service: Ledger) -> None:
    """On both backends, through the service as the CLI's --file JSON arrives: refused before
    anything is written, naming the field."""
    before = service.chain.event_count()
    for type_, path, value in text_fields():
        sample = SAMPLE_BY_TYPE[type_]
        name = path.split(".")[0]
        fields = {**sample.fields, name: value}
        key = value if name == "key" else sample.key  # a creating event's key is the fact's
        with pytest.raises(DomainError) as error:
            service.record([Fact(type=type_, key=key, kind=sample.kind, fields=fields)])
        named = error.value.field
        assert named == path or named.startswith(f"{path}."), (type_, path, str(error.value))
        assert ("control character U+0000" in error.value.problem
                or "should match pattern" in error.value.problem
                or "a public key is written" in error.value.problem), (type_, path)
    assert service.chain.event_count() == before


def test_the_cli_refuses_a_nul_or_a_reasonless_confidential_decision_from_a_file(
    store_url: str, tmp_path: Path
) -> None:
    """As the defects were found: ``--file`` JSON. One line naming the field, exit 2, nothing
    written, and the store still reads."""
    from click.testing import CliRunner

    from ledger.entrypoints.cli import _run, cli

    def run(*args: str) -> tuple[int, str]:
        with CliRunner().isolation() as (out, err, *_):
            code = _run(cli, ["--store", store_url, *args])
            return code, out.getvalue().decode() + err.getvalue().decode()

    envelope = ["--effective-at", "2013-01-01", "--source-document", "setup"]
    assert run("init", "--admin", "admin", "--name", "A", "--body", "kent-pcc", "--body-name",
               "Kent", "--body-type", "pcc_office")[0] == 0
    officer_key = run("key", "new", "officer1")[1].strip().splitlines()[-1]
    assert run("actor", "add", "officer1", "--name", "O", "--acts-for", "kent-pcc", "--roles",
               "officer", "--public-key", officer_key, "--as", "admin", *envelope)[0] == 0
    record = {"title": "T", "originator": "O", "executive_summary": "S", "decision": "D"}
    cases = [({"executive_summary": "a\x00b"},
              "error: executive_summary: control character U+0000 is not allowed"),
             ({"confidentiality": "confidential"},
              "error: confidential_reason: a confidential decision must say why it is"
              " confidential")]
    with open_ledger(store_url) as ledger:
        before = ledger.chain.event_count()
    for change, message in cases:
        path = tmp_path / "decision.json"
        path.write_text(json.dumps({**record, **change}))
        code, out = run("decision", "record", "d-1", "--file", str(path), "--as", "officer1",
                        *envelope)
        assert (code, out.strip()) == (2, message)
    with open_ledger(store_url) as ledger:
        assert ledger.chain.event_count() == before
    assert run("decisions", "--format", "json")[0] == 0


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_every_refused_character_is_named(char: str) -> None:
    with pytest.raises(Exception) as error:
        build("DecisionRecorded", executive_summary=f"before{char}after")
    message = str(error.value)
    assert "executive_summary" in message and f"U+{ord(char):04X} is not allowed" in message


def test_an_unpaired_surrogate_is_refused_naming_the_field() -> None:
    """It cannot be written as UTF-8: pydantic refuses it, and so does the store's own guard."""
    with pytest.raises(Exception, match="executive_summary"):
        build("DecisionRecorded", executive_summary="a\ud800b")
    bad = DecisionRecorded.model_construct(
        **{**dict(build("DecisionRecorded")), "title": "a\udfffb"}
    )
    with pytest.raises(DomainError) as error:
        encode_event(bad)
    assert str(error.value) == "title: unpaired surrogate U+DFFF is not allowed"


def test_tab_and_newline_are_kept(service: Ledger) -> None:
    service.record([authority()])
    service.record([Fact(type="DecisionRecorded", key="d-1", fields={
        **SAMPLE_BY_TYPE["DecisionRecorded"].fields, **ENVELOPE,
        "executive_summary": "line one\n\tindented line two"})])
    decision = service.get("decision", "d-1")
    assert decision is not None
    assert decision.executive_summary == "line one\n\tindented line two"  # type: ignore[attr-defined]


def test_the_store_refuses_control_characters_in_an_event_built_without_validation(
    service: Ledger,
) -> None:
    """The codec's own guard: an event made without validation (model_construct) is refused
    too, naming the field, and nothing is written."""
    before = service.chain.event_count()
    good = dict(build("DecisionRecorded"))
    bad = DecisionRecorded.model_construct(**{**good, "executive_summary": "a\x00b"})
    with pytest.raises(DomainError) as error:
        service.app.events.put([bad])
    assert str(error.value) == "executive_summary: control character U+0000 is not allowed"
    bad = DecisionRecorded.model_construct(
        **{**good, "source": Source.model_construct(document="d", location="p\x9f")}
    )
    with pytest.raises(DomainError) as error:
        EventMapper().to_stored_event(bad)
    assert str(error.value) == "source.location: control character U+009F is not allowed"
    assert service.chain.event_count() == before
    service.app.events.put([DecisionRecorded.model_construct(**good)])
    assert service.chain.event_count() == before + 1


ALL_REFUSED = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                                 0xD800, 0xDBFF, 0xDC00, 0xDFFF]]


def test_the_store_guard_misses_no_refused_character() -> None:
    """The guard first scans the canonical JSON text; every refused character must show there
    (JSON escapes most of C0), and tab, newline and a backslash must pass."""
    good = dict(build("DecisionRecorded"))
    for char in ALL_REFUSED:
        bad = DecisionRecorded.model_construct(**{**good, "title": f"a{char}b"})
        with pytest.raises(DomainError) as error:
            encode_event(bad)
        assert error.value.field == "title", repr(char)
        assert f"U+{ord(char):04X} is not allowed" in error.value.problem
    fine = DecisionRecorded.model_construct(
        **{**good, "title": "tab\t newline\n back\\slash \\u0000 \\b é £ \u2028 \U0001F600"}
    )
    assert decode_event(fine.originator_id, 1, "DecisionRecorded",
                        encode_event(fine).state) == fine


def test_projections_survive_a_nul_stored_by_an_older_version(service: Ledger) -> None:
    """An event holding NUL, stored before writing refused it (inserted here through the
    recorder, bypassing validation): every read model replays it, NUL escaped in their rows
    (PostgreSQL text cannot hold NUL), and the event itself still reads as stored."""
    from projections.base import Ask
    from projections.runner import AUDIT_TRAIL, DECISION_TRAIL, Runner

    service.record([authority()])
    state = json.loads(encode_event(build("DecisionRecorded", key="nul", **ENVELOPE)).state)
    state.update(title="Title \x00 with NUL", executive_summary="Summary\x00",
                 source={"document": "doc\x00", "location": "p\x00"})
    decision_id = aggregate_id("decision", "nul")
    insert_raw(service, decision_id, 1, "DecisionRecorded", state)
    signed = json.loads(encode_event(build("DecisionSignedOff", version=2, **ENVELOPE)).state)
    signed.update(signed_by="Some\x00one", reason="why\x00")
    insert_raw(service, decision_id, 2, "DecisionSignedOff", signed)
    history = service.history("decision", "nul")
    assert history[0].title == "Title \x00 with NUL"  # type: ignore[attr-defined]
    runner = Runner(service)
    try:
        runner.rebuild()
        with runner.reading() as rows:
            found = DECISION_TRAIL.decisions(rows, Ask.of(), text="summary")
            asked_with_nul = DECISION_TRAIL.decisions(rows, Ask.of(), text="summary\x00")
            trail = AUDIT_TRAIL.trail(rows, "decision", "nul", Ask.of())
    finally:
        runner.close()
    assert [d["title"] for d in found] == ["Title \x00 with NUL"]  # from JSON: as stored
    assert asked_with_nul == found
    assert found[0]["signoffs"][0]["signed_by"] == "Some\x00one"
    reasons = {r["reason"] for r in trail if r["event_type"] == "DecisionSignedOff"}
    assert reasons == {"why\\u0000"}  # a text column: escaped
    assert {r["source"]["document"] for r in trail if r["event_type"] == "DecisionRecorded"} == {
        "doc\\u0000"
    }


# ------------------------------------------------------------------ schema evolution


class Widget(Event):
    """Test-only, at version 3: v1 had ``name``; v2 added ``size``; v3 renamed name to title."""

    class_version: ClassVar[int] = 3
    creates: ClassVar[bool] = True
    key: Key
    title: ShortText
    size: int

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "size": 0}

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> dict[str, Any]:
        state = dict(state)
        state["title"] = state.pop("name")
        return state


class WidgetAggregate(Aggregate):
    kind = "test-widget"
    created_by = Widget
    title: str
    size: int


@pytest.fixture
def widget_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EVENT_TYPES, "Widget", Widget)
    monkeypatch.setitem(AGGREGATE_OF, Widget, WidgetAggregate)
    monkeypatch.setitem(AGGREGATES, "test-widget", WidgetAggregate)
    monkeypatch.setitem(catalogue.TOPIC_RENAMES, "Gadget", "Widget")


def _envelope_state(**fields: Any) -> dict[str, Any]:
    return {**ENVELOPE, "corrects": None, "reason": None, "recorded_at": "2026-11-26T12:00:00Z",
            **fields}


def test_older_versions_are_upcast_in_turn(widget_catalogue: None) -> None:
    v1 = _envelope_state(key="w", name="First")
    v2 = _envelope_state(key="w", name="Second", size=5, class_version=2)
    one = decode_event(uuid4(), 1, "Widget", canonical_json(v1))
    two = decode_event(uuid4(), 1, "Widget", canonical_json(v2))
    assert (one.title, one.size) == ("First", 0)  # type: ignore[attr-defined]
    assert (two.title, two.size) == ("Second", 5)  # type: ignore[attr-defined]


def test_a_class_past_version_one_stores_its_version(widget_catalogue: None) -> None:
    event = Widget.model_validate({**_envelope_state(key="w", title="New", size=2),
                                   "originator_id": uuid4(), "originator_version": 1})
    stored = encode_event(event)
    assert json.loads(stored.state)["class_version"] == 3
    assert decode_event(event.originator_id, 1, "Widget", stored.state) == event
    body = encode_event(build("BodyEstablished"))
    assert "class_version" not in json.loads(body.state)  # version 1: today's bytes, unchanged


def test_a_newer_stored_version_than_the_class_is_named(widget_catalogue: None) -> None:
    v4 = _envelope_state(key="w", title="Future", size=1, class_version=4)
    with pytest.raises(DomainError) as error:
        decode_event(uuid4(), 1, "Widget", canonical_json(v4))
    assert error.value.field == "class_version" and "4" in error.value.problem


def test_a_missing_upcaster_is_found() -> None:
    class Skipping(Event):
        class_version: ClassVar[int] = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
            return state

    with pytest.raises(TypeError, match="upcast_v2_v3"):
        codec.check_upcasters(Skipping)
    for cls in EVENT_TYPES.values():
        codec.check_upcasters(cls)


def test_a_renamed_type_reads_its_old_events_from_the_store(
    service: Ledger, widget_catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events stored under an old name and old versions, on this backend, read as the renamed
    class at its current version; a name renamed twice follows both renames."""
    monkeypatch.setitem(catalogue.TOPIC_RENAMES, "Gizmo", "Gadget")
    first, second = aggregate_id("test-widget", "w-1"), aggregate_id("test-widget", "w-2")
    insert_raw(service, first, 1, "Gadget", _envelope_state(key="w-1", name="Old name"))
    insert_raw(service, second, 1, "Gizmo",
               _envelope_state(key="w-2", name="Older", size=9, class_version=2))
    logged = [event for _, event in service.log() if event.originator_id in (first, second)]
    assert [type(e) for e in logged] == [Widget, Widget]
    assert [(e.title, e.size) for e in logged] == [("Old name", 0), ("Older", 9)]  # type: ignore[attr-defined]
    state = service.get("test-widget", "w-1")
    assert state is not None and state.title == "Old name"  # type: ignore[attr-defined]
    assert catalogue.stored_event_type("Gizmo") is Widget


def test_rename_cycles_and_unknown_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(catalogue.TOPIC_RENAMES, "A", "B")
    monkeypatch.setitem(catalogue.TOPIC_RENAMES, "B", "A")
    for topic in ("A", "Nowhere"):
        with pytest.raises(DomainError):
            catalogue.stored_event_type(topic)


def test_the_real_catalogue_has_no_test_types_and_renames_only_to_known_types() -> None:
    assert not {"Widget", "Lossy", "Gadget"} & set(EVENT_TYPES)
    for old, new in catalogue.TOPIC_RENAMES.items():
        assert old not in EVENT_TYPES
        assert catalogue.stored_event_type(new) is not None


# ------------------------------------------------------------------ golden fixtures


def golden(set_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    stored = [json.loads(line) for line in (set_dir / "stored.jsonl").read_text().splitlines()]
    expected = json.loads((set_dir / "expected.json").read_text())
    return stored, expected


def _subset(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, Any]:
    """Expected values that differ: a later version may add fields, never change old ones."""
    return {k: (v, actual.get(k, "<missing>")) for k, v in expected.items() if actual.get(k) != v}


def test_golden_sets_exist() -> None:
    assert GOLDEN_SETS, "no golden fixtures under tests/golden"


@pytest.mark.parametrize("set_dir", GOLDEN_SETS, ids=[p.name for p in GOLDEN_SETS])
def test_golden_fixtures_replay(set_dir: Path) -> None:
    """Every stored event of the set decodes to the fields it had, and every entity folds to
    the state it had. Nothing is validated: today's rules may be stricter than those the events
    were written under (a field since required), and the events must read all the same."""
    stored, expected = golden(set_dir)
    assert len(stored) == len(expected["events"])
    histories: dict[UUID, list[Event]] = {}
    for row, want in zip(stored, expected["events"], strict=True):
        state = row["state"].encode()
        event = decode_event(row["originator_id"], row["originator_version"], row["topic"], state)
        assert event.type == want["type"]
        assert not _subset(want["fields"], event.model_dump(mode="json")), row["topic"]
        histories.setdefault(event.originator_id, []).append(event)
    assert len(histories) == len(expected["entities"])
    for entity in expected["entities"]:
        history = histories[UUID(entity["originator_id"])]
        state = fold(AGGREGATES[entity["kind"]], history)
        assert state is not None
        assert not _subset(entity["state"], state.model_dump(mode="json")), entity["kind"]


def test_every_event_type_has_a_golden_fixture() -> None:
    covered = {
        catalogue.stored_event_type(row["topic"])
        for set_dir in GOLDEN_SETS
        for row in golden(set_dir)[0]
    }
    missing = sorted(name for name, cls in EVENT_TYPES.items() if cls not in covered)
    assert not missing, f"no golden fixture for {missing}: run tests/golden/generate.py"


def test_golden_fixtures_replay_through_a_store(service: Ledger) -> None:
    """The newest set, stored as is on this backend: entities read back as expected, and every
    read model replays it."""
    from projections.base import Ask
    from projections.runner import PROJECTIONS, TRANSITIONS, Runner

    stored, expected = golden(GOLDEN_SETS[-1])
    service.recorder.insert_events([
        StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"],
                    r["state"].encode())
        for r in stored
    ])
    for entity in expected["entities"]:
        state = service.get(entity["kind"], entity["state"]["key"])
        assert state is not None
        assert not _subset(entity["state"], state.model_dump(mode="json"))
    head, _ = service.chain.head()
    runner = Runner(service)
    try:
        assert runner.rebuild() == head >= len(stored)
        with runner.reading() as rows:
            story = TRANSITIONS.history(rows, Ask.of())
        assert story["transfers"] and story["bodies"]
        assert {s.position for s in runner.status()} == {head}
        assert len(runner.status()) == len(PROJECTIONS)
    finally:
        runner.close()
