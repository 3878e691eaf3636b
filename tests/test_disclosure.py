"""Confidential content stays confidential: every public read, search, export, evidence pack and
public copy is free of it, byte for byte; an authorized reader sees all of it; redactions and
releases are signed public facts; the public copy verifies to the master's head. Both backends.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_cli import populate, run

SECRET_FIELDS = ("title", "executive-summary", "recommendation", "decision",
                 "financial-advice", "legal-advice")
BASIS = "FOIA 2000 s.43(2) commercial interests"


@pytest.fixture
def store(store_url: str) -> str:
    populate(store_url)
    return store_url


def record_confidential(store: str, key: str, tokens: dict[str, str]) -> int:
    """A confidential Record of Decision with a secret token in each of its words."""
    words = []
    for name in SECRET_FIELDS:
        words += [f"--{name}", f"The {name} says {tokens[name]}"]
    code, out = run(store, ["decision", "record", key, "--originator", "Estates officer",
                            "--confidentiality", "confidential", "--confidential-reason", BASIS,
                            *words, "--as", "officer1", "--effective-at", "2013-05-01",
                            "--source-document", "rod-confidential"])
    assert code == 0, out
    return int(re.search(r"at position (\d+)", out).group(1))  # type: ignore[union-attr]


def public_reads(key: str, token: str) -> list[list[str]]:
    return [
        ["decisions"], ["decisions", "--format", "json"], ["decisions", "--format", "csv"],
        ["decisions", "--text", token, "--format", "json"], ["log"],
        ["history", "decision", key], ["show", "decision", key],
        ["audit", "decision", key, "--format", "json"],
        ["replay", "--kind", "decision", "--key", key],
    ]


def head_of(store: str) -> str:
    code, out = run(store, "verify")
    assert code == 0, out
    return out.split()[3]


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(alphabet="abcdefghjkmnpqrstuvwxyz", min_size=10, max_size=16),
       n=st.integers(min_value=0, max_value=10**6))
def test_no_public_output_holds_a_confidential_word(
    store: str, tmp_path: Path, secret: str, n: int
) -> None:
    key = f"kpcc-c-{n}"
    if run(store, ["history", "decision", key])[0] == 0:
        return  # hypothesis drew this key already
    tokens = {name: f"zq{secret}{i}x" for i, name in enumerate(SECRET_FIELDS)}
    position = record_confidential(store, key, tokens)
    for line in public_reads(key, tokens["title"]):
        for reader in ([], ["--as", "panel1"]):  # the public, and a Panel member
            code, out = run(store, [*line, *reader])
            assert code in (0, 2), (line, out)
            # the one-line notice of a search that found nothing repeats what was typed
            out = "\n".join(x for x in out.splitlines() if "matched nothing" not in x)
            for token in tokens.values():
                assert token not in out, (line, reader, token)
    code, out = run(store, ["decisions", "--format", "json"])
    assert f"withheld ({BASIS})" in out  # the public reads why, in JSON as in the table
    # an authorized reader (an officer of the body, proven by its key) sees every word
    for line in (["decisions", "--format", "json"], ["history", "decision", key],
                 ["show", "decision", key]):
        code, out = run(store, [*line, "--as", "officer1"])
        assert code == 0, out
        for token in tokens.values():
            assert token in out, (line, token)
    code, out = run(store, ["decisions", "--text", tokens["decision"], "--as", "auditor1"])
    assert code == 0 and key in out, out
    # the public copy, the evidence pack: nothing of it, byte for byte
    copy = tmp_path / f"public-{n}.db"
    code, out = run(store, ["export", "--public", str(copy)])
    assert code == 0, out
    pack = tmp_path / f"pack-{n}"
    code, out = run(store, ["evidence", key, "--out", str(pack)])
    assert code == 0, out
    for path in [copy, *pack.iterdir()]:
        data = path.read_bytes()
        for token in tokens.values():
            assert token.encode() not in data, (path, token)
    assert head_of(f"sqlite:///{copy}") == head_of(store)
    assert position > 0


def test_the_public_copy_verifies_to_the_same_head_with_signatures(
    store: str, tmp_path: Path
) -> None:
    record_confidential(store, "kpcc-c", {n: f"secret-{n}" for n in SECRET_FIELDS})
    copy = tmp_path / "public.db"
    assert run(store, ["export", "--public", str(copy)])[0] == 0
    code, master = run(store, "verify")
    assert code == 0, master
    code, public = run(f"sqlite:///{copy}", "verify")
    assert code == 0, public
    assert master.splitlines()[0] == public.splitlines()[0]  # OK position N hash H
    assert master.splitlines()[2] == public.splitlines()[2]  # the same signatures, by signer
    assert "1 payloads withheld" in public
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT salt FROM ledger_chain c JOIN ledger_withheld w "
                            "ON w.position = c.position").fetchall() == [(None,)]
    # projections over it show the markers
    code, out = run(f"sqlite:///{copy}", ["decisions", "--format", "json"])
    assert code == 0 and f"withheld ({BASIS})" in out, out
    # the copy is written once: an existing file is refused
    code, out = run(store, ["export", "--public", str(copy)])
    assert code == 2 and "already exists" in out


def test_a_withheld_payload_in_a_master_store_is_tampering(tmp_path: Path) -> None:
    """A NULL salt is accepted only where a public copy lists the position as withheld (the
    copy is a SQLite file whatever the master's backend)."""
    store = f"sqlite:///{tmp_path}/master.db"
    populate(store)
    record_confidential(store, "kpcc-c", {n: f"secret-{n}" for n in SECRET_FIELDS})
    copy = tmp_path / "public.db"
    assert run(store, ["export", "--public", str(copy)])[0] == 0
    with sqlite3.connect(copy) as conn:
        listed = conn.execute("SELECT * FROM ledger_withheld").fetchall()
        conn.execute("DELETE FROM ledger_withheld")  # no triggers guard the copy's own table
    code, out = run(f"sqlite:///{copy}", "verify")
    assert code == 1 and "malformed row" in out, out
    with sqlite3.connect(copy) as conn:  # an edited payload that was not withheld
        conn.executemany("INSERT INTO ledger_withheld VALUES (?,?,?)", listed)
        conn.execute("DROP TRIGGER IF EXISTS ledger_events_no_update")
        conn.execute("UPDATE ledger_events SET state = CAST(replace(CAST(state AS TEXT), "
                     "'\"Kent\"', '\"Kant\"') AS BLOB)")
        conn.execute("INSERT INTO ledger_withheld VALUES (1, 'name', 'listed, not absent')")
    code, out = run(f"sqlite:///{copy}", "verify")
    assert code == 1 and "position 1: payload changed" in out, out


def test_redaction_and_release_are_signed_facts_in_the_audit_trail(store: str) -> None:
    code, out = run(store, "decision record kpcc-001 --title Grants --originator Officer "
                           "--executive-summary Summary --decision Approved --as officer1 "
                           "--effective-at 2013-05-01 --source-document rod-001")
    assert code == 0, out
    code, out = run(store, ["interest", "declare", "kpcc-001", "--person", "Ann Barnes",
                            "--interest", "Her brother-in-law chairs a bidder", "--as", "ann",
                            "--effective-at", "2013-05-01", "--source-document", "rod-001"])
    assert code == 0, out
    position = int(re.search(r"at position (\d+)", out).group(1))  # type: ignore[union-attr]
    redact = ["redact", str(position), "--fields", "interest", "--basis",
              "UK GDPR art. 9: a third party's personal data", "--effective-at", "2013-06-01"]
    # an officer may not withhold; a Panel member neither; the Chief Executive may
    for actor in ("officer1", "panel1"):
        code, out = run(store, [*redact, "--as", actor])
        assert code == 3, out
    code, out = run(store, [*redact, "--as", "ce"])
    assert code == 0, out
    code, out = run(store, [*redact, "--as", "ce"])  # twice is refused, nothing written
    assert code == 2 and "already withheld" in out, out
    code, out = run(store, ["redact", str(position), "--fields", "nosuch", "--basis", "x",
                            "--as", "ce"])
    assert code == 2 and "fields" in out, out
    code, out = run(store, ["history", "decision", "kpcc-001"])
    assert "brother-in-law" not in out and "withheld (UK GDPR art. 9" in out
    code, out = run(store, ["audit", "decision", "kpcc-001", "--format", "json"])
    rows = json.loads(out)
    redacted = [r for r in rows if r["event_type"] == "EventRedacted"]
    assert redacted and redacted[0]["actor"] == "ce"
    assert "UK GDPR art. 9" in json.dumps(redacted[0]["after"])
    assert all("brother-in-law" not in json.dumps(r) for r in rows)
    # released later: public again, and the release is in the trail too
    code, out = run(store, ["release", str(position), "--fields", "interest", "--reason",
                            "the person consented to publication", "--as", "ann"])
    assert code == 0, out
    code, out = run(store, ["history", "decision", "kpcc-001"])
    assert "brother-in-law" in out
    code, out = run(store, ["audit", "decision", "kpcc-001", "--format", "json"])
    assert any(r["event_type"] == "RedactionReleased" and r["actor"] == "ann"
               for r in json.loads(out))
    code, out = run(store, ["release", str(position), "--reason", "again", "--as", "ann"])
    assert code == 2 and "nothing" in out, out


def test_a_reader_is_who_its_key_proves(store: str, key_dir: Path) -> None:
    """Typing another actor's id shows nothing more: reading as an actor needs its key."""
    record_confidential(store, "kpcc-c", {n: f"secret-{n}" for n in SECRET_FIELDS})
    code, out = run(store, ["decisions", "--as", "mallory"])
    assert code == 3 and "mallory" in out, out
    (key_dir / "officer1.key").rename(key_dir / "officer1.moved")
    code, out = run(store, ["decisions", "--format", "json", "--as", "officer1"])
    assert code == 3 and "key" in out and "secret-" not in out, out
