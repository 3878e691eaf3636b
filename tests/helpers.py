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
