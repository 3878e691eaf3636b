"""Every kind of bad signature is caught at its position (issue 13), on both backends.

A store is made as people make one (``ledger init``, ``ledger key new``, ``ledger actor add``,
writes through the CLI, keys in the test's key directory); then an insider with the database's
rights edits or appends rows, holding at most the private keys named in each case. Each case
asserts what ``ledger verify`` and ``ledger digest`` answer (exit 1, the position, kind
``signature``, "signature" in the detail) and that the README's verifier agrees.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import readme_verifier as readme
from test_adversarial import Raw, Run, SigningKey, flip, ledger
from test_verify_evidence import offline_verdict

SETUP = ["--effective-at", "2013-01-01", "--source-document", "setup"]
DECISION = ["--title", "T", "--originator", "O", "--executive-summary", "S", "--decision",
            "D", "--effective-at", "2013-05-01", "--source-document", "rod"]


@dataclass
class Store:
    """A store made through the CLI: the genesis (admin, at 1-2), officer1 (3) and officer2
    (4) registered by admin, then decisions d1 (5, officer1), d2 (6, officer2) and d3 (7,
    officer1)."""

    url: str
    raw: Raw
    keys: Path

    def key(self, actor: str, *, named: str | None = None) -> SigningKey:
        """``actor``'s private key from the key directory, signing as ``named`` (default: the
        actor itself)."""
        seed = base64.b64decode((self.keys / f"{actor}.key").read_text().strip())
        return SigningKey(named or actor, seed)

    def run(self, *args: str) -> Run:
        done = ledger(self.url, *args)
        assert done.code == 0, done.out + done.err
        return done


def _new_key(url: str, actor: str) -> str:
    """`ledger key new ACTOR`: the public key is its last line."""
    done = ledger(url, "key", "new", actor)
    assert done.code == 0, done.err
    return done.out.strip().splitlines()[-1]


@pytest.fixture
def store(store_url: str, key_dir: Path) -> Store:
    made = Store(store_url, Raw(store_url), key_dir)
    made.run("init", "--admin", "admin", "--name", "Admin", "--body", "kent-pcc",
             "--body-name", "Kent", "--body-type", "pcc_office", "--effective-at", "2012-11-22")
    for officer in ("officer1", "officer2"):
        made.run("actor", "add", officer, "--name", officer.title(), "--acts-for", "kent-pcc",
                 "--roles", "officer", "--public-key", _new_key(store_url, officer),
                 "--as", "admin", *SETUP)
    for reference, officer in (("d1", "officer1"), ("d2", "officer2"), ("d3", "officer1")):
        made.run("decision", "record", reference, "--as", officer, *DECISION)
    assert made.raw.head() == 7
    return made


def caught(store: Store, position: int, detail: str) -> None:
    """verify and digest both fail at ``position`` with kind signature, the detail naming
    the signature and saying ``detail``; the README's verifier agrees."""
    verified = ledger(store.url, "verify")
    assert verified.code == 1, verified.out + verified.err
    assert verified.failed == (position, "signature"), verified.out
    line = verified.out.strip()
    assert "signature" in line.split(": ", 2)[2] and detail in line, line
    taken = ledger(store.url, "digest")
    assert (taken.code, taken.out) == (1, verified.out), "digest must verify as verify does"
    independent = readme.check(store.raw.rows())
    assert (independent.position, independent.kind) == (position, "signature")
    offline = offline_check(store, position)
    assert f"position {position}: " in offline and "signature" in offline, offline


def offline_check(store: Store, position: int) -> str:
    """What the offline verifier says of the evidence pack of the entity at ``position``."""
    from ledger.adapters.keys import KeyDir
    from ledger.adapters.store import as_uuid
    from ledger.services import Ledger

    opened = Ledger(store.url, mode="read")
    try:
        return offline_verdict(opened, as_uuid(store.raw.event_at(position)[0]),
                               KeyDir(store.keys))
    finally:
        opened.close()


def forge_append(store: Store, key: SigningKey | None, like: int = 5,
                 signed_at: str = "2013-06-02T09:00:00+00:00") -> int:
    """What anyone with INSERT rights can do: append a copy of the event at ``like`` as a new
    entity, with a correctly computed chain link signed by ``key`` (unsigned without one) and
    the tree nodes it completes; nothing is updated or deleted. Returns its position."""
    raw = store.raw
    head = raw.head()
    _, _, topic, state = raw.event_at(like)
    entity = uuid.uuid4()
    nid = raw.insert_event(entity.hex if raw.sqlite else entity, 1, topic, state)
    salt = os.urandom(16)
    digest = readme.payload_digest(salt, state)
    link = readme.link_hash(head + 1, entity.bytes, 1, topic, digest, raw.link_at(head)[3])
    signed = (None,) * 4 if key is None else key.columns(raw.log_id(), entity.bytes, 1, topic,
                                                         digest, signed_at)
    raw.insert_link(head + 1, nid, salt, digest, link, signed)
    raw.append_tree()
    return head + 1


