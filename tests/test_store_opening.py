"""Opening a store: reading never writes, refused writes create nothing, errors are one line.

Each case is what an auditor or a new user met: `verify` switching a file to WAL, `decisions`
creating tables in an immutable store, a mistyped `--store` leaving a database behind, a
non-ledger file answered with a Python exception name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.adapters.store import StoreError
from ledger.services import Ledger
from test_cli import populate, run

READS = [
    "verify",
    "digest",
    "log",
    "history body kent-pcc",
    "show body kent-pcc",
    "decisions",
    "grants",
    "transitions",
    "plan list",
    "audit body kent-pcc",
    "replay",
    "actor list",
    "projections status",
]


def _bytes(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def rollback_store(tmp_path: Path) -> Path:
    """A populated store switched back to a rollback journal, as a copy from elsewhere may be."""
    url = f"sqlite:///{tmp_path}/store/ledger.db"
    populate(url)
    path = tmp_path / "store" / "ledger.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    conn.close()
    (tmp_path / "store" / "ledger.projections.db").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("command", READS)
def test_reading_commands_never_write_the_store(rollback_store: Path, command: str) -> None:
    before = _bytes(rollback_store)
    code, out = run(f"sqlite:///{rollback_store}", command)
    assert code == 0, out
    assert _bytes(rollback_store) == before
    with sqlite3.connect(f"file:{rollback_store}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    beside = {p.name for p in rollback_store.parent.iterdir()} - {"ledger.db"}
    assert all(name.startswith("ledger.projections.db") for name in beside), beside


@pytest.mark.parametrize("command", ["verify", "digest", "log", "decisions", "grants"])
def test_a_zero_byte_file_is_not_made_a_database(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, out = run(f"sqlite:///{empty}", command)
    assert (code, out.strip()) == (5, f"error: store: {empty} is not a ledger store")
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_files_that_are_not_ledgers_get_one_line_and_stay_as_they_were(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    for path in (text, other):
        before = _bytes(path)
        for command in ("verify", "decisions", "body establish x --name X --body-type pcc_office "
                        "--as a --effective-at 2013-01-01 --source-document d"):
            code, out = run(f"sqlite:///{path}", command)
            assert code == 5, out
            assert out.count("\n") == 1 and "not a ledger store" in out, out
            assert "Error" not in out and "internal" not in out
        assert _bytes(path) == before


@pytest.mark.parametrize("url", ["sqlite:", "sqlite://", "foo://x", "postgresql://h:abc/db",
                                 "postgresql://[::1/x", "postgresql://u:s3cret@h:abc/db",
                                 "mysql://u:s3cret@h/db"])
def test_unreadable_store_urls_are_bad_input(url: str) -> None:
    code, out = run(url, "verify")
    assert code == 2, out
    assert out.startswith("error: store: ") and out.count("\n") == 1, out
    assert "s3cret" not in out


def test_a_refused_write_creates_nothing(tmp_path: Path, key_dir: Path) -> None:
    """A mistyped --store and a refused command: no folder, no database, no key."""
    url = f"sqlite:///{tmp_path}/mistyped/folder/ledger.db"
    code, out = run(url, "actor add x --name X --acts-for nobody --roles officer --as x "
                         "--effective-at 2013-01-01 --source-document d")
    assert code in (2, 3, 5), out
    code, out = run(url, "init --admin admin --name Admin --body kent-pcc --body-name Kent "
                         "--body-type no-such-type")
    assert code == 2 and "body_type" in out, out
    assert list(tmp_path.iterdir()) == []
    assert list(key_dir.iterdir()) == []
    code, out = run(url, "init --admin admin --name Admin --body kent-pcc --body-name Kent "
                         "--body-type pcc_office")
    assert code == 0, out
    assert (tmp_path / "mistyped" / "folder" / "ledger.db").is_file()


def test_a_store_opened_to_write_is_made_only_by_its_genesis(tmp_path: Path) -> None:
    from helpers import authority, open_ledger, test_signer

    path = tmp_path / "ledger.db"
    with Ledger(f"sqlite:///{path}", signer=test_signer()) as ledger:
        assert ledger.chain.census().last == 0
        with pytest.raises(StoreError, match="create one with `ledger init`"):
            ledger.record([authority()])
        assert not path.exists()
    with open_ledger(f"sqlite:///{path}") as ledger:
        assert path.exists()
        assert ledger.chain.census().last == 2
        ledger.record([authority()])
    with Ledger(f"sqlite:///{path}", mode="read") as ledger:
        assert ledger.chain.census().last == 3


def test_the_log_id_is_bound_into_the_chain(tmp_path: Path) -> None:
    """Changing the log id (guards dropped) fails verify at position 1, not as another log."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    populate(url)
    assert run(url, "verify")[0] == 0
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        conn.execute("DROP TRIGGER ledger_log_no_update")
        conn.execute("UPDATE ledger_log SET log_id = randomblob(16)")
    conn.close()
    code, out = run(url, "verify")
    assert code == 1 and out.startswith("FAILED position 1: link mismatch"), out


