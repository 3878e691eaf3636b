"""The pull-based runner: catch up, rebuild and report each projection against the log's head.

Each projection has its own tracking position. Events are read after the lowest position in
pages; each page is applied and the positions moved in one transaction, so a crash leaves rows
and position in step. Replaying an event a projection has already seen does nothing.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from ledger.adapters.codec import decode_event
from ledger.adapters.store import StoreLocation
from ledger.collector import fewer_collections
from ledger.disclosure import ReadPolicy
from ledger.services import Ledger

from .base import Ask, BufferedSqlRows, Projection, SqlRows, Stamped
from .fields import HISTORY_KINDS, EntityHistory, FieldProjection
from .models.audit_trail import AuditTrail
from .models.decisions import DecisionTrail
from .models.grants import GrantsRegister
from .models.plan_state import PlanState
from .models.targets import TargetHistory
from .models.transitions import TransitionHistory

ENTITY_HISTORY = EntityHistory()
PLAN_STATE = PlanState()
AUDIT_TRAIL = AuditTrail()
TRANSITIONS = TransitionHistory()
DECISION_TRAIL = DecisionTrail()
TARGET_HISTORY = TargetHistory()
GRANTS = GrantsRegister()
PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (ENTITY_HISTORY, PLAN_STATE, AUDIT_TRAIL, TRANSITIONS, DECISION_TRAIL,
              TARGET_HISTORY, GRANTS)
}
"""Applied in this order to each event: the shared entity history first, which the others
read (they write only their own index tables)."""
assert all(p.kinds <= HISTORY_KINDS for p in PROJECTIONS.values() if isinstance(p, FieldProjection))

LEGACY_TABLES = tuple(f"{name}_fields" for name in PROJECTIONS if name != ENTITY_HISTORY.name)
"""Each read model's own copy of the field history, before the history was shared."""

_tracking_metadata = MetaData()
TRACKING = Table(
    "projection_positions",
    _tracking_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)
SOURCE = Table(
    "projection_source",
    _tracking_metadata,
    Column("log_id", String(36), primary_key=True),
)
"""The log the read models were built from: read models of another log are rebuilt."""
POLICY = Table(
    "projection_policy",
    _tracking_metadata,
    Column("audience", String(1000), primary_key=True),
    Column("sources", Text, nullable=False),
)
"""Whom the read models show events to, and the positions of the disclosures (redactions,
releases, their corrections) they were built with: a new one rebuilds them, since it changes
what an earlier event shows."""


ANALYZE_AFTER = 10_000
"""The planner's statistics are refreshed by a catch-up that applies this many events, or that
takes the log past a multiple of it (a log that grows by small catch-ups gets them too)."""
DEFER_INDEXES_FROM = 10_000
"""A catch-up of at least this many events into empty tables builds their secondary indexes
after the rows, in one pass each (inserting into a dozen indexes row by row cost a fifth of
a rebuild's inserts)."""
DEFERRED = "(indexes set aside)"
"""A tracking row, present while some tables' indexes are set aside: a run interrupted
meanwhile is finished by the next ``ensure_tables`` (which makes any index missing)."""


def engine_for(location: StoreLocation, audience: str = "public") -> Engine:
    """Where the read models live: never in the store itself, which reading must not write.

    Each audience (see ``ledger.disclosure.Reader``) has its own, built from the events as
    that audience is shown them. SQLite: a file beside the store (``ledger.db`` ->
    ``ledger.projections.db`` for the public, ``ledger.projections-<hash>.db`` for readers
    who see some body's withheld content), or memory when that cannot be written (a
    read-only directory). PostgreSQL: tables of their own in the store's schema (the
    public's) or in a schema beside it, written through their own connections (the store's
    are read-only).
    """
    if location.backend == "sqlite":
        assert location.path is not None
        path = projections_path(location.path, audience)
        if not _writable(path):
            return memory_engine()
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 60}, poolclass=None)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            # read models are rebuildable: an OS crash may lose the last commits, never
            # consistency (rows and positions commit together)
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA cache_size=-65536")  # 64 MB: index pages stay hot

        return engine
    auth = quote(location.user, safe="")
    if location.password:
        auth += ":" + quote(location.password, safe="")
    schema = location.schema if audience == "public" else (
        f"{location.schema[:40]}_readers_{_audience_tag(audience)}")
    quoted = schema.replace('"', '""')
    engine = create_engine(
        f"postgresql+psycopg://{auth}@{location.host}:{location.port}/{location.dbname}",
        connect_args={"options": f'-csearch_path="{quoted}"', "connect_timeout": 5},
    )
    if audience != "public":
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{quoted}"'))
    return engine


def _audience_tag(audience: str) -> str:
    import hashlib

    return hashlib.sha256(audience.encode()).hexdigest()[:12]