# ------------------------------------------------------------------------------- the cases

def test_a_clean_store_says_what_it_checked(store: Store) -> None:
    verified = ledger(store.url, "verify")
    lines = verified.out.splitlines()
    assert verified.ok.startswith("OK position 7 ") and len(lines) == 3, verified.out
    assert lines[2] == ("7 events checked, 7 signatures checked; signers: admin 4, officer1 2, "
                        "officer2 1")
    independent = readme.check(store.raw.rows())
    assert (independent.line(), independent.summary()) == (lines[0], lines[2])
    for position in range(1, 8):
        assert offline_check(store, position) == "OK"


def test_an_unsigned_event(store: Store) -> None:
    """The signature columns of d2's row set to NULL (they accept NULL: verify reports it)."""
    store.raw.unguard()
    store.raw.run("UPDATE ledger_chain SET signer = NULL, key_id = NULL, signature = NULL, "
                  "signed_at = NULL WHERE position = 6")
    store.raw.write_tree()
    caught(store, 6, "unsigned")


def test_a_forged_unsigned_append(store: Store) -> None:
    caught(store, forge_append(store, None), "unsigned")


def test_a_bad_signature(store: Store) -> None:
    store.raw.set_link(6, "signature", flip(store.raw.signature_at(6)["signature"], 9))
    store.raw.write_tree()
    caught(store, 6, "bad signature")


@pytest.mark.parametrize("relabel", ["signer column A, B's key and key id",
                                     "signer column A and A's key id, B's key",
                                     "signer column changed to B",
                                     "signer column and key id changed to B's"])
def test_a_signature_with_another_registered_actors_key(store: Store, relabel: str) -> None:
    """officer1's d3 (position 7) re-signed by an insider holding officer2's key, or merely
    relabelled as officer2's. Either way the row's signer, key id and signature disagree."""
    raw = store.raw
    row = raw.signature_at(7)
    oid, version, topic, _ = raw.event_at(7)
    _, _, digest, _ = raw.link_at(7)
    originator = bytes.fromhex(oid) if raw.sqlite else oid.bytes
    b_key = store.key("officer2")
    if relabel == "signer column A, B's key and key id":
        signed = store.key("officer2", named="officer1").columns(
            raw.log_id(), originator, version, topic, digest, row["signed_at"])
        detail = f"officer1 has no registered key {b_key.key_id.hex()}"
    elif relabel == "signer column A and A's key id, B's key":
        forged = store.key("officer2", named="officer1").columns(
            raw.log_id(), originator, version, topic, digest, row["signed_at"])
        signed = ("officer1", row["key_id"], forged[2], row["signed_at"])
        detail = "bad signature"
    elif relabel == "signer column changed to B":
        signed = ("officer2", row["key_id"], row["signature"], row["signed_at"])
        detail = f"officer2 has no registered key {row['key_id'].hex()}"
    else:
        signed = ("officer2", b_key.key_id, row["signature"], row["signed_at"])
        detail = "bad signature"
    for column, value in zip(("signer", "key_id", "signature", "signed_at"), signed,
                             strict=True):
        raw.set_link(7, column, value)
    raw.write_tree()
    caught(store, 7, detail)


def test_a_signature_with_a_revoked_key(store: Store) -> None:
    """officer1's key is revoked (position 8); an insider who kept the key file appends a
    correctly chained event signed with it."""
    revoked = store.key("officer1")
    store.run("actor", "revoke-key", "officer1", "--public-key", revoked.public_text,
              "--reason", "the laptop was lost", "--as", "admin", *SETUP)
    assert ledger(store.url, "verify").code == 0
    position = forge_append(store, revoked)
    assert position == 9
    caught(store, 9, f"key {revoked.key_id.hex()} of officer1 was revoked at 8")


def test_a_deactivated_actors_signature_after_deactivation(store: Store) -> None:
    store.run("actor", "deactivate", "officer2", "--reason", "left the office", "--as",
              "admin", *SETUP)
    assert ledger(store.url, "verify").code == 0
    caught(store, forge_append(store, store.key("officer2"), like=6),
           "officer2 was deactivated at 8")


