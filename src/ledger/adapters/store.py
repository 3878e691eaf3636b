"""The event store: eventsourcing's recorders, extended with a hash chain and append-only tables.

SQLite (the embedded default) and PostgreSQL are chosen by one URL. Each append writes the
events and their chain links in one transaction, so an event never exists without its link.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID, uuid4

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ..integrity.merkle import Frontier, Row, leaf_data, leaf_hash
from .chain import ChainRow, Linked, LinkedEvent, Seam, Sign, genesis_hash, new_links

EVENTS_TABLE = "ledger_events"
CHAIN_TABLE = "ledger_chain"
LOG_TABLE = "ledger_log"
TREE_TABLE = "ledger_tree"
"""The Merkle tree's complete subtrees, (level, idx) -> hash (see integrity/merkle.py)."""
DEFAULT_STORE_URL = "sqlite:///events_store/ledger.db"
PAGE = 5_000


class StoreError(Exception):
    """The store cannot be opened or used (unreachable server, not a ledger, read-only)."""


def shown(url: str) -> str:
    """A URL as it may be printed: any password replaced by ***."""
    return re.sub(r"(://[^/?#@:]*):[^/?#@]*@", r"\1:***@", url)


class StoreURLError(StoreError, ValueError):
    """A store URL that cannot be read: bad input (exit 2), not a store failure."""


# ---------------------------------------------------------------------------- SQLite

_SQLITE_GUARDS = """
CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_replace BEFORE INSERT ON {t}
WHEN EXISTS (SELECT 1 FROM {t} WHERE {key})
BEGIN SELECT RAISE(ABORT, '{t} is append-only: this entry already exists'); END;
"""


