"""Who may do what: the holes issue 13 found, each as the CLI session that showed it, now
refused (exit 3, nothing written); and random writes compared with an oracle written from the
README's "Who may do what" tables alone."""

from __future__ import annotations

import hashlib
import json
import shlex
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.adapters.keys import Signer
from ledger.domain import DomainError
from ledger.entrypoints.cli import _run, cli
from ledger.permissions import NotPermitted
from ledger.services import Fact, Ledger

from conftest import pg_connect
from helpers import TEST_ADMIN, open_ledger

# ---------------------------------------------------------------- the CLI, as a shell runs it


def run(url: str, line: str) -> tuple[int, str]:
    """`ledger --store URL LINE` as the console script runs it: (exit code, output)."""
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", url, *shlex.split(line)])
        text = out.getvalue().decode() + err.getvalue().decode()
    return code, text


def ok(url: str, line: str) -> str:
    code, out = run(url, line)
    assert code == 0, (line, out)
    return out


def position(out: str) -> int:
    """The position a write reports: 'recorded T at position N (event ...)'."""
    return int(out.split(" at position ")[1].split()[0])


def stored(url: str) -> list[Any]:
    """Every stored event and chain row, as the database returns them."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return [*conn.execute("SELECT rowid, * FROM ledger_events ORDER BY rowid"),
                    *conn.execute("SELECT * FROM ledger_chain ORDER BY position")]
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with pg_connect() as conn:
        return [*conn.execute(f'SELECT * FROM "{schema}".ledger_events '
                              "ORDER BY notification_id"),
                *conn.execute(f'SELECT * FROM "{schema}".ledger_chain ORDER BY position')]


def refused(url: str, line: str, why: str) -> None:
    """The write is not permitted (exit 3), says ``why``, and leaves the store as it was."""
    before = stored(url)
    code, out = run(url, line)
    assert code == 3 and out.startswith("error: not permitted:") and why in out, (line, out)
    assert stored(url) == before, line


def misdated(url: str, line: str, why: str) -> None:
    """The write is bad input about its date (exit 2, naming effective_at), says ``why``, and
    leaves the store as it was."""
    before = stored(url)
    code, out = run(url, line)
    assert code == 2 and out.startswith("error: effective_at:") and why in out, (line, out)
    assert stored(url) == before, line


def public_key(url: str, actor: str) -> str:
    return ok(url, f"key new {actor}").strip().splitlines()[-1]


S = "--effective-at 2013-01-01 --source-document setup"
ROD = "--source-document rod-1"
PEOPLE = [
    ("officer1", "Policy officer", "officer", "kent-pcc"),
    ("officer2", "Finance officer", "officer", "kent-pcc"),
    ("ce", "Chief Executive", "chief_executive", "kent-pcc"),
    ("ann", "Ann Barnes", "commissioner", "kent-pcc"),
    ("panel1", "Panel member", "panel_member", "kent-pcc"),
    ("clerk", "Records clerk", "records_officer", "kent-pcc"),
    ("essex-officer", "Essex officer", "officer", "essex-pcc"),
    ("essex-ce", "Essex Chief Executive", "chief_executive", "essex-pcc"),
    ("essex-pcc", "Essex Commissioner", "commissioner", "essex-pcc"),
]


@pytest.fixture
def kent(store_url: str) -> str:
    """A log kept by Kent's administrator: Kent's people, Essex's, Ann Barnes's office term
    from 22 November 2012, and decision kpcc-1 recorded by an officer."""
    url = store_url
    ok(url, "init --admin admin --name 'Ledger administrator' --body kent-pcc "
            "--body-name 'Office of the Kent PCC' --body-type pcc_office "
            "--effective-at 2012-11-22")
    ok(url, f"body establish essex-pcc --name 'Office of the Essex PCC' --body-type pcc_office "
            f"--as admin {S}")
    for actor, name, role, body in PEOPLE:
        ok(url, f"actor add {actor} --name '{name}' --acts-for {body} --roles {role} "
                f"--public-key {public_key(url, actor)} --as admin {S}")
    ok(url, "term start kent-pcc/ann-term --office-body kent-pcc --office 'Police and Crime "
            "Commissioner' --holder 'Ann Barnes' --as officer1 --effective-at 2012-11-22 "
            "--source-document kent-transition")
    ok(url, "decision record kpcc-1 --title Grants --originator Officer --executive-summary S "
            f"--decision Approved --as officer1 --effective-at 2013-05-01 {ROD}")
    return url


NAMES = {"admin": "Ledger administrator", "mickey": "Mickey Mouse",
         **{actor: name for actor, name, _, _ in PEOPLE}}


def sign_off(key: str, signatory: str, actor: str, on: str = "2013-05-03") -> str:
    """A sign-off in the generic form, signed_by the signer's registered name: a line the
    ledger took before the authority rules too (when it needed a signed_by), so that a test
    it is in fails there at the refusal it is about."""
    body = "essex-pcc" if actor.startswith("essex") else "kent-pcc"
    return (f"record DecisionSignedOff {key} --as {actor} --role {signatory} --body {body} "
            f"--effective-at {on} {ROD} -f signatory={signatory} "
            f"-f 'signed_by={NAMES[actor]}'")


def sign(url: str, key: str, signatory: str, actor: str, on: str = "2013-05-03") -> int:
    return position(ok(url, sign_off(key, signatory, actor, on)))


# ---------------------------------------------------------------- 1. corrections


def test_only_the_signer_retracts_a_sign_off_and_only_the_declarer_an_interest(kent: str) -> None:
    signed = sign(kent, "kpcc-1", "commissioner", "ann")
    interest = position(ok(kent, "interest declare kpcc-1 --person 'Ann Barnes' --interest "
                                 f"'Trustee of a partner' --as officer1 --effective-at 2013-05-02 "
                                 f"{ROD}"))
    # the hole: an officer retracted the Commissioner's sign-off and the Panel saw none
    refused(kent, f"correct {signed} --reason 'never signed' --as officer1", "role")
    refused(kent, f"correct {signed} --reason 'never signed' --as ce",
            "corrected only by ann, who recorded it")
    refused(kent, f"correct {interest} --reason 'no such interest' --as officer2",
            "corrected only by officer1")
    refused(kent, f"correct {interest} --reason 'no such interest' --as ce",
            "corrected only by officer1")
    # an administrator's fact is corrected only by an administrator, not by an officer
    registered = position_of(kent, "ActorRegistered", "ann")
    refused(kent, f"correct {registered} --reason 'not ours' --as officer1", "role")
    # any officer of the body may correct another officer's decision record
    recorded = position_of(kent, "DecisionRecorded", "kpcc-1")
    ok(kent, f"correct {recorded} --reason typo -f title=Grant --as officer2")
    ok(kent, f"correct {interest} --reason 'declared in error' --as officer1")
    ok(kent, f"correct {signed} --reason 'signed the wrong record' --as ann")
    trail = json.loads(ok(kent, "decisions --format json"))
    assert [(d["reference"], d["title"], d["signoffs"]) for d in trail] == [
        ("kpcc-1", "Grant", [])]


def position_of(url: str, type_: str, key: str) -> int:
    """The position of the first event of this type whose entity has this key."""
    from ledger.domain import aggregate_id

    entities = {str(aggregate_id(kind, key)) for kind in ("decision", "document", "actor")}
    for line in ok(url, "log").splitlines():
        event = json.loads(line)
        if event["type"] == type_ and event["originator_id"] in entities:
            return int(event["position"])
    raise AssertionError(f"no {type_} of {key}")


# ---------------------------------------------------------------- 2. the owning body


def test_another_bodys_actors_cannot_touch_kents_records(kent: str) -> None:
    ok(kent, f"decision record kpcc-2 --title T --originator O --executive-summary S "
             f"--decision D --as officer1 --effective-at 2013-05-01 {ROD}")
    sign(kent, "kpcc-1", "commissioner", "ann")
    ok(kent, f"plan draft kent-plan --title Plan --plan-type police_and_crime_plan "
             f"--period-from 2013-04-01 --as officer1 {S}")
    ok(kent, f"deliverable add kent-plan/1 --plan kent-plan --title 'Cut crime' --as officer1 {S}")
    ok(kent, f"grant award g1 --recipient Charity --amount 1000 --purpose Help "
             f"--funding-body kent-pcc --as officer1 {S}")
    on = "--effective-at 2013-06-01 --source-document essex"
    why = "belongs to kent-pcc on 2013-06-01, not to essex-pcc"
    refused(kent, sign_off("kpcc-2", "chief_executive", "essex-ce", "2013-06-01"), why)
    refused(kent, f"decision publish kpcc-1 --published-on 2013-06-01 --as essex-pcc {on}", why)
    refused(kent, f"deliverable lead kent-plan/1 --lead Essex --reason ours --as essex-officer "
                  f"{on}", why)
    refused(kent, f"grant pay g1 --amount 500 --as essex-officer {on}", why)
    refused(kent, f"deliverable add essex/1 --plan kent-plan --title Theirs --as essex-officer "
                  f"{on}", "plan 'kent-plan' belongs to kent-pcc")
    # Kent's own people may
    ok(kent, f"decision publish kpcc-1 --published-on 2013-06-01 --as ann {on}")
    ok(kent, f"grant pay g1 --amount 500 --as officer2 {on}")


def test_a_transfer_hands_the_authoritys_records_to_the_commissioner(kent: str) -> None:
    ok(kent, "body establish kpa --name 'Kent Police Authority' --body-type police_authority "
             "--as admin --effective-at 2011-03-01 --source-document setup")
    ok(kent, f"actor add kpa-officer --name 'KPA officer' --acts-for kpa --roles officer "
             f"--public-key {public_key(kent, 'kpa-officer')} --as admin {S}")
    then = "--effective-at 2011-03-01 --source-document kpa-plan"
    ok(kent, f"plan draft kpa-plan --title 'KPA plan' --plan-type business_plan "
             f"--period-from 2011-04-01 --as kpa-officer {then}")
    for n in ("1.8", "1.9"):
        ok(kent, f"deliverable add kpa-plan/{n} --plan kpa-plan --title 'Item {n}' "
                 f"--as kpa-officer {then}")
    handover = "--effective-at 2012-11-22 --source-document kent-transition"
    # before any transfer, the Authority's records are its own
    refused(kent, f"deliverable lapse kpa-plan/1.8 --reason 'not carried over' --as officer1 "
                  f"{handover}", "belongs to kpa on 2012-11-22, not to kent-pcc")
    refused(kent, f"responsibility transfer kpa-to-kent-pcc --from-body kpa --to-body kent-pcc "
                  f"--responsibility 'All of it' --legal-basis 'PRSRA 2011 Sch 15' --as officer1 "
                  f"{handover}", "from_body: kent-pcc cannot record a ResponsibilityTransferred "
                                 "for kpa")
    ok(kent, f"responsibility transfer kpa-to-kent-pcc --from-body kpa --to-body kent-pcc "
             f"--responsibility 'Property, rights and liabilities' --legal-basis 'PRSRA 2011 "
             f"Sch 15' --as kpa-officer {handover}")
    # from the handover the Commissioner's officers carry over or lapse them...
    ok(kent, f"deliverable carry-over kpa-plan/1.8 --to-body kent-pcc --reason continues "
             f"--as officer1 {handover}")
    ok(kent, "deliverable lapse kpa-plan/1.9 --reason 'ended with the Authority' --as officer1 "
             "--effective-at 2012-12-01 --source-document kent-transition")
    # ...but not before it, and the Authority no longer may after it
    ok(kent, f"deliverable add kpa-plan/2.1 --plan kpa-plan --title 'Item 2.1' "
             f"--as kpa-officer {then}")
    refused(kent, "deliverable lead kpa-plan/2.1 --lead PCC --reason early --as officer1 "
                  "--effective-at 2012-11-21 --source-document x",
            "belongs to kpa on 2012-11-21, not to kent-pcc")
    refused(kent, "deliverable lead kpa-plan/2.1 --lead KPA --reason late --as kpa-officer "
                  "--effective-at 2012-11-23 --source-document x",
            "belongs to kent-pcc on 2012-11-23, not to kpa")
    ok(kent, "deliverable lead kpa-plan/2.1 --lead KPA --reason 'then' --as kpa-officer "
             "--effective-at 2012-06-01 --source-document x")


# ---------------------------------------------------------------- 3. separation of duties


def test_an_administrator_neither_grants_itself_nor_holds_a_signatory_role(kent: str) -> None:
    # the hole: the administrator made itself Commissioner and signed off as Ann Barnes
    refused(kent, f"actor grant admin --granted commissioner --reason 'cover' --as admin {S}",
            "admin cannot grant a role to itself")
    refused(kent, f"actor grant ann --granted administrator --reason 'help' --as admin {S}",
            "an administrator cannot hold a signatory role (commissioner)")
    refused(kent, f"actor add boss --name Boss --acts-for kent-pcc --roles administrator "
                  f"--roles chief_finance_officer --public-key {public_key(kent, 'boss')} "
                  f"--as admin {S}", "signatory role (chief_finance_officer)")
    ok(kent, f"actor add admin2 --name 'Second administrator' --acts-for kent-pcc --roles "
             f"administrator --public-key {public_key(kent, 'admin2')} --as admin {S}")
    refused(kent, f"actor grant admin2 --granted auditor --reason mine --as admin2 {S}",
            "admin2 cannot grant a role to itself")
    ok(kent, f"actor grant admin2 --granted auditor --reason audits --as admin {S}")
    # Ann Barnes's own sign-off stands; the administrator cannot sign at all
    refused(kent, sign_off("kpcc-1", "commissioner", "admin"), "role")
    sign(kent, "kpcc-1", "commissioner", "ann")


def test_a_genesis_administrator_is_no_signatory(store_url: str) -> None:
    from ledger.services import genesis

    signer = Signer.from_seed("boss", bytes(32))
    with Ledger(store_url, signer=signer) as ledger:
        facts = genesis(admin="boss", name="Boss", body="kent-pcc", body_name="Kent",
                        body_type="pcc_office", public_key=signer.public_text,
                        effective_at="2013-01-01", roles=["administrator", "commissioner"])
        with pytest.raises(NotPermitted, match="signatory role"):
            ledger.init(facts, admin="boss", signer=signer)
        assert ledger.chain.census().last == 0


# ---------------------------------------------------------------- 4. in office


def test_a_commissioner_signs_off_only_during_an_office_term(kent: str) -> None:
    ok(kent, f"actor add mickey --name 'Mickey Mouse' --acts-for kent-pcc --roles commissioner "
             f"--public-key {public_key(kent, 'mickey')} --as admin {S}")
    refused(kent, sign_off("kpcc-1", "commissioner", "mickey"),
            "mickey (Mickey Mouse) holds no office term")
    # one who held the office, but not on that date: a date problem (exit 2), not a permission
    misdated(kent, sign_off("kpcc-1", "commissioner", "ann", "2012-11-21"),
             "holds no office term of kent-pcc on 2012-11-21 (held: 2012-11-22 to now)")
    ok(kent, "term end kent-pcc/ann-term --reason 'May 2016 election' --as officer1 "
             "--effective-at 2016-05-11 --source-document election")
    ok(kent, "decision record kpcc-9 --title T --originator O --executive-summary S "
             "--decision D --as officer1 --effective-at 2016-06-01 --source-document rod-9")
    misdated(kent, sign_off("kpcc-9", "commissioner", "ann", "2016-06-01"),
             "on 2016-06-01 (held: 2012-11-22 to 2016-05-11)")
    sign(kent, "kpcc-1", "commissioner", "ann", on="2016-05-11")  # the last day in office


# ---------------------------------------------------------------- 5. signed_by


def test_signed_by_is_the_signers_registered_name(kent: str, tmp_path: Path) -> None:
    before = stored(kent)
    code, out = run(kent, f"decision sign-off kpcc-1 --signatory chief_executive --signed-by "
                          f"'Ann Barnes' --as ce --effective-at 2013-05-02 {ROD}")
    assert code == 2 and "--signed-by" in out and stored(kent) == before, out
    refused(kent, f"record DecisionSignedOff kpcc-1 --as ce --role chief_executive --body "
                  f"kent-pcc --effective-at 2013-05-02 {ROD} -f signatory=chief_executive "
                  f"-f 'signed_by=Ann Barnes'", "signed_by: ce signs as its registered name "
                                                "'Chief Executive'")
    mickey, ann = tmp_path / "mickey.json", tmp_path / "ann.json"
    mickey.write_text(json.dumps({"signatory": "commissioner", "signed_by": "Mickey Mouse"}))
    ann.write_text(json.dumps({"signatory": "commissioner", "signed_by": "Ann Barnes"}))
    refused(kent, f"decision sign-off kpcc-1 --file {mickey} --as ann --effective-at 2013-05-03 "
                  f"{ROD}", "signed_by")
    sign(kent, "kpcc-1", "chief_executive", "ce", on="2013-05-02")
    ok(kent, f"decision sign-off kpcc-1 --file {ann} --as ann --effective-at 2013-05-03 {ROD}")
    decision = json.loads(ok(kent, "show decision kpcc-1"))
    assert [(s[0], s[1]) for s in decision["signed_off"]] == [
        ("chief_executive", "Chief Executive"), ("commissioner", "Ann Barnes")]


# ---------------------------------------------------------------- 6. source documents


def test_only_the_import_registers_a_source_document(kent: str) -> None:
    from ledger.importer import documents

    (document,) = documents("900_kent_transition_2012")
    squat = (f"record SourceDocumentRegistered {document.key} --role officer --body kent-pcc "
             f"--effective-at 2012-11-22 --source-document {document.key} -f title=Fake "
             f"-f sha256={'0' * 64} -f line_count=1")
    # the hole: an officer took the document's id with a fake sha256, refusing the import
    refused(kent, f"{squat} --as officer1", "recorded only by `ledger import`")
    refused(kent, squat.replace("--role officer", "--role records_officer") + " --as clerk",
            "recorded only by `ledger import`")
    out = ok(kent, f"import {document.key} --as clerk")
    assert "already imported" not in out, out
    registered = json.loads(ok(kent, f"show document {document.key}"))
    assert registered["sha256"] == hashlib.sha256(document.text().encode()).hexdigest()
    refused(kent, f"correct {position_of(kent, 'SourceDocumentRegistered', document.key)} "
                  "--reason 'wrong text' --as officer1", "recorded only by `ledger import`")
    refused(kent, f"record TotalStated {document.key} --as officer1 --role officer --body "
                  f"kent-pcc --effective-at 2012-11-22 --source-document {document.key} "
                  "-f check=made-up -f what=Total -f amount=1 -f 'sums=[\"grant/g1\"]'",
            "recorded only by `ledger import`")


def test_a_write_without_an_acting_actor_is_the_records_officers(store_url: str) -> None:
    plain = Signer.from_seed("plain", hashlib.sha256(b"plain").digest())
    envelope = {"actor": TEST_ADMIN, "role": "administrator", "body": "test-records",
                "effective_at": "2013-01-01", "source": {"document": "setup"}}
    with open_ledger(store_url) as ledger:
        ledger.record([Fact(type="ActorRegistered", key="plain", fields={
            **envelope, "name": "Plain officer", "acts_for": "test-records",
            "roles": ["officer"], "public_key": plain.public_text})], acting=TEST_ADMIN)
        head = ledger.chain.census().last
    squat = Fact(type="SourceDocumentRegistered", key="doc-1", fields={
        **envelope, "actor": "plain", "role": "officer", "title": "Fake", "sha256": "0" * 64,
        "line_count": 1})
    with Ledger(store_url, signer=plain) as ledger:
        with pytest.raises(NotPermitted, match="plain is not a records officer"):
            ledger.record([squat])
        assert ledger.chain.census().last == head


# ---------------------------------------------------------------- 7. actors' administration


def test_only_administrators_deactivate_and_a_deactivated_actor_records_nothing(
    kent: str,
) -> None:
    refused(kent, f"actor deactivate ann --reason 'not her' --as officer1 {S}", "role")
    # the hole behind it: an officer replaced the Commissioner's key with its own
    refused(kent, f"actor rotate-key ann --public-key {public_key(kent, 'thief')} --reason lost "
                  f"--as officer1 {S}", "role")
    before = stored(kent)
    code, out = run(kent, f"actor revoke officer2 --revoked officer --reason left --as admin {S}")
    assert code == 2 and "at least one role" in out and stored(kent) == before, out
    ok(kent, f"actor deactivate officer2 --reason 'left the office' --as admin {S}")
    refused(kent, "decision record kpcc-5 --title T --originator O --executive-summary S "
                  "--decision D --as officer2 --effective-at 2013-06-01 --source-document r",
            "officer2 was deactivated")


# ---------------------------------------------------------------- the oracle

RECORDING = {"officer", "chief_executive", "chief_finance_officer", "treasurer", "commissioner",
             "deputy_commissioner"}
SIGNATORY = {"chief_executive", "chief_finance_officer", "commissioner"}
ADMINISTERED = ("ActorRegistered", "ActorRoleGranted", "ActorRoleRevoked", "ActorKeyRotated",
                "ActorKeyRevoked", "ActorDeactivated", "BodyEstablished", "BodyAbolished")
TABLE: dict[str, set[str]] = {
    **{t: {"administrator"} for t in ADMINISTERED},
    "DecisionSignedOff": SIGNATORY,
    "DecisionPublished": {"commissioner", "chief_executive"},
    **{t: {"panel_member"} for t in ("PanelReportReceived", "PreceptReviewed", "PreceptVetoed")},
    **{t: {"inspector"} for t in ("InspectionReported", "InspectionGraded",
                                  "AreaForImprovementRaised")},
    **{t: set() for t in ("SourceDocumentRegistered", "TotalStated")},
}
"""The README's first table: who may record each type (any other type: RECORDING)."""
OTHER_PARTY = {"PanelReportReceived", "PreceptReviewed", "PreceptVetoed",
               "ImprovementActionPlanned", "ImprovementActionCompleted"}
