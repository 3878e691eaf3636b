"""Dates mean what people mean (issue 18): one parser for every date a person gives, the UK's
local day for date-only views and filters, facts dated only within the life of what they are
about, and `--as-of` today unless a date is given."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.dates import day_end, day_start, local_day, parse_day, parse_when
from ledger.domain import DomainError
from ledger.entrypoints.cli import _run, cli, signer_of
from ledger.services import Fact, Ledger
from test_authority import ok, public_key, run, stored

# ---------------------------------------------------------------- the one parser


@pytest.mark.parametrize(("text", "says"), [
    ("20130501", "not a date or timestamp"),  # never Unix seconds, never ISO's basic form
    ("1367366400", "not a date or timestamp"),
    ("2013-W18-3", "not a date or timestamp"),
    ("2013-5-1", "not a date or timestamp"),
    ("yesterday", "not a date or timestamp"),
    ("2013-02-30", "not a real date"),
    ("2013-05-01T10:00", "has no offset"),
    ("2013-05-01T10:00:00+14:30", "beyond ±14:00"),
    ("2013-05-01T10:00:00-15:00", "beyond ±14:00"),
    ("0001-01-01", "before 1800"),
    ("1799-12-31T23:00:00Z", "before 1800"),
])
def test_what_is_not_a_date_is_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_when(text, "effective_at")
    assert refused.value.field == "effective_at" and says in refused.value.problem


@pytest.mark.parametrize(("text", "meant"), [
    ("2013-05-01", date(2013, 5, 1)),
    ("2013-05-01T00:30:00+01:00", datetime(2013, 4, 30, 23, 30, tzinfo=UTC)),
    ("2013-05-01T10:00Z", datetime(2013, 5, 1, 10, tzinfo=UTC)),
    ("2013-05-01 10:00:00.5+00:00", datetime(2013, 5, 1, 10, 0, 0, 500_000, tzinfo=UTC)),
    ("2013-05-01t10:00:00z", datetime(2013, 5, 1, 10, tzinfo=UTC)),
    ("2013-05-01T10:00:00-14:00", datetime(2013, 5, 2, 0, tzinfo=UTC)),
])
def test_dates_and_timestamps_with_offsets_are_read(text: str, meant: date) -> None:
    assert parse_when(text, "as_of") == meant


def test_a_day_field_takes_a_date_only() -> None:
    assert parse_day("2013-05-04", "published_on") == date(2013, 5, 4)
    for text in ("20130504", "2013-05-04T10:00:00Z"):
        with pytest.raises(DomainError, match="^published_on: .* is not a date"):
            parse_day(text, "published_on")


def test_the_local_day_is_londons_in_summer_and_in_winter() -> None:
    bst, gmt = date(2013, 5, 1), date(2013, 12, 1)
    assert local_day(datetime(2013, 4, 30, 23, 30, tzinfo=UTC)) == bst
    assert local_day(datetime(2013, 12, 1, 23, 30, tzinfo=UTC)) == gmt
    assert local_day(datetime(2013, 5, 1, 12, tzinfo=timezone(timedelta(hours=-10)))) \
        == date(2013, 5, 1)
    assert day_start(bst) == datetime(2013, 4, 30, 23, tzinfo=UTC)
    assert day_end(bst) == datetime(2013, 5, 1, 22, 59, 59, 999_999, tzinfo=UTC)
    assert day_start(gmt) == datetime(2013, 12, 1, tzinfo=UTC)


# ---------------------------------------------------------------- a Kent log, on both backends

S = "--effective-at 2013-01-01 --source-document setup"
D = "--source-document rod-1"
PEOPLE = [("officer1", "officer", "kent-pcc"), ("ce", "chief_executive", "kent-pcc"),
          ("ann", "commissioner", "kent-pcc"), ("cfo", "chief_finance_officer", "kent-pcc"),
          ("kpa-officer", "officer", "kpa")]


@pytest.fixture
def kent(store_url: str) -> str:
    """Kent's PCC office from 22 November 2012, the Police Authority from 2011 to its abolition
    that day, their people, Ann Barnes's term and decision kpcc-1 of 1 May 2013."""
    url = store_url
    ok(url, "init --admin admin --name Admin --body kent-pcc --body-name 'Kent PCC' "
            "--body-type pcc_office --effective-at 2012-11-22")
    ok(url, "body establish kpa --name 'Kent Police Authority' --body-type police_authority "
            "--as admin --effective-at 2011-03-01 --source-document setup")
    for actor, role, body in PEOPLE:
        ok(url, f"actor add {actor} --name {actor} --acts-for {body} --roles {role} "
                f"--public-key {public_key(url, actor)} --as admin {S}")
    ok(url, "body abolish kpa --reason 'PRSRA 2011' --as admin --effective-at 2012-11-22 "
            "--source-document setup")
    ok(url, "term start kent-pcc/ann --office-body kent-pcc --office Commissioner --holder ann "
            "--as officer1 --effective-at 2012-11-22 --source-document setup")
    ok(url, f"decision record kpcc-1 --title Grants --originator O --executive-summary S "
            f"--decision Approved --as officer1 --effective-at 2013-05-01 {D}")
    return url


