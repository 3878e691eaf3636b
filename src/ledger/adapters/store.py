"""The event store: eventsourcing's recorders, extended with a hash chain and append-only tables.

SQLite (the embedded default) and PostgreSQL are chosen by one URL. Each append writes the
events and their chain links in one transaction, so an event never exists without its link.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from .chain import ZERO_HASH, ChainRow, Linked, LinkedEvent, Seam, new_links

EVENTS_TABLE = "ledger_events"
CHAIN_TABLE = "ledger_chain"
DEFAULT_STORE_URL = "sqlite:///events_store/ledger.db"
PAGE = 5_000


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, unreachable server)."""


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
            "salt BLOB NOT NULL, payload_digest BLOB NOT NULL, hash BLOB NOT NULL)"
        )
        guards = _SQLITE_GUARDS.format(
            t=self.events_table_name,
            key="rowid = NEW.rowid OR (originator_id = NEW.originator_id "
            "AND originator_version = NEW.originator_version)",
        ) + _SQLITE_GUARDS.format(
            t=CHAIN_TABLE,
            key="position = NEW.position OR notification_id = NEW.notification_id",
        )
        statements += [s.strip() + ";" for s in guards.split(";\n") if s.strip()]
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        head = c.fetchone()
        links = new_links(
            head[0] if head else 0,
            head[1] if head else ZERO_HASH,
            (
                (nid, as_uuid(s.originator_id), s.originator_version, s.topic, s.state)
                for nid, s in zip(ids, stored_events, strict=True)
            ),
        )
        c.executemany(
            f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?)",
            [(r.position, r.notification_id, r.salt, r.payload_digest, r.hash) for r in links],
        )
        return ids


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
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            rest = url.split("://", 1)[1].split("?", 1)[0]
            if not rest.startswith("/") or len(rest) < 2:
                raise StoreError(f"store: no database file in '{url}' (use sqlite:///path.db)")
            # sqlite:///relative/path.db and sqlite:////absolute/path.db, as SQLAlchemy reads them
            return cls(url=url, backend="sqlite", path=Path(unquote(rest[1:])))
        if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            query = parse_qs(parts.query)
            return cls(
                url=url,
                backend="postgresql",
                dbname=unquote(parts.path.lstrip("/")) or "postgres",
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 5432,
                user=unquote(parts.username or "") or os.environ.get("USER", "postgres"),
                password=unquote(parts.password or ""),
                schema=query.get("schema", ["public"])[0],
            )
        raise StoreError(
            f"store: unsupported URL '{url}' (use sqlite:///path.db or postgresql://host/db)"
        )

    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite {self.path}"
        return f"postgresql {self.host}:{self.port}/{self.dbname} schema {self.schema}"


def open_recorder(location: StoreLocation, *, create: bool = True) -> Any:
    """The chain recorder for a location; ``create`` makes tables, links and guards if absent."""
    try:
        if location.backend == "sqlite":
            assert location.path is not None
            if not create and not location.path.exists():
                raise StoreError(f"store: no store at {location.path}")
            location.path.parent.mkdir(parents=True, exist_ok=True)
            recorder: Any = SQLiteChainRecorder(
                SQLiteDatastore(str(location.path), lock_timeout=60)
            )
        else:
            from .postgres import open_postgres  # psycopg is loaded only for PostgreSQL stores

            recorder = open_postgres(location, create=create)
        if create:
            recorder.create_table()
    except PersistenceError as exc:
        raise StoreError(f"store: cannot open {location.describe()}: {_first_line(exc)}") from exc
    return recorder


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class ChainReader:
    """Reads chain rows joined with their events, page by page, and anything left unlinked."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.sqlite = isinstance(recorder, SQLiteChainRecorder)
        if self.sqlite:
            self.events, self.chain, self.nid, self.mark = EVENTS_TABLE, CHAIN_TABLE, "rowid", "?"
        else:
            schema = recorder.datastore.schema
            self.events = f'"{schema}"."{EVENTS_TABLE}"'
            self.chain = f'"{schema}"."{CHAIN_TABLE}"'
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
        rows = self._rows(
            f"SELECT position, hash FROM {self.chain} ORDER BY position DESC LIMIT 1", ()
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else (0, ZERO_HASH)

    def rows(self, after: int = 0, until: int | None = None) -> Iterator[Linked]:
        """Links after ``after`` (up to ``until``, else the head now) joined with their events,
        flat, in order. Each page is a bounded range of positions, so its cost never depends on
        the planner's statistics (without them PostgreSQL sorted the whole rest per page)."""
        m = self.mark
        originator = "e.originator_id" if self.sqlite else "uuid_send(e.originator_id)"
        sql = (
            f"SELECT c.position, c.notification_id, c.salt, c.payload_digest, c.hash, "
            f"{originator}, e.originator_version, e.topic, e.state "
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

    def seam(self, position: int) -> Seam | None:
        """The stored link at ``position`` as a walk's starting point (None if it is gone)."""
        rows = self._rows(
            f"SELECT hash, notification_id FROM {self.chain} WHERE position = {self.mark}",
            (position,),
        )
        return (position, bytes(rows[0][0]), rows[0][1]) if rows else None

    def existing(self, originator_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these entities have events stored (one query per 500 ids)."""
        wanted = list(originator_ids)
        found: set[UUID] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            if self.sqlite:
                marks = ",".join("?" * len(chunk))
                rows = self._rows(
                    f"SELECT DISTINCT originator_id FROM {self.events} "
                    f"WHERE originator_id IN ({marks})",
                    [oid.hex for oid in chunk],  # as the library stores it
                )
            else:
                rows = self._rows(
                    f"SELECT DISTINCT originator_id FROM {self.events} "
                    "WHERE originator_id = ANY(%s)",
                    (chunk,),
                )
            found.update(as_uuid(r[0]) for r in rows)
        return found

    def next_position(self, after: int) -> int | None:
        rows = self._rows(f"SELECT MIN(position) FROM {self.chain} WHERE position > {self.mark}",
                          (after,))
        return rows[0][0] if rows else None

    def linked(self, after: int = 0, until: int | None = None) -> Iterator[LinkedEvent]:
        for r in self.rows(after, until):
            oid = r[5]
            yield LinkedEvent(
                ChainRow(*r[:5]),
                None if oid is None else UUID(oid) if isinstance(oid, str) else UUID(bytes=oid),
                r[6],
                r[7],
                r[8],
            )

    def as_many_events_as_links(self) -> bool:
        rows = self._rows(
            f"SELECT (SELECT COUNT(*) FROM {self.events}), (SELECT COUNT(*) FROM {self.chain})", ()
        )
        return bool(rows[0][0] == rows[0][1])

    def first_unlinked(self) -> tuple[int, int, str] | None:
        """The earliest event with no link (notification id, version, topic), if any."""
        rows = self._rows(
            f"SELECT e.{self.nid}, e.originator_version, e.topic FROM {self.events} e "
            f"LEFT JOIN {self.chain} c ON c.notification_id = e.{self.nid} "
            f"WHERE c.position IS NULL ORDER BY e.{self.nid} LIMIT 1",
            (),
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def position_before(self, notification_id: int) -> int:
        rows = self._rows(
            f"SELECT COALESCE(MAX(position), 0) FROM {self.chain} "
            f"WHERE notification_id < {self.mark}",
            (notification_id,),
        )
        return int(rows[0][0])

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