"""Types the README lets a body other than the owner record: the Panel, the inspected body."""
RECORDER_ONLY = {"DecisionSignedOff", "InterestDeclared"}


@dataclass(frozen=True)
class Who:
    key: str
    name: str
    role: str
    body: str
    in_office: bool = False


@dataclass(frozen=True)
class Case:
    who: Who
    role: str
    body: str
    type: str
    owner: str | None
    """The owning body of the entity written to (None: the event creates it)."""
    correction: str | None = None
    corrected: str | None = None
    recorder: str | None = None
    party: str | None = None
    """The Panel the event names, or the inspection's inspected body."""
    named: str | None = None
    """The body a creation must be recorded by (office body, from body, the plan's owner)."""
    signatory: str | None = None
    grant: tuple[bool, frozenset[str]] | None = None
    """For a role grant: whether it is to the actor itself, and the roles it would then hold."""


def oracle(case: Case) -> bool:
    """Whether the README's "Who may do what" allows the case (no ledger code used)."""
    who = case.who
    if case.role != who.role or case.body != who.body:
        return False
    kind = case.corrected or case.type
    if case.role not in TABLE.get(kind, RECORDING):
        return False
    if case.corrected in RECORDER_ONLY and case.recorder != who.key:
        return False
    if case.owner is not None and case.body != case.owner and not (
        kind in OTHER_PARTY and case.party == case.body
    ):
        return False
    if case.named is not None and case.named != case.body:
        return False
    if case.type == "DecisionSignedOff":
        if case.signatory != case.role:
            return False
        if case.signatory == "commissioner" and not who.in_office:
            return False
    if case.grant is not None:
        to_itself, roles = case.grant
        if to_itself or ("administrator" in roles and roles & SIGNATORY):
            return False
    return True


