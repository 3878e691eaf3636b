"""Whatever an administrator does to an actor's keys, what the ledger accepts verifies.

The write path decides whose key is good from the actor's folded state; verify (and the
README's verifier) from the key events by position. Two legitimate command sequences once set
them apart (rotating back to a retired key; correcting a registration), and the log then read
as forged. Here hypothesis draws sequences of rotations (to new and to retired keys),
revocations, deactivations, grants and revocations of the records officer's role,
corrections (restating, or changing the key), retractions, and signed writes (own ones and
transcriptions naming another actor) with current and retired keys. Each step is accepted
or refused as a whole, and after every sequence both verifiers pass the whole log. On both
backends.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import readme_verifier as readme
from ledger.adapters.keys import KeyDir, Signer
from ledger.audit import verify
from ledger.domain import DomainError
from ledger.permissions import NotPermitted
from ledger.services import Fact, Ledger
from test_adversarial import Raw
from test_verify_evidence import offline_verdict

from helpers import TEST_ADMIN, open_ledger

ADMIN = {"actor": TEST_ADMIN, "role": "administrator", "body": "test-records",
         "effective_at": "2013-01-01", "source": {"document": "keys"}}
ACTORS = 2

steps = st.lists(st.one_of(
    st.tuples(st.just("rotate"), st.integers(0, ACTORS - 1), st.booleans()),
    st.tuples(st.just("revoke"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
    st.tuples(st.just("deactivate"), st.integers(0, ACTORS - 1), st.just(0)),
    st.tuples(st.just("correct"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
    st.tuples(st.just("rekey"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
    st.tuples(st.just("retract"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
    st.tuples(st.just("write"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
    st.tuples(st.just("role"), st.integers(0, ACTORS - 1), st.booleans()),
    st.tuples(st.just("transcribe"), st.integers(0, ACTORS - 1), st.integers(0, 5)),
), min_size=1, max_size=12)

_runs = itertools.count()


class World:
    """One example's actors, in a log shared by all examples (fresh names each time)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        run = next(_runs)
        self.names = [f"k{run}-{i}" for i in range(ACTORS)]
        self.keys: dict[str, list[Signer]] = {}
        """Every key each actor has had, the current last."""
        self.key_events: dict[str, list[Any]] = {}
        for name in self.names:
            key = Signer.generate(name)
            done = self.admin([Fact(type="ActorRegistered", key=name, fields={
                **ADMIN, "name": name, "acts_for": "test-records", "roles": ["officer"],
                "public_key": key.public_text})])
            assert done is not None
            self.keys[name] = [key]
            self.key_events[name] = list(done)
        self.decisions = itertools.count()
        self.written: list[Any] = []
        """The entities of the decisions it wrote."""

    def admin(self, facts: list[Fact]) -> list[Any] | None:
        """The administrator's write, or None when the ledger refused it (nothing written)."""
        head = self.ledger.chain.head()[0]
        try:
            return self.ledger.record(facts, acting=TEST_ADMIN)
        except (DomainError, NotPermitted):
            assert self.ledger.chain.head()[0] == head
            return None

    def step(self, what: str, actor: int, pick: int) -> None:
        name = self.names[actor]
        keys = self.keys[name]
        events = self.key_events[name]
        changing = {**ADMIN, "reason": "keys"}
        if what == "rotate":
            fresh = pick  # a new key, or the first one back
            key = Signer.generate(name) if fresh else keys[0]
            done = self.admin([Fact(type="ActorKeyRotated", key=name, fields={
                **changing, "public_key": key.public_text})])
            if done:
                keys.append(key)
                events.extend(done)
        elif what == "revoke":
            key = keys[pick % len(keys)]
            done = self.admin([Fact(type="ActorKeyRevoked", key=name, fields={
                **changing, "public_key": key.public_text})])
            events.extend(done or [])
        elif what == "deactivate":
            events.extend(self.admin([Fact(type="ActorDeactivated", key=name,
                                           fields=changing)]) or [])
        elif what in ("correct", "rekey"):
            target = events[pick % len(events)].event
            fields = {**target.payload(), **changing, "corrects": str(target.id)}
            fields.pop("key", None)
            if what == "rekey":
                fields["public_key"] = Signer.generate(name).public_text
            events.extend(self.admin([Fact(type=target.type, key=name, fields=fields)]) or [])
        elif what == "role":  # the records officer's role, given or taken away
            verb, field = ("ActorRoleGranted", "granted") if pick else ("ActorRoleRevoked",
                                                                         "revoked")
            events.extend(self.admin([Fact(type=verb, key=name, fields={
                **changing, field: "records_officer"})]) or [])
        elif what == "retract":
            target = events[pick % len(events)].event
            self.admin([Fact(type="EventRetracted", key=name, kind="actor", fields={
                **changing, "corrects": str(target.id)})])
        else:  # an officer's own write, or a transcription naming another actor, signed
            # with one of the keys it has had
            key = keys[pick % len(keys)]
            own = what == "write"
            fact = Fact(type="DecisionRecorded", key=f"{name}-d{next(self.decisions)}", fields={
                "actor": name if own else "test-officer", "role": "officer",
                "body": "test-records", "effective_at": "2013-06-01",
                "source": {"document": "rod"}, "title": "T", "originator": "O",
                "executive_summary": "S", "decision": "D"})
            head = self.ledger.chain.head()[0]
            try:
                done = self.ledger.record([fact], acting=name if own else None, signer=key)
                self.written.append(done[0].event.originator_id)
            except (DomainError, NotPermitted):
                assert self.ledger.chain.head()[0] == head


