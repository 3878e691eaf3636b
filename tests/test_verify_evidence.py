"""scripts/verify_evidence.py, the offline verifier: one file importing nothing of the ledger,
checking a pack built here with the ledger's own chain, signing, tree and checkpoint code."""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.chain import genesis_hash, link_hash, payload_digest
from ledger.adapters.keys import KeyDir, Signer
from ledger.integrity import merkle
from ledger.integrity.checkpoint import (
    COSIGNATURE_V1,
    Checkpoint,
    VerifierKey,
    cosign,
    parse_note,
    sign_checkpoint,
)
from ledger.integrity.signatures import public_key_text, signed_message
from ledger.proofs import evidence_pack, verifier_key
from ledger.services import Ledger

SCRIPT = Path(__file__).parent.parent / "scripts" / "verify_evidence.py"
LOG_ID = UUID("00010203-0405-0607-0809-0a0b0c0d0e0f")
ORIGIN = f"ledger.example/log/{LOG_ID}"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_evidence", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERIFIER = load_script()
LOG = Signer.from_seed("log", bytes([1]) * 32)
LOG_KEY = VerifierKey(ORIGIN, LOG.public)
ADMIN = Signer.from_seed("admin", bytes([5]) * 32)
OFFICER = Signer.from_seed("records-officer", bytes([2]) * 32)
CLERK = Signer.from_seed("clerk", bytes([6]) * 32)
PANEL = Signer.from_seed("panel", bytes([3]) * 32)
PANEL_KEY = VerifierKey("panel.example/witness", PANEL.public, COSIGNATURE_V1)
AUDITOR_KEY = VerifierKey(
    "auditor.example/witness", Signer.from_seed("a", bytes([4]) * 32).public, COSIGNATURE_V1
)

Fact = tuple[str, str, dict[str, Any], Signer | None]
"""(entity, topic, payload, signer: None for an unsigned row) of one event of a test log."""


def registered(signer: Signer, *roles: str) -> Fact:
    return (f"actor {signer.actor}", "ActorRegistered",
            {"actor": "admin", "key": signer.actor, "public_key": public_key_text(signer.public),
             "roles": list(roles), "effective_at": "2024-05-01"}, ADMIN)


def transcribed(position: int, signer: Signer | None = OFFICER) -> Fact:
    """A document's decision naming officer1, transcribed by ``signer``."""
    return (f"entity {position % 3}", ("PlanIssued", "DecisionRecorded")[position % 2],
            {"actor": "officer1", "reason": "Prüfung \u2014 review", "title": f"Plan {position}"},
            signer)


OPENING: list[Fact] = [
    ("body kent", "BodyEstablished", {"actor": "admin", "key": "kent"}, ADMIN),
    registered(ADMIN, "administrator"),  # 2: the log's first registration signs from 1
    registered(OFFICER, "records_officer"),
    registered(CLERK, "officer"),
]
SIZE = 13
FACTS = [*OPENING, *(transcribed(p) for p in range(5, SIZE + 1))]
WITHHELD = 6
HISTORY = (1, 2, 3, 4)
"""Event 6's payload is withheld; the key history is positions 1-4: the opening to the
first registration (2), and every actor's events."""


def build_log(facts: list[Fact]) -> tuple[list[dict[str, Any]], dict[tuple[int, int], bytes]]:
    """A log of these facts as the chain stores them, and its stored tree."""
    events, store, frontier, versions = [], {}, merkle.Frontier(), Counter[str]()
    previous = genesis_hash(LOG_ID.bytes)
    for position, (entity, topic, payload, signer) in enumerate(facts, 1):
        originator = uuid5(LOG_ID, entity)
        versions[entity] += 1
        version = versions[entity]
        state = json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                           sort_keys=True).encode()
        salt = hashlib.sha256(b"salt %d" % position).digest()[:16]
        digest = payload_digest(salt, state)
        link = link_hash(position, originator, version, topic, digest, previous)
        event: dict[str, Any] = {
            "position": position, "originator_id": str(originator),
            "originator_version": version, "topic": topic, "state": state.decode(),
            "salt": salt.hex(), "payload_digest": digest.hex(), "previous_hash": previous.hex(),
            "link_hash": link.hex(), "signer": None, "key_id": None, "signed_at": None,
            "signature": None,
        }
        signature = b""
        if signer is not None:
            signed_at = f"2024-05-{position:02d}T10:00:00+00:00"
            signature = signer.sign(signed_message(
                LOG_ID.bytes, originator.bytes, version, topic, digest, signer.actor, signed_at
            ))
            event.update(signer=signer.actor, key_id=signer.key_id.hex(),
                         signed_at=signed_at, signature=signature.hex())
        data = merkle.leaf_data(
            position, link, digest, signer=event["signer"],
            key_id=signer.key_id if signer else None,
            signed_at=event["signed_at"], signature=signature or None,
        )
        for level, index, value in frontier.append(merkle.leaf_hash(data)):
            store[level, index] = value
        events.append(event)
        previous = link
    return events, store