# ---------------------------------------------------------------- the world the cases act in

BODIES = ("body-a", "body-b", "panel-p")
OWNERS = ("body-a", "body-b")
ROLES = ("officer", "chief_executive", "chief_finance_officer", "commissioner", "treasurer",
         "panel_member", "inspector", "administrator", "auditor", "records_officer")
ACTORS = {
    **{f"{b}.{r}": Who(f"{b}.{r}", f"{r} of {b}", r, b, r == "commissioner" and b in OWNERS)
       for b in BODIES for r in ROLES},
    **{f"{b}.commissioner2": Who(f"{b}.commissioner2", f"out of office {b}", "commissioner", b)
       for b in OWNERS},
}
TARGET_ROLES = {"target": frozenset({"officer", "auditor"}),
                "target-ce": frozenset({"chief_executive"})}
"""Actors only acted upon: roles granted to them, one deactivated (their roles after the
world's own grant)."""
GRANTABLE = ("treasurer", "commissioner", "administrator")
THEN, NOW = "2014-01-01", "2014-06-01"


def other(owner: str) -> str:
    return "body-b" if owner == "body-a" else "body-a"


@dataclass(frozen=True)
class Recorded:
    type: str
    kind: str
    key: str
    by: str
    fields: dict[str, Any]


def world_events(o: str) -> list[Recorded]:
    """What each owner's entities hold: the same shape for both owners."""
    off, ce, cfo, com, ins, adm = (f"{o}.{r}" for r in (
        "officer", "chief_executive", "chief_finance_officer", "commissioner", "inspector",
        "administrator"))
    panel = "panel-p.panel_member"
    decision = {"title": "T", "originator": "O", "executive_summary": "S", "decision": "D"}
    return [
        Recorded("DecisionRecorded", "decision", f"{o}/d1", off, decision),
        *[Recorded("DecisionSignedOff", "decision", f"{o}/d1", by,
                   {"signatory": ACTORS[by].role, "signed_by": ACTORS[by].name})
          for by in (ce, cfo, com)],
        *[Recorded("InterestDeclared", "decision", f"{o}/d1", by,
                   {"person": "P", "interest": "I"}) for by in (off, ce)],
        Recorded("DecisionRecorded", "decision", f"{o}/d2", off, decision),
        Recorded("PlanDrafted", "plan", f"{o}/plan", off,
                 {"title": "P", "plan_type": "police_and_crime_plan", "period_from": THEN}),
        Recorded("PlanSentToPanel", "plan", f"{o}/plan", off, {"panel": "panel-p"}),
        Recorded("PanelReportReceived", "plan", f"{o}/plan", panel,
                 {"panel": "panel-p", "summary": "S"}),
        Recorded("DeliverableAdded", "deliverable", f"{o}/del", off,
                 {"plan": f"{o}/plan", "title": "T"}),
        Recorded("DeliverableLeadAssigned", "deliverable", f"{o}/del", off,
                 {"lead": "L", "reason": "r"}),
        Recorded("GrantAwarded", "grant", f"{o}/grant", off,
                 {"recipient": "R", "amount": "1000", "purpose": "P", "funding_body": o}),
        Recorded("GrantPaid", "grant", f"{o}/grant", off, {"amount": "100"}),
        Recorded("BudgetDrafted", "budget", f"{o}/budget", off,
                 {"financial_year": "2014-15", "title": "B"}),
        Recorded("PreceptProposed", "budget", f"{o}/budget", off, {"band_d": "100"}),
        Recorded("PreceptReviewed", "budget", f"{o}/budget", panel,
                 {"panel": "panel-p", "outcome": "O"}),
        Recorded("InspectionReported", "inspection", f"{o}/insp", ins,
                 {"inspectorate": o, "inspected_body": other(o), "title": "I"}),
        Recorded("InspectionGraded", "inspection", f"{o}/insp", ins,
                 {"question": "overall", "grade": "good"}),
        Recorded("AreaForImprovementRaised", "inspection", f"{o}/insp", ins,
                 {"point": "1", "text": "T"}),
        Recorded("ImprovementActionPlanned", "inspection", f"{o}/insp", f"{other(o)}.officer",
                 {"action": "1.a", "point": "1", "term": "short", "text": "T"}),
        Recorded("ActorRoleGranted", "actor", f"{o}.target", adm,
                 {"granted": "auditor", "reason": "r"}),
        Recorded("SourceDocumentRegistered", "document", f"{o}/doc", off,
                 {"title": "D", "sha256": "a" * 64, "line_count": 3}),
        Recorded("TotalStated", "document", f"{o}/doc", off,
                 {"check": "c", "what": "W", "amount": "1", "sums": ["grant/x"]}),
    ]


