"""Small builders shared by the tests."""

from __future__ import annotations

import contextlib
from typing import Any

from ledger.services import Fact

ENVELOPE = {
    "actor": "test-officer",
    "role": "officer",
    "body": "test-authority",
    "effective_at": "2012-01-01",
    "source": {"document": "test-doc", "location": "line 1"},
}


def fact(type_: str, key: str, kind: str | None = None, **fields: Any) -> Fact:
    return Fact(type=type_, key=key, kind=kind, fields={**ENVELOPE, **fields})


def dated(type_: str, key: str, effective_at: str, body: str = "pa", **fields: Any) -> Fact:
    """A fact of the projection stories: recorded for ``body``, effective then."""
    envelope = {**ENVELOPE, "body": body, "effective_at": effective_at}
    return Fact(type=type_, key=key, fields={**envelope, **fields})


DELIVERABLE_2 = {"plan": "plan", "number": "2", "title": "Transfer scheme",
                 "deadline": "May 2012"}
"""The projection stories' second deliverable, added and later restated."""

STORY: list[list[Fact]] = [
    [
        dated("BodyEstablished", "pa", "1995-04-01", name="Police Authority",
              body_type="police_authority"),
        dated("BodyEstablished", "pcc", "2012-11-22", body="pcc", name="PCC office",
              body_type="pcc_office"),
        dated("PlanDrafted", "plan", "2011-03-01", title="Business Plan",
              plan_type="business-plan", period_from="2011-03-01", period_to="2012-05-31"),
        dated("PlanIssued", "plan", "2011-03-01"),
        dated("DeliverableAdded", "plan/1", "2011-03-01", plan="plan", number="1",
              title="Handover", lead="Chief Executive", deadline="May 2012"),
        dated("DeliverableAdded", "plan/2", "2011-03-01", lead="Tresurer", **DELIVERABLE_2),
        dated("TargetSet", "t", "2011-03-01", plan="plan", title="Cut crime", value="10",
              unit="percent"),
        dated("GrantAwarded", "g", "2011-04-01", recipient="Victim Support", amount="5000.00",
              purpose="Victim services", funding_body="pa"),
        dated("DecisionRecorded", "d-1", "2011-05-01", title="Grant to Victim Support",
              originator="Treasurer", executive_summary="A grant", decision="Award 5000"),
    ],
    [
        dated("TargetRevised", "t", "2011-09-01", old_value="10", new_value="12", reason="r1"),
        dated("GrantPaid", "g", "2011-10-01", amount="2000.00"),
    ],
    [
        dated("TargetRevised", "t", "2012-06-01", old_value="12", new_value="15", reason="r2"),
        dated("OfficeTermStarted", "term-1", "2012-11-22", body="pcc", office_body="pcc",
              office="Police and Crime Commissioner", holder="Ann Barnes"),
        dated("ResponsibilityTransferred", "tr", "2012-11-22", from_body="pa", to_body="pcc",
              responsibility="Everything", legal_basis="PRSRA 2011 Sch 15"),
        dated("DeliverableCarriedOver", "plan/1", "2012-11-22", to_body="pcc",
              reason="continues"),
        dated("DecisionSignedOff", "d-1", "2011-05-02", signatory="chief_executive",
              signed_by="CE"),
    ],
]
"""The projection stories, in the three batches the scenario records at three times: a police
authority issues a plan; a target is revised twice with reasons; responsibility passes to a
Commissioner's office, one commitment is carried over and one is left silent. The second
deliverable's lead is mistyped; ``lead_corrected`` restates it."""


def lead_corrected(typo: Any) -> Fact:
    """The restatement of the story's second deliverable (``typo``: its first event's id)."""
    return dated("DeliverableAdded", "plan/2", "2011-03-01", lead="Treasurer",
                 corrects=str(typo), reason="lead was mistyped", **DELIVERABLE_2)


def authority() -> Fact:
    return fact(
        "BodyEstablished", "test-authority", name="Test Authority", body_type="police_authority"
    )


def grant(key: str = "grant-1", amount: str = "1000.00") -> Fact:
    return fact(
        "GrantAwarded",
        key,
        recipient="Someone",
        amount=amount,
        purpose="testing",
        funding_body="test-authority",
    )


TEST_ADMIN = "test-admin"
_SEED = bytes(range(32))


def test_signer() -> Any:
    """The tests' administrator key: fixed, so that child processes sign with it too."""
    from ledger.adapters.keys import Signer

    return Signer.from_seed(TEST_ADMIN, _SEED)


def open_ledger(url: str, **options: Any) -> Any:
    """A ledger that signs as the tests' administrator, its genesis made if the log is new."""
    from ledger.domain import DomainError
    from ledger.services import ConflictError, Ledger, genesis

    signer = test_signer()
    ledger = Ledger(url, signer=signer, **options)
    if ledger.chain.census().last == 0:
        facts = genesis(admin=TEST_ADMIN, name="Test Admin", body="test-records",
                        body_name="Test records office", body_type="other",
                        public_key=signer.public_text, effective_at="2000-01-01",
                        roles=["administrator", "records_officer"])
        with contextlib.suppress(ConflictError, DomainError):  # another process made it first
            ledger.init(facts, admin=TEST_ADMIN, signer=signer)
    return ledger