def test_a_signature_replayed_from_another_row(store: Store) -> None:
    """d3's row (7) given d1's signature columns (5): the same signer and key, good there,
    but the message names another event."""
    raw = store.raw
    for column, value in raw.signature_at(5).items():
        raw.set_link(7, column, value)
    raw.write_tree()
    caught(store, 7, "bad signature")


@pytest.mark.parametrize("signer", ["officer1", "mallory"])
def test_a_forged_append_signed_by_a_key_never_registered(store: Store, signer: str) -> None:
    """Issue 13's "forged appends verify": anyone who can INSERT computes a correct chain link
    (and tree nodes); signing with a key of their own no longer passes, in a registered
    actor's name or another."""
    stranger = SigningKey(signer, os.urandom(32))
    position = forge_append(store, stranger)
    caught(store, position, f"{signer} has no registered key {stranger.key_id.hex()}")


def test_a_whole_chain_rewrite_after_a_payload_edit(store: Store) -> None:
    """d2's payload edited, then every link from 1 recomputed and the tree rebuilt: the chain
    and the tree are self-consistent, d2's signature (over its payload digest) is not."""
    raw = store.raw
    raw.set_event(6, "state", raw.event_at(6)[3].replace(b'"D"', b'"X"', 1))
    raw.rehash(1)
    caught(store, 6, "bad signature")


def test_a_key_signs_the_event_that_ends_it_and_nothing_after(store: Store) -> None:
    """The boundary of "ends at n": the administrator rotates its own key at 8, signing that
    event with the key it ends: 8 verifies with it, and 9, an insider's append signed with it,
    does not."""
    ended = store.key("admin")
    replacement = SigningKey("admin", os.urandom(32))
    store.run("actor", "rotate-key", "admin", "--public-key", replacement.public_text,
              "--reason", "the laptop was lost", "--as", "admin", *SETUP)
    assert store.raw.signature_at(8)["key_id"] == ended.key_id
    assert ledger(store.url, "verify").code == 0
    assert readme.check(store.raw.rows()).ok
    caught(store, forge_append(store, ended, like=8), "was revoked at 8")


@pytest.mark.parametrize("signer", ["officer1", "admin"])
def test_a_signed_event_that_names_another_actor_is_caught(store: Store, signer: str) -> None:
    """An insider with the database's rights and only its own key appends a copy of
    officer2's decision (6), signed correctly with its own key: the signature is good, but
    the event says officer2 recorded it, and only a records officer signs for another actor
    (a transcription). Readers are shown the event's actor, so it must be the signer's."""
    position = forge_append(store, store.key(signer), like=6)
    caught(store, position, f"signed by {signer}, but the event says officer2 recorded it")


def test_a_records_officer_signs_for_others_only_while_it_holds_the_role(store: Store) -> None:
    """Transcriptions name the document's actors and are signed by a records officer: from
    the event after the grant, up to and including the revocation of the role. A copy of
    officer1's decision signed by officer2 verifies while officer2 is a records officer, and
    is caught once the role is taken away."""
    store.run("actor", "grant", "officer2", "--granted", "records_officer", "--reason", "r",
              "--as", "admin", *SETUP)  # 8
    forge_append(store, store.key("officer2"), like=5)  # 9
    assert ledger(store.url, "verify").code == 0
    assert readme.check(store.raw.rows()).ok
    store.run("actor", "revoke", "officer2", "--revoked", "records_officer", "--reason", "r",
              "--as", "admin", *SETUP)  # 10
    position = forge_append(store, store.key("officer2"), like=5)
    caught(store, position, "officer2 is not a records officer there")


def test_a_key_does_not_sign_the_event_that_registers_it(store: Store) -> None:
    """Only the genesis's key signs its own registration: officer2's registration (4) and
    what follows re-signed with officer2's key (the chain and tree rebuilt) fails at 4."""
    raw = store.raw
    raw.rehash(4, resign=store.key("officer2"))
    caught(store, 4, "of officer2 is registered only at 4")


# ------------------------------------------------------------------------------- src defects
# Each is a legitimate sequence of commands, or an edited row, that makes verify answer
# otherwise than the README says; they pass once the source is fixed (see the report).

