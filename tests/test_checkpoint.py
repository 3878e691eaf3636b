"""Signed notes, checkpoints and cosignatures against the examples of the C2SP specifications
and Go's sumdb/note tests, checked again by hand with the crypto library and by a second
implementation (sigstore-python's signed-note and checkpoint reader)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.adapters.keys import Signer, verify_signature
from ledger.integrity import merkle
from ledger.integrity.checkpoint import (
    COSIGNATURE_V1,
    ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    Note,
    NoteError,
    Signature,
    TlogProof,
    VerifierKey,
    check_consistent,
    check_cosignatures,
    cosign,
    cosignature_message,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
    parse_tlog_proof,
    parse_verifier_key,
    sign_checkpoint,
    sign_text,
    tlog_proof,
    verify_note,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "signed-note.json").read_text())
ORIGIN = "ledger.example/log/00010203-0405-0607-0809-0a0b0c0d0e0f"
ROOT = hashlib.sha256(b"a root").digest()


def log_signer() -> tuple[Signer, VerifierKey]:
    signer = Signer.from_seed("log", bytes(range(32)))
    return signer, VerifierKey(ORIGIN, signer.public)


def witness(name: str, seed: int) -> tuple[Signer, VerifierKey]:
    signer = Signer.from_seed(name, bytes([seed]) * 32)
    return signer, VerifierKey(name, signer.public, COSIGNATURE_V1)


def signed_checkpoint(size: int = 20, root: bytes = ROOT) -> str:
    signer, key = log_signer()
    return sign_checkpoint(Checkpoint(ORIGIN, size, root), key, signer.sign)


def signature_value(note: str, name: str) -> bytes:
    """The decoded base64 of ``name``'s signature line, read with no code of ours."""
    for line in note.splitlines():
        if line.startswith(f"\u2014 {name} "):
            return base64.b64decode(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no signature by {name}")


# --- The specifications' examples -----------------------------------------------------------


def test_the_c2sp_signed_note_example_verifies() -> None:
    example = VECTORS["c2sp_signed_note"]
    key = parse_verifier_key(example["vkey"])
    assert key.text == example["vkey"] and key.key_id.hex() == "530d903a"
    note = parse_note(example["note"])
    assert str(note) == example["note"]
    assert [good.key for good in verify_note(note, [key], verify_signature)] == [key]
    altered = parse_note(example["note"].replace("an example", "an exemple"))
    with pytest.raises(NoteError, match="bad signature by example.com/foo"):
        verify_note(altered, [key], verify_signature)


def test_signing_matches_go_sumdb_note_byte_for_byte() -> None:
    go = VECTORS["go_sumdb_note"]
    encoded = go["skey"].split("+", 4)[4]  # PRIVATE+KEY+name+id+base64
    seed = base64.b64decode(encoded)[1:]  # type byte 0x01, then the seed
    signer = Signer.from_seed("peter", seed)
    key = VerifierKey("PeterNeumann", signer.public)
    assert key.text == go["vkey"]
    note = Note(go["text"], (sign_text(go["text"], key, signer.sign),))
    assert str(note) == go["signed"]


def test_unknown_keys_are_ignored_a_known_keys_bad_signature_refuses() -> None:
    go = VECTORS["go_sumdb_note"]
    peter, enoch = parse_verifier_key(go["vkey"]), parse_verifier_key(go["other_vkey"])
    both = parse_note(go["signed"] + go["other_signature_line"])
    assert [g.key for g in verify_note(both, [peter, enoch], verify_signature)] == [peter, enoch]
    assert [g.key for g in verify_note(both, [peter], verify_signature)] == [peter]

    value = signature_value(go["signed"] + go["other_signature_line"], "EnochRoot")
    forged = "\u2014 EnochRoot " + base64.b64encode(value[:-1] + bytes([value[-1] ^ 1])).decode()
    tampered = parse_note(go["signed"] + forged + "\n")
    assert [g.key for g in verify_note(tampered, [peter], verify_signature)] == [peter]
    with pytest.raises(NoteError, match="bad signature by EnochRoot"):
        verify_note(tampered, [peter, enoch], verify_signature)

    only_enoch = parse_note(go["text"] + "\n" + go["other_signature_line"])
    with pytest.raises(NoteError, match="not signed by a known key"):
        verify_note(only_enoch, [peter], verify_signature)
    # Same name, another key: a different key ID, so its signature is not the known key's.
    impostor = VerifierKey("PeterNeumann", enoch.public)
    with pytest.raises(NoteError, match="not signed by a known key"):
        verify_note(parse_note(go["signed"]), [impostor], verify_signature)


def test_verifier_key_manglings_are_refused() -> None:
    """As Go's TestNewVerifier: every proper part and every changed byte is refused."""
    vkey = VECTORS["go_sumdb_note"]["vkey"]
    for i in range(len(vkey) + 1):
        for j in range(i + 1, len(vkey) + 1):
            if (i, j) != (0, len(vkey)):
                with pytest.raises(NoteError):
                    parse_verifier_key(vkey[i:j])
    for i in range(len(vkey)):
        changed = vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1:]
        with pytest.raises(NoteError):
            parse_verifier_key(changed)
    wrong_length = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    unknown_type = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    for bad in (wrong_length, unknown_type):
        with pytest.raises(NoteError):
            parse_verifier_key(bad)