def make_pack(positions: tuple[int, ...] = (5, WITHHELD, 8, 9, SIZE), size: int = SIZE,
              facts: list[Fact] = FACTS, history: tuple[int, ...] | None = None
              ) -> dict[str, Any]:
    """A pack of the events at ``positions``, its key history (default: the opening to the
    first registration and every actor's events, as the ledger makes it)."""
    events, store = build_log(facts)
    node = lambda level, index: store[level, index]  # noqa: E731
    note = sign_checkpoint(
        Checkpoint(ORIGIN, size, merkle.tree_root(size, node)), LOG_KEY, LOG.sign
    )
    if history is None:
        history = tuple(p for p, (entity, *_) in enumerate(facts, 1)
                        if p <= 2 or entity.startswith("actor "))

    def item(position: int) -> dict[str, Any]:
        event = dict(events[position - 1])
        if position <= size:
            proof = merkle.inclusion_proof(position - 1, size, node)
            event["inclusion"] = [base64.b64encode(h).decode() for h in proof]
        else:
            event["inclusion"] = []
        return event

    chosen = [item(position) for position in positions]
    for event in chosen:
        if event["position"] == WITHHELD:
            del event["state"], event["salt"]
    return {
        "format": "ledger-evidence/v2", "log_id": str(LOG_ID), "verifier_key": LOG_KEY.text,
        "checkpoint": note, "events": chosen, "key_history": [item(p) for p in history],
        "sources": [{"document": "minutes 2024-05"}],
    }


def offline_verdict(ledger: Ledger, originator: UUID, keys: KeyDir) -> str:
    """What the script says of the ledger's evidence pack of one entity, against the log's
    key (made in ``keys`` if need be): OK, or its FAILED line."""
    vkey = verifier_key(ledger, keys, create=True)
    pack = json.loads(json.dumps(evidence_pack(ledger, originator, keys)))
    try:
        VERIFIER.verify(pack, VERIFIER.parse_vkey(vkey.text, "key"), [], 0)
    except VERIFIER.Failed as failure:
        return f"FAILED {failure}"
    return "OK"


def run(tmp_path: Path, pack: Any, *args: str, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, list[str]]:
    path = tmp_path / "pack.json"
    path.write_text(pack if isinstance(pack, str) else json.dumps(pack), encoding="utf-8")
    code = VERIFIER.main([str(path), "--key", LOG_KEY.text, *args])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


# --- The whole chain checks -------------------------------------------------------------------


def test_a_pack_verifies_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = make_pack()
    code, lines = run(tmp_path, pack, capsys=capsys)
    assert code == 0, lines
    assert [line.split(" ")[:3] for line in lines[:-1]] == [
        ["OK", "position", str(e["position"])] for e in pack["events"]
    ]
    assert lines[-1] == ("OK key history: 4 events of 3 actors, each signature checked "
                         "against it")
    by_position = dict(zip([e["position"] for e in pack["events"]], lines, strict=False))
    assert by_position[WITHHELD].endswith("(its actor withheld); payload withheld, checked "
                                          f"from its digest; leaf {WITHHELD - 1} of {SIZE}")
    assert "signed by records-officer at 2024-05-05T10:00:00+00:00; payload checked" in (
        by_position[5])
    assert by_position[SIZE].endswith(f"leaf {SIZE - 1} of {SIZE}")


def test_the_script_imports_nothing_of_the_ledger(tmp_path: Path) -> None:
    """Only the standard library and cryptography, statically and when run with the ledger
    made unimportable, from a copy in a folder of its own."""
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom) and statement.module:
            assert statement.level == 0
            imported.add(statement.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}

    alone = tmp_path / "elsewhere"
    alone.mkdir()
    (alone / "verify_evidence.py").write_bytes(SCRIPT.read_bytes())
    (alone / "pack.json").write_text(json.dumps(make_pack()))
    guard = (
        "import sys, runpy; sys.modules['ledger'] = None; "
        "sys.argv = ['verify_evidence.py', 'pack.json', '--key', sys.argv[1]]; "
        "runpy.run_path('verify_evidence.py', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", guard, LOG_KEY.text], cwd=alone, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(make_pack()["events"]) + 1