class SQLiteChainRecorder(SQLiteApplicationRecorder):
    """Appends events and their links inside the library's own write transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL UNIQUE, "
            "salt BLOB NOT NULL, payload_digest BLOB NOT NULL, hash BLOB NOT NULL, "
            "signer TEXT, key_id BLOB, signature BLOB, signed_at TEXT)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
            "one INTEGER PRIMARY KEY CHECK (one = 1), log_id BLOB NOT NULL, "
            "created_at TEXT NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {TREE_TABLE} (level INTEGER NOT NULL, "
            "idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )
        guards = (
            _SQLITE_GUARDS.format(t=TREE_TABLE, key="level = NEW.level AND idx = NEW.idx")
            + _SQLITE_GUARDS.format(
                t=self.events_table_name,
                key="rowid = NEW.rowid OR (originator_id = NEW.originator_id "
                "AND originator_version = NEW.originator_version)",
            )
            + _SQLITE_GUARDS.format(
                t=CHAIN_TABLE,
                key="position = NEW.position OR notification_id = NEW.notification_id",
            )
            + _SQLITE_GUARDS.format(t=LOG_TABLE, key="1")
        )
        statements += [s.strip() + ";" for s in guards.split(";\n") if s.strip()]
        statements.append(
            f"INSERT INTO {LOG_TABLE} SELECT 1, randomblob(16), "
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE NOT EXISTS (SELECT 1 FROM "
            f"{LOG_TABLE})"
        )
        return statements

    def create_table(self) -> None:
        """Creates the store once: a file that already holds a ledger is left as it is (a
        store made before log ids must not be given one now: that would change its chain)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.events_table_name,),
            )
            if c.fetchone() is None:
                self._create_table(c)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = self._insert_rows(c, stored_events)
        sign = _signing(kwargs)
        c.execute(f"SELECT log_id FROM {LOG_TABLE}")
        row = c.fetchone()
        log_id = row[0] if row and isinstance(row[0], bytes) else None
        c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        head = c.fetchone()
        check_genesis(kwargs, head is None)
        links = new_links(
            *(_head_link(head[0], head[1]) if head else (0, genesis_hash(log_id))),
            (
                (nid, as_uuid(s.originator_id), s.originator_version, s.topic, s.state)
                for nid, s in zip(ids, stored_events, strict=True)
            ),
            None if sign is None else sign(log_id),
        )
        c.executemany(
            f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?,?,?,?)", [r.values() for r in links]
        )
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TREE_TABLE,))
        if c.fetchone() is not None and links:  # stores made before the tree keep none

            def node(level: int, idx: int) -> bytes:
                c.execute(f"SELECT hash FROM {TREE_TABLE} WHERE level = ? AND idx = ?",
                          (level, idx))
                return _stored_node(c.fetchone(), level, idx)

            c.executemany(f"INSERT INTO {TREE_TABLE} VALUES (?,?,?)",
                          tree_rows(links, links[0].position - 1, node))
        return ids


    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Inserts the events in one statement (the library inserts them one at a time, to
        read each row id) and reads their row ids back: the new rows are the highest."""
        table = self.events_table_name
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                 s.originator_version, s.topic, s.state) for s in stored_events]
        c.executemany(self.insert_events_statement, rows)
        c.execute(f"SELECT rowid, originator_id, originator_version FROM {table} "
                  f"WHERE rowid > (SELECT MAX(rowid) FROM {table}) - ?", (len(rows),))
        got = {(oid, version): rowid for rowid, oid, version in c.fetchall()}
        ids = [got.get((oid, version)) for oid, version, _, _ in rows]
        if None in ids:  # row ids not given in turn (a table at SQLite's largest row id)
            for i, (oid, version, _, _) in enumerate(rows):
                c.execute(f"SELECT rowid FROM {table} WHERE originator_id = ? AND "
                          "originator_version = ?", (oid, version))
                ids[i] = c.fetchone()[0]
        return ids  # type: ignore[return-value]


def tree_rows(links: Sequence[ChainRow], size: int, node: Callable[[int, int], bytes]) -> list[Row]:
    """The tree rows new links complete, in the append's own transaction: the tree of ``size``
    leaves is extended by one leaf per link."""
    frontier = Frontier.load(size, node)
    rows: list[Row] = []
    for link in links:
        rows += frontier.append(leaf_of(link))
    return rows


def leaf_of(link: ChainRow) -> bytes:
    return leaf_hash(leaf_data(link.position, link.hash, link.payload_digest,
                               signer=link.signer, key_id=link.key_id,
                               signed_at=link.signed_at, signature=link.signature))


def _stored_node(row: Any, level: int, idx: int) -> bytes:
    if row is None or not isinstance(_bytes(row[0]), bytes):
        raise StoreError(f"store: the Merkle tree lacks node ({level}, {idx}); run `ledger verify`")
    return bytes(row[0])


def check_genesis(kwargs: dict[str, Any], empty: bool) -> None:
    """Inside the append's transaction: a genesis only on an empty chain, nothing else on one
    (checked before, outside it, two concurrent geneses would both pass)."""
    if "genesis" not in kwargs:
        return
    if kwargs["genesis"] and not empty:
        raise GenesisRefused("store", "the store already holds a ledger")
    if not kwargs["genesis"] and empty:
        raise StoreError("store: no ledger here: create one with `ledger init`")


class GenesisRefused(ValueError):
    """A genesis on a store that holds a ledger already (bad input, exit 2)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def _signing(kwargs: dict[str, Any]) -> Callable[[bytes | None], Sign] | None:
    """The service passes ``signing``: given the log id, what signs each new link. (The
    columns take NULL so that verify, not a constraint, is what reports an unsigned row.)"""
    return kwargs.get("signing")


def _linked_event(r: Sequence[Any]) -> LinkedEvent:
    """A joined chain and event row (``ChainReader.rows``' columns) as a ``LinkedEvent``."""
    oid = r[6]
    return LinkedEvent(
        ChainRow(*r[:5], *r[10:14]),
        None if oid is None else UUID(oid) if isinstance(oid, str) else UUID(bytes=oid),
        r[7],
        r[8],
        r[9],
    )


def _head_link(position: Any, hash_: Any) -> tuple[int, bytes]:
    """The link new ones follow; a malformed head is refused rather than chained onto."""
    if not isinstance(position, int) or not isinstance(hash_, bytes) or len(hash_) != 32:
        raise StoreError("store: the chain's last link is malformed; run `ledger verify`")
    return position, hash_


class _ReadOnlySQLite(SQLiteDatastore):
    """A datastore that never writes: opened ``mode=ro`` (or ``immutable=1`` where even the
    lock files cannot be made, as on a read-only file system), journal mode left alone."""

    def __init__(self, path: Path, *, immutable: bool = False) -> None:
        flag = "immutable=1" if immutable else "mode=ro"
        super().__init__(f"file:{quote(str(path.resolve()))}?{flag}", lock_timeout=60)
        self.pool.is_journal_mode_wal = True  # the library would switch the file to WAL