def test_the_c2sp_checkpoint_example_reads_and_writes_back() -> None:
    example = VECTORS["c2sp_checkpoint"]
    note = parse_note(example["note"])
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == example["origin"] and checkpoint.size == example["size"]
    assert checkpoint.root == base64.b64decode(example["root_base64"])
    assert checkpoint.text == note.text and str(note) == example["note"]


def test_the_c2sp_cosignature_example_reads() -> None:
    example = VECTORS["c2sp_cosignature"]
    note = parse_note(example["note"])
    log_signature, witness_signature = note.signatures
    assert witness_signature.name == example["witness"]
    assert len(witness_signature.signature) == 8 + 64
    timestamp = int.from_bytes(witness_signature.signature[:8], "big")
    assert timestamp == example["timestamp"]
    assert cosignature_message(note.text, timestamp) == example["signed_message"].encode()
    assert len(log_signature.signature) == 64


def test_the_c2sp_tlog_proof_example_reads_and_writes_back() -> None:
    example = VECTORS["c2sp_tlog_proof_head"]
    text = example["text"] + "\n" + VECTORS["c2sp_checkpoint"]["note"]
    proof = parse_tlog_proof(text)
    assert proof.index == example["index"] and len(proof.hashes) == example["hashes"]
    assert proof.extra is not None and proof.extra.startswith(b"age-v1.2.1")
    assert proof.checkpoint == VECTORS["c2sp_checkpoint"]["note"]
    assert proof.text == text
    ours = tlog_proof(19, [ROOT, ROOT], signed_checkpoint())
    assert parse_tlog_proof(ours) == TlogProof(19, (ROOT, ROOT), signed_checkpoint())
    for bad in ("c2sp.org/tlog-proof@v2\nindex 1\n\n", "c2sp.org/tlog-proof@v1\n\n",
                "c2sp.org/tlog-proof@v1\nindex 01\n\n", "c2sp.org/tlog-proof@v1\nindex 1\n"):
        with pytest.raises(NoteError, match="tlog-proof"):
            parse_tlog_proof(bad)


# --- Our checkpoints --------------------------------------------------------------------------


def test_a_signed_checkpoint_opens_and_checks_by_hand() -> None:
    signer, key = log_signer()
    raw = signed_checkpoint()
    checkpoint, _ = open_checkpoint(raw, key, verify_signature, origin=ORIGIN)
    assert checkpoint == Checkpoint(ORIGIN, 20, ROOT)
    text = f"{ORIGIN}\n20\n{base64.b64encode(ROOT).decode()}\n"
    assert raw.startswith(text + "\n\u2014 " + ORIGIN + " ") and raw.endswith("\n")
    value = signature_value(raw, ORIGIN)
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + signer.public).digest()[:4]
    assert value[:4] == expected_id
    Ed25519PublicKey.from_public_bytes(signer.public).verify(value[4:], text.encode())
    typed_key = base64.b64encode(bytes([1]) + signer.public).decode()
    assert key.text == f"{ORIGIN}+{expected_id.hex()}+{typed_key}"
    assert parse_verifier_key(key.text) == key