# --- Each link of the chain refuses a change ---------------------------------------------------


def event_at(pack: dict[str, Any], position: int) -> dict[str, Any]:
    return next(e for e in pack["events"] if e["position"] == position)


def set_field(position: int, name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda pack: event_at(pack, position).__setitem__(name, value)


def relinked_topic(position: int) -> Callable[[dict[str, Any]], None]:
    """A consistent forgery of the event and its link: the event signature catches it, and
    with no signer key given, the tree."""

    def change(pack: dict[str, Any]) -> None:
        event = event_at(pack, position)
        event["topic"] = "DecisionRevoked"
        event["link_hash"] = link_hash(
            position, UUID(event["originator_id"]), event["originator_version"], event["topic"],
            bytes.fromhex(event["payload_digest"]), bytes.fromhex(event["previous_hash"]),
        ).hex()

    return change


def moved_proof(pack: dict[str, Any]) -> None:
    event_at(pack, 8)["inclusion"] = event_at(pack, 9)["inclusion"]


def flipped_proof_hash(pack: dict[str, Any]) -> None:
    proof = event_at(pack, 8)["inclusion"]
    proof[1] = ("B" if proof[1][0] == "A" else "A") + proof[1][1:]


def resized_checkpoint(pack: dict[str, Any]) -> None:
    pack["checkpoint"] = pack["checkpoint"].replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n", 1)


def without_history(*positions: int) -> Callable[[dict[str, Any]], None]:
    return lambda pack: pack.update(key_history=[
        e for e in pack["key_history"] if e["position"] not in positions])


ORIGINAL_STATE = json.loads(make_pack()["events"][0]["state"])


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        (set_field(5, "state", json.dumps({**ORIGINAL_STATE, "title": "Plan 2"},
                                          separators=(",", ":"), sort_keys=True)),
         "FAILED position 5: payload changed"),
        (set_field(5, "salt", "00" * 16), "FAILED position 5: payload changed"),
        (set_field(8, "topic", "DecisionRevoked"), "FAILED position 8: link mismatch"),
        (set_field(8, "originator_version", 9), "FAILED position 8: link mismatch"),
        (set_field(8, "previous_hash", "00" * 32), "FAILED position 8: link mismatch"),
        (set_field(WITHHELD, "payload_digest", "11" * 32),
         f"FAILED position {WITHHELD}: link mismatch"),
        (set_field(8, "position", 9), "FAILED position 9: link mismatch"),
        (relinked_topic(8), "FAILED position 8: inclusion proof does not lead"),
        (set_field(8, "signed_at", "2024-05-09T10:00:00+00:00"),
         "FAILED position 8: inclusion proof does not lead"),
        (set_field(8, "signer", "someone-else"),
         "FAILED position 8: inclusion proof does not lead"),
        (moved_proof, "FAILED position 8: inclusion proof does not lead"),
        (flipped_proof_hash, "FAILED position 8: inclusion proof does not lead"),
        (resized_checkpoint, "FAILED checkpoint: bad signature by " + ORIGIN),
        (set_field(8, "link_hash", None), "FAILED position 8: link_hash: not lowercase hex"),
        (set_field(8, "salt", None), "FAILED position 8: salt: not lowercase hex"),
        (set_field(8, "inclusion", "AAAA"), "FAILED position 8: inclusion: not a list"),
        (set_field(8, "state", None), "FAILED position 8: state: absent while the salt"),
        (set_field(8, "state", "\ud800"), "FAILED position 8: state: not UTF-8 text"),
        (set_field(8, "signer", "\udfff"), "FAILED position 8: signer: not UTF-8 text"),
        (lambda pack: pack.update(events=[]), "FAILED events: the pack has none"),
        (lambda pack: pack.update(format="ledger-evidence/v1"), "FAILED pack: not a"),
        (lambda pack: pack.update(log_id="not a uuid"), "FAILED log_id: not a UUID"),
        (lambda pack: pack.update(log_id=None), "FAILED key_history position 1: bad signature"),
        (lambda pack: pack.pop("key_history"), "FAILED key_history: missing"),
        (without_history(1), "FAILED key_history: positions 1 to 2, the log's first"),
        (without_history(1, 2), "FAILED key_history: positions 1 to 3, the log's first"),
        (without_history(3), "FAILED position 5: signature: records-officer has no key"),
        (lambda pack: pack["key_history"][2].pop("state"),
         "FAILED key_history event 3: state: absent while the salt"),
        (lambda pack: [pack["key_history"][2].pop(k) for k in ("state", "salt")],
         "FAILED key_history event 3: its state is withheld"),
    ],
    ids=lambda value: value if isinstance(value, str) else getattr(value, "__name__", "change"),
)
def test_a_change_anywhere_is_refused_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None], failure: str,
) -> None:
    pack = copy.deepcopy(make_pack())
    change(pack)
    code, lines = run(tmp_path, pack, capsys=capsys)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(failure), lines