def answer(url: str, *args: str) -> object:
    """A reading command's JSON answer (stdout only: stderr may say a filter matched nothing)."""
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", url, *args, "--format", "json"])
        text, said = out.getvalue().decode(), err.getvalue().decode()
    assert code == 0, said
    return json.loads(text)


def bad(url: str, line: str, field: str, says: str = "") -> None:
    """Exit 2, one line naming ``field`` (and saying ``says``), and nothing written."""
    before = stored(url)
    code, out = run(url, line)
    assert code == 2 and out.startswith(f"error: {field}: ") and says in out, (line, out)
    assert out.count("\n") == 1 and "Traceback" not in out, out
    assert stored(url) == before, line


def decision(key: str, when: str, actor: str = "officer1") -> str:
    return (f"decision record {key} --title T --originator O --executive-summary S "
            f"--decision D --as {actor} --effective-at {when} {D}")


def test_every_date_a_person_gives_is_read_by_the_one_parser(kent: str, tmp_path: Path) -> None:
    bad(kent, decision("d-1", "20130501"), "effective_at", "not a date or timestamp")
    bad(kent, decision("d-1", "2013-05-01T10:00:00+14:30"), "effective_at", "±14:00")
    bad(kent, decision("d-1", "0001-01-01"), "effective_at", "before 1800")
    bad(kent, decision("d-1", "2013-05-01T10:00:00"), "effective_at", "no offset")
    ok(kent, "decision sign-off kpcc-1 --signatory commissioner --as ann "
             f"--effective-at 2013-05-03 {D}")
    bad(kent, f"decision publish kpcc-1 --published-on 20130504 --as ann "
              f"--effective-at 2013-05-04 {D}", "published_on", "not a date")
    for line, field in ((["decisions", "--from", "20130501"], "from"),
                        (["decisions", "--to", "2013-05-01T10:00"], "to"),
                        (["decisions", "--as-of", "20130501"], "as_of"),
                        (["grants", "--known-at", "1367366400"], "known_at"),
                        (["plan", "list", "--as-of", "0001-01-01"], "as_of"),
                        (["replay", "--known-at", "20130501"], "known_at"),
                        (["publish", "--out", str(tmp_path / "site"), "--as-of", "20130501"],
                         "as_of")):
        code, out = run(kent, " ".join(line))
        assert code == 2 and out.startswith(f"error: {field}: "), (line, out)
    assert not (tmp_path / "site").exists()


def test_a_future_effective_at_is_refused_but_clock_skew_is_allowed(kent: str) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=2)
    later = datetime.now(UTC) + timedelta(hours=1)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    bad(kent, decision("d-1", later.isoformat()), "effective_at", "is in the future")
    bad(kent, decision("d-1", tomorrow.isoformat()), "effective_at", "a deadline as a field")
    ok(kent, decision("d-1", soon.isoformat()))


def test_date_only_views_and_filters_use_the_london_day(kent: str) -> None:
    ok(kent, decision("d-bst", "2013-05-01T00:30:00+01:00"))  # 30 April in UTC
    ok(kent, decision("d-late", "2013-05-01T23:30:00Z"))  # 2 May in London

    def decided(*options: str) -> dict[str, str]:
        found = answer(kent, "decisions", *options)
        assert isinstance(found, list)
        return {d["reference"]: d["decided_on"] for d in found}

    assert decided() == {"kpcc-1": "2013-05-01", "d-bst": "2013-05-01", "d-late": "2013-05-02"}
    assert decided("--from", "2013-05-01", "--to", "2013-05-01") == {
        "kpcc-1": "2013-05-01", "d-bst": "2013-05-01"}
    assert decided("--to", "2013-04-30") == {}
    assert decided("--from", "2013-05-02") == {"d-late": "2013-05-02"}
    assert set(decided("--as-of", "2013-04-30")) == set()
    assert set(decided("--as-of", "2013-05-01")) == {"kpcc-1", "d-bst"}
    assert set(decided("--as-of", "2013-05-01T00:29:00+01:00")) == set()
    assert set(decided("--as-of", "2013-05-01T00:30:00+01:00")) == {"d-bst"}
    # the stored form is kept: the event's own time, in the trail as UTC
    trail = answer(kent, "audit", "decision", "d-bst")
    assert isinstance(trail, list)
    assert trail[0]["effective_at"] == "2013-04-30T23:30:00.000000+00:00"