def test_a_checkpoint_is_refused_with_a_wrong_key_a_changed_line_or_another_origin() -> None:
    _, key = log_signer()
    raw = signed_checkpoint()
    other = VerifierKey(ORIGIN, Signer.from_seed("x", bytes([9]) * 32).public)
    with pytest.raises(NoteError, match="not signed by a known key"):
        open_checkpoint(raw, other, verify_signature)
    with pytest.raises(NoteError, match="bad signature"):
        open_checkpoint(raw.replace("\n20\n", "\n21\n"), key, verify_signature)
    changed_root = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(NoteError, match="bad signature"):
        open_checkpoint(
            raw.replace(base64.b64encode(ROOT).decode(), changed_root), key, verify_signature
        )
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(raw, key, verify_signature, origin="ledger.example/log/other")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("o\n20\n", "needs an origin"),
        ("o\n20\nAAAA\n", "not 32 bytes"),
        ("o\n020\n" + base64.b64encode(ROOT).decode() + "\n", "tree size"),
        ("o\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "tree size"),
        ("o\n\u0661\n" + base64.b64encode(ROOT).decode() + "\n", "tree size"),
        ("o\n20\n" + base64.b64encode(ROOT).decode(), "newline"),
        ("o\n20\n" + base64.b64encode(ROOT).decode() + "\n\n", "empty line"),
        ("o\n20\n" + base64.b64encode(ROOT).decode()[:-2] + "\n", "base64"),
    ],
)
def test_malformed_checkpoint_texts_are_refused(text: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        parse_checkpoint(text)


def test_extension_lines_are_kept() -> None:
    text = f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\nextension\n"
    assert parse_checkpoint(text).extensions == ("extension",)
    assert parse_checkpoint(text).text == text


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("text\n\u2014 k AAAAAAA=\n", "no blank line"),
        ("text\n\n\u2014 k AAAAAAA=", "do not end with a newline"),
        ("text\r\n\n\u2014 k AAAAAAA=\n", "control character"),
        ("text\n\n- k AAAAAAA=\n", "signature line 1"),
        ("text\n\n\u2014 k+1 AAAAAAA=\n", "no spaces and no"),
        ("text\n\n\u2014 k AAAAAA\n", "base64"),
        ("text\n\n\u2014 k AAAAAA==\n", "too short"),
        ("text\n\n" + "\u2014 k AAAAAAA=\n" * (MAX_SIGNATURES + 1), "more than"),
        (b"text\xff\n\n\xe2\x80\x94 k AAAAAAA=\n", "UTF-8"),
    ],
)
def test_malformed_notes_are_refused(raw: str | bytes, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        parse_note(raw)


def test_key_names_and_types_are_checked() -> None:
    public = bytes(32)
    for name in ("", "a b", "a+b", "a\u00a0b", "a\tb"):
        with pytest.raises(NoteError):
            VerifierKey(name, public)
    with pytest.raises(NoteError, match="signature type"):
        VerifierKey("a", public, 0x02)
    with pytest.raises(NoteError, match="32 bytes"):
        VerifierKey("a", bytes(31))
    signer, key = log_signer()
    with pytest.raises(NoteError, match="witnesses use cosign"):
        sign_text("x\n", key.as_cosigner(), signer.sign)


# --- Cosignatures ---------------------------------------------------------------------------


def test_witnesses_cosign_and_a_threshold_counts_them() -> None:
    w1, k1 = witness("panel.example/witness", 1)
    w2, k2 = witness("auditor.example/witness", 2)
    note = parse_note(signed_checkpoint())
    once = cosign(note, k1, w1.sign, 1_700_000_000)
    good = check_cosignatures(once, [k1], 1, verify_signature)
    assert [(g.key, g.timestamp) for g in good] == [(k1, 1_700_000_000)]
    with pytest.raises(NoteError, match="1 of 2 cosigned, 2 needed"):
        check_cosignatures(once, [k1, k2], 2, verify_signature)
    twice = cosign(once, k2, w2.sign, 1_700_000_100)
    assert len(check_cosignatures(twice, [k1, k2], 2, verify_signature)) == 2
    # The log's signature still holds; a witness given as a plain Ed25519 vkey counts too.
    _, log_key = log_signer()
    open_checkpoint(str(twice), log_key, verify_signature)
    plain = VerifierKey(k1.name, k1.public, ED25519)
    assert len(check_cosignatures(twice, [plain], 1, verify_signature)) == 1
    # Cosigning again replaces that witness's line.
    again = cosign(twice, k1, w1.sign, 1_700_000_200)
    assert len(again.signatures) == 3
    with pytest.raises(NoteError, match="threshold 3 is more than the 2"):
        check_cosignatures(twice, [k1, k2], 3, verify_signature)
    with pytest.raises(NoteError, match="negative"):
        check_cosignatures(twice, [k1, k2], -1, verify_signature)


def test_a_cosignature_checks_by_hand() -> None:
    w1, k1 = witness("panel.example/witness", 1)
    raw = str(cosign(parse_note(signed_checkpoint()), k1, w1.sign, 1_700_000_000))
    value = signature_value(raw, k1.name)
    assert value[:4] == hashlib.sha256(k1.name.encode() + b"\n\x04" + w1.public).digest()[:4]
    assert int.from_bytes(value[4:12], "big") == 1_700_000_000
    text = raw.split("\n\n")[0] + "\n"
    message = b"cosignature/v1\ntime 1700000000\n" + text.encode()
    Ed25519PublicKey.from_public_bytes(w1.public).verify(value[12:], message)


def test_a_bad_or_misformed_cosignature_refuses_the_checkpoint() -> None:
    w1, k1 = witness("panel.example/witness", 1)
    note = cosign(parse_note(signed_checkpoint()), k1, w1.sign, 1_700_000_000)
    log_sig, sig = note.signatures
    # Another time than the one signed.
    moved = Signature(sig.name, sig.key_id, (1_700_000_001).to_bytes(8, "big") + sig.signature[8:])
    with pytest.raises(NoteError, match="bad cosignature by panel.example/witness"):
        check_cosignatures(Note(note.text, (log_sig, moved)), [k1], 1, verify_signature)
    # A plain signature of the text under the cosigner key ID is not a cosignature.
    plain = Signature(sig.name, sig.key_id, w1.sign(note.text.encode()))
    with pytest.raises(NoteError, match="malformed"):
        check_cosignatures(Note(note.text, (log_sig, plain)), [k1], 1, verify_signature)
    # A cosignature of another checkpoint.
    other = cosign(parse_note(signed_checkpoint(size=21)), k1, w1.sign, 1_700_000_000)
    with pytest.raises(NoteError, match="bad cosignature"):
        check_cosignatures(Note(note.text, (log_sig, other.signatures[1])), [k1], 1,
                           verify_signature)


# --- A second implementation: sigstore-python's signed-note and checkpoint reader -------------


def _sigstore() -> Any:
    try:
        from sigstore._internal.rekor.checkpoint import SignedCheckpoint
        from sigstore._internal.trust import Keyring
        from sigstore._utils import KeyID
        from sigstore.errors import VerificationError
        from sigstore_models.common import v1 as common_v1
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("sigstore (a dev dependency) is not installed")
        pytest.skip("sigstore is not installed")
    return SignedCheckpoint, Keyring, KeyID, VerificationError, common_v1


def test_sigstore_reads_and_verifies_our_checkpoints() -> None:
    signed_checkpoint_cls, keyring_cls, key_id_cls, verification_error, common_v1 = _sigstore()
    signer, key = log_signer()

    def keyring(public: bytes) -> Any:
        der = Ed25519PublicKey.from_public_bytes(public).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        details = common_v1.PublicKeyDetails.PKIX_ED25519
        return keyring_cls([common_v1.PublicKey(raw_bytes=base64.b64encode(der).decode(),
                                                key_details=details)])

    raw = signed_checkpoint()
    parsed = signed_checkpoint_cls.from_text(raw)
    assert parsed.checkpoint.origin == ORIGIN and parsed.checkpoint.log_size == 20
    assert parsed.checkpoint.log_hash == ROOT.hex()
    hint = key_id_cls(key.key_id + bytes(28))  # sigstore matches the note's 4-byte key ID
    parsed.signed_note.verify(keyring(signer.public), hint)
    other = Signer.from_seed("x", bytes([9]) * 32).public
    with pytest.raises(verification_error):
        parsed.signed_note.verify(keyring(other), hint)
    with pytest.raises(verification_error):
        parsed.signed_note.verify(keyring(signer.public), key_id_cls(bytes(32)))
    tampered = signed_checkpoint_cls.from_text(raw.replace("\n20\n", "\n21\n"))
    with pytest.raises(verification_error):
        tampered.signed_note.verify(keyring(signer.public), hint)
    # Our cosignatures leave the note readable, and the log's signature checkable, by it.
    w1, k1 = witness("panel.example/witness", 1)
    cosigned = str(cosign(parse_note(raw), k1, w1.sign, 1_700_000_000))
    signed_checkpoint_cls.from_text(cosigned).signed_note.verify(keyring(signer.public), hint)


def test_consistency_between_two_checkpoints() -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(12)]
    frontier, store = merkle.Frontier(), {}
    roots = [frontier.root()]
    for leaf in leaves:
        store.update({(lv, i): v for lv, i, v in frontier.append(leaf)})
        roots.append(frontier.root())

    def node(level: int, index: int) -> bytes:
        return store[level, index]

    def at(size: int, origin: str = ORIGIN) -> Checkpoint:
        return Checkpoint(origin, size, roots[size])

    check_consistent(at(5), at(12), merkle.consistency_proof(5, 12, node))
    check_consistent(at(12), at(12), [])
    check_consistent(at(0), at(12), [])
    with pytest.raises(NoteError, match="does not extend"):
        check_consistent(at(5), Checkpoint(ORIGIN, 12, roots[11]),
                         merkle.consistency_proof(5, 12, node))
    with pytest.raises(NoteError, match="does not extend"):
        check_consistent(at(5), at(12), merkle.consistency_proof(6, 12, node))
    with pytest.raises(NoteError, match="shrank"):
        check_consistent(at(12), at(5), [])
    with pytest.raises(NoteError, match="origin"):
        check_consistent(at(5), at(12, "ledger.example/log/other"),
                         merkle.consistency_proof(5, 12, node))
    with pytest.raises(NoteError, match="empty tree"):
        check_consistent(Checkpoint(ORIGIN, 0, roots[1]), at(12), [])