CORRECTABLE = [i for i, e in enumerate(world_events("body-a")) if e.type in {
    "DecisionRecorded", "DecisionSignedOff", "InterestDeclared", "PanelReportReceived",
    "PreceptReviewed", "InspectionGraded", "ImprovementActionPlanned", "GrantPaid",
    "DeliverableLeadAssigned", "ActorRoleGranted", "SourceDocumentRegistered", "TotalStated"}]


def signer(actor: str) -> Signer:
    return Signer.from_seed(actor, hashlib.sha256(actor.encode()).digest())


def envelope(actor: str, role: str, body: str, on: str, **more: Any) -> dict[str, Any]:
    return {"actor": actor, "role": role, "body": body, "effective_at": on,
            "source": {"document": "world"}, **more}


@dataclass
class World:
    ledger: Ledger
    ids: dict[tuple[str, int], str]
    """(owner, index in world_events) -> the event id."""


def make_world(url: str) -> dict[tuple[str, int], str]:
    """Transcribed in one batch by the tests' records officer: no permission is asked."""
    admin = envelope(TEST_ADMIN, "administrator", "test-records", "2013-01-01")
    facts = [Fact(type="BodyEstablished", key=b, fields={
        **admin, "body": b, "name": b,
        "body_type": "police_and_crime_panel" if b == "panel-p" else "pcc_office"})
        for b in BODIES]
    people = [(w.key, w.name, [w.role], w.body) for w in ACTORS.values()] + [
        (f"{o}.{t}", t, ["officer"] if t == "target" else ["chief_executive"], o)
        for o in OWNERS for t in TARGET_ROLES]
    facts += [Fact(type="ActorRegistered", key=key, fields={
        **admin, "body": body, "name": name, "acts_for": body, "roles": roles,
        "public_key": signer(key).public_text}) for key, name, roles, body in people]
    facts += [Fact(type="OfficeTermStarted", key=f"{o}/term", fields={
        **envelope(f"{o}.officer", "officer", o, "2013-01-01"), "office_body": o,
        "office": "Commissioner", "holder": ACTORS[f"{o}.commissioner"].name})
        for o in OWNERS]
    world = [(o, i, e) for o in OWNERS for i, e in enumerate(world_events(o))]
    facts += [Fact(type=e.type, key=e.key, fields={
        **envelope(e.by, ACTORS[e.by].role, ACTORS[e.by].body, THEN), **e.fields})
        for _, _, e in world]
    with open_ledger(url) as ledger:
        recorded = ledger.record(facts)[-len(world):]
    return {(o, i): str(r.event.id) for (o, i, _), r in zip(world, recorded, strict=True)}


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    ids = make_world(store_url)
    with Ledger(store_url) as ledger:
        yield World(ledger, ids)