# --- Whose key signed, and for whom ----------------------------------------------------------

REVOKED = (f"actor {OFFICER.actor}", "ActorKeyRevoked",
           {"actor": "admin", "public_key": public_key_text(OFFICER.public),
            "effective_at": "2024-05-20"}, ADMIN)
GRANTED = (f"actor {OFFICER.actor}", "ActorRoleGranted",
           {"actor": "admin", "granted": "panel_liaison", "effective_at": "2024-05-21"}, ADMIN)


@pytest.mark.parametrize(
    ("facts", "positions", "history", "failure"),
    [
        # an unsigned row, as an insider can append one
        ([*FACTS, transcribed(14, None)], (14,), None,
         "FAILED position 14: signature: the event is unsigned"),
        # the clerk's own key, good, on a transcription naming officer1: not a records officer
        ([*FACTS, transcribed(14, CLERK)], (14,), None,
         "FAILED position 14: signature: signed by clerk, but the event says officer1 "
         "recorded it, and clerk is not a records officer there"),
        # the records officer's key after its revocation (14), which still signs 14 itself
        ([*FACTS, REVOKED, transcribed(15)], (15,), None,
         f"FAILED position 15: signature: key {OFFICER.key_id.hex()} of records-officer "
         "ended at 14"),
        # the revocation left out of the history, with a later event of that actor kept
        ([*FACTS, REVOKED, GRANTED, transcribed(16)], (16,), (1, 2, 3, 4, 15),
         "FAILED key_history: actor "),
        # the genesis's key signs from position 1; another key only after its registration
        ([*OPENING[:2], ("body kent", "BodyUpdated", {"actor": "clerk"}, CLERK),
          registered(CLERK)], (3,), None,
         f"FAILED position 3: signature: key {CLERK.key_id.hex()} of clerk is registered "
         "only at 4"),
    ],
    ids=["unsigned", "another's actor", "revoked key", "history with a gap", "before its key"],
)
def test_a_signature_is_good_only_by_the_key_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], facts: list[Fact],
    positions: tuple[int, ...], history: tuple[int, ...] | None, failure: str,
) -> None:
    pack = make_pack(positions, size=len(facts), facts=facts, history=history)
    code, lines = run(tmp_path, pack, capsys=capsys)
    assert code == 1 and len(lines) == 1 and lines[0].startswith(failure), lines


def test_a_records_officer_transcribes_and_an_actor_signs_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = ("entity 0", "DecisionRecorded", {"actor": "clerk", "title": "own"}, CLERK)
    facts = [*FACTS, own, REVOKED, GRANTED]
    code, lines = run(tmp_path, make_pack((5, 14, 15), size=len(facts), facts=facts),
                      capsys=capsys)
    assert code == 0, lines
    assert "signed by clerk at" in lines[1] and "signed by admin at" in lines[2]
    assert lines[-1].startswith("OK key history: 6 events of 3 actors")


def test_an_event_past_the_checkpoint_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(tmp_path, make_pack(positions=(1, SIZE), size=SIZE - 1), capsys=capsys)
    assert code == 1 and lines == [f"FAILED position {SIZE}: not in the checkpoint: its tree "
                                   f"has {SIZE - 1} leaves"]


