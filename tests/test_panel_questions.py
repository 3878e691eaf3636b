"""The questions a Police and Crime Panel member asks, asked through `ledger` on both backends:
what became of the outgoing body's commitments at the handover, which decisions awarded
grants (who signed them, what was declared), filters that take what a person types, and a
replay cut at a date."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.adapters.codec import decode_event
from ledger.demo import demo_public_key
from ledger.domain.grants import GrantAwarded
from ledger.entrypoints.cli import _run, cli
from ledger.services import Fact, Ledger
from test_cli import populate

from helpers import ENVELOPE, open_ledger

GOLDEN = Path(__file__).parent / "golden"


def run(store: str, args: list[str] | str) -> tuple[int, str, str]:
    """`ledger --store STORE ...`: exit code, standard output and standard error apart."""
    words = shlex.split(args) if isinstance(args, str) else args
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", store, *words])
        return code, out.getvalue().decode(), err.getvalue().decode()


def read(store: str, args: str) -> Any:
    code, out, err = run(store, f"{args} --format json")
    assert code == 0, out + err
    return json.loads(out)


def f(type_: str, key: str, effective_at: str, body: str = "pa", **fields: Any) -> Fact:
    return Fact(type=type_, key=key,
                fields={**ENVELOPE, "body": body, "effective_at": effective_at, **fields})


def record(store_url: str, facts: list[Fact]) -> None:
    with open_ledger(store_url) as ledger:
        ledger.record(facts)


def events_in(store_url: str) -> int:
    with Ledger(store_url, mode="read") as ledger:
        return ledger.chain.census().last


def deliverable(key: str, due_on: str | None, deadline: str = "May 2012") -> Fact:
    return f("DeliverableAdded", f"plan/{key}", "2011-03-01", plan="plan", number=key,
             title=f"Commitment {key}", lead="Chief Executive", deadline=deadline,
             due_on=due_on)


@pytest.fixture
def handover(store_url: str) -> str:
    """A police authority's plan of six commitments, and the transfer of its
    responsibilities to a Commissioner's office on 22 November 2012: one carried over into
    the new plan, one completed before, one lapsed, three left open with nothing recorded."""
    record(store_url, [
        f("BodyEstablished", "pa", "1995-04-01", name="Police Authority",
          body_type="police_authority"),
        f("PlanDrafted", "plan", "2011-03-01", title="Business Plan", plan_type="business-plan",
          period_from="2011-03-01", period_to="2012-11-21"),
        f("PlanItemAdded", "plan", "2011-03-01", item="s1", item_kind="section", number="1",
          title="Governance"),
        f("PlanIssued", "plan", "2011-03-01"),
        deliverable("1", "2012-05-31"),
        deliverable("2", "2012-05-31"),
        deliverable("3", "2013-03-31", "March 2013"),
        deliverable("4", "2012-03-31", "March 2012"),
        deliverable("5", "2012-09-30", "September 2012"),
        deliverable("6", None, "Ongoing"),
        f("TargetSet", "plan/target", "2011-03-01", plan="plan", title="Cut crime",
          value="10", unit="percent"),
        f("DeliverableStatusChanged", "plan/4", "2012-04-15", status="completed",
          reason="done"),
        f("BodyEstablished", "pcc", "2012-11-22", body="pcc", name="PCC office",
          body_type="pcc_office"),
        f("PlanDrafted", "pcc-plan", "2012-11-22", body="pcc", title="Police and Crime Plan",
          plan_type="police-and-crime-plan", period_from="2013-04-01"),
        f("ResponsibilityTransferred", "tr", "2012-11-22", from_body="pa", to_body="pcc",
          responsibility="Everything", legal_basis="PRSRA 2011 Sch 15"),
        f("DeliverableCarriedOver", "plan/1", "2012-11-22", to_body="pcc", to_plan="pcc-plan",
          reason="continues under the Commissioner"),
        f("DeliverableLapsed", "plan/5", "2012-11-22", reason="no longer applies"),
    ])
    return store_url


# ------------------------------------------------------------------ commitments at the handover


def _by_key(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["key"]: d for d in found["deliverables"]}


def test_plan_show_says_which_commitments_were_overdue_and_what_became_of_them_at_the_handover(
    handover: str,
) -> None:
    found = read(handover, "plan show plan --as-of 2012-11-22")
    assert found["as_of"] == "2012-11-22"
    shown = {key: (d["overdue"], d["handover"],
                   d["at_transfer"] and d["at_transfer"]["overdue_at_transfer"])
             for key, d in _by_key(found).items()}
    open_then = "open at transfer to pcc; no outcome recorded"
    assert shown == {
        "plan/1": (False, "carried over to pcc for plan pcc-plan", True),
        "plan/2": (True, open_then, True),
        "plan/3": (False, open_then, False),  # due after the handover
        "plan/4": (False, None, None),  # completed before it: nothing was handed over
        "plan/5": (False, "lapsed on 2012-11-22", True),
        "plan/6": (False, open_then, False),  # no date it can be held to
    }
    handed = _by_key(found)["plan/1"]["at_transfer"]
    assert (handed["transfer"], handed["on"], handed["from_body"], handed["to_body"],
            handed["carried_over_plan"]) == ("tr", "2012-11-22", "pa", "pcc", "pcc-plan")
    # the same commitments the transition history lists at that transfer, not a second list
    story = read(handover, "transitions --as-of 2012-11-22")
    listed = {c["deliverable"]: c["outcome"] for t in story["transfers"]
              for c in t["commitments"]}
    assert listed == {key: d["at_transfer"]["outcome"]
                      for key, d in _by_key(found).items() if d["at_transfer"]}
    code, table, _ = run(handover, "plan show plan --as-of 2012-11-22 --wide")
    assert code == 0 and any("overdue" in line and "handover" in line
                             for line in table.splitlines())
    assert open_then in table and "carried over to pcc for plan pcc-plan" in table


@pytest.mark.parametrize(("as_of", "overdue", "handed"), [
    ("2012-06-30", {"plan/1", "plan/2"}, set()),  # before the transfer: nothing handed over
    ("2013-06-01", {"plan/2", "plan/3"}, {"plan/1", "plan/2", "plan/3", "plan/5", "plan/6"}),
])
def test_overdue_is_as_of_the_date_asked(handover: str, as_of: str, overdue: set[str],
                                         handed: set[str]) -> None:
    found = _by_key(read(handover, f"plan show plan --as-of {as_of}"))
    assert {key for key, d in found.items() if d["overdue"]} == overdue
    assert {key for key, d in found.items() if d["at_transfer"]} == handed


# ------------------------------------------------------------------ grants and their decisions


def test_a_grant_names_the_decision_that_awarded_it_and_both_trails_show_the_link(
    store_url: str,
) -> None:
    populate(store_url)
    on = "--source-document rod-9 --effective-at"
    award = ["grant", "award", "g1", "--recipient", "Ashford Borough Council", "--amount",
             "5000.00", "--purpose", "Community safety", "--funding-body", "kent-pcc",
             "--by-decision", "kpcc-9", "--as", "officer1", *f"{on} 2013-05-04".split()]
    before = events_in(store_url)
    code, out, err = run(store_url, award)
    assert code == 2 and "by_decision" in err and "kpcc-9" in err, out + err
    assert events_in(store_url) == before, "a refused award writes nothing"
    for line in (f"decision record kpcc-9 --title Grants --originator Officer "
                 f"--executive-summary Summary --decision Approved --as officer1 {on} 2013-05-01",
                 f"interest declare kpcc-9 --person ann --interest Trustee --as officer1 "
                 f"{on} 2013-05-01",
                 f"decision sign-off kpcc-9 --signatory chief_executive --as ce {on} 2013-05-02",
                 f"decision record kpcc-10 --title Estates --originator Officer "
                 f"--executive-summary Summary --decision Sold --as officer1 {on} 2013-05-01"):
        code, out, err = run(store_url, line)
        assert code == 0, out + err
    code, out, err = run(store_url, award)
    assert code == 0, out + err
    code, out, err = run(store_url, [*award[:2], "g2", *award[3:11], "--as", "officer1",
                                     *f"{on} 2013-05-04".split()])
    assert code == 0, out + err

    register = read(store_url, "grants")
    assert {g["key"]: g["by_decision"] for g in register["grants"]} == {
        "g1": "kpcc-9", "g2": None}
    assert [g["key"] for g in read(store_url, "grants --decision KPCC-9")["grants"]] == ["g1"]

    awarding = read(store_url, "decisions --awarding-grants")
    assert [d["reference"] for d in awarding] == ["kpcc-9"]
    (decision,) = awarding
    assert [(s["signatory"], s["signed_by"]) for s in decision["signoffs"]] == [
        ("chief_executive", "ce")]
    assert [i["interest"] for i in decision["interests"]] == ["Trustee"]
    assert [(g["grant"], g["recipient"], g["amount"], g["awarded_on"])
            for g in decision["grants_awarded"]] == [
        ("g1", "Ashford Borough Council", "5000.00", "2013-05-04")]
    every = {d["reference"]: d["grants_awarded"] for d in read(store_url, "decisions")}
    assert every["kpcc-10"] == [] and len(every["kpcc-9"]) == 1
    code, table, _ = run(store_url, "decisions --awarding-grants --wide")
    assert code == 0 and "kpcc-9" in table and "g1" in table and "kpcc-10" not in table
    code, out, _ = run(store_url, "grant award --help")
    assert "--by-decision" in out


def test_an_award_stored_before_the_link_existed_reads_without_one() -> None:
    """GrantAwarded gained ``by_decision`` with a default and no new class version: the
    awards the first golden set stored read back with None, and one stored with the field
    reads it back."""
    rows = [json.loads(line)
            for line in (GOLDEN / "2026-11-26" / "stored.jsonl").read_text().splitlines()]
    old = next(r for r in rows if r["topic"] == "GrantAwarded")
    assert "by_decision" not in json.loads(old["state"])
    event = decode_event(old["originator_id"], old["originator_version"], old["topic"],
                         old["state"].encode())
    assert isinstance(event, GrantAwarded) and event.by_decision is None
    assert GrantAwarded.class_version == 1
    state = {**json.loads(old["state"]), "by_decision": "kpcc-001-2013"}
    linked = decode_event(old["originator_id"], old["originator_version"], old["topic"],
                          json.dumps(state).encode())
    assert isinstance(linked, GrantAwarded) and linked.by_decision == "kpcc-001-2013"


def test_read_models_built_before_the_link_are_rebuilt_with_it(store_url: str) -> None:
    """A read model kept beside a store by an earlier version lacks the table of awards by
    decision: it is rebuilt from the log, not left with the table empty."""
    from sqlalchemy import text

    from projections.runner import Runner

    record(store_url, [
        f("BodyEstablished", "pcc", "2012-11-22", body="pcc", name="PCC office",
          body_type="pcc_office"),
        f("DecisionRecorded", "d-1", "2013-05-01", body="pcc", title="Grants",
          originator="Officer", executive_summary="Grants", decision="Award"),
        f("GrantAwarded", "g", "2013-05-02", body="pcc", recipient="Victim Support",
          amount="5000.00", purpose="Victims", funding_body="pcc", by_decision="d-1"),
    ])
    assert [d["reference"] for d in read(store_url, "decisions --awarding-grants")] == ["d-1"]
    with Ledger(store_url, mode="read") as ledger:
        runner = Runner(ledger)
        with runner.engine.begin() as conn:
            conn.execute(text("DROP TABLE decision_trail_grants"))
        runner.close()
    assert [d["reference"] for d in read(store_url, "decisions --awarding-grants")] == ["d-1"]


# ------------------------------------------------------------------ filters


@pytest.fixture
def panel(store_url: str) -> Iterator[str]:
    record(store_url, [
        f("BodyEstablished", "pa", "1995-04-01", name="Police Authority",
          body_type="police_authority"),
        f("BodyEstablished", "pcc", "2012-11-22", body="pcc", name="PCC office",
          body_type="pcc_office"),
        f("ActorRegistered", "pcc-1", "2012-11-22", body="pcc", name="Ann Barnes",
          acts_for="pcc", roles=["commissioner"], public_key=demo_public_key("pcc-1")),
        f("OfficeTermStarted", "term-1", "2012-11-22", body="pcc", office_body="pcc",
          office="Police and Crime Commissioner", holder="Ann  Barnes"),
        f("DecisionRecorded", "d-1", "2013-05-01", body="pcc", title="Grant to Ashford",
          originator="Officer", executive_summary="A grant", decision="Award"),
        f("DecisionRecorded", "d-2", "2012-01-01", title="Estates", originator="Officer",
          executive_summary="A sale", decision="Sell"),
        f("GrantAwarded", "g1", "2013-04-01", body="pcc", recipient="Ashford Borough Council",
          amount="100.00", purpose="p", funding_body="pcc"),
        f("GrantAwarded", "g2", "2014-03-31", body="pcc", recipient="Kent Crimestoppers",
          amount="200.00", purpose="p", funding_body="pcc"),
        f("GrantAwarded", "g3", "2014-04-01", body="pcc", recipient="Ashford Youth Club",
          amount="300.00", purpose="p", funding_body="pcc"),
    ])
    yield store_url


def keys(store: str, args: str) -> list[str]:
    found = read(store, args)
    return [r.get("reference") or r.get("key") for r in
            (found["grants"] if isinstance(found, dict) else found)]


@pytest.mark.parametrize(("args", "expected"), [
    ("grants --recipient ashford", ["g1", "g3"]),
    ("grants --recipient 'ASHFORD borough'", ["g1"]),
    ("grants --funding-body PCC", ["g1", "g2", "g3"]),
    ("grants --year 2013", ["g1", "g2"]),
    ("grants --year 2013/14", ["g1", "g2"]),
    ("grants --year 2013-14", ["g1", "g2"]),
    ("grants --year 2014/2015", ["g3"]),
    ("decisions --holder ann-barnes", ["d-1"]),
    ("decisions --holder pcc-1", ["d-1"]),  # a registered actor: its registered name
    ("decisions --body PCC", ["d-1"]),
    ("decisions --text ASHFORD", ["d-1"]),
    ("decisions --from 2013-05-01 --to 2013-05-01", ["d-1"]),
])
def test_filters_take_what_a_person_types(panel: str, args: str, expected: list[str]) -> None:
    assert keys(panel, args) == expected


def test_a_holder_named_in_any_case_and_spacing(panel: str) -> None:
    assert keys(panel, "decisions") == ["d-2", "d-1"]
    code, out, err = run(panel, "decisions --holder ' ANN barnes' --format json")
    assert code == 0 and [d["reference"] for d in json.loads(out)] == ["d-1"], err


@pytest.mark.parametrize(("args", "said"), [
    ("grants --recipient nobody", "grants: --recipient nobody matched nothing"),
    ("grants --recipient ashford --year 2014 --decision d-9",
     "grants: --decision d-9 matched nothing"),
    ("grants --recipient crimestoppers --year 2014",
     "grants: nothing matches --recipient crimestoppers and --year 2014-15 together"),
    ("decisions --holder nobody", "decisions: --holder nobody matched nothing"),
    ("decisions --body pcc --to 2012-12-31",
     "decisions: nothing matches --body pcc and --to 2012-12-31 together"),
    ("decisions --awarding-grants", "decisions: --awarding-grants matched nothing"),
])
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_filter_that_matches_nothing_is_named_in_one_line(
    panel: str, args: str, said: str, fmt: str
) -> None:
    code, out, err = run(panel, f"{args} --format {fmt}")
    assert code == 0, err
    assert err.strip().splitlines() == [said]
    if fmt == "json":
        found = json.loads(out)
        assert (found["grants"] if isinstance(found, dict) else found) == []


def test_paging_past_the_end_is_not_a_filter_that_matched_nothing(panel: str) -> None:
    code, out, err = run(panel, "decisions --body pcc --offset 5 --format json")
    assert (code, json.loads(out), err) == (0, [], "")


@pytest.mark.parametrize(("args", "field"), [
    ("decisions --from 2013-06-01 --to 2013-05-01", "from"),
    ("grants --year 2013/15", "year"),
    ("grants --year thirteen", "year"),
])
def test_filters_that_cannot_be_meant_are_bad_input(panel: str, args: str, field: str) -> None:
    code, out, err = run(panel, args)
    assert code == 2 and out == "", out
    assert err.startswith(f"error: {field}:") and len(err.strip().splitlines()) == 1, err


# ------------------------------------------------------------------ replay


def _steps(store: str, args: str) -> list[dict[str, Any]]:
    return read(store, f"replay {args}")  # type: ignore[no-any-return]


def test_a_plans_replay_includes_its_items_deliverables_and_targets(handover: str) -> None:
    steps = _steps(handover, "--kind plan --key plan")
    kinds = {(s["kind"], s["key"]) for s in steps}
    assert kinds == {("plan", "plan"), ("target", "plan/target"),
                     *{("deliverable", f"plan/{n}") for n in "123456"}}
    assert "PlanItemAdded" in [s["type"] for s in steps]
    plan = [s["state"] for s in steps if s["kind"] == "plan"][-1]
    assert [item["item"] for item in plan["items"]] == ["s1"]
    assert ("DeliverableCarriedOver", "plan/1") in [(s["type"], s["key"]) for s in steps]


def test_replay_as_of_cuts_at_the_effective_date(handover: str) -> None:
    steps = _steps(handover, "--kind plan --key plan --as-of 2012-06-30")
    assert steps and max(s["effective_at"][:10] for s in steps) <= "2012-06-30"
    assert "DeliverableCarriedOver" not in [s["type"] for s in steps]
    last = {s["key"]: s["state"]["status"] for s in steps if s["kind"] == "deliverable"}
    assert (last["plan/1"], last["plan/4"]) == ("open", "completed")
    whole = _steps(handover, "--as-of 2012-06-30")
    assert {s["type"] for s in whole} >= {"BodyEstablished", "PlanDrafted"}
    assert "ResponsibilityTransferred" not in {s["type"] for s in whole}
    assert len(_steps(handover, "--as-of 2012-11-22")) > len(whole)
