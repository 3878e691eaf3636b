"""Adversarial suite for `ledger verify` (issue 12): an insider with raw SQL, and bad data.

Every case edits a store the ledger wrote, as someone with the database's rights would, then
runs the real command and asserts its exit code, the first position it names and the kind of
problem. `ledger digest` must verify the same way, and so must a digest taken before the edit.
Each answer is also compared with ``readme_verifier``: a verifier written from the README's
canonical form alone, so the README stays complete enough to write one.

Stores are copies of templates built once per session (the sample history of every event
type; a long log of 200k+ links, so that verify's segmented walk runs), per backend.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import readme_verifier as readme
from ledger.entrypoints import cli as cli_module
from ledger.entrypoints.cli import _run, cli
from ledger.services import Ledger

import helpers
from conftest import PG_DB, PG_HOST, PG_PORT, _require_postgres, pg_connect, pg_url
from helpers import TEST_ADMIN, open_ledger
from test_events import record_sample

K = 19
"""The position most probes aim at, in the sample history (after the genesis's 2 events)."""
LONG = 200_123
"""Links in the long log: at least audit.PARALLEL_FROM, and not a round number."""
LINK = "position, notification_id, salt, payload_digest, hash"
"""The chain columns the link hash covers (named: the table may grow columns)."""
SIGNED_LINK = f"{LINK}, signer, key_id, signature, signed_at"
"""The link and its signature columns."""
SEAM_PARTS = min(len(os.sched_getaffinity(0)), 8)
"""How many segments verify walks a long chain in here (one per core, up to 8)."""


# ------------------------------------------------------------------------------- running

@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def failed(self) -> tuple[int, str]:
        """(position, kind) from `FAILED position N: KIND: detail`, the only stdout line."""
        lines = self.out.splitlines()
        assert len(lines) == 1, self.out + self.err
        found = re.fullmatch(r"FAILED position (-?\d+): ([a-z ]+): .+", lines[0])
        assert found, lines[0]
        return int(found[1]), found[2]

    @property
    def ok(self) -> str:
        """`OK position N hash H[ (extends digest at M)]`; the log id follows on a line of its
        own (`log UUID`)."""
        lines = self.out.splitlines()
        assert self.code == 0 and lines and lines[0].startswith("OK position "), \
            self.out + self.err
        return lines[0]

    @property
    def log_line(self) -> str:
        return self.out.splitlines()[1]

    @property
    def one_error_line(self) -> str:
        """The single `error: ...` line a refused command prints on stderr (stdout empty)."""
        assert self.out == "", self.out
        lines = self.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        assert "Traceback" not in self.err
        return lines[0]


def ledger(url: str, *args: str) -> Run:
    """`ledger --store URL ARGS...` as the console script runs it, in this process.

    The command leaves its store open for the process's exit to close; here the store is
    closed after each command, or a PostgreSQL connection would stay open per command."""
    opened: list[Any] = []
    keep = cli_module._Context.ledger

    def tracked(self: Any, **kwargs: Any) -> Any:
        made = keep(self, **kwargs)
        opened.append(made)
        return made

    cli_module._Context.ledger = tracked  # type: ignore[method-assign]
    try:
        with CliRunner().isolation() as (out, err, _):
            code = _run(cli, ["--store", url, *args])
            return Run(code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        cli_module._Context.ledger = keep  # type: ignore[method-assign]
        for store in opened:
            shut(store)


def shut(store: Ledger) -> None:
    """Closes a store and its connections: Ledger.close() leaves the recorder's PostgreSQL
    pool open (one connection per store, until the process ends)."""
    store.close()
    store.recorder.datastore.close()


def ledger_process(url: str, *args: str, wrap: list[str] | None = None) -> Run:
    """The same in a process of its own (optionally wrapped, e.g. in a mount namespace)."""
    command = [*(wrap or []), sys.executable, "-c",
               "from ledger.entrypoints.cli import main; main()", "--store", url, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr)


# ------------------------------------------------------------------------------- raw SQL

class Raw:
    """Direct SQL on a store's tables, as an insider with the owner's rights would run it.

    ``unguard`` switches the append-only guards off first: SQLite triggers are dropped;
    PostgreSQL sessions run with ``session_replication_role = replica`` (superuser).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite:")
        self.path = url.removeprefix("sqlite:///") if self.sqlite else ""
        self.schema = url.split("schema=", 1)[1] if not self.sqlite else ""
        self.nid = "rowid" if self.sqlite else "notification_id"
        self.replica = False

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
        else:
            with pg_connect() as pg:
                pg.execute(f'SET search_path TO "{self.schema}"')
                if self.replica:
                    pg.execute("SET session_replication_role = replica")
                yield pg

    def run(self, sql: str, *params: Any) -> list[Any]:
        with self.connect() as conn:
            cur = conn.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
            return list(cur.fetchall()) if cur.description else []

    def unguard(self) -> None:
        if self.sqlite:
            for (name,) in self.run("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
                self.run(f'DROP TRIGGER "{name}"')
        else:
            self.replica = True

    def loosen_chain(self) -> None:
        """Drops the chain table's UNIQUE and NOT NULL constraints (SQLite: rebuilds it with
        the same columns and types, and only the primary key)."""
        self.unguard()
        if self.sqlite:
            columns = [(name, kind) for _, name, kind, *_ in
                       self.run("PRAGMA table_info(ledger_chain)")]
            declared = ", ".join(
                f"{name} INTEGER PRIMARY KEY" if name == "position" else f"{name} {kind}"
                for name, kind in columns
            )
            with self.connect() as conn:
                conn.executescript(
                    f"BEGIN; CREATE TABLE loose ({declared}); "
                    "INSERT INTO loose SELECT * FROM ledger_chain; DROP TABLE ledger_chain; "
                    "ALTER TABLE loose RENAME TO ledger_chain; COMMIT;"
                )
            return
        for (name,) in self.run(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_chain'::regclass "
            "AND contype IN ('u', 'c')"
        ):
            self.run(f'ALTER TABLE ledger_chain DROP CONSTRAINT "{name}"')
        for column in ("notification_id", "salt", "payload_digest", "hash"):
            self.run(f"ALTER TABLE ledger_chain ALTER COLUMN {column} DROP NOT NULL")

    def loosen_events(self) -> None:
        """Drops NOT NULL on the events' topic and state (and CHECKs) where there are any."""
        self.unguard()
        if self.sqlite:
            return  # the library's SQLite table has no NOT NULL on them
        for (name,) in self.run(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_events'::regclass "
            "AND contype = 'c'"
        ):
            self.run(f'ALTER TABLE ledger_events DROP CONSTRAINT "{name}"')
        for column in ("topic", "state"):
            self.run(f"ALTER TABLE ledger_events ALTER COLUMN {column} DROP NOT NULL")

    # reading

    def head(self) -> int:
        return int(self.run("SELECT COALESCE(MAX(position), 0) FROM ledger_chain")[0][0])

    def nid_at(self, position: int) -> int:
        return int(self.run("SELECT notification_id FROM ledger_chain WHERE position = ?",
                            position)[0][0])

    def event_at(self, position: int) -> tuple[Any, int, str, bytes]:
        oid, version, topic, state = self.run(
            f"SELECT originator_id, originator_version, topic, state FROM ledger_events "
            f"WHERE {self.nid} = ?", self.nid_at(position))[0]
        return oid, version, topic, bytes(state)

    def link_at(self, position: int) -> tuple[int, bytes, bytes, bytes]:
        nid, salt, digest, hash_ = self.run(
            "SELECT notification_id, salt, payload_digest, hash FROM ledger_chain "
            "WHERE position = ?", position)[0]
        return nid, bytes(salt), bytes(digest), bytes(hash_)

    def signature_at(self, position: int) -> dict[str, Any]:
        """The link's signature columns by name."""
        signer, kid, signature, signed_at = self.run(
            "SELECT signer, key_id, signature, signed_at FROM ledger_chain WHERE position = ?",
            position)[0]
        return {"signer": signer, "key_id": None if kid is None else bytes(kid),
                "signature": None if signature is None else bytes(signature),
                "signed_at": signed_at}

    def max_nid(self) -> int:
        return int(self.run(f"SELECT MAX({self.nid}) FROM ledger_events")[0][0])

    def log_id(self) -> bytes | None:
        return readme.log_id(self.rows())

    def rows(self) -> readme.Rows:
        """Every row of the three tables, for the independent verifier."""
        if self.sqlite:
            return readme.read_sqlite(self.path)
        events = self.run("SELECT notification_id, uuid_send(originator_id), originator_version, "
                          "topic, state FROM ledger_events")
        chain = self.run(f"SELECT {SIGNED_LINK} FROM ledger_chain")
        has_log = self.run("SELECT to_regclass('ledger_log')")[0][0] is not None
        log = self.run("SELECT log_id FROM ledger_log") if has_log else None
        has_tree = self.run("SELECT to_regclass('ledger_tree')")[0][0] is not None
        tree = self.run("SELECT level, idx, hash FROM ledger_tree") if has_tree else None
        return readme.rows_from(events, chain, log, text_ids=False, tree=tree)

    # writing

    def set_event(self, position: int, column: str, value: Any) -> None:
        self.unguard()
        self.run(f"UPDATE ledger_events SET {column} = ? WHERE {self.nid} = ?", value,
                 self.nid_at(position))

    def set_link(self, position: int, column: str, value: Any) -> None:
        self.unguard()
        self.run(f"UPDATE ledger_chain SET {column} = ? WHERE position = ?", value, position)

    def delete_event(self, position: int) -> None:
        self.unguard()
        self.run(f"DELETE FROM ledger_events WHERE {self.nid} = ?", self.nid_at(position))

    def delete_link(self, position: int) -> None:
        self.unguard()
        self.run("DELETE FROM ledger_chain WHERE position = ?", position)

    def insert_event(self, oid: Any, version: int, topic: str, state: bytes,
                     nid: int | None = None) -> int:
        """An event written outside the ledger (no link); returns its notification id."""
        if nid is None:
            nid = self.max_nid() + 1
        self.run(f"INSERT INTO ledger_events ({self.nid}, originator_id, originator_version, "
                 "topic, state) VALUES (?, ?, ?, ?, ?)", nid, oid, version, topic, state)
        if not self.sqlite:
            self.run("SELECT setval(pg_get_serial_sequence('ledger_events', 'notification_id'),"
                     " (SELECT MAX(notification_id) FROM ledger_events))")
        return nid

    def insert_link(self, position: int, nid: int, salt: bytes, digest: bytes,
                    hash_: bytes, signed: tuple[Any, ...] = (None,) * 4) -> None:
        """A chain row written outside the ledger (unsigned unless ``signed`` gives the
        signer, key id, signature and signed_at)."""
        self.run(f"INSERT INTO ledger_chain ({SIGNED_LINK}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 position, nid, salt, digest, hash_, *signed)

    def truncate_after(self, position: int) -> None:
        """Deletes every link after ``position``, its event and the tree nodes over it: a clean
        truncation (the tree's nodes left are exactly those of the shorter log)."""
        self.unguard()
        self.run(f"DELETE FROM ledger_events WHERE {self.nid} IN "
                 "(SELECT notification_id FROM ledger_chain WHERE position > ?)", position)
        self.run("DELETE FROM ledger_chain WHERE position > ?", position)
        width = "(1 << level)" if self.sqlite else "(1::bigint << level::int)"
        self.run(f"DELETE FROM ledger_tree WHERE (idx + 1) * {width} > ?", position)

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows, in one transaction."""
        with self.connect() as conn:
            if self.sqlite:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
            else:
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(sql.replace("?", "%s"), rows)

    def set_log_id(self, log_id: bytes) -> None:
        """Gives the store another log id, its guard kept (only for a store still empty)."""
        assert self.head() == 0
        if self.sqlite:
            with self.connect() as conn:
                (guard,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                        "AND name = 'ledger_log_no_update'").fetchone()
                conn.execute("BEGIN")
                conn.execute("DROP TRIGGER ledger_log_no_update")
                conn.execute("UPDATE ledger_log SET log_id = ?", (log_id,))
                conn.execute(guard)
                conn.execute("COMMIT")
            return
        with pg_connect() as conn:
            conn.execute(f'SET search_path TO "{self.schema}"')
            conn.execute("SET session_replication_role = replica")
            conn.execute("UPDATE ledger_log SET log_id = %s", (log_id,))

    def append_tree(self) -> None:
        """Inserts the tree nodes the chain completes that are not stored yet (INSERT only,
        as after an append)."""
        rows = self.rows()
        have = {(level, idx) for level, idx, _ in rows.tree or ()}
        nodes = [node for node in _tree_rows(sorted(row for row in rows.chain if row[0] >= 1))
                 if node[:2] not in have]
        self.many("INSERT INTO ledger_tree VALUES (?, ?, ?)", nodes)

    def write_tree(self, chain: list[tuple[Any, ...]] | None = None) -> None:
        """Makes the stored Merkle tree the one the chain gives (the README's form), as an
        insider covering an edit does: the nodes that differ are replaced."""
        self.unguard()
        rows = self.rows()
        stored = {(level, idx): bytes(node) for level, idx, node in rows.tree or ()}
        wanted = {(level, idx): node for level, idx, node in
                  _tree_rows(sorted(row for row in chain or rows.chain if row[0] >= 1))}
        wrong = [key for key, node in stored.items() if wanted.get(key) != node]
        self.many("DELETE FROM ledger_tree WHERE level = ? AND idx = ?", wrong)
        self.many("INSERT INTO ledger_tree VALUES (?, ?, ?)",
                  [(*key, node) for key, node in wanted.items() if stored.get(key) != node])

    def rehash(self, start: int, *, zero: bool = False, resign: SigningKey | None = None
               ) -> None:
        """What a capable insider does after an edit: recomputes every link from ``start``,
        from the README's form (hash_0 from the log id, or 32 zero bytes with ``zero``), and
        the tree. The signatures stay as they were, unless the insider holds a registered key
        (``resign``): every link from ``start`` is then signed again with it."""
        self.unguard()
        rows = self.rows()
        log = readme.log_id(rows)
        previous = (
            (bytes(32) if zero else readme.hash_0(log))
            if start == 1 else self.link_at(start - 1)[3]
        )
        updates, chain = [], []
        for position, nid, salt, digest, link, *signed in sorted(rows.chain):
            if position >= start:
                oid, version, topic, state = rows.events[nid]
                oid = bytes.fromhex(oid) if isinstance(oid, str) else bytes(oid)
                digest = readme.payload_digest(bytes(salt), bytes(state))
                link = previous = readme.link_hash(position, oid, version, topic, digest,
                                                   previous)
                if resign is not None:
                    signed = list(resign.columns(log, oid, version, topic, digest, signed[3]))
                updates.append((digest, link, *signed, position))
            chain.append((position, nid, salt, digest, link, *signed))
        self.many("UPDATE ledger_chain SET payload_digest = ?, hash = ?, signer = ?, key_id = ?, "
                  "signature = ?, signed_at = ? WHERE position = ?", updates)
        self.write_tree(chain)


def _tree_rows(chain: list[tuple[Any, ...]]) -> list[tuple[int, int, bytes]]:
    """(level, idx, hash) of every complete subtree over these chain rows (in order from 1)."""
    leaves = [readme.leaf_hash(position, bytes(link), bytes(digest), signer,
                               None if kid is None else bytes(kid), signed_at,
                               None if signature is None else bytes(signature))
              for position, _, _, digest, link, signer, kid, signature, signed_at in chain]
    return [(level, idx, node) for level, nodes in enumerate(readme.tree_levels(leaves))
            for idx, node in enumerate(nodes)]


class SigningKey:
    """An actor's private key in the hands of whoever builds or edits a store here: it signs
    links as the README says (the signed message, the key id), without the ledger's code."""

    def __init__(self, actor: str, seed: bytes) -> None:
        self.actor = actor
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self.private.public_key().public_bytes_raw()
        self.public_text = "ed25519:" + base64.b64encode(self.public).decode()
        self.key_id = readme.key_id(self.public)

    def columns(self, log_id: bytes | None, originator: bytes, version: int, topic: str,
                digest: bytes, signed_at: str) -> tuple[str, bytes, bytes, str]:
        """signer, key_id, signature and signed_at of a link, signed by this key."""
        message = readme.signed_message(log_id, originator, version, topic, digest, self.actor,
                                        signed_at)
        return self.actor, self.key_id, self.private.sign(message), signed_at


ADMIN_KEY = SigningKey(TEST_ADMIN, helpers.test_signer().private.private_bytes_raw())
"""The sample's signer (helpers' fixed test administrator): every sample event is signed with
it, so an insider who stole it can re-sign a rewritten history."""
LONG_KEY = SigningKey("long-admin", bytes(range(32, 64)))
"""The long log's genesis administrator, who signs all of it."""


def flip(data: bytes, index: int = 5) -> bytes:
    """The same bytes with one of them changed."""
    index %= len(data)
    return data[:index] + bytes([data[index] ^ 0x20]) + data[index + 1:]


# ------------------------------------------------------------------------------- templates

def _new_pg_schema() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def _drop_pg_schema(schema: str) -> None:
    with pg_connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _sqlite_settle(path: Path) -> None:
    """Folds the WAL back into the file, so that copying the file copies the store."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def copy_store(template: str, url: str) -> None:
    """A copy of a template store at ``url`` (the same log id, rows and chain).

    SQLite: the file. PostgreSQL: the ledger creates the schema (its real tables, guards and
    constraints), then the rows are filled in from the template's with INSERT ... SELECT."""
    if template.startswith("sqlite:"):
        shutil.copyfile(template.removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
        return
    shut(Ledger(url, mode="create"))
    source, target = template.split("schema=", 1)[1], url.split("schema=", 1)[1]
    with pg_connect() as conn:
        conn.execute("SET session_replication_role = replica")
        for table in ("ledger_log", "ledger_chain", "ledger_events", "ledger_tree"):
            conn.execute(f'DELETE FROM "{target}"."{table}"')
            conn.execute(f'INSERT INTO "{target}"."{table}" SELECT * FROM "{source}"."{table}"')
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{target}\".ledger_events', "
            f"'notification_id'), (SELECT MAX(notification_id) FROM \"{target}\".ledger_events))"
        )
        for table in ("ledger_events", "ledger_chain", "ledger_tree"):
            conn.execute(f'ANALYZE "{target}".{table}')


class Templates:
    """Stores built once per session and copied per test, per backend: "sample" (the
    genesis, then every event type: 72 links, recorded and signed by the ledger; "other" is
    the same recorded again) and "long" (LONG links built in bulk here: a genesis, then
    copies of the sample's events). The long log is computed once and stored in both
    backends under one log id: the same log, so its 200k signatures are made once, and the
    README's verifier checks each once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, str], str] = {}
        self.long: Long | None = None
        self.digests: dict[tuple[str, str], dict[str, Any]] = {}
        self.schemas: list[str] = []

    def url(self, backend: str, name: str) -> str:
        key = (backend, name)
        if key not in self.built:
            if backend == "sqlite":
                url = f"sqlite:///{self.root}/{name}.db"
            else:
                _require_postgres()
                schema = _new_pg_schema()
                self.schemas.append(schema)
                url = pg_url(schema)
            if name == "long":  # "other": the sample recorded again, another log
                shut(Ledger(url, mode="create"))
                raw = Raw(url)
                if self.long is None:
                    self.long = _long_log(raw.log_id(), Raw(self.url(backend, "sample")).rows(),
                                          LONG)
                _store_long(raw, self.long)
            else:
                opened = open_ledger(url)
                try:
                    record_sample(opened)
                finally:
                    shut(opened)
            if backend == "sqlite":
                _sqlite_settle(Path(url.removeprefix("sqlite:///")))
            self.built[key] = url
        return self.built[key]

    def digest(self, backend: str, name: str) -> dict[str, Any]:
        """`ledger digest` of the untouched template, taken once."""
        key = (backend, name)
        if key not in self.digests:
            run = ledger(self.url(backend, name), "digest")
            assert run.code == 0, run.err
            self.digests[key] = json.loads(run.out)
        return self.digests[key]

    def close(self) -> None:
        for schema in self.schemas:
            _drop_pg_schema(schema)


def _canonical(fields: dict[str, Any]) -> bytes:
    """An event's stored bytes: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _long_genesis(key: SigningKey, at: str) -> list[tuple[uuid.UUID, str, bytes]]:
    """The long log's genesis, as the README's key registry reads it: its records office,
    and its administrator registered with ``key`` (the log's first registration, whose key
    signs from position 1), a records officer too: it signs the rest, copies of events that
    name other actors, as a transcription's signer does."""
    from ledger.domain import aggregate_id

    envelope = {"actor": key.actor, "body": "long-records", "corrects": None,
                "effective_at": "2000-01-01", "reason": None, "recorded_at": at,
                "role": "administrator", "source": {"document": "ledger-init", "location": ""}}
    return [
        (aggregate_id("body", "long-records"), "BodyEstablished", _canonical(
            {**envelope, "area": "", "body_type": "other", "key": "long-records",
             "name": "Long log records office", "note": ""})),
        (aggregate_id("actor", key.actor), "ActorRegistered", _canonical(
            {**envelope, "acts_for": "long-records", "key": key.actor, "name": "Long log admin",
             "public_key": key.public_text, "roles": ["administrator", "records_officer"]})),
    ]


@dataclass(frozen=True)
class Long:
    """A whole log's rows, computed in bulk (originator ids as 16 bytes)."""

    log_id: bytes
    events: list[tuple[Any, ...]]
    links: list[tuple[Any, ...]]
    tree: list[tuple[int, int, bytes]]


def _long_log(log_id: bytes | None, sample: readme.Rows, total: int) -> Long:
    """A whole log of ``total`` signed links: a genesis, then events copying the sample's
    types and payloads under new entity ids (its key events left out: copies would register
    keys). Links, signatures and the Merkle tree are computed here from the README alone (so
    the ledger verifying them checks that form, the signed message, the key registry and the
    tree too)."""
    assert log_id is not None
    rng = random.Random(12)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    genesis = _long_genesis(LONG_KEY, "2020-01-01T00:00:00Z")
    payloads = [(topic, bytes(state)) for _, (_, _, topic, state) in sorted(sample.events.items())
                if topic not in readme.KEY_TOPICS]
    previous = readme.hash_0(log_id)
    events: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    for position in range(1, total + 1):
        if position <= len(genesis):
            oid, topic, state = genesis[position - 1]
            originator, signed_at = oid.bytes, start.isoformat()
        else:
            originator = rng.randbytes(16)
            topic, state = payloads[position % len(payloads)]
            signed_at = (start + timedelta(seconds=position)).isoformat()
        salt = rng.randbytes(16)
        digest = readme.payload_digest(salt, state)
        previous = readme.link_hash(position, originator, 1, topic, digest, previous)
        signed = LONG_KEY.columns(log_id, originator, 1, topic, digest, signed_at)
        events.append((position, originator, 1, topic, state))
        links.append((position, position, salt, digest, previous, *signed))
    return Long(log_id, events, links, _tree_rows(links))


def _store_long(raw: Raw, long: Long) -> None:
    """Writes the long log into a new store (empty but for its log id, which becomes the long
    log's: the store then holds that same log)."""
    if raw.log_id() != long.log_id:
        raw.set_log_id(long.log_id)
    events = [(nid, oid.hex() if raw.sqlite else uuid.UUID(bytes=oid), *rest)
              for nid, oid, *rest in long.events]
    links, tree = long.links, long.tree
    if raw.sqlite:
        with raw.connect() as conn:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO ledger_events (rowid, originator_id, "
                             "originator_version, topic, state) VALUES (?,?,?,?,?)", events)
            conn.executemany(f"INSERT INTO ledger_chain ({SIGNED_LINK}) VALUES "
                             "(?,?,?,?,?,?,?,?,?)", links)
            conn.executemany("INSERT INTO ledger_tree VALUES (?,?,?)", tree)
            conn.execute("COMMIT")
        return
    with raw.connect() as conn, conn.cursor() as cur:
        with cur.copy("COPY ledger_events (notification_id, originator_id, originator_version, "
                      "topic, state) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        with cur.copy(f"COPY ledger_chain ({SIGNED_LINK}) FROM STDIN") as copy:
            for row in links:
                copy.write_row(row)
        with cur.copy("COPY ledger_tree (level, idx, hash) FROM STDIN") as copy:
            for row in tree:
                copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('ledger_events', 'notification_id'), "
                    "(SELECT MAX(notification_id) FROM ledger_events))")
        cur.execute("ANALYZE ledger_events")
        cur.execute("ANALYZE ledger_chain")
        cur.execute("ANALYZE ledger_tree")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.close()


@dataclass
class Store:
    url: str
    raw: Raw
    last: int
    digest: dict[str, Any]
    """`ledger digest` of the store before any edit."""


def _store(templates: Templates, backend: str, store_url: str, name: str) -> Store:
    copy_store(templates.url(backend, name), store_url)
    raw = Raw(store_url)
    return Store(store_url, raw, raw.head(), templates.digest(backend, name))


@pytest.fixture
def sample(templates: Templates, backend: str, store_url: str) -> Store:
    return _store(templates, backend, store_url, "sample")


@pytest.fixture
def long_log(templates: Templates, backend: str, store_url: str) -> Store:
    return _store(templates, backend, store_url, "long")


# ------------------------------------------------------------------------------- scenarios

@dataclass(frozen=True)
class Expect:
    position: int
    kinds: tuple[str, ...]
    """The kind verify must name; two where the spec lets two problems share the position."""


Tamper = Callable[[Raw, int], Expect]
SCENARIOS: dict[str, tuple[Tamper, tuple[str, ...]]] = {}


def scenario(name: str, backends: tuple[str, ...] = ("sqlite", "postgresql")) -> Callable[
        [Tamper], Tamper]:
    def register(tamper: Tamper) -> Tamper:
        SCENARIOS[name] = (tamper, backends)
        return tamper
    return register


def expect(position: int, *kinds: str) -> Expect:
    return Expect(position, kinds)


@scenario("defect 1: forged event with a chain row at position 0 (the issue's SQL)")
def _forged_at_zero(raw: Raw, last: int) -> Expect:
    if raw.sqlite:
        with raw.connect() as conn:
            conn.executescript(
                "INSERT INTO ledger_events(originator_id,originator_version,topic,state) "
                "SELECT originator_id, originator_version+1, topic, state FROM ledger_events "
                "ORDER BY rowid DESC LIMIT 1; INSERT INTO ledger_chain (position, "
                "notification_id, salt, payload_digest, hash) VALUES (0, "
                "last_insert_rowid(), zeroblob(16), zeroblob(32), zeroblob(32));"
            )
    else:
        raw.run(
            "WITH e AS (INSERT INTO ledger_events (originator_id, originator_version, topic, "
            "state) SELECT originator_id, originator_version + 1, topic, state FROM "
            "ledger_events ORDER BY notification_id DESC LIMIT 1 RETURNING notification_id) "
            "INSERT INTO ledger_chain (position, notification_id, salt, payload_digest, hash) "
            "SELECT 0, notification_id, decode(repeat('00', 16), "
            "'hex'), decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex') FROM e"
        )
    return expect(0, "link out of range")


@scenario("chain row at a negative position")
def _negative_link(raw: Raw, last: int) -> Expect:
    oid, version, topic, state = raw.event_at(K)
    nid = raw.insert_event(oid, version + 500, topic, state)
    raw.insert_link(-5, nid, bytes(16), bytes(32), bytes(32))
    return expect(-5, "link out of range")


@scenario("forged event, unlinked")
def _forged(raw: Raw, last: int) -> Expect:
    oid, _, _, state = raw.event_at(K)
    raw.insert_event(oid, 999, "PlanIssued", state.replace(b"kent", b"fake", 1))
    return expect(last + 1, "forged event")


@scenario("forged event before every other")
def _forged_first(raw: Raw, last: int) -> Expect:
    oid, _, _, state = raw.event_at(K)
    raw.insert_event(oid, 998, "PlanIssued", state, nid=0)
    return expect(1, "forged event")


@scenario("forged event hidden by a deleted one (as many events as links)")
def _forged_hidden(raw: Raw, last: int) -> Expect:
    oid, _, _, state = raw.event_at(K)
    raw.insert_event(oid, 998, "PlanIssued", state, nid=0)
    raw.delete_event(K + 10)
    return expect(1, "forged event")


@scenario("link forged far ahead")
def _far_link(raw: Raw, last: int) -> Expect:
    raw.insert_link(10**15, 10**9, b"s", b"d", b"h")
    return expect(last + 1, "link missing")


@scenario("defect 2: originator id re-spelled in upper case", ("sqlite",))
def _upper(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "originator_id", raw.event_at(K)[0].upper())
    return expect(K, "id respelled")


@scenario("defect 2: originator id re-spelled with dashes", ("sqlite",))
def _dashes(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "originator_id", str(uuid.UUID(raw.event_at(K)[0])))
    return expect(K, "id respelled")


@scenario("originator id stored as 16 bytes, not text", ("sqlite",))
def _blob_id(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "originator_id", bytes.fromhex(raw.event_at(K)[0]))
    return expect(K, "malformed row")


@scenario("defect 4: TEXT salt", ("sqlite",))
def _text_salt(raw: Raw, last: int) -> Expect:
    raw.set_link(K, "salt", "not a salt")
    return expect(K, "malformed row")


@scenario("TEXT version", ("sqlite",))
def _text_version(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "originator_version", "seven")
    return expect(K, "malformed row")


@scenario("state stored as TEXT", ("sqlite",))
def _text_state(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "state", raw.event_at(K)[3].decode())
    return expect(K, "malformed row")


@scenario("NULL state")
def _null_state(raw: Raw, last: int) -> Expect:
    raw.loosen_events()
    raw.set_event(K, "state", None)
    return expect(K, "malformed row")


@scenario("NULL topic")
def _null_topic(raw: Raw, last: int) -> Expect:
    raw.loosen_events()
    raw.set_event(K, "topic", None)
    return expect(K, "malformed row")


@scenario("NULL salt", ("postgresql",))
def _null_salt(raw: Raw, last: int) -> Expect:
    raw.loosen_chain()
    raw.set_link(K, "salt", None)
    return expect(K, "malformed row")


@scenario("edited payload")
def _payload(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "state", raw.event_at(K)[3].replace(b"kent", b"KENT", 1))
    return expect(K, "payload changed")


@scenario("edited topic")
def _topic(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "topic", "PlanIssued" if raw.event_at(K)[2] != "PlanIssued" else "PlanX")
    return expect(K, "link mismatch")


@scenario("edited version")
def _version(raw: Raw, last: int) -> Expect:
    raw.set_event(K, "originator_version", raw.event_at(K)[1] + 1000)
    return expect(K, "link mismatch")


@scenario("edited originator id (another well-spelled id)")
def _originator(raw: Raw, last: int) -> Expect:
    other = uuid.uuid4()
    raw.set_event(K, "originator_id", other.hex if raw.sqlite else other)
    return expect(K, "link mismatch")


@scenario("links table only: edited hash")
def _link_hash(raw: Raw, last: int) -> Expect:
    raw.set_link(K, "hash", flip(raw.link_at(K)[3]))
    return expect(K, "link mismatch")


@scenario("links table only: edited salt")
def _link_salt(raw: Raw, last: int) -> Expect:
    raw.set_link(K, "salt", flip(raw.link_at(K)[1]))
    return expect(K, "payload changed")


@scenario("links table only: edited payload digest")
def _link_digest(raw: Raw, last: int) -> Expect:
    raw.set_link(K, "payload_digest", flip(raw.link_at(K)[2]))
    return expect(K, "payload changed")


@scenario("links table only: links deleted, their events kept")
def _links_deleted(raw: Raw, last: int) -> Expect:
    for position in (K, K + 1, K + 2):
        raw.delete_link(position)
    return expect(K, "link missing")


@scenario("deleted event")
def _deleted_event(raw: Raw, last: int) -> Expect:
    raw.delete_event(K)
    return expect(K, "event missing")


@scenario("deleted event and its link")
def _deleted_both(raw: Raw, last: int) -> Expect:
    raw.delete_event(K)
    raw.delete_link(K)
    return expect(K, "link missing")


@scenario("deleted last event")
def _deleted_last(raw: Raw, last: int) -> Expect:
    raw.delete_event(last)
    return expect(last, "event missing")


@scenario("event row moved to another rowid")
def _moved(raw: Raw, last: int) -> Expect:
    raw.set_event(K, raw.nid, raw.max_nid() + 100)
    return expect(K, "event missing")


@scenario("events swapped (contents of two rows)")
def _swapped(raw: Raw, last: int) -> Expect:
    a, b = raw.event_at(K), raw.event_at(K + 1)
    nid_a, nid_b = raw.nid_at(K), raw.nid_at(K + 1)
    raw.set_event(K, "originator_version", -1)  # out of the way of the primary key
    for nid, (oid, version, topic, state) in ((nid_b, a), (nid_a, b)):
        raw.run(f"UPDATE ledger_events SET originator_id = ?, originator_version = ?, "
                f"topic = ?, state = ? WHERE {raw.nid} = ?", oid, version, topic, state, nid)
    return expect(K, "order changed")


@scenario("links swapped (their notification ids)")
def _links_swapped(raw: Raw, last: int) -> Expect:
    nid_a, nid_b = raw.nid_at(K), raw.nid_at(K + 1)
    raw.set_link(K, "notification_id", -1)
    raw.set_link(K + 1, "notification_id", nid_a)
    raw.set_link(K, "notification_id", nid_b)
    return expect(K, "order changed")


@scenario("the last event replayed: linked twice in a row")
def _replayed_last(raw: Raw, last: int) -> Expect:
    raw.loosen_chain()
    oid, version, topic, state = raw.event_at(last)
    nid, salt, digest, previous = raw.link_at(last)
    oid_bytes = bytes.fromhex(oid) if raw.sqlite else oid.bytes
    raw.insert_link(last + 1, nid, salt, digest,
                    readme.link_hash(last + 1, oid_bytes, version, topic, digest, previous))
    return expect(last + 1, "linked twice")


@scenario("an earlier event replayed at the end")
def _replayed_earlier(raw: Raw, last: int) -> Expect:
    raw.loosen_chain()
    oid, version, topic, _ = raw.event_at(K)
    nid, salt, digest, _ = raw.link_at(K)
    previous = raw.link_at(last)[3]
    oid_bytes = bytes.fromhex(oid) if raw.sqlite else oid.bytes
    raw.insert_link(last + 1, nid, salt, digest,
                    readme.link_hash(last + 1, oid_bytes, version, topic, digest, previous))
    return expect(last + 1, "linked twice", "order changed")


@scenario("log id edited")
def _log_id(raw: Raw, last: int) -> Expect:
    raw.unguard()
    raw.run("UPDATE ledger_log SET log_id = ?", uuid.uuid4().bytes)
    return expect(1, "link mismatch")


@scenario("log id table dropped")
def _log_dropped(raw: Raw, last: int) -> Expect:
    raw.unguard()
    raw.run("DROP TABLE ledger_log")
    return expect(1, "link mismatch")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


CASES = [
    pytest.param(name, backend, id=f"{_slug(name)}-{backend}")
    for name, (_, backends) in SCENARIOS.items()
    for backend in backends
]


@pytest.mark.parametrize(("name", "backend"), CASES)
def test_verify_names_the_first_problem(
    sample: Store, backend: str, name: str, tmp_path: Path
) -> None:
    """verify, digest and verify --digest all name the same first position and kind, and so
    does the README's verifier. (SQLite-only cases store what PostgreSQL's column types
    refuse.)"""
    tamper, _ = SCENARIOS[name]
    want = tamper(sample.raw, sample.last)

    verified = ledger(sample.url, "verify")
    assert verified.code == 1, verified.out + verified.err
    position, kind = verified.failed
    assert position == want.position and kind in want.kinds, verified.out

    independent = readme.check(sample.raw.rows())
    assert (independent.position, independent.kind) == (position, kind)

    written = tmp_path / "digest.json"
    taken = ledger(sample.url, "digest", "-o", str(written))
    assert (taken.code, taken.out) == (1, verified.out), "digest must verify as verify does"
    assert not written.exists()

    kept = _write(tmp_path / "kept.json", sample.digest)
    against = ledger(sample.url, "verify", "--digest", kept)
    assert (against.code, against.out) == (1, verified.out)


# ------------------------------------------------------------------------------- digests

def _write(path: Path, digest: dict[str, Any]) -> str:
    path.write_text(json.dumps(digest))
    return str(path)


def test_untouched_store_agrees_with_the_readme_verifier(sample: Store, tmp_path: Path) -> None:
    verified = ledger(sample.url, "verify")
    independent = readme.check(sample.raw.rows())
    assert verified.ok == independent.line() and independent.head == sample.last
    log_id = sample.raw.log_id()
    assert log_id is not None, "a new store has a log id"
    assert verified.log_line == f"log {uuid.UUID(bytes=log_id)}"
    assert verified.out.splitlines()[2] == independent.summary() == (
        f"{sample.last} events checked, {sample.last} signatures checked; signers: "
        f"{TEST_ADMIN} {sample.last}")
    kept = _write(tmp_path / "d.json", sample.digest)
    extends = ledger(sample.url, "verify", "--digest", kept)
    assert extends.ok == f"{independent.line()} (extends digest at {sample.last})"


def test_the_readmes_worked_example() -> None:
    """The README's example link, its signature and its tree leaf, recomputed by the ledger's
    code and by the README's verifier: the documented forms are the implemented ones."""
    from ledger.adapters import chain
    from ledger.adapters.keys import Signer
    from ledger.integrity import merkle
    from ledger.integrity.signatures import signed_message

    readme_text = (Path(__file__).parent.parent / "README.md").read_text()
    log_id, salt, state = bytes(range(16)), bytes(range(16, 32)), b'{"title":"Plan"}'
    entity = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
    first = chain.genesis_hash(log_id)
    digest = chain.payload_digest(salt, state)
    link = chain.link_hash(1, entity, 1, "PlanIssued", digest, first)
    assert (first, digest, link) == (
        readme.hash_0(log_id), readme.payload_digest(salt, state),
        readme.link_hash(1, entity.bytes, 1, "PlanIssued", digest, first))
    for name, value in (("hash_0", first), ("payload_digest_1", digest), ("hash_1", link)):
        assert re.search(rf"^{name} +=  ?{value.hex()}$", readme_text, re.M), name
    assert str(uuid.UUID(bytes=log_id)) in readme_text

    signer = Signer.from_seed("admin", bytes(range(32, 64)))
    signed_at = "2026-01-31T12:00:00+00:00"
    message = signed_message(log_id, entity.bytes, 1, "PlanIssued", digest, "admin", signed_at)
    assert message == readme.signed_message(log_id, entity.bytes, 1, "PlanIssued", digest,
                                            "admin", signed_at)
    signature = signer.sign(message)  # Ed25519 is deterministic
    assert readme.ed25519_ok(signer.public, signature, message)
    assert readme.key_id(signer.public) == signer.key_id
    assert readme.public_key(signer.public_text) == signer.public
    leaf = merkle.leaf_hash(merkle.leaf_data(1, link, digest, signer="admin",
                                             key_id=signer.key_id, signed_at=signed_at,
                                             signature=signature))
    assert leaf == readme.leaf_hash(1, link, digest, "admin", signer.key_id, signed_at,
                                    signature)
    for name, text in (("public_key", signer.public_text), ("key_id_1", signer.key_id.hex()),
                       ("signature_1", signature.hex()), ("leaf_1", leaf.hex())):
        assert re.search(rf"^{name} += {re.escape(text)}$", readme_text, re.M), name
    prose = " ".join(readme_text.split())
    assert (f"signed by actor `admin` at `{signed_at}` with the key whose 32-byte private seed "
            "is the bytes `20 21 ... 3f`") in prose


def test_digest_v2_names_its_log_and_checkpoints_every_position(sample: Store) -> None:
    digest = sample.digest
    log_id = sample.raw.log_id()
    assert log_id is not None
    assert digest["format"] == "ledger-digest/v2"
    assert digest["log_id"] == str(uuid.UUID(bytes=log_id))
    stored = {p: bytes(h).hex() for p, _, _, _, h, *_ in sample.raw.rows().chain}
    assert digest["position"] == sample.last and digest["head_hash"] == stored[sample.last]
    assert digest["checkpoints"] == [[p, stored[p]] for p in range(1, sample.last + 1)]
    assert [p for p, _ in digest["checkpoints"]] == readme.checkpoint_positions(sample.last)


def test_a_store_made_before_log_ids_chains_from_zero(sample: Store, tmp_path: Path) -> None:
    """No ledger_log table: hash_0 is 32 zero bytes, and the chain verifies from it; the
    signed message has 16 zero bytes for the log id. Re-hashed only, the links follow, but
    the signatures (made over the log id) fail at 1; signed again, the store verifies."""
    sample.raw.unguard()
    sample.raw.run("DROP TABLE ledger_log")
    sample.raw.rehash(1, zero=True)
    unsigned = ledger(sample.url, "verify")
    assert unsigned.code == 1 and unsigned.failed == (1, "signature"), unsigned.out
    assert "bad signature" in unsigned.out
    assert readme.check(sample.raw.rows()).line() == "FAILED position 1: signature"
    sample.raw.rehash(1, zero=True, resign=ADMIN_KEY)
    verified = ledger(sample.url, "verify")
    independent = readme.check(sample.raw.rows())
    assert verified.ok == independent.line()
    assert verified.log_line.startswith("log (none")
    taken = ledger(sample.url, "digest")
    assert taken.code == 0, taken.err
    extends = ledger(sample.url, "verify", "--digest", _write(tmp_path / "d.json",
                                                                json.loads(taken.out)))
    assert extends.code == 0, extends.out + extends.err


def test_clean_truncation_shows_only_against_a_digest(sample: Store, tmp_path: Path) -> None:
    sample.raw.truncate_after(sample.last - 2)
    assert ledger(sample.url, "verify").code == 0
    kept = _write(tmp_path / "d.json", sample.digest)
    against = ledger(sample.url, "verify", "--digest", kept)
    assert against.code == 1 and against.failed == (sample.last - 1, "truncated")
    assert (readme.check(sample.raw.rows(), sample.digest).position ==
            sample.last - 1)


def test_edit_and_rehash_is_caught_by_the_signature(sample: Store, tmp_path: Path) -> None:
    """Re-hashing every link after an edit makes the chain self-consistent; the edited
    event's signature (over its payload digest) still names it, with or without a digest."""
    sample.raw.set_event(K, "state", sample.raw.event_at(K)[3].replace(b"kent", b"KENT", 1))
    sample.raw.rehash(K)
    verified = ledger(sample.url, "verify")
    assert verified.code == 1 and verified.failed == (K, "signature"), verified.out
    assert "bad signature" in verified.out
    assert readme.check(sample.raw.rows()).line() == f"FAILED position {K}: signature"
    against = ledger(sample.url, "verify", "--digest", _write(tmp_path / "d.json",
                                                                sample.digest))
    assert (against.code, against.out) == (1, verified.out)
    assert readme.check(sample.raw.rows(), sample.digest).line() == f"FAILED position {K}: " \
        "signature"


def test_edit_rehash_and_resign_with_a_stolen_key_shows_only_against_a_digest(
    sample: Store, tmp_path: Path
) -> None:
    """An insider who also holds a registered key (stolen) signs the rewritten links again:
    verify cannot tell (it proves which key signed, not who held it); a digest kept
    outside the ledger can."""
    sample.raw.set_event(K, "state", sample.raw.event_at(K)[3].replace(b"kent", b"KENT", 1))
    sample.raw.rehash(K, resign=ADMIN_KEY)
    verified = ledger(sample.url, "verify")
    assert verified.ok == readme.check(sample.raw.rows()).line()
    against = ledger(sample.url, "verify", "--digest", _write(tmp_path / "d.json",
                                                                sample.digest))
    assert against.code == 1 and against.failed == (K, "rewritten")
    assert readme.check(sample.raw.rows(), sample.digest).line() == f"FAILED position {K}: " \
        "rewritten"


def test_defect_3_rewritten_and_shortened_names_the_rewrite(sample: Store,
                                                             tmp_path: Path) -> None:
    """Every position has a checkpoint here: the rewrite is named exactly, not the end.
    (Re-signed with a stolen key: without it the signature at K is reported first.)"""
    sample.raw.truncate_after(sample.last - 5)
    sample.raw.set_event(K, "state", sample.raw.event_at(K)[3].replace(b"kent", b"KENT", 1))
    sample.raw.rehash(K, resign=ADMIN_KEY)
    assert ledger(sample.url, "verify").code == 0
    against = ledger(sample.url, "verify", "--digest", _write(tmp_path / "d.json",
                                                                sample.digest))
    assert against.code == 1 and against.failed == (K, "rewritten"), against.out
    assert readme.check(sample.raw.rows(), sample.digest).position == K


def test_defect_7_a_digest_of_another_log_is_refused(
    sample: Store, backend: str, templates: Templates, tmp_path: Path
) -> None:
    """The same history recorded in another store is another log: exit 2, both ids named."""
    other = templates.digest(backend, "other")
    kept = _write(tmp_path / "other.json", other)
    run = ledger(sample.url, "verify", "--digest", kept)
    assert run.code == 2
    line = run.one_error_line
    ours = sample.digest["log_id"]
    assert ours != other["log_id"]
    assert ours in line and other["log_id"] in line, line
    with pytest.raises(readme.OtherLog):
        readme.check(sample.raw.rows(), other)


BAD_DIGESTS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "binary": lambda d: bytes(range(256)) * 4,
    "not JSON": lambda d: b"position: 3\n",
    "JSON, not a digest": lambda d: b"[1, 2, 3]",
    "negative position": lambda d: json.dumps({**d, "position": -1}).encode(),
    "negative checkpoint": lambda d: json.dumps(
        {**d, "checkpoints": [[-3, d["head_hash"]], *d["checkpoints"]]}).encode(),
    "bad hex": lambda d: json.dumps({**d, "head_hash": "zz" * 32}).encode(),
    "hash too short": lambda d: json.dumps({**d, "head_hash": d["head_hash"][:40]}).encode(),
    "checkpoint hash too long": lambda d: json.dumps(
        {**d, "checkpoints": [[1, d["head_hash"] + "00"]]}).encode(),
    "bad log id": lambda d: json.dumps({**d, "log_id": "kent"}).encode(),
}


@pytest.mark.parametrize("damage", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
def test_a_bad_digest_file_is_one_line_exit_2(
    templates: Templates, tmp_path: Path, damage: Callable[[dict[str, Any]], bytes]
) -> None:
    """The digest file is read before the store is opened: SQLite stands for both backends."""
    url = f"sqlite:///{tmp_path}/store.db"
    copy_store(templates.url("sqlite", "sample"), url)
    path = tmp_path / "bad.json"
    path.write_bytes(damage(templates.digest("sqlite", "sample")))
    run = ledger(url, "verify", "--digest", str(path))
    assert run.code == 2, run.out + run.err
    run.one_error_line  # noqa: B018 (asserts one line, no traceback)


# ------------------------------------------------------------------------------- reads never write

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_all(url: str, tmp: Path) -> list[Run]:
    """verify, digest to a file elsewhere, and verify against that digest."""
    digest_file = tmp / "kept.json"
    return [ledger(url, "verify"), ledger(url, "digest", "-o", str(digest_file)),
            ledger(url, "verify", "--digest", str(digest_file))]


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_verify_and_digest_leave_the_file_byte_for_byte(
    templates: Templates, tmp_path: Path, journal: str
) -> None:
    """A store in rollback-journal mode stays so (verify used to switch it to WAL)."""
    store = tmp_path / "store" / "ledger.db"
    store.parent.mkdir()
    url = f"sqlite:///{store}"
    copy_store(templates.url("sqlite", "sample"), url)
    conn = sqlite3.connect(store)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.close()
    before, files = _sha(store), sorted(os.listdir(store.parent))
    for run in _read_all(url, tmp_path):
        assert run.code == 0, run.out + run.err
    assert _sha(store) == before
    header_mode = store.read_bytes()[18]
    assert header_mode == (2 if journal == "wal" else 1)
    if journal == "delete":
        assert sorted(os.listdir(store.parent)) == files, "no journal, WAL or shm file made"


@pytest.mark.parametrize("command", [["verify"], ["digest"]])
def test_an_empty_file_is_not_made_a_database(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    run = ledger(f"sqlite:///{empty}", *command)
    assert run.code == 5
    run.one_error_line  # noqa: B018
    assert empty.read_bytes() == b"" and os.listdir(tmp_path) == ["empty.db"]
    missing = tmp_path / "no" / "such.db"
    run = ledger(f"sqlite:///{missing}", *command)
    assert run.code == 5 and not (tmp_path / "no").exists()


def _can_mount_read_only() -> str | None:
    """Why a read-only bind mount in a user+mount namespace is impossible here, if it is."""
    if shutil.which("unshare") is None:
        return "no unshare"
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare -rm: {probe.stderr.strip()}"


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_verify_on_a_read_only_file_system(
    templates: Templates, tmp_path: Path, journal: str
) -> None:
    """The store's directory is bind-mounted read-only (root cannot write it either)."""
    why = _can_mount_read_only()
    if why:
        pytest.skip(why)
    store = tmp_path / "ro" / "ledger.db"
    store.parent.mkdir()
    url = f"sqlite:///{store}"
    copy_store(templates.url("sqlite", "sample"), url)
    conn = sqlite3.connect(store)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.close()
    kept = _write(tmp_path / "kept.json", templates.digest("sqlite", "sample"))
    before = _sha(store)
    directory = str(store.parent)
    wrap = ["unshare", "-rm", "sh", "-c",
            'mount --bind -o ro "$1" "$1" || exit 97; '
            'if touch "$1/probe" 2>/dev/null; then exit 98; fi; shift; exec "$@"',
            "sh", directory]
    for args in (["verify"], ["digest"], ["verify", "--digest", kept]):
        run = ledger_process(url, *args, wrap=wrap)
        assert run.code == 0, f"{args}: {run.code} {run.out} {run.err}"
    assert _sha(store) == before


def test_verify_on_an_immutable_file(templates: Templates, tmp_path: Path) -> None:
    """chattr +i: not even root may write the file (the directory stays writable)."""
    store = tmp_path / "ledger.db"
    url = f"sqlite:///{store}"
    copy_store(templates.url("sqlite", "sample"), url)
    if shutil.which("chattr") is None:
        pytest.skip("no chattr")
    made = subprocess.run(["chattr", "+i", str(store)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i not supported here: {made.stderr.strip()}")
    try:
        with pytest.raises(OSError):
            store.open("ab").close()
        for run in _read_all(url, tmp_path):
            assert run.code == 0, run.out + run.err
    finally:
        subprocess.run(["chattr", "-i", str(store)], check=True)


def test_verify_as_a_postgresql_role_that_can_only_read(templates: Templates,
                                                        tmp_path: Path) -> None:
    """verify and digest create and alter nothing: a SELECT-only, read-only role suffices."""
    _require_postgres()
    schema = _new_pg_schema()
    role = f"reader_{uuid.uuid4().hex[:10]}"
    try:
        copy_store(templates.url("postgresql", "sample"), pg_url(schema))
        with pg_connect() as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        url = f"postgresql://{role}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"
        for run in _read_all(url, tmp_path):
            assert run.code == 0, run.out + run.err
    finally:
        _drop_pg_schema(schema)
        with pg_connect() as conn:
            if _role_exists(conn, role):
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() \
        is not None


# ------------------------------------------------------------------------------- the long log

def _seam(head: int) -> int:
    """The first seam between verify's segments (head // 2 with one core: no seam then)."""
    return head // max(SEAM_PARTS, 2)


def _early_payload(raw: Raw, last: int) -> Expect:
    raw.set_event(5, "state", flip(raw.event_at(5)[3]))
    return expect(5, "payload changed")


def _seam_deleted(raw: Raw, last: int) -> Expect:
    raw.delete_event(_seam(last))
    raw.delete_link(_seam(last))
    return expect(_seam(last), "link missing")


def _late_hash(raw: Raw, last: int) -> Expect:
    raw.set_link(last - 2, "hash", flip(raw.link_at(last - 2)[3]))
    return expect(last - 2, "link mismatch")


LONG_CASES: dict[str, Tamper] = {
    "payload edited early": _early_payload,
    "link and event at a seam deleted": _seam_deleted,
    "hash edited late": _late_hash,
    "forged event, unlinked": _forged,
    "defect 1 (chain row at 0)": _forged_at_zero,
}


@pytest.mark.parametrize("name", LONG_CASES)
def test_long_log(long_log: Store, name: str) -> None:
    """200k+ links: the segmented walk accounts for every row as one walk does. (The README's
    verifier is compared on the long log below; here it would double the time.)"""
    from ledger import audit

    assert long_log.last >= audit.PARALLEL_FROM, "the long log must be walked in segments"
    want = LONG_CASES[name](long_log.raw, long_log.last)
    verified = ledger(long_log.url, "verify")
    assert verified.code == 1, verified.out + verified.err
    position, kind = verified.failed
    assert position == want.position and kind in want.kinds, verified.out
    if name == "forged event, unlinked":  # defect 6 on a long chain
        taken = ledger(long_log.url, "digest")
        assert (taken.code, taken.out) == (1, verified.out)


def test_long_log_untouched_and_its_digest(long_log: Store, tmp_path: Path) -> None:
    """The long log verifies to the README's head hash, with every signature checked, and
    extends its digest, which holds 4,096 checkpoints spaced as the README says, each the
    stored hash there."""
    digest = long_log.digest
    extends = ledger(long_log.url, "verify", "--digest", _write(tmp_path / "d.json", digest))
    rows = long_log.raw.rows()
    independent = readme.check(rows, workers=SEAM_PARTS)
    assert extends.ok == f"{independent.line()} (extends digest at {long_log.last})"
    assert extends.out.splitlines()[2] == independent.summary() == (
        f"{long_log.last:,} events checked, {long_log.last:,} signatures checked; signers: "
        f"{LONG_KEY.actor} {long_log.last:,}")
    stored = {p: bytes(h).hex() for p, _, _, _, h, *_ in rows.chain}
    assert [p for p, _ in digest["checkpoints"]] == readme.checkpoint_positions(long_log.last)
    assert len(digest["checkpoints"]) == 4096
    assert all(stored[p] == h for p, h in digest["checkpoints"])


def test_long_log_rewritten_and_shortened_names_the_checkpoint_window(
    long_log: Store, tmp_path: Path
) -> None:
    """Defect 3 where checkpoints are spread: the start of the rewrite's window, never the
    end (the README's verifier agrees, and that the re-hash, re-signing and new tree are
    self-consistent shows in the kind: a broken chain would be reported before the digest is
    compared)."""
    checkpoints = {p for p, _ in long_log.digest["checkpoints"]}
    k = long_log.last - 300
    while k - 1 in checkpoints or k in checkpoints:
        k -= 1
    window = max(p for p in checkpoints if p < k) + 1
    assert window < k
    raw = long_log.raw
    raw.truncate_after(long_log.last - 100)
    raw.set_event(k, "state", flip(raw.event_at(k)[3]))
    raw.rehash(k, resign=LONG_KEY)  # a stolen key: without it, the signature at k shows
    against = ledger(long_log.url, "verify", "--digest", _write(tmp_path / "d.json",
                                                                  long_log.digest))
    assert against.code == 1 and against.failed == (window, "rewritten"), against.out
    independent = readme.check(raw.rows(), long_log.digest, workers=SEAM_PARTS)
    assert (independent.position, independent.kind) == (window, "rewritten")


# ------------------------------------------------------------------------------- property

TAMPERS = ["state byte", "salt byte", "digest byte", "hash byte", "delete event",
           "delete link", "delete both", "topic", "version", "originator", "null state",
           "link nid", "link position", "forged", "signature byte", "key id byte", "signer",
           "signed_at", "unsigned"]


@contextmanager
def _fresh_copy(templates: Templates, backend: str, upto: int) -> Iterator[tuple[Raw, Path]]:
    """A copy of the sample template cut to its first ``upto`` links, and a scratch folder."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = _new_pg_schema()
        url = f"sqlite:///{tmp}/p.db" if backend == "sqlite" else pg_url(schema)
        try:
            copy_store(templates.url(backend, "sample"), url)
            raw = Raw(url)
            raw.truncate_after(upto)
            yield raw, Path(tmp)
        finally:
            if backend == "postgresql":
                _drop_pg_schema(schema)


def _tamper(raw: Raw, how: str, position: int, index: int, head: int) -> int:
    """Applies one tampering at ``position``; returns the position it affects (for a forged
    event, the place it claims after the head)."""
    if how == "state byte":
        raw.set_event(position, "state", flip(raw.event_at(position)[3], index))
    elif how in ("salt byte", "digest byte", "hash byte"):
        _, salt, digest, hash_ = raw.link_at(position)
        column, value = {"salt byte": ("salt", salt), "digest byte": ("payload_digest", digest),
                         "hash byte": ("hash", hash_)}[how]
        raw.set_link(position, column, flip(value, index))
    elif how == "delete event":
        raw.delete_event(position)
    elif how == "delete link":
        raw.delete_link(position)
    elif how == "delete both":
        raw.delete_event(position)
        raw.delete_link(position)
    elif how == "topic":
        raw.set_event(position, "topic", raw.event_at(position)[2] + "x")
    elif how == "version":
        raw.set_event(position, "originator_version", raw.event_at(position)[1] + 1000)
    elif how == "originator":
        other = uuid.UUID(int=index + 1)
        raw.set_event(position, "originator_id", other.hex if raw.sqlite else other)
    elif how == "null state":
        raw.loosen_events()
        raw.set_event(position, "state", None)
    elif how == "link nid":
        raw.set_link(position, "notification_id", raw.max_nid() + 50)
    elif how == "link position":
        raw.set_link(position, "position", [0, -1, head + 3][index % 3])
    elif how in ("signature byte", "key id byte"):
        column = "signature" if how == "signature byte" else "key_id"
        raw.set_link(position, column, flip(raw.signature_at(position)[column], index))
    elif how == "signer":
        raw.set_link(position, "signer", ["kent-pcc-admin", TEST_ADMIN + "x"][index % 2])
    elif how == "signed_at":
        raw.set_link(position, "signed_at", ["2001-01-01T00:00:00+00:00", "yesterday"][index % 2])
    elif how == "unsigned":  # the columns are nullable: verify, not a constraint, says so
        for column in ("signer", "key_id", "signature", "signed_at"):
            raw.set_link(position, column, None)
    else:
        assert how == "forged", how
        oid, version, topic, state = raw.event_at(position)
        raw.insert_event(oid, version + 1000, topic, state)
        return head + 1
    return position


@pytest.fixture
def reachable(backend: str) -> None:
    """PostgreSQL is there (else skipped, or failed in CI), checked once per test, not per
    example."""
    if backend == "postgresql":
        _require_postgres()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_tampering_is_reported_at_or_before_it(
    templates: Templates, backend: str, reachable: None, data: st.DataObject
) -> None:
    """One random edit (a byte, a row, a column; either table, signature columns included)
    anywhere in a random short history: verify names it or an earlier position, as the
    README's verifier does. Deleting the last event with its link is a clean truncation: only
    a digest taken before shows it (unless it is the genesis's registration, position 2,
    without which the genesis's signatures fail at 1). A history is at least its genesis."""
    sample = Raw(templates.url(backend, "sample")).head()
    length = data.draw(st.integers(2, sample), label="history length")
    how = data.draw(st.sampled_from(TAMPERS), label="tampering")
    position = data.draw(st.integers(1, length), label="position")
    index = data.draw(st.integers(0, 10_000), label="byte")
    with _fresh_copy(templates, backend, length) as (raw, tmp):
        taken = ledger(raw.url, "digest")
        assert taken.code == 0, taken.err
        digest = json.loads(taken.out)
        tampered = _tamper(raw, how, position, index, length)
        rows = raw.rows()

        run, independent = ledger(raw.url, "verify"), readme.check(rows)
        if how == "delete both" and position == length > 2:
            assert run.code == 0 and independent.ok and independent.head == length - 1
        else:
            assert run.code == 1, run.out + run.err
            assert run.failed[0] <= tampered, run.out
            assert (independent.position, independent.kind) == run.failed

        against = ledger(raw.url, "verify", "--digest", _write(tmp / "d.json", digest))
        assert against.code == 1, against.out + against.err
        assert against.failed[0] <= tampered, against.out
        independent = readme.check(rows, digest)
        assert (independent.position, independent.kind) == against.failed