@pytest.fixture
def shared(store_url: str) -> Any:
    with open_ledger(store_url) as ledger:
        yield ledger, store_url


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_what_the_ledger_accepts_about_keys_always_verifies(
    shared: Any, tmp_path_factory: pytest.TempPathFactory, sequence: list[Any]
) -> None:
    ledger, url = shared
    world = World(ledger)
    for what, actor, pick in sequence:
        world.step(what, actor, pick)
    result = verify(ledger)
    assert result.ok, (sequence, result.problem)
    independent = readme.check(Raw(url).rows())
    assert independent.ok, (sequence, independent)
    keys = KeyDir(tmp_path_factory.getbasetemp() / "lifecycle-keys")
    for entity in [*world.written, world.key_events[world.names[0]][0].event.originator_id]:
        assert offline_verdict(ledger, entity, keys) == "OK", sequence


@pytest.mark.parametrize("ending", ["ActorKeyRotated", "ActorKeyRevoked", "ActorDeactivated"])
def test_a_write_that_ends_its_own_signing_key_ends_with_that_event(store_url: str,
                                                                    ending: str) -> None:
    """A key signs the event that ends it and nothing after: a write signed by the
    administrator that rotates, revokes or deactivates the administrator and then goes on is
    refused whole (verify would find the rest signed by an ended key); with that event last
    it is accepted, and verifies."""
    from helpers import test_signer

    with open_ledger(store_url) as ledger:
        key = Signer.generate("o")
        ledger.record([Fact(type="ActorRegistered", key="o", fields={
            **ADMIN, "name": "o", "acts_for": "test-records", "roles": ["officer"],
            "public_key": key.public_text})], acting=TEST_ADMIN)
        extra = {"ActorKeyRotated": {"public_key": Signer.generate(TEST_ADMIN).public_text},
                 "ActorKeyRevoked": {"public_key": test_signer().public_text},
                 "ActorDeactivated": {}}[ending]
        ends = Fact(type=ending, key=TEST_ADMIN, fields={**ADMIN, "reason": "r", **extra})
        grant = Fact(type="ActorRoleGranted", key="o", fields={
            **ADMIN, "reason": "r", "granted": "chief_executive"})
        head = ledger.chain.head()[0]
        with pytest.raises(NotPermitted):
            ledger.record([ends, grant], acting=TEST_ADMIN)
        assert ledger.chain.head()[0] == head
        ledger.record([grant, ends], acting=TEST_ADMIN)
        assert ledger.chain.head()[0] == head + 2
        assert verify(ledger).ok
        assert readme.check(Raw(store_url).rows()).ok


def test_a_log_from_before_the_key_rules_still_gets_only_writes_that_verify(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older ledger let a key rotation be retracted: the actor's state then held its first
    key again, while verify (by position) holds it ended. A write signed with that key would
    be accepted by the state and fail verify; the signature is now checked by verify's own
    rule before writing, so it is refused, and the log keeps verifying."""
    from ledger.domain.actors import ActorKeyRotated

    with open_ledger(store_url) as ledger:
        first, second = Signer.generate("o"), Signer.generate("o")
        ledger.record([Fact(type="ActorRegistered", key="o", fields={
            **ADMIN, "name": "o", "acts_for": "test-records", "roles": ["officer"],
            "public_key": first.public_text})], acting=TEST_ADMIN)
        rotation = ledger.record([Fact(type="ActorKeyRotated", key="o", fields={
            **ADMIN, "reason": "r", "public_key": second.public_text})],
            acting=TEST_ADMIN)[0].event
        with monkeypatch.context() as older:  # what an older version of the ledger wrote
            older.setattr(ActorKeyRotated, "check_corrected_by", lambda self, _: None)
            ledger.record([Fact(type="EventRetracted", key="o", kind="actor", fields={
                **ADMIN, "reason": "r", "corrects": str(rotation.id)})], acting=TEST_ADMIN)
        assert verify(ledger).ok
        decision = Fact(type="DecisionRecorded", key="o-d1", fields={
            "actor": "o", "role": "officer", "body": "test-records",
            "effective_at": "2013-06-01", "source": {"document": "rod"}, "title": "T",
            "originator": "O", "executive_summary": "S", "decision": "D"})
        head = ledger.chain.head()[0]
        with pytest.raises(NotPermitted, match="verify would refuse this signature"):
            ledger.record([decision], acting="o", signer=first)
        assert ledger.chain.head()[0] == head
        assert verify(ledger).ok