def _open_sqlite(path: Path, mode: str) -> SQLiteChainRecorder:
    if mode == "create":
        if path.exists() and not _is_ledger_file(path, allow_empty=True):
            raise StoreError(f"store: {path} is not a ledger store; refusing to write to it")
        path.parent.mkdir(parents=True, exist_ok=True)
        recorder = SQLiteChainRecorder(SQLiteDatastore(str(path), lock_timeout=60))
        recorder.create_table()
        return recorder
    if not path.is_file():
        raise StoreError(f"store: no store at {path}")
    if not _is_ledger_file(path):
        raise StoreError(f"store: {path} is not a ledger store")
    if mode == "write":
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
            raise StoreError(f"store: {path} cannot be written here (read-only)")
        return SQLiteChainRecorder(SQLiteDatastore(str(path), lock_timeout=60))
    for immutable in (False, True):
        recorder = SQLiteChainRecorder(_ReadOnlySQLite(path, immutable=immutable))
        try:
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(f"SELECT 1 FROM {CHAIN_TABLE} LIMIT 1")
            return recorder
        except PersistenceError:
            recorder.datastore.close()
    raise StoreError(f"store: cannot read {path}")


def _is_ledger_file(path: Path, *, allow_empty: bool = False) -> bool:
    """Whether a file holds a ledger (its two tables), asked without writing to it."""
    if path.stat().st_size == 0:
        return allow_empty
    for flag in ("mode=ro", "immutable=1"):  # immutable: a WAL file on a read-only disk
        try:
            conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?{flag}", uri=True)
            try:
                names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                return False
            continue
        if {EVENTS_TABLE, CHAIN_TABLE} <= names:
            return True
        return allow_empty and not names
    return False


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


# ---------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class StoreLocation:
    """Where a store lives, parsed from ``sqlite:///path`` or ``postgresql://...?schema=``."""

    url: str
    backend: str  # "sqlite" | "postgresql"
    path: Path | None = None
    dbname: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    schema: str = "public"

    @classmethod
    def parse(cls, url: str) -> StoreLocation:
        try:
            return cls._parse(url)
        except StoreURLError:  # already says what is wrong
            raise
        except ValueError as exc:  # a port that is not a number, a bad IPv6 literal
            raise StoreURLError(f"store: cannot read the URL '{shown(url)}': {exc}") from None

    @classmethod
    def _parse(cls, url: str) -> StoreLocation:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            rest = url.split("://", 1)[1].split("?", 1)[0] if "://" in url else ""
            if not rest.startswith("/") or len(rest) < 2:
                raise StoreURLError(f"store: no database file in '{url}' (use sqlite:///path.db)")
            # sqlite:///relative/path.db and sqlite:////absolute/path.db, as SQLAlchemy reads them
            return cls(url=url, backend="sqlite", path=Path(unquote(rest[1:])))
        if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            schemas = parse_qs(parts.query, keep_blank_values=True).get("schema", ["public"])
            schema = schemas[-1]
            # a schema name goes into SQL (quoted): checked before any connection is made
            if len(schemas) > 1 or not (
                schema[:1].isascii()
                and (schema[:1].isalpha() or schema[:1] == "_")
                and all(c.isascii() and (c.isalnum() or c in "_-") for c in schema)
                and len(schema) <= 63
                and not schema.startswith("pg_")
            ):
                names = "', '".join(s if len(s) <= 70 else s[:67] + "..." for s in schemas)
                raise StoreURLError(
                    f"store: schema '{names}' is not allowed: give one name of ASCII letters, "
                    "digits, _ and - (at most 63), starting with a letter or _, not pg_"
                )
            return cls(
                url=url,
                backend="postgresql",
                dbname=unquote(parts.path.lstrip("/")) or "postgres",
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 5432,
                user=unquote(parts.username or "") or os.environ.get("USER", "postgres"),
                password=unquote(parts.password or ""),
                schema=schema,
            )
        raise StoreURLError(
            f"store: unsupported URL '{shown(url)}' "
            "(use sqlite:///path.db or postgresql://host/db)"
        )

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite {self.path}"
        return f"postgresql {self.host}:{self.port}/{self.dbname} schema {self.schema}"


MODES = ("read", "write", "create")
"""read: read-only, never creates or alters anything; write: the store must exist, no DDL;
create: makes the store (tables, guards, log id) once if it is absent."""