def test_rotating_back_to_an_earlier_key_never_breaks_the_log(store: Store, tmp_path: Path
                                                               ) -> None:
    """The registry starts a key registered again afresh, so what it signed before would
    fail: the ledger refuses a rotation back to a key that ended, by rotation or revocation
    (exit 2, nothing written), and the log still verifies."""
    first = store.key("officer1")
    second = SigningKey("officer1", os.urandom(32))
    third = SigningKey("officer1", os.urandom(32))
    store.run("actor", "rotate-key", "officer1", "--public-key", second.public_text,
              "--reason", "new laptop", "--as", "admin", *SETUP)
    store.run("actor", "rotate-key", "officer1", "--public-key", third.public_text,
              "--reason", "second laptop", "--as", "admin", *SETUP)
    store.run("actor", "revoke-key", "officer1", "--public-key", third.public_text,
              "--reason", "lost", "--as", "admin", *SETUP)
    head = ledger(store.url, "verify").out
    for ended, why in ((first, "rotated away"), (third, "revoked")):
        back = ledger(store.url, "actor", "rotate-key", "officer1", "--public-key",
                      ended.public_text, "--reason", f"back to a key {why}", "--as", "admin",
                      *SETUP)
        assert back.code == 2 and back.err.startswith("error: public_key: officer1 signed "
                                                      "with that key before"), back.err
    verified = ledger(store.url, "verify")
    assert verified.code == 0 and verified.out == head, verified.out


@pytest.fixture
def rotated(store: Store) -> SigningKey:
    """officer1 rotated from its first key to a second at 8 (its key file replaced), and d4
    signed with the second at 9; returns the first, retired key."""
    first = store.key("officer1")
    seed = os.urandom(32)
    second = SigningKey("officer1", seed)
    store.run("actor", "rotate-key", "officer1", "--public-key", second.public_text,
              "--reason", "new laptop", "--as", "admin", *SETUP)
    (store.keys / "officer1.key").write_text(base64.b64encode(seed).decode())
    store.run("decision", "record", "d4", "--as", "officer1", *DECISION)
    return first


@pytest.mark.parametrize("target", ["3", "8"])
def test_correcting_a_key_event_keeps_what_was_signed_and_revives_no_key(
    store: Store, rotated: SigningKey, target: str
) -> None:
    """An administrator corrects officer1's registration (3) or its rotation (8), restating
    a name or a reason: what officer1 signed before, with either key, still verifies, and
    the correction makes no key good again (the registration restates the retired key)."""
    fields = ["-f", "name=Officer One"] if target == "3" else []
    done = ledger(store.url, "correct", target, *fields, "-f", "reason=typo fixed",
                  "--reason", "typo", "--as", "admin")
    assert done.code == 0, done.out + done.err
    verified = ledger(store.url, "verify")
    assert verified.code == 0, verified.out
    assert readme.check(store.raw.rows()).ok
    position = forge_append(store, rotated)  # an insider still holding the retired key
    caught(store, position, "was revoked at 8")


@pytest.mark.parametrize("how", ["a new key", "a retraction"])
def test_a_key_event_is_never_corrected_to_another_key_nor_retracted(
    store: Store, rotated: SigningKey, how: str
) -> None:
    """Either would leave the ledger and verify disagreeing on whose key is good: refused
    with exit 2, naming the field, and nothing written."""
    head = ledger(store.url, "verify").out
    other = SigningKey("officer1", os.urandom(32))
    fields = ["-f", f"public_key={other.public_text}"] if how == "a new key" else []
    done = ledger(store.url, "correct", "8", *fields, "--reason", "wrong", "--as", "admin")
    field = "public_key" if how == "a new key" else "corrects"
    assert done.code == 2 and done.err.startswith(f"error: {field}: "), done.err
    assert ledger(store.url, "verify").out == head


def test_a_key_event_edited_to_a_json_array_is_a_check_failure(store: Store) -> None:
    store.run("actor", "deactivate", "officer2", "--reason", "left", "--as", "admin", *SETUP)
    store.raw.set_event(8, "state", b'["x"]')
    verified = ledger(store.url, "verify")
    assert verified.code == 1 and verified.failed == (8, "payload changed"), verified.out


def test_a_signature_time_out_of_range_is_a_check_failure(store: Store) -> None:
    store.raw.set_link(6, "signed_at", "0001-01-01T00:00:00+01:00")
    verified = ledger(store.url, "verify")
    assert verified.code == 1 and verified.failed == (6, "signature"), verified.out


def test_a_registration_edited_to_a_list_key_is_a_check_failure(store: Store) -> None:
    state = store.raw.event_at(3)[3]
    store.raw.set_event(3, "state", re.sub(rb'"key":"officer1"', b'"key":["officer1"]', state))
    verified = ledger(store.url, "verify")
    assert verified.code == 1 and verified.failed == (3, "payload changed"), verified.out
