"""Checkpoints and proofs from the stored tree, on both backends, checked with the pure RFC 9162
verifier: what an auditor carries away must verify offline, and a moved or changed proof, a
wrong key or a rewritten log must not."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.entrypoints.cli import _run, cli
from ledger.integrity.checkpoint import parse_checkpoint, parse_note
from ledger.integrity.merkle import leaf_hash, root, verify_consistency, verify_inclusion

from helpers import authority, grant, open_ledger


def run(store: str, *args: str) -> tuple[int, str]:
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", store, *args])
        return code, out.getvalue().decode() + err.getvalue().decode()


def _b(text: str) -> bytes:
    return base64.b64decode(text)


def _checkpoint(store: str, path: Path) -> Any:
    code, out = run(store, "checkpoint", "-o", str(path))
    assert code == 0, out
    return parse_checkpoint(parse_note(path.read_text()).text)


@pytest.fixture
def store(store_url: str) -> str:
    with open_ledger(store_url) as ledger:
        for n in range(11):
            ledger.record([grant(f"grant-{n}")] if n else [authority()])
    return store_url


def test_the_stored_tree_is_the_tree_of_the_chain(store: str) -> None:
    with open_ledger(store) as ledger:
        head = ledger.chain.census().last
        leaves = list(ledger.chain.leaves(head))
        from ledger.integrity.merkle import tree_root

        assert tree_root(head, ledger.chain.node) == root(leaves)
        assert [ledger.chain.node(0, i) for i in range(head)] == leaves


def test_inclusion_and_consistency_proofs_verify_offline(store: str, tmp_path: Path) -> None:
    first = _checkpoint(store, tmp_path / "c1.note")
    code, out = run(store, "proof", "inclusion", "7", "--checkpoint", str(tmp_path / "c1.note"),
                    "--format", "json")
    assert code == 0, out
    proof = json.loads(out)
    assert (proof["position"], proof["leaf_index"], proof["tree_size"]) == (7, 6, first.size)
    hashes = [_b(h) for h in proof["hashes"]]
    assert verify_inclusion(_b(proof["leaf_hash"]), 6, first.size, hashes, first.root)
    # moved to another leaf, or a changed hash: refused
    assert not verify_inclusion(_b(proof["leaf_hash"]), 5, first.size, hashes, first.root)
    changed = [hashes[0][:-1] + bytes([hashes[0][-1] ^ 1]), *hashes[1:]]
    assert not verify_inclusion(_b(proof["leaf_hash"]), 6, first.size, changed, first.root)
    assert len(json.dumps(proof)) < 1024

    with open_ledger(store) as ledger:
        ledger.record([grant("grant-late")])
    second = _checkpoint(store, tmp_path / "c2.note")
    code, out = run(store, "proof", "consistency", "--old", str(tmp_path / "c1.note"),
                    "--new", str(tmp_path / "c2.note"), "--format", "json")
    assert code == 0, out
    found = json.loads(out)
    assert (found["old_size"], found["new_size"]) == (first.size, second.size)
    steps = [_b(h) for h in found["hashes"]]
    assert verify_consistency(first.size, second.size, first.root, second.root, steps)
    assert not verify_consistency(first.size, second.size, second.root, second.root, steps)
    code, out = run(store, "verify", "--checkpoint", str(tmp_path / "c1.note"))
    assert code == 0 and out.startswith("OK position"), out


def test_a_checkpoint_signed_by_another_key_or_of_another_log_is_refused(
    store: str, tmp_path: Path, store_url: str
) -> None:
    path = tmp_path / "c.note"
    _checkpoint(store, path)
    note = path.read_text()
    forged = tmp_path / "forged.note"
    forged.write_text(note.replace(note.split("\n")[1], "3", 1))
    code, out = run(store, "verify", "--checkpoint", str(forged))
    assert code == 2 and "signature" in out, out
    code, key = run(store, "checkpoint", "--verifier-key")
    assert code == 0
    name, key_hash, encoded = key.strip().split("+", 2)
    other = "+".join([name, key_hash, base64.b64encode(b"\x01" + bytes(32)).decode()])
    code, out = run(store, "verify", "--checkpoint", str(path), "--verifier-key", other)
    assert code == 2, out


def test_a_log_rewritten_after_its_checkpoint_fails_against_it(
    store: str, tmp_path: Path
) -> None:
    from test_tamper import RawStore

    path = tmp_path / "c.note"
    _checkpoint(store, path)
    raw = RawStore(store)
    raw.drop_guards()
    if raw.sqlite:
        raw.run("DROP TRIGGER IF EXISTS ledger_tree_no_update")
    else:
        raw.run("ALTER TABLE ledger_tree DISABLE TRIGGER USER")
    raw.run("UPDATE ledger_tree SET hash = ? WHERE level = 0 AND idx = 4", leaf_hash(b"x"))
    code, out = run(store, "verify", "--checkpoint", str(path))
    assert code == 1 and "position 5" in out, out
    code, out = run(store, "verify")
    assert code == 1 and out.startswith("FAILED position 5: tree mismatch"), out


def test_witnesses_cosign_and_catch_a_split_view(tmp_path: Path) -> None:
    """Two copies of one log, grown apart, are shown to a witness: it co-signs one and refuses
    the other, so a log cannot show two histories to two audiences unnoticed. (A copied
    SQLite file makes the split view.)"""
    import shutil

    store = f"sqlite:///{tmp_path}/a.db"
    with open_ledger(store) as ledger:
        ledger.record([authority()])
    path = tmp_path / "c1.note"
    _checkpoint(store, path)
    key_file = tmp_path / "witness" / "panel.key"
    key_file.parent.mkdir()
    code, out = run(store, "key", "new", "panel")
    assert code == 0, out
    shutil.copy(Path(__import__("os").environ["LEDGER_KEY_DIR"]) / "panel.key", key_file)
    code, out = run(store, "checkpoint", "cosign", str(path), "--key", str(key_file))
    assert code == 0 and " as panel+" in out, out
    witness = out.strip().rsplit(" as ", 1)[1]
    code, out = run(store, "verify", "--checkpoint", str(path), "--witness", witness)
    assert code == 0, out
    code, out = run(store, "verify", "--checkpoint", str(path), "--witness", witness,
                    "--witness", witness.replace("panel", "other", 1), "--threshold", "2")
    assert code in (1, 2), out

    other = tmp_path / "copy.db"
    shutil.copy(str(StoreLocationPath(store)), other)
    with open_ledger(store) as ledger:
        ledger.record([grant("only-in-a")])
    with open_ledger(f"sqlite:///{other}") as ledger:
        ledger.record([grant("only-in-b")])
    _checkpoint(store, tmp_path / "a.note")
    _checkpoint(f"sqlite:///{other}", tmp_path / "b.note")
    code, out = run(store, "checkpoint", "cosign", str(tmp_path / "a.note"), "--key",
                    str(key_file))
    assert code == 0, out
    code, out = run(f"sqlite:///{other}", "checkpoint", "cosign", str(tmp_path / "b.note"),
                    "--key", str(key_file))
    assert code == 1 and "does not extend" in out, out


def StoreLocationPath(url: str) -> Path:  # noqa: N802 - reads as the type it returns
    from ledger.adapters.store import StoreLocation

    location = StoreLocation.parse(url)
    assert location.path is not None
    return location.path


def test_checkpoints_kept_on_a_schedule_and_listed(store: str, tmp_path: Path) -> None:
    folder = tmp_path / "kept"
    code, out = run(store, "checkpoint", "--keep", str(folder), "--every", "3")
    assert code == 0 and out.startswith("kept the checkpoint of 13 events"), out
    with open_ledger(store) as ledger:
        ledger.record([grant("one-more")])
    code, out = run(store, "checkpoint", "--keep", str(folder), "--every", "3")
    assert code == 0 and out.startswith("kept nothing"), out
    code, out = run(store, "checkpoint", "--keep", str(folder))
    assert code == 0 and "14 events" in out, out
    code, out = run(store, "checkpoint", "list", str(folder))
    assert [line.split()[0] for line in out.splitlines()] == ["13", "14"], out
    for note in folder.glob("*.note"):
        code, out = run(store, "verify", "--checkpoint", str(note))
        assert code == 0, out


def test_a_tree_node_above_the_top_is_caught(store: str) -> None:
    from test_tamper import RawStore

    raw = RawStore(store)
    raw.run("INSERT INTO ledger_tree (level, idx, hash) VALUES (?, ?, ?)", 9, 0, leaf_hash(b"x"))
    code, out = run(store, "verify")
    assert code == 1 and out.startswith("FAILED position 1: tree mismatch"), out