NEW_TYPES = ("DecisionRecorded", "DeliverableAdded", "OfficeTermStarted",
             "ResponsibilityTransferred", "SourceDocumentRegistered", "DecisionSignedOff",
             "DecisionPublished", "InterestDeclared", "DeliverableLeadAssigned", "GrantPaid",
             "PanelReportReceived", "PreceptVetoed", "InspectionGraded",
             "ImprovementActionPlanned", "ActorRoleGranted", "ActorDeactivated", "BodyAbolished",
             "TotalStated")


def new_fact(draw: st.DrawFn, etype: str, o: str, who: Who) -> tuple[str, str, dict[str, Any],
                                                                    dict[str, Any]]:
    """A new fact of ``etype`` on ``o``'s entity (or a new entity): (kind, key, fields, what
    the oracle is told). Every one passes the domain's own checks in the world."""
    o_entity: dict[str, Any] = {"owner": o}
    match etype:
        case "DecisionRecorded":
            return "decision", "zz-decision", {
                "title": "T", "originator": "O", "executive_summary": "S", "decision": "D"}, \
                {"owner": None}
        case "DeliverableAdded":
            return "deliverable", "zz-del", {"plan": f"{o}/plan", "title": "T"}, \
                {"owner": None, "named": o}
        case "OfficeTermStarted":
            return "office-term", "zz-term", {"office_body": o, "office": "X", "holder": "Y"}, \
                {"owner": None, "named": o}
        case "ResponsibilityTransferred":
            return "transfer", "zz-transfer", {
                "from_body": o, "to_body": other(o), "responsibility": "R",
                "legal_basis": "L"}, {"owner": None, "named": o}
        case "SourceDocumentRegistered":
            return "document", "zz-doc", {"title": "D", "sha256": "b" * 64, "line_count": 1}, \
                {"owner": None}
        case "DecisionSignedOff":
            signatory = draw(st.sampled_from(sorted(SIGNATORY)))
            return "decision", f"{o}/d2", {"signatory": signatory}, \
                {**o_entity, "signatory": signatory}
        case "DecisionPublished":
            return "decision", f"{o}/d1", {"published_on": NOW}, o_entity
        case "InterestDeclared":
            return "decision", f"{o}/d1", {"person": "Q", "interest": "J"}, o_entity
        case "DeliverableLeadAssigned":
            return "deliverable", f"{o}/del", {"lead": "M", "reason": "r"}, o_entity
        case "GrantPaid":
            return "grant", f"{o}/grant", {"amount": "1"}, o_entity
        case "PanelReportReceived":
            panel = draw(st.sampled_from(BODIES))
            return "plan", f"{o}/plan", {"panel": panel, "summary": "S"}, \
                {**o_entity, "party": panel}
        case "PreceptVetoed":
            panel = draw(st.sampled_from(BODIES))
            return "budget", f"{o}/budget", {"panel": panel, "reason": "r"}, \
                {**o_entity, "party": panel}
        case "InspectionGraded":
            return "inspection", f"{o}/insp", {"question": "zz", "grade": "good"}, o_entity
        case "ImprovementActionPlanned":
            return "inspection", f"{o}/insp", {
                "action": "zz", "point": "1", "term": "short", "text": "T"}, \
                {**o_entity, "party": other(o)}
        case "ActorRoleGranted":
            target = draw(st.sampled_from(["target", "target-ce", "itself"]))
            held = frozenset({who.role}) if target == "itself" else TARGET_ROLES[target]
            granted = draw(st.sampled_from([r for r in GRANTABLE if r not in held]))
            key = who.key if target == "itself" else f"{o}.{target}"
            owner = who.body if target == "itself" else o
            return "actor", key, {"granted": granted, "reason": "r"}, \
                {"owner": owner, "grant": (target == "itself", held | {granted})}
        case "ActorDeactivated":
            return "actor", f"{o}.target", {"reason": "r"}, o_entity
        case "BodyAbolished":
            return "body", o, {"reason": "r"}, o_entity
        case "TotalStated":
            return "document", f"{o}/doc", {
                "check": "zz", "what": "W", "amount": "1", "sums": ["grant/x"]}, o_entity
    raise AssertionError(etype)


