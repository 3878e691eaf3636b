"""Small builders shared by the tests."""

from __future__ import annotations

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