def test_facts_dated_outside_the_life_of_what_they_are_about(kent: str) -> None:
    # by a body after its abolition, or before it was established
    bad(kent, decision("kpa-2015", "2015-03-01", actor="kpa-officer"), "effective_at",
        "kpa was abolished on 2012-11-22")
    bad(kent, decision("pcc-2012", "2012-06-01"), "effective_at",
        "kent-pcc was established on 2012-11-22")
    # before the entity it happens to existed
    bad(kent, f"decision sign-off kpcc-1 --signatory chief_executive --as ce "
              f"--effective-at 2013-04-30 {D}", "effective_at",
        "decision 'kpcc-1' dates from 2013-05-01")
    ok(kent, f"decision sign-off kpcc-1 --signatory commissioner --as ann "
             f"--effective-at 2013-05-03 {D}")
    bad(kent, f"decision publish kpcc-1 --published-on 2013-04-01 --as ann "
              f"--effective-at 2013-05-04 {D}", "published_on", "before the decision")
    ok(kent, "grant award g-1 --recipient R --amount 100 --purpose P --funding-body kent-pcc "
             f"--as officer1 --effective-at 2013-06-01 {D}")
    bad(kent, f"grant pay g-1 --amount 10 --as cfo --effective-at 2013-05-31 {D}",
        "effective_at", "grant 'g-1' dates from 2013-06-01")
    bad(kent, "grant award g-2 --recipient R --amount 100 --purpose P --funding-body kpa "
              f"--as officer1 --effective-at 2013-06-01 {D}", "effective_at",
        "kpa was abolished")
    # the office holder held the office on the day (a date problem, not a permission)
    ok(kent, f"decision record kpcc-2 --title T --originator O --executive-summary S "
             f"--decision D --as officer1 --effective-at 2012-11-22 {D}")
    ok(kent, "term end kent-pcc/ann --reason 'stood down' --as officer1 "
             "--effective-at 2012-11-23 --source-document setup")
    bad(kent, f"decision sign-off kpcc-2 --signatory commissioner --as ann "
              f"--effective-at 2012-11-24 {D}", "effective_at",
        "holds no office term of kent-pcc on 2012-11-24 (held: 2012-11-22 to 2012-11-23)")
    # an actor acts for a body in the ledger
    bad(kent, f"actor add x --name X --acts-for no-such-body --roles officer "
              f"--public-key {public_key(kent, 'x')} --as admin {S}", "acts_for",
        "no body 'no-such-body'")


def test_the_recorder_is_judged_when_recording_and_may_back_record(kent: str) -> None:
    """Registered today, an officer records a decision of 2013: back-recording is history."""
    today = datetime.now(UTC).date().isoformat()
    ok(kent, f"actor add late --name Late --acts-for kent-pcc --roles officer "
             f"--public-key {public_key(kent, 'late')} --as admin --effective-at {today} "
             "--source-document setup")
    ok(kent, decision("d-back", "2013-02-01", actor="late"))
    # the abolished Authority's own history, recorded now by its officer, dated in its life
    drafted = ok(kent, "plan draft kpa-plan --title 'KPA plan' --plan-type business_plan "
                       "--period-from 2011-04-01 --as kpa-officer --effective-at 2011-06-01 "
                       "--source-document kpa-plan")
    ok(kent, "responsibility transfer kpa-to-pcc --from-body kpa --to-body kent-pcc "
             "--responsibility All --legal-basis 'PRSRA 2011' --as kpa-officer "
             "--effective-at 2012-11-22 --source-document setup")
    # a correction is made by whoever is responsible when it is recorded: the Commissioner's
    # office restates the Authority's plan of 2011, though it did not exist then
    position = drafted.split(" at position ")[1].split()[0]
    ok(kent, f"correct {position} -f title='Kent Police Authority plan' --reason typo "
             "--as officer1")


def test_as_of_defaults_to_today(kent: str) -> None:
    """A decision dated 2099 (written through the service with a clock of 2099: the write
    path refuses a future date) is not in plain `ledger decisions`."""
    with Ledger(kent, signer=signer_of("officer1")) as ledger:
        ledger.record([Fact(type="DecisionRecorded", key="d-2099", fields={
            "actor": "officer1", "role": "officer", "body": "kent-pcc",
            "effective_at": "2099-05-01", "source": {"document": "rod-2099"},
            "title": "T", "originator": "O", "executive_summary": "S", "decision": "D",
        })], acting="officer1", now=datetime(2099, 6, 1, tzinfo=UTC))

    def references(*options: str) -> list[str]:
        found = answer(kent, "decisions", *options)
        assert isinstance(found, list)
        return [d["reference"] for d in found]

    assert references() == ["kpcc-1"]
    assert references("--known-at", "2100-01-01") == ["kpcc-1"]  # known, but not yet so
    assert references("--as-of", "2099-12-31", "--known-at", "2100-01-01") == [
        "kpcc-1", "d-2099"]