def likely(draw: st.DrawFn, kind: str, o: str, also: str | None = None) -> Who:
    """An actor, more often one that might be allowed (the owner's, in a role the table
    names for ``kind``), so that both verdicts come up often."""
    fit = [k for k, w in ACTORS.items() if w.role in TABLE.get(kind, RECORDING)]
    pools = [sorted(ACTORS), [k for k, w in ACTORS.items() if w.body == o], fit,
             [k for k in fit if ACTORS[k].body == o], [also] if also else []]
    return ACTORS[draw(st.one_of([st.sampled_from(pool) for pool in pools if pool]))]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, Fact, Any]:
    """A random write and what the oracle is told about it; a correction's event id is known
    only in the world, so it comes back as (owner, index in world_events) to look up."""
    o = draw(st.sampled_from(OWNERS))
    correction = draw(st.sampled_from([None, None, "retract", "restate"]))
    index = draw(st.sampled_from(CORRECTABLE)) if correction else None
    corrected = world_events(o)[index] if index is not None else None
    etype = corrected.type if corrected is not None else draw(st.one_of(
        st.sampled_from(NEW_TYPES), st.just("ActorRoleGranted")))  # the one with most rules
    who = likely(draw, etype, o, corrected.by if corrected is not None else None)
    role = draw(st.one_of(st.just(who.role), st.just(who.role), st.sampled_from(ROLES)))
    body = draw(st.one_of(st.just(who.body), st.just(who.body), st.sampled_from(BODIES)))
    env = envelope(who.key, role, body, NOW)
    if corrected is None:
        kind, key, fields, told = new_fact(draw, etype, o, who)
        fact = Fact(type=etype, key=key, fields={**env, **fields})
        return Case(who, role, body, etype, **told), fact, None
    party = {"PanelReportReceived": "panel-p", "PreceptReviewed": "panel-p",
             "ImprovementActionPlanned": other(o)}.get(corrected.type)
    env = {**env, "effective_at": THEN, "reason": "wrong"}
    if correction == "retract":
        fact = Fact(type="EventRetracted", key=corrected.key, kind=corrected.kind, fields=env)
        case = Case(who, role, body, "EventRetracted", o, correction, corrected.type,
                    corrected.by, party)
    else:
        restated = {k: v for k, v in corrected.fields.items() if k != "reason"}
        fact = Fact(type=corrected.type, key=corrected.key, fields={**restated, **env})
        case = Case(who, role, body, corrected.type, o, correction, corrected.type, corrected.by,
                    party, signatory=corrected.fields.get("signatory"))
    return case, fact, (o, index)


SENTINEL = Fact(type="BodyAbolished", key="zz-sentinel", fields={
    **envelope("nobody", "officer", "body-a", NOW), "reason": "r"})
"""Follows every tried fact and always fails (no such body), after the tried fact has been
checked: so a permitted fact is never written, and the world never changes."""


def permitted(ledger: Ledger, who: str, fact: Fact) -> bool:
    """What the ledger decides: refused (NotPermitted), or checked through to the sentinel."""
    try:
        ledger.record([fact, SENTINEL], acting=who, signer=signer(who))
    except NotPermitted:
        return False
    except DomainError as exc:
        assert exc.field == "key" and "zz-sentinel" in str(exc), (fact, exc)
        return True
    raise AssertionError("the sentinel was recorded")


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=cases())
def test_the_ledger_decides_as_the_readme_table_says(world: World,
                                                     drawn: tuple[Case, Fact, Any]) -> None:
    case, fact, corrects = drawn
    if corrects is not None:
        fact = fact.model_copy(update={"fields": {**fact.fields,
                                                  "corrects": world.ids[corrects]}})
    before = world.ledger.chain.census()
    assert permitted(world.ledger, case.who.key, fact) == oracle(case), case
    assert world.ledger.chain.census() == before