def test_a_wrong_key_or_a_key_for_another_origin_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack()
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack))
    other = VerifierKey(ORIGIN, Signer.from_seed("x", bytes([9]) * 32).public)
    assert VERIFIER.main([str(path), "--key", other.text]) == 1
    assert capsys.readouterr().out == f"FAILED checkpoint: not signed by the key given ({ORIGIN})\n"
    # The log's key under another name: another key ID, so not the checkpoint's signer.
    renamed = VerifierKey("ledger.example/log/other", LOG.public)
    assert VERIFIER.main([str(path), "--key", renamed.text]) == 1
    assert "not signed by the key given" in capsys.readouterr().out
    # A checkpoint whose origin is not the name of the key that signed it.
    events, store = build_log(FACTS)
    node = lambda level, index: store[level, index]  # noqa: E731
    mislabelled = sign_checkpoint(
        Checkpoint("ledger.example/log/other", SIZE, merkle.tree_root(SIZE, node)), LOG_KEY,
        LOG.sign,
    )
    code, lines = run(tmp_path, {**pack, "checkpoint": mislabelled}, capsys=capsys)
    assert code == 1 and "is not the key's name" in lines[0]


def test_witness_cosignatures_and_the_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack()
    pack["checkpoint"] = str(cosign(parse_note(pack["checkpoint"]), PANEL_KEY, PANEL.sign,
                                    1_714_557_600))
    code, lines = run(tmp_path, pack, "--witness", PANEL_KEY.text, capsys=capsys)
    assert code == 0 and len(lines) == len(pack["events"]) + 1
    code, lines = run(tmp_path, pack, "--witness", PANEL_KEY.text, "--witness",
                      AUDITOR_KEY.text, capsys=capsys)
    assert code == 1 and lines == ["FAILED checkpoint: 1 of 2 witnesses cosigned, 2 needed"]
    code, lines = run(tmp_path, pack, "--witness", PANEL_KEY.text, "--witness",
                      AUDITOR_KEY.text, "--threshold", "1", capsys=capsys)
    assert code == 0
    line = next(x for x in pack["checkpoint"].splitlines() if x.startswith("\u2014 panel"))
    dash, name, value = line.split(" ")
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 1
    bad = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}"
    forged = pack["checkpoint"]
    code, lines = run(tmp_path, {**pack, "checkpoint": forged.replace(line, bad)},
                      "--witness", PANEL_KEY.text, capsys=capsys)
    assert code == 1 and lines == ["FAILED checkpoint: bad cosignature by panel.example/witness"]


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ((), "{not json", "error: pack: cannot read"),
        (("--threshold", "1"), None, "error: --threshold: 1 with 0 witnesses"),
        (("--witness", "panel+00000000+AAAA"), None, "error: --witness: not an Ed25519 key"),
    ],
)
def test_an_unreadable_pack_or_argument_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    content: str | None, message: str,
) -> None:
    code, lines = run(tmp_path, content if content is not None else make_pack(), *args,
                      capsys=capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(message), lines
    assert VERIFIER.main([str(tmp_path / "missing.json"), "--key", LOG_KEY.text]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert VERIFIER.main([str(tmp_path / "pack.json"), "--key", "ledger+1234+AAAA"]) == 2
    assert capsys.readouterr().err.startswith("error: --key:")


# --- The script is a second implementation of the leaf and the proof check ---------------------


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 2**40), st.binary(min_size=32, max_size=32), st.binary(min_size=32,
                                                                        max_size=32),
    st.one_of(st.none(), st.text(max_size=20)), st.binary(max_size=8),
    st.one_of(st.none(), st.text(max_size=30)), st.binary(max_size=64),
)
def test_the_script_computes_the_same_leaf(
    position: int, link: bytes, digest: bytes, signer: str | None, key_id: bytes,
    signed_at: str | None, signature: bytes,
) -> None:
    ours = merkle.leaf_data(position, link, digest, signer=signer, key_id=key_id,
                            signed_at=signed_at, signature=signature)
    assert VERIFIER.leaf_data(position, link, digest, signer, key_id, signed_at,
                              signature) == ours


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 100).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_the_script_agrees_with_merkle_on_inclusion(case: tuple[int, int]) -> None:
    n, m = case
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(n)]
    frontier, store = merkle.Frontier(), {}
    for leaf in leaves:
        store.update({(lv, i): v for lv, i, v in frontier.append(leaf)})
    proof = merkle.inclusion_proof(m, n, lambda level, index: store[level, index])
    assert VERIFIER.root_from_inclusion(leaves[m], m, n, proof) == frontier.root()
    assert VERIFIER.root_from_inclusion(leaves[m], m, n, [*proof, leaves[0]]) is None
    if proof:
        assert VERIFIER.root_from_inclusion(leaves[m], m, n, proof[:-1]) is None
    if n > 1:
        moved = VERIFIER.root_from_inclusion(leaves[m], (m + 1) % n, n, proof)
        assert moved != frontier.root()