def test_a_digest_of_another_log_is_bad_input(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    populate(first)
    populate(second)
    digest_file = tmp_path / "a.json"
    assert run(first, f"digest -o {digest_file}")[0] == 0
    log_a = json.loads(digest_file.read_text())["log_id"]
    code, out = run(second, f"verify --digest {digest_file}")
    assert code == 2, out
    assert out.count("\n") == 1 and log_a in out and "this store is log" in out
    assert run(first, f"verify --digest {digest_file}")[0] == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe binary",
        b"[1, 2]",
        json.dumps({"format": "ledger-digest/v2", "log_id": None, "position": -1,
                    "head_hash": "00" * 32, "checkpoints": []}).encode(),
        json.dumps({"format": "ledger-digest/v2", "log_id": None, "position": 1,
                    "head_hash": "zz", "checkpoints": []}).encode(),
        json.dumps({"format": "ledger-digest/v2", "log_id": None, "position": 1,
                    "head_hash": "00" * 31, "checkpoints": []}).encode(),
        json.dumps({"format": "ledger-digest/v2", "log_id": None, "position": 2,
                    "head_hash": "00" * 32, "checkpoints": [[-3, "00" * 32]]}).encode(),
        json.dumps({"format": "ledger-digest/v2", "log_id": "nope", "position": 2,
                    "head_hash": "00" * 32, "checkpoints": []}).encode(),
        json.dumps({"format": "ledger-digest/v2", "log_id": None, "position": 10**30,
                    "head_hash": "00" * 32, "checkpoints": []}).encode(),
    ],
    ids=["binary", "not an object", "negative position", "bad hex", "short hash",
         "negative checkpoint", "bad log id", "huge position"],
)
def test_malformed_digest_files_are_bad_input(tmp_path: Path, content: bytes) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    populate(url)
    digest_file = tmp_path / "digest.json"
    digest_file.write_bytes(content)
    code, out = run(url, f"verify --digest {digest_file}")
    assert code == 2, out
    assert out.startswith("error: digest: ") and out.count("\n") == 1, out


def test_read_models_of_another_log_are_rebuilt(tmp_path: Path) -> None:
    """The read models beside a store follow the log it holds now, not the one it held."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    populate(url)
    code, out = run(url, "actor list --format json")
    assert code == 0 and "auditor1" in out
    other = f"sqlite:///{tmp_path}/other.db"
    assert run(other, "init --admin admin --name Admin --body west-pcc --body-name West "
                      "--body-type pcc_office")[0] == 0
    shutil.copy(tmp_path / "other.db", tmp_path / "ledger.db")
    code, out = run(url, "transitions --format json")
    assert code == 0, out
    assert "west-pcc" in out and "kent-pcc" not in out


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_reading_a_store_on_a_read_only_disk(tmp_path: Path) -> None:
    """Even root cannot write there: verify and the read models work (in memory), and a write
    is refused in one line."""
    folder = tmp_path / "ro"
    url = f"sqlite:///{folder}/ledger.db"
    populate(url)
    for extra in folder.glob("ledger.projections.db*"):
        extra.unlink()
    before = _bytes(folder / "ledger.db")
    ledger_cli = Path(sys.executable).with_name("ledger")
    script = (
        f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
        f"{ledger_cli} --store {url} verify && "
        f"{ledger_cli} --store {url} actor list --format json && "
        f"{ledger_cli} --store {url} body establish x --name X --body-type pcc_office "
        "--as admin --effective-at 2013-01-01 --source-document d; echo exit $?"
    )
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, env={**os.environ})
    assert done.stdout.startswith("OK position"), done.stdout + done.stderr
    assert '"auditor1"' in done.stdout
    assert done.stdout.rstrip().endswith("exit 5"), done.stdout
    assert done.stderr.strip() == f"error: store: {folder}/ledger.db cannot be written here " \
        "(read-only)"
    assert _bytes(folder / "ledger.db") == before
    assert sorted(p.name for p in folder.iterdir()) == ["ledger.db"]