def open_recorder(location: StoreLocation, mode: str) -> Any:
    """The chain recorder for a location, opened for ``mode`` (see MODES)."""
    assert mode in MODES, mode
    try:
        if location.backend == "sqlite":
            assert location.path is not None
            return _open_sqlite(location.path, mode)
        from .postgres import open_postgres  # psycopg is loaded only for PostgreSQL stores

        return open_postgres(location, mode=mode)
    except PersistenceError as exc:
        raise StoreError(f"store: cannot open {location.describe()}: {_first_line(exc)}") from exc
    except OSError as exc:
        raise StoreError(f"store: cannot open {location.describe()}: {exc.strerror}") from exc


def open_standin() -> SQLiteChainRecorder:
    """An empty store in memory, private to its opener: it answers reads for a store that does
    not exist yet, so a command can be checked in full before anything is created."""
    recorder = SQLiteChainRecorder(
        SQLiteDatastore(f"file:ledger-standin-{uuid4().hex}?mode=memory&cache=shared")
    )
    recorder.create_table()
    return recorder


def close_recorder(recorder: Any) -> None:
    """Closes a recorder's connections now, rather than when it is collected."""
    close = getattr(recorder, "close", None)
    if close is not None:
        close()
    else:
        recorder.datastore.close()


def store_exists(location: StoreLocation) -> bool:
    """Whether a ledger is there already (asked without creating or writing anything)."""
    if location.backend == "sqlite":
        assert location.path is not None
        return location.path.exists()
    from .postgres import postgres_store_exists

    return postgres_store_exists(location)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@dataclass(frozen=True)
class Census:
    """What both tables hold, counted: verify accounts for every row against it."""

    events: int
    links: int
    first: int | None
    """The lowest chain position (None when there are no links)."""
    last: int
    """The highest chain position: the head (0 when there are no links)."""