def memory_engine() -> Engine:
    """Read models in memory: rebuilt by every command, for stores nobody may write beside."""
    return create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )


def projections_path(store: Path, audience: str = "public") -> Path:
    tag = "" if audience == "public" else f"-{_audience_tag(audience)}"
    return store.with_name(f"{store.stem}.projections{tag}{store.suffix or '.db'}")


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK)
    return os.access(path.parent, os.W_OK | os.X_OK)


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int

    @property
    def behind(self) -> int:
        return self.head - self.position


class Runner:
    def __init__(self, ledger: Ledger, engine: Engine | None = None) -> None:
        self.ledger = ledger
        self.audience = ledger.reader.audience
        self.engine = engine or engine_for(ledger.location, self.audience)
        self._ready = False

    def close(self) -> None:
        self.engine.dispose()

    def ensure_tables(self) -> None:
        if self._ready:
            return
        try:
            self._create_tables()
        except DBAPIError:  # the read models cannot be written there: keep them in memory
            self.engine.dispose()
            self.engine = memory_engine()
            self._create_tables()
        self._ready = True

    def _create_tables(self) -> None:
        log = self.ledger.chain.log_id()
        log_name = "" if log is None else str(UUID(bytes=log))
        head = self.ledger.chain.head()[0]  # an indexed row; a census counts every row
        _tracking_metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            existing = inspect(conn)
            source = conn.execute(select(SOURCE.c.log_id)).scalars().all()
            positions = self.positions(conn)
            deferred = _deferred(conn)
            other_log = source != [log_name]
            for legacy in LEGACY_TABLES:
                if existing.has_table(legacy):
                    conn.execute(text(f'DROP TABLE "{legacy}"'))
            for name, projection in PROJECTIONS.items():
                if other_log or positions[name] > head or any(
                    {c["name"] for c in existing.get_columns(table.name)}
                    != set(table.columns.keys())
                    if existing.has_table(table.name) else positions[name] > 0
                    for table in projection.tables
                ):  # another log's, a longer log's, or an older version's (a table changed
                    # or added since): rebuild from the log
                    projection.metadata.drop_all(conn)
                    _save_position(conn, name, 0)
                projection.metadata.create_all(conn)
            if deferred:  # a catch-up that set them aside was interrupted
                _restore_indexes(conn, deferred)
            if other_log:
                conn.execute(SOURCE.delete())
                conn.execute(SOURCE.insert().values(log_id=log_name))

    def positions(self, conn: Connection) -> dict[str, int]:
        stored = dict(conn.execute(select(TRACKING.c.name, TRACKING.c.position)).all())
        return {name: int(stored.get(name, 0)) for name in PROJECTIONS}

    def status(self) -> list[Status]:
        self.ensure_tables()
        head, _ = self.ledger.chain.head()
        with self.engine.connect() as conn:
            positions = self.positions(conn)
        return [Status(name, positions[name], head) for name in PROJECTIONS]

    def catch_up(
        self, names: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Applies every event after each projection's position; returns events read."""
        self.ensure_tables()
        chosen = _choose(names)
        with self.engine.connect() as conn:
            positions = {n: p for n, p in self.positions(conn).items() if n in chosen}
        head, _ = self.ledger.chain.head()
        start = min(positions.values(), default=head)
        policy = self._policy(head, start, max(positions.values(), default=0))
        if policy is None:  # what earlier events show has changed: rebuild them all
            chosen = list(PROJECTIONS)
            self._reset(chosen)
            positions, start = dict.fromkeys(chosen, 0), 0
            policy = self._policy(head, 0, 0)
            assert policy is not None
        read = 0
        cache: OrderedDict[Any, Any] = OrderedDict()
        empty = frozenset(
            table.name for name in chosen if positions[name] == 0
            for table in PROJECTIONS[name].tables
        )
        evicted = False
        # only these write rows; the rest are queries over the entity history
        writers = [(PROJECTIONS[name], positions[name]) for name in chosen
                   if PROJECTIONS[name].tables]
        view = policy.view
        aside = (
            [t for n in writers for t in n[0].tables if t.name in empty]
            if head - start >= DEFER_INDEXES_FROM else []
        )
        if aside:
            with self.engine.begin() as conn:
                _set_aside_indexes(conn, aside)
            self._ready = False  # until they are back: if this catch-up fails, the
            # runner's next one (or query) builds them first, as a new runner would
        with fewer_collections():
            for page in self.ledger.chain.event_pages(start, head):
                with self.engine.begin() as conn:
                    rows = BufferedSqlRows(conn, cache, empty)
                    rows.evicted = evicted
                    for position, originator_id, version, topic, state in page:
                        event = decode_event(originator_id, version, topic, state)
                        shown = view(event)
                        # text is NUL-free when the stored JSON has no escaped NUL and
                        # nothing is put in its place
                        stamped = Stamped.of(position, shown, state if shown is event else None)
                        for projection, applied in writers:
                            if position > applied:
                                projection.apply_stamped(rows, stamped)
                    rows.flush()
                    evicted = rows.evicted
                    last = page[-1][0]
                    for name in chosen:
                        positions[name] = max(positions[name], last)
                        _save_position(conn, name, positions[name])
                read += len(page)
                if progress is not None:
                    progress(page[-1][0], head)
        if aside:
            with self.engine.begin() as conn:
                _restore_indexes(conn, aside)
            self._ready = True
        if read >= ANALYZE_AFTER or (read and start // ANALYZE_AFTER != head // ANALYZE_AFTER):
            self._analyze(chosen)
        return read

    def _analyze(self, names: Sequence[str]) -> None:
        """Fresh planner statistics after a large catch-up. Without them both planners go
        wrong at scale: PostgreSQL plans the Panel's queries for empty tables (sequential
        scans) until autovacuum gets round to it, and SQLite, which assumes every index
        equally selective, reads a page of decisions through the index on their kind (every
        decision: 180 ms at 1M events) instead of their ids. SQLite's ANALYZE samples at
        most ``analysis_limit`` rows an index, so it costs milliseconds at any size."""
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            for name in names:
                for table in PROJECTIONS[name].tables:
                    conn.execute(text(f'ANALYZE "{table.name}"'))

    def _policy(self, head: int, start: int, built: int) -> ReadPolicy | None:
        """The read policy for the events after ``start``, or None when read models built up
        to ``built`` were built with another (then they must be rebuilt). The disclosures
        before ``start`` are remembered, not looked for again: a catch-up reads only what
        is new."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(POLICY.c.sources).where(POLICY.c.audience == self.audience)
            ).scalar()
        known = [int(p) for p in stored.split(",") if p] if stored else []
        policy = self.ledger.policy(head, start, known)
        if built and (stored is None or list(policy.sources) != known):
            return None
        with self.engine.begin() as conn:
            conn.execute(POLICY.delete())
            conn.execute(POLICY.insert().values(
                audience=self.audience, sources=",".join(map(str, policy.sources))))
        return policy

    def _reset(self, names: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            for name in names:
                projection = PROJECTIONS[name]
                projection.metadata.drop_all(conn)
                projection.metadata.create_all(conn)
                _save_position(conn, name, 0)

    def rebuild(
        self, names: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Drops the chosen projections' tables and replays the whole log into them."""
        self.ensure_tables()
        chosen = _choose(names)
        self._reset(chosen)
        return self.catch_up(chosen, progress)

    @contextmanager
    def reading(self) -> Iterator[SqlRows]:
        """Rows for queries, after bringing every projection up to the head."""
        self.catch_up()
        with self.engine.connect() as conn:
            yield SqlRows(conn)


def _choose(names: Sequence[str] | None) -> list[str]:
    """The projections named, in application order, with the entity history when any of
    them reads it (rebuilding one rebuilds what it is made of)."""
    if not names:
        return list(PROJECTIONS)
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        from ledger.domain import DomainError

        raise DomainError(
            "name", f"no projection '{unknown[0]}' (known: {', '.join(PROJECTIONS)})"
        )
    wanted = set(names)
    if any(isinstance(PROJECTIONS[n], FieldProjection) for n in names):
        wanted.add(ENTITY_HISTORY.name)
    return [name for name in PROJECTIONS if name in wanted]


def _deferred(conn: Connection) -> list[Table]:
    """Every table, when an interrupted catch-up left some indexes set aside."""
    marker = conn.execute(select(TRACKING.c.name).where(TRACKING.c.name == DEFERRED)).scalar()
    return [] if marker is None else [t for p in PROJECTIONS.values() for t in p.tables]


def _set_aside_indexes(conn: Connection, tables: Sequence[Table]) -> None:
    conn.execute(TRACKING.delete().where(TRACKING.c.name == DEFERRED))
    conn.execute(TRACKING.insert().values(
        name=DEFERRED, position=0, updated_at=datetime.now(UTC).isoformat()))
    for table in tables:
        for index in table.indexes:
            index.drop(conn, checkfirst=True)


def _restore_indexes(conn: Connection, tables: Sequence[Table]) -> None:
    for table in tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    conn.execute(TRACKING.delete().where(TRACKING.c.name == DEFERRED))


def _save_position(conn: Connection, name: str, position: int) -> None:
    values = {"position": position, "updated_at": datetime.now(UTC).isoformat()}
    done = conn.execute(TRACKING.update().where(TRACKING.c.name == name).values(**values))
    if done.rowcount == 0:
        conn.execute(TRACKING.insert().values(name=name, **values))


__all__ = ["PROJECTIONS", "Ask", "Runner", "Status", "engine_for"]