class ChainReader:
    """Reads chain rows joined with their events, page by page, and anything left unlinked."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self._signed: bool | None = None
        self.sqlite = isinstance(recorder, SQLiteChainRecorder)
        if self.sqlite:
            self.events, self.chain, self.nid, self.mark = EVENTS_TABLE, CHAIN_TABLE, "rowid", "?"
            self.log_table, self.tree = LOG_TABLE, TREE_TABLE
        else:
            schema = recorder.datastore.schema
            self.events = f'"{schema}"."{EVENTS_TABLE}"'
            self.chain = f'"{schema}"."{CHAIN_TABLE}"'
            self.log_table = f'"{schema}"."{LOG_TABLE}"'
            self.tree = f'"{schema}"."{TREE_TABLE}"'
            self.nid, self.mark = "notification_id", "%s"

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.sqlite:
            with self.recorder.datastore.transaction(commit=False) as c:
                yield c
        else:
            from psycopg.rows import tuple_row

            with (
                self.recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                yield curs

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._cursor() as c:
            c.execute(sql, params)
            return list(c.fetchall())

    def head(self) -> tuple[int, bytes]:
        """The last link (position, hash), for appending and reporting; see ``census``."""
        rows = self._rows(
            f"SELECT position, hash FROM {self.chain} ORDER BY position DESC LIMIT 1", ()
        )
        return _head_link(rows[0][0], _bytes(rows[0][1])) if rows else (0, self.genesis())

    def log_id(self) -> bytes | None:
        """The id fixed when the log was created; None for a store made before log ids (or
        one whose id was removed: its chain then fails at position 1)."""
        if self.sqlite:
            found = self._rows(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LOG_TABLE,)
            )
        else:
            found = self._rows("SELECT to_regclass(%s)", (self.log_table,))
            found = [r for r in found if r[0] is not None]
        if not found:
            return None
        rows = self._rows(f"SELECT log_id FROM {self.log_table}", ())
        value = _bytes(rows[0][0]) if len(rows) == 1 else None
        return value if isinstance(value, bytes) and len(value) == 16 else None

    def genesis(self) -> bytes:
        """hash_0: what link 1 follows."""
        return genesis_hash(self.log_id())

    def census(self) -> Census:
        rows = self._rows(
            f"SELECT (SELECT COUNT(*) FROM {self.events}), COUNT(*), MIN(position), "
            f"MAX(position) FROM {self.chain}",
            (),
        )
        events, links, first, last = rows[0]
        return Census(int(events), int(links), first, int(last or 0))

    def rows(self, after: int = 0, until: int | None = None) -> Iterator[Linked]:
        """Links after ``after`` (up to ``until``, else the head now) joined with their events,
        flat, in order. Each page is a bounded range of positions, so its cost never depends on
        the planner's statistics (without them PostgreSQL sorted the whole rest per page)."""
        m = self.mark
        sql = (
            f"SELECT {self._linked_columns(f'e.{self.nid}')} "
            f"FROM {self.chain} c LEFT JOIN {self.events} e ON e.{self.nid} = c.notification_id "
            f"WHERE c.position > {m} AND c.position <= {m} ORDER BY c.position"
        )
        last = self.head()[0] if until is None else until
        while after < last:
            upper = min(last, after + PAGE)
            page = self._rows(sql, (after, upper))
            yield from page  # blobs arrive as bytes from both drivers
            if page:
                after = upper
            else:  # a gap (links deleted, or one forged far ahead): skip it in one step
                following = self.next_position(after)
                if following is None:
                    return
                after = following - 1

    def event_pages(self, after: int, until: int) -> Iterator[list[Any]]:
        """The linked events after ``after`` up to ``until``, page by page, each row
        (position, originator id, version, topic, state): what a replay into read models
        needs and nothing of the chain's own (its hashes and signatures are verify's)."""
        m = self.mark
        originator = "e.originator_id" if self.sqlite else "uuid_send(e.originator_id)"
        sql = (
            f"SELECT c.position, {originator}, e.originator_version, e.topic, e.state "
            f"FROM {self.chain} c JOIN {self.events} e ON e.{self.nid} = c.notification_id "
            f"WHERE c.position > {m} AND c.position <= {m} ORDER BY c.position"
        )
        while after < until:
            upper = min(until, after + PAGE)
            page = self._rows(sql, (after, upper))
            if page:
                yield page
                after = upper
            else:  # a gap: skip it in one step, as ``rows`` does
                following = self.next_position(after)
                if following is None:
                    return
                after = following - 1

    def signed_columns(self) -> bool:
        """Whether the chain table has the signature columns (stores made before signatures
        do not: their rows read as unsigned, and verify says so)."""
        if self._signed is None:
            self._signed = self._has_signature_columns()
        return self._signed

    def _has_signature_columns(self) -> bool:
        if self.sqlite:
            columns = {r[1] for r in self._rows(f"PRAGMA table_info({self.chain})", ())}
        else:
            schema = self.recorder.datastore.schema
            columns = {r[0] for r in self._rows(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s", (schema, CHAIN_TABLE))}
        return "signature" in columns

    def seam(self, position: int) -> Seam | None:
        """The stored link at ``position`` as a walk's starting point (None if it is gone)."""
        if position == 0:
            return (0, self.genesis(), 0)
        rows = self._rows(
            f"SELECT hash, notification_id FROM {self.chain} WHERE position = {self.mark}",
            (position,),
        )
        return (position, _bytes(rows[0][0]), rows[0][1]) if rows else None

    def existing(self, originator_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these entities have events stored (one query per 500 ids)."""
        found: set[UUID] = set()
        for where, params in self._entity_chunks(originator_ids):
            rows = self._rows(
                f"SELECT DISTINCT originator_id FROM {self.events} WHERE {where}", params
            )
            found.update(as_uuid(r[0]) for r in rows)
        return found

    def _entity_chunks(self, originator_ids: Iterable[UUID]) -> Iterator[tuple[str, Any]]:
        """(condition on ``originator_id``, its parameters) for these entities, 500 at a
        time, each id as the backend stores it."""
        wanted = list(originator_ids)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            if self.sqlite:
                yield (f"originator_id IN ({','.join('?' * len(chunk))})",
                       [oid.hex for oid in chunk])  # as the library stores it
            else:
                yield "originator_id = ANY(%s)", [chunk]

    def _linked_columns(self, nid: str) -> str:
        """The columns of a link joined to its event (``c`` and ``e``), as ``rows`` gives
        them and ``_linked_event`` reads them; ``nid`` is the event's notification id."""
        originator = "e.originator_id" if self.sqlite else "uuid_send(e.originator_id)"
        signed = ("c.signer, c.key_id, c.signature, c.signed_at" if self.signed_columns()
                  else "NULL, NULL, NULL, NULL")
        return (f"c.position, c.notification_id, c.salt, c.payload_digest, c.hash, {nid}, "
                f"{originator}, e.originator_version, e.topic, e.state, {signed}")

    def histories(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[tuple[Any, ...]]]:
        """The stored events (originator id, version, topic, state) of these entities, each
        entity's in version order, in one query per 500 ids: what an append reads of the
        entities it touches and names (an entity with no events is left out)."""
        found: dict[UUID, list[tuple[Any, ...]]] = {}
        for where, params in self._entity_chunks(originator_ids):
            for row in self._rows(
                f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
                f"WHERE {where} ORDER BY originator_id, originator_version",
                params,
            ):
                found.setdefault(as_uuid(row[0]), []).append(row)
        return found

    def next_position(self, after: int) -> int | None:
        rows = self._rows(f"SELECT MIN(position) FROM {self.chain} WHERE position > {self.mark}",
                          (after,))
        return rows[0][0] if rows else None

    def linked(self, after: int = 0, until: int | None = None) -> Iterator[LinkedEvent]:
        for r in self.rows(after, until):
            yield _linked_event(r)

    def linked_of(self, originator_ids: Iterable[UUID], head: int) -> list[LinkedEvent]:
        """The linked events in 1..head of these entities, in position order, found by entity
        (an indexed read a few hundred ids at a time), not by walking the log: what an
        evidence pack holds."""
        found: list[Any] = []
        for where, params in self._entity_chunks(originator_ids):
            found += self._by_entity(self._linked_columns("e.nid"), where, params, 0, head)
        return [_linked_event(r) for r in sorted(found, key=lambda r: r[0])]

    def link_hashes(self, positions: Iterable[int]) -> dict[int, bytes]:
        """The stored link hash at each of these positions (those that have a link)."""
        wanted, found = sorted(set(positions)), dict[int, bytes]()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join([self.mark] * len(chunk))
            found.update((int(p), _bytes(h)) for p, h in self._rows(
                f"SELECT position, hash FROM {self.chain} WHERE position IN ({marks})", chunk))
        return found

    def first_unlinked(self, head: int) -> tuple[int, Any, Any] | None:
        """The earliest event that no link in 1..head names (notification id, version, topic)."""
        m = self.mark
        rows = self._rows(
            f"SELECT e.{self.nid}, e.originator_version, e.topic FROM {self.events} e "
            f"LEFT JOIN {self.chain} c ON c.notification_id = e.{self.nid} "
            f"AND c.position >= 1 AND c.position <= {m} "
            f"WHERE c.position IS NULL ORDER BY e.{self.nid} LIMIT 1",
            (head,),
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def position_before(self, notification_id: int, head: int) -> int:
        """The last position in 1..head whose link names an earlier event."""
        m = self.mark
        rows = self._rows(
            f"SELECT COALESCE(MAX(position), 0) FROM {self.chain} "
            f"WHERE notification_id < {m} AND position >= 1 AND position <= {m}",
            (notification_id, head),
        )
        return int(rows[0][0])

    def has_tree(self) -> bool:
        if self.sqlite:
            found = self._rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (TREE_TABLE,))
        else:
            found = [r for r in self._rows("SELECT to_regclass(%s)", (self.tree,)) if r[0]]
        return bool(found)

    def node(self, level: int, idx: int) -> bytes:
        """One stored tree node (StoreError if it is missing)."""
        m = self.mark
        rows = self._rows(f"SELECT hash FROM {self.tree} WHERE level = {m} AND idx = {m}",
                          (level, idx))
        return _stored_node(rows[0] if rows else None, level, idx)

    def nodes(self, addresses: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at these (level, index) addresses, in one query (a proof's few
        dozen); a missing one is absent from the answer."""
        if not addresses:
            return {}
        m = self.mark
        pairs = " OR ".join([f"(level = {m} AND idx = {m})"] * len(addresses))
        params = [value for address in addresses for value in address]
        return {(int(level), int(idx)): _bytes(hash_) for level, idx, hash_ in self._rows(
            f"SELECT level, idx, hash FROM {self.tree} WHERE {pairs}", params)
            if isinstance(_bytes(hash_), bytes)}

    def tree_level(self, level: int) -> Iterator[tuple[Any, Any]]:
        """(idx, hash) of one level of the stored tree, in order, page by page."""
        m, after = self.mark, -1
        while True:
            page = self._rows(
                f"SELECT idx, hash FROM {self.tree} WHERE level = {m} AND idx > {m} "
                f"ORDER BY idx LIMIT {PAGE}", (level, after))
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def tree_count(self) -> int:
        return int(self._rows(f"SELECT COUNT(*) FROM {self.tree}", ())[0][0])

    def leaves(self, head: int) -> Iterator[bytes]:
        """The leaf hash of each position 1..head, from the chain rows alone."""
        signed = ("signer, key_id, signed_at, signature" if self.signed_columns()
                  else "NULL, NULL, NULL, NULL")
        m, after = self.mark, 0
        while after < head:
            upper = min(head, after + PAGE)
            for position, hash_, digest, signer, key, at, signature in self._rows(
                f"SELECT position, hash, payload_digest, {signed} FROM {self.chain} "
                f"WHERE position > {m} AND position <= {m} ORDER BY position", (after, upper)):
                yield leaf_hash(leaf_data(position, _bytes(hash_), _bytes(digest), signer=signer,
                                          key_id=_bytes(key), signed_at=at,
                                          signature=_bytes(signature)))
            after = upper

    def events_of(
        self, topics: Sequence[str], head: int, after: int = 0, *, entity: UUID | None = None
    ) -> list[tuple[Any, Any, Any, Any]]:
        """(position, originator id, topic, state) of the events of these types linked in
        after+1..head, in position order, of every entity or of one (found by its id, an
        indexed read): what verify reads to know whose keys were good where, the read policy
        to know what is withheld, and a write of its signer's key events."""
        m = self.mark
        marks = ",".join([m] * len(topics))
        if entity is not None:
            return self._by_entity(
                "c.position, e.originator_id, e.topic, e.state",
                f"originator_id = {m} AND topic IN ({marks})",
                [entity.hex if self.sqlite else entity, *topics], after, head)
        return self._rows(
            f"SELECT c.position, e.originator_id, e.topic, e.state FROM {self.chain} c "
            f"JOIN {self.events} e ON e.{self.nid} = c.notification_id "
            f"WHERE e.topic IN ({marks}) AND c.position > {m} AND c.position <= {m} "
            "ORDER BY c.position",
            (*topics, max(after, 0), head),
        )

    def _by_entity(self, columns: str, where: str, params: Sequence[Any], after: int,
                   head: int) -> list[Any]:
        """``columns`` (of ``e``, the events ``where`` picks by entity, as ``nid``,
        ``originator_id``, ``originator_version``, ``topic``, ``state``, and ``c``, their
        links) of those linked in after+1..head, in position order. The events are found
        first, by the entity index, whatever the planner's statistics say: without them
        PostgreSQL walked the whole chain by position instead (0.75 s a write at 1M)."""
        m = self.mark
        return self._rows(
            f"WITH e AS MATERIALIZED (SELECT {self.nid} AS nid, originator_id, "
            f"originator_version, topic, state FROM {self.events} WHERE {where}) "
            f"SELECT {columns} FROM e JOIN {self.chain} c ON c.notification_id = e.nid "
            f"WHERE c.position > {m} AND c.position <= {m} ORDER BY c.position",
            [*params, max(after, 0), head],
        )

    def originators_at(self, positions: Sequence[int]) -> list[tuple[int, UUID]]:
        """(position, originator id) of the events linked at these positions."""
        found: list[tuple[int, UUID]] = []
        for start in range(0, len(positions), 500):
            chunk = list(positions[start : start + 500])
            marks = ",".join([self.mark] * len(chunk))
            found += [(int(p), as_uuid(o))
                      for p, o in self._rows(
                          f"SELECT c.position, e.originator_id FROM {self.chain} c JOIN "
                          f"{self.events} e ON e.{self.nid} = c.notification_id "
                          f"WHERE c.position IN ({marks})", chunk)]
        return found

    def positions(self, notification_ids: Sequence[int]) -> list[int]:
        """Chain positions of the given notification ids, in the same order."""
        found: dict[int, int] = {}
        for start in range(0, len(notification_ids), 500):
            chunk = list(notification_ids[start : start + 500])
            marks = ",".join([self.mark] * len(chunk))
            for nid, position in self._rows(
                f"SELECT notification_id, position FROM {self.chain} "
                f"WHERE notification_id IN ({marks})",
                chunk,
            ):
                found[nid] = position
        return [found[nid] for nid in notification_ids]

    def event_count(self) -> int:
        return int(self._rows(f"SELECT COUNT(*) FROM {self.events}", ())[0][0])


def _bytes(value: Any) -> Any:
    """bytea may arrive as memoryview; anything that is not binary is left for the caller."""
    return bytes(value) if isinstance(value, memoryview) else value
