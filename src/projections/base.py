"""What every read model shares: bitemporal rows, corrections, and two interchangeable row stores.

Every row a projection writes comes from one event and carries that event's two times:
``effective_at`` (when it happened in the world) and ``recorded_at`` (when the ledger learned
it). A row is *visible* for a question asked ``as_of`` a date and ``known_at`` a time when

    effective_at <= as_of  and  recorded_at <= known_at
    and (retracted_at is null or retracted_at > known_at)

A correction sets ``retracted_at`` (its own ``recorded_at``) on the rows of the event it
corrects, so the corrected fact disappears only for questions asked after the correction was
known. A restatement's rows take effect from the earlier of its own and the corrected event's
``effective_at``: a correction says the original was wrong from the start.

Queries are written once, against ``Rows``; ``SqlRows`` answers from the database tables and
``MemoryRows`` from plain lists (the naive fold the property tests compare against).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, ClassVar, Protocol
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    or_,
    select,
    update,
)

from ledger.dates import instant, local_day, parse_when
from ledger.domain import Event

END_OF_TIME = "9999-12-31 23:59:59.999999"


def moment(value: date | datetime | str | None, *, end_of_day: bool = True) -> str:
    """One sortable text form for both times: 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.

    A bare date stamping an event that happened on it (``end_of_day=False``) is stored as its
    midnight in this form, which lies inside its London day; asking, a bare date means the end
    of its London day (``asked``). Text is read by ``ledger.dates``' rules.
    """
    if value is None:
        return END_OF_TIME
    if isinstance(value, str):
        value = parse_when(value, "date")
    if end_of_day and not isinstance(value, datetime):
        return asked(value, "date")
    return _moment(value, end_of_day)


def asked(value: date | datetime | str, field: str, *, end: bool = True) -> str:
    """A question's bound as a stored moment: a timestamp as it is; a date as the start, or
    (``end``) the end, of its London day. Text is read by ``ledger.dates``' rules, and a bad
    one is a DomainError naming ``field``."""
    if isinstance(value, str):
        value = parse_when(value, field)
    return _moment(instant(value, end=end), True)


@functools.lru_cache(maxsize=4_096, typed=True)
def _moment(value: date | datetime, end_of_day: bool) -> str:
    """Cached: a rebuild stamps a million events with a few thousand distinct times."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return f"{value.isoformat()} {'23:59:59.999999' if end_of_day else '00:00:00.000000'}"


@functools.lru_cache(maxsize=65_536)
def day_of(stored: str) -> str:
    """The London day (ISO) of a stored moment: what a date-only view shows and filters on
    (a decision at 00:30 BST on 1 May is stored as 23:30 on 30 April, UTC, and decided on
    1 May)."""
    return local_day(datetime.fromisoformat(stored).replace(tzinfo=UTC)).isoformat()


def iso(value: str, *, date_if_midnight: bool = False) -> str:
    """A stored moment back as ISO 8601: '2012-11-22' for a day, else a UTC timestamp."""
    day, clock = value[:10], value[11:]
    if date_if_midnight and clock == "00:00:00.000000":
        return day
    return f"{day}T{clock}+00:00"


@dataclass(frozen=True, slots=True)
class Stamped:
    """An event at its log position, with the id and the two times every row carries."""

    position: int
    event: Event
    event_id: str
    effective_at: str
    recorded_at: str
    clean: bool = False
    """Whether the event's text is known to hold no NUL (its stored JSON has no escaped one),
    so its rows need no escaping."""

    @classmethod
    def of(cls, position: int, event: Event, state: bytes | None = None) -> Stamped:
        """``state``: the stored bytes the event was read from, when there are some."""
        effective, recorded = event.effective_at, event.recorded_at
        effective_at = _EFFECTIVE.get(effective)
        if effective_at is None:
            effective_at = _remember(_EFFECTIVE, effective, moment(effective, end_of_day=False))
        recorded_at = _RECORDED.get(recorded)
        if recorded_at is None:
            recorded_at = _remember(_RECORDED, recorded, moment(recorded))
        return cls(
            position,
            event,
            event_id_text(event.originator_id, event.originator_version),
            effective_at,
            recorded_at,
            state is not None and b"\\u0000" not in state,
        )


_EFFECTIVE: dict[Any, str] = {}
_RECORDED: dict[Any, str] = {}
"""Each time's stored moment, by the time as events hold it: a rebuild meets a few thousand
distinct ones in a million events (asking ``moment`` costs its argument checks each time)."""


def _remember(cache: dict[Any, str], key: Any, value: str) -> str:
    if len(cache) >= 65_536:
        cache.clear()
    cache[key] = value
    return value


_sha1 = hashlib.sha1
_VARIANT = {f"{d:x}": f"{(d & 0x3) | 0x8:x}" for d in range(16)}


def event_id_text(originator_id: UUID, version: int) -> str:
    """``str(event.id)`` (RFC 4122 version 5 of the originator id and the version), without
    building UUID objects: a rebuild asks it once per event."""
    h = _sha1(originator_id.bytes + str(version).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


NUL = "\x00"
NUL_ESCAPED = "\\u0000"
"""How a NUL in a stored event's text appears in read-model rows. Writing refuses NUL now, but
an event stored by an older version may hold one; PostgreSQL text cannot, and a replay must not
fail on it. (JSON columns need nothing: JSON already writes NUL as this escape.)"""


def text_safe(row: dict[str, Any]) -> dict[str, Any]:
    """The row with NUL in its text columns escaped."""
    return {
        name: value.replace(NUL, NUL_ESCAPED) if type(value) is str else value
        for name, value in row.items()
    }


_AS_IS = frozenset({dict, str, int, bool, type(None)})


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode = (
    None if c_make_encoder is None
    else c_make_encoder(None, _unencodable, encode_basestring, None, ": ", ", ", False, False,
                        True)
)


def json_text(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, by the C encoder made once (``dumps`` makes
    an encoder on every call: a rebuild writes a million of them)."""
    if _encode is None:
        return json.dumps(value, ensure_ascii=False)
    return "".join(_encode(value, 0))


def jsonable(value: Any) -> Any:
    if type(value) in _AS_IS:  # asking hasattr of a dict raises and formats an error
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def standard_columns() -> list[Column[Any]]:
    """Columns every projection row has: which event made it, its two times, its correction."""
    return [
        Column("position", Integer, primary_key=True, autoincrement=False),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("event_id", String(36), nullable=False, index=True),
        Column("effective_at", String(26), nullable=False),
        Column("recorded_at", String(26), nullable=False),
        Column("retracted_at", String(26)),
        Column("corrected_by", Integer),
    ]


def envelope_columns() -> list[Column[Any]]:
    """Who, why and from what, for read models that show it."""
    return [
        Column("actor", Text, nullable=False),
        Column("role", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("reason", Text),
        Column("source_document", Text, nullable=False),
        Column("source_location", Text, nullable=False),
    ]


@dataclass(frozen=True)
class Ask:
    """A bitemporal question: the world ``as_of`` a moment, as the ledger knew it ``known_at``."""

    as_of: str = END_OF_TIME
    known_at: str = END_OF_TIME

    @classmethod
    def of(cls, as_of: Any = None, known_at: Any = None) -> Ask:
        """Each given as a date (the end of that London day), a timestamp, or text either way
        (a bad one is a DomainError naming the field); None asks about everything."""
        return cls(
            END_OF_TIME if as_of is None else asked(as_of, "as_of"),
            END_OF_TIME if known_at is None else asked(known_at, "known_at"),
        )


@dataclass(frozen=True)
class Scan:
    """A filtered, ordered and limited read of visible rows, answered in SQL where it can be:
    ``between`` bounds a column (either end open), ``contains`` finds text in a column that
    holds casefolded text."""

    where: dict[str, Any] = field(default_factory=dict)
    between: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    contains: dict[str, str] = field(default_factory=dict)
    order_by: tuple[str, ...] = ("position", "seq")
    limit: int | None = None
    offset: int = 0

    def matches(self, row: dict[str, Any]) -> bool:
        return (
            _matches(row, self.where)
            and all((lo is None or row[name] >= lo) and (hi is None or row[name] <= hi)
                    for name, (lo, hi) in self.between.items())
            and all(_escaped(needle.casefold()) in (row[name] or "")
                    for name, needle in self.contains.items())
        )


class Rows(Protocol):
    """Where a projection's rows live; queries and lookups go through this and nothing else."""

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None: ...

    def retract(self, tables: Iterable[Table], event_id: str, at: str, by: int) -> None: ...

    def visible(
        self, table: Table, ask: Ask, where: dict[str, Any] | None = None,
        *, with_retracted: bool = False, columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]: ...

    def page(self, table: Table, ask: Ask, scan: Scan) -> list[dict[str, Any]]: ...

    def last_state(self, table: Table, entity_id: str) -> EntityState | None: ...

    def earliest_effective(self, tables: Iterable[Table], event_id: str) -> str | None: ...


class SqlRows:
    """Rows in SQL tables, on the connection of the current transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Plain DB-API executemany: replaying a row already there changes nothing."""
        if not rows:
            return
        names = [c.name for c in table.columns]
        mark = "%s" if self.postgres else "?"
        sql = (
            f"INSERT {'' if self.postgres else 'OR IGNORE '}INTO {table.name} "
            f"({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
            f"{' ON CONFLICT DO NOTHING' if self.postgres else ''}"
        )
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(sql, [tuple(map(row.get, names)) for row in rows])
        finally:
            cursor.close()

    def retract(self, tables: Iterable[Table], event_id: str, at: str, by: int) -> None:
        for table in tables:
            self.conn.execute(
                update(table)
                .where(table.c.event_id == event_id, table.c.retracted_at.is_(None))
                .values(retracted_at=at, corrected_by=by)
            )

    def visible(
        self, table: Table, ask: Ask, where: dict[str, Any] | None = None,
        *, with_retracted: bool = False, columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        chosen = [table.c[name] for name in columns] if columns else [table]
        query = select(*chosen).where(
            *_visibility(table, ask, with_retracted), *_conditions(table, where or {})
        )
        query = query.order_by(table.c.position, table.c.seq)
        return _dicts(self.conn.execute(query))

    def page(self, table: Table, ask: Ask, scan: Scan) -> list[dict[str, Any]]:
        query = select(table).where(
            *_visibility(table, ask, False),
            *_conditions(table, scan.where),
            *[table.c[name] >= lo for name, (lo, _) in scan.between.items() if lo is not None],
            *[table.c[name] <= hi for name, (_, hi) in scan.between.items() if hi is not None],
            *[table.c[name].contains(_escaped(needle.casefold()), autoescape=True)
              for name, needle in scan.contains.items()],
        )
        query = query.order_by(*(table.c[name] for name in scan.order_by))
        query = query.limit(scan.limit).offset(scan.offset or None)
        return _dicts(self.conn.execute(query))

    def last_state(self, table: Table, entity_id: str) -> EntityState | None:
        found = self.conn.execute(
            select(table.c.kind, table.c.key, table.c.parent, table.c.changes)
            .where(table.c.entity_id == entity_id)
            .order_by(table.c.position, table.c.seq)
        ).all()
        return _merged([r._mapping for r in found])

    def earliest_effective(self, tables: Iterable[Table], event_id: str) -> str | None:
        found = [
            self.conn.execute(
                select(func.min(t.c.effective_at)).where(t.c.event_id == event_id)
            ).scalar()
            for t in tables
        ]
        values = [f for f in found if f is not None]
        return min(values) if values else None


class BufferedSqlRows(SqlRows):
    """SqlRows for a runner's catch-up: inserts are buffered and flushed in one executemany
    per table, and the lookups ``apply`` makes (an entity's identity and last field values)
    are answered from a bounded cache of entities this runner wrote or read.

    Only the runner writes projection tables, so what it wrote is what the table holds. An
    entity evicted from the cache is read back whole, in one query, when next needed.
    """

    ENTITY_LIMIT = 20_000
    """Entities kept: a rebuild of 1M events peaked at 328 MB with 50,000 (the goal is 300 MB;
    25,000 took 37 MB off at 200,000 events, for no measurable loss of speed)."""

    def __init__(
        self,
        conn: Connection,
        cache: OrderedDict[Any, Any] | None = None,
        empty: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(conn)
        self.pending: dict[Table, list[dict[str, Any]]] = {}
        self.by_event: dict[str, list[tuple[Table, dict[str, Any]]]] = {}
        """The pending rows of each event: a correction finds and retracts them in place."""
        self.retractions: list[tuple[tuple[Table, ...], str, str, int]] = []
        """Retractions of rows already written, made after the pending rows are."""
        self.cache: OrderedDict[Any, Any] = cache if cache is not None else OrderedDict()
        self.empty = empty
        """Tables that held nothing when the run began: an entity missing from the cache is
        not there either, unless the cache has evicted some (then the table is asked)."""
        self.evicted = False

    def flush(self) -> None:
        for table, rows in self.pending.items():
            if self.postgres and table.name in self.empty:
                self._copy(table, rows)
            else:
                super().insert(table, rows)
        self.pending, self.by_event = {}, {}
        for tables, event_id, at, by in self.retractions:
            super().retract(tables, event_id, at, by)
        self.retractions = []

    def _copy(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """PostgreSQL's COPY, for a table that held nothing when the run began: a run applies
        each position once, so none of its rows can be there already (the conflict that
        ``insert`` ignores cannot arise)."""
        names = [c.name for c in table.columns]
        cursor = self.conn.connection.cursor()
        try:
            with cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(tuple(map(row.get, names)))
        finally:
            cursor.close()

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        self.pending.setdefault(table, []).extend(rows)
        for row in rows:
            self.by_event.setdefault(row["event_id"], []).append((table, row))
        if not _history(table):
            return
        for row in rows:
            key = (table.name, row["entity_id"])
            entity = self.cache.get(key)
            if entity is None:
                if not row.get(NEW):  # not cached: read back whole when next needed
                    continue
                entity = {"kind": row["kind"], "key": row["key"], "parent": row["parent"],
                          "fields": {}}
                self._remember(key, entity)
            changes = row.get(CHANGES)
            entity["fields"].update(json.loads(row["changes"]) if changes is None else changes)

    def _remember(self, key: Any, value: Any) -> None:
        self.cache[key] = value
        while len(self.cache) > self.ENTITY_LIMIT:
            self.cache.popitem(last=False)
            self.evicted = True

    def last_state(self, table: Table, entity_id: str) -> EntityState | None:
        key = (table.name, entity_id)
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]  # type: ignore[no-any-return]
        if table.name in self.empty and not self.evicted:
            return None
        self.flush()
        entity = super().last_state(table, entity_id)
        if entity is not None:
            self._remember(key, entity)
        return entity

    def retract(self, tables: Iterable[Table], event_id: str, at: str, by: int) -> None:
        """In place when the event's rows are pending (an event's rows are buffered and
        written together), else after the pending rows are written, in the order asked."""
        tables = tuple(tables)
        pending = [row for table, row in self.by_event.get(event_id, ()) if table in tables]
        if not pending:
            self.retractions.append((tables, event_id, at, by))
        for row in pending:
            if row.get("retracted_at") is None:
                row["retracted_at"], row["corrected_by"] = at, by

    def earliest_effective(self, tables: Iterable[Table], event_id: str) -> str | None:
        tables = tuple(tables)
        pending = [row["effective_at"] for table, row in self.by_event.get(event_id, ())
                   if table in tables]
        if pending:
            return min(pending)
        return super().earliest_effective(tables, event_id)

    def visible(
        self, table: Table, ask: Ask, where: dict[str, Any] | None = None,
        *, with_retracted: bool = False, columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        self.flush()
        return super().visible(table, ask, where, with_retracted=with_retracted,
                               columns=columns)

    def page(self, table: Table, ask: Ask, scan: Scan) -> list[dict[str, Any]]:
        self.flush()
        return super().page(table, ask, scan)


EntityState = dict[str, Any]
"""An entity as its rows last left it: kind, key, parent and ``fields`` (JSON-ready values),
whatever the times; what ``apply`` needs to place a change and show its before-value."""

@functools.cache
def _history(table: Table) -> bool:
    """Whether the table is an entity history (rows with ``changes``): the cache follows
    its entities."""
    return "changes" in table.c


CHANGES = "_changes"
"""A row's changes as Python values, beside their JSON text, so the cache need not parse it."""
NEW = "_new"
"""Marks the row that creates its entity (not a restatement): nothing to look up first."""


def _merged(rows: Sequence[Any]) -> EntityState | None:
    if not rows:
        return None
    fields: dict[str, Any] = {}
    for row in rows:
        fields.update(json.loads(row["changes"]))
    first = rows[0]
    return {"kind": first["kind"], "key": first["key"], "parent": first["parent"],
            "fields": fields}


def _dicts(result: Any) -> list[dict[str, Any]]:
    """A result's rows as plain dicts, fetched at once: a page of the history is hundreds of
    rows, and a dict per row through ``Row._mapping`` costs more than the query."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result.all()]


def _visibility(table: Table, ask: Ask, with_retracted: bool) -> list[Any]:
    retracted = (
        [] if with_retracted
        else [or_(table.c.retracted_at.is_(None), table.c.retracted_at > ask.known_at)]
    )
    return [table.c.effective_at <= ask.as_of, table.c.recorded_at <= ask.known_at, *retracted]


def _conditions(table: Table, where: dict[str, Any]) -> list[Any]:
    return [
        table.c[name].in_([_escaped(v) for v in value])
        if isinstance(value, list | tuple | set) else
        table.c[name].is_(None) if value is None else table.c[name] == _escaped(value)
        for name, value in where.items()
    ]


def _escaped(value: Any) -> Any:
    """A value asked for, as the rows hold it (NUL escaped)."""
    return value.replace(NUL, NUL_ESCAPED) if type(value) is str else value


@dataclass
class MemoryRows:
    """The naive fold: the same rows in plain lists, the same rules in plain Python."""

    tables: dict[str, dict[tuple[int, int], dict[str, Any]]] = field(default_factory=dict)

    def _table(self, table: Table) -> dict[tuple[int, int], dict[str, Any]]:
        return self.tables.setdefault(table.name, {})

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        stored = self._table(table)
        for row in rows:
            full = {c.name: row.get(c.name) for c in table.columns}
            stored.setdefault((int(row["position"]), int(row["seq"])), full)

    def retract(self, tables: Iterable[Table], event_id: str, at: str, by: int) -> None:
        for table in tables:
            for row in self._table(table).values():
                if row["event_id"] == event_id and row["retracted_at"] is None:
                    row["retracted_at"], row["corrected_by"] = at, by

    def visible(
        self, table: Table, ask: Ask, where: dict[str, Any] | None = None,
        *, with_retracted: bool = False, columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        return [
            {name: row[name] for name in columns} if columns else dict(row)
            for _, row in sorted(self._table(table).items())
            if row["effective_at"] <= ask.as_of
            and row["recorded_at"] <= ask.known_at
            and (with_retracted or row["retracted_at"] is None
                 or row["retracted_at"] > ask.known_at)
            and _matches(row, where or {})
        ]

    def page(self, table: Table, ask: Ask, scan: Scan) -> list[dict[str, Any]]:
        found = [row for row in self.visible(table, ask) if scan.matches(row)]
        found.sort(key=lambda row: tuple(row[name] for name in scan.order_by))
        end = None if scan.limit is None else scan.offset + scan.limit
        return found[scan.offset:end]

    def last_state(self, table: Table, entity_id: str) -> EntityState | None:
        return _merged(
            [row for _, row in sorted(self._table(table).items())
             if row["entity_id"] == entity_id]
        )

    def earliest_effective(self, tables: Iterable[Table], event_id: str) -> str | None:
        values = [
            row["effective_at"]
            for table in tables
            for row in self._table(table).values()
            if row["event_id"] == event_id
        ]
        return min(values) if values else None


def _matches(row: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(
        row[name] in [_escaped(v) for v in value] if isinstance(value, list | tuple | set)
        else row[name] == _escaped(value)
        for name, value in where.items()
    )


class Projection:
    """A read model: its tables, how one event becomes rows, and its queries (in subclasses).

    ``apply`` is all a runner calls. It never reads events other than the one given; what it
    needs of the past it looks up in its own rows.
    """

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    tables: ClassVar[tuple[Table, ...]]

    def apply(self, rows: Rows, position: int, event: Event) -> None:
        self.apply_stamped(rows, Stamped.of(position, event))

    def wants(self, event: Event) -> bool:
        """Whether this event can concern this read model at all (a cheap test first)."""
        return True

    def apply_stamped(self, rows: Rows, stamped: Stamped) -> None:
        """``apply`` with the event's id and times worked out once for every read model."""
        event = stamped.event
        if not self.wants(event):
            return
        effective_at = stamped.effective_at
        if event.corrects is not None:
            corrected = str(event.corrects)
            earlier = rows.earliest_effective(self.tables, corrected)
            rows.retract(self.tables, corrected, stamped.recorded_at, stamped.position)
            if earlier is not None:
                effective_at = min(effective_at, earlier)
        base = {
            "position": stamped.position,
            "event_id": stamped.event_id,
            "effective_at": effective_at,
            "recorded_at": stamped.recorded_at,
        }
        produced = self.rows(rows, event, base)
        if not produced:
            return
        clean = stamped.clean
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for seq, (table, row) in enumerate(produced):
            full = {**base, "seq": seq, **row}
            if not clean and any(type(v) is str and NUL in v for v in full.values()):
                full = text_safe(full)
            if table in by_table:
                by_table[table].append(full)
            else:
                by_table[table] = [full]
        for table, table_rows in by_table.items():
            rows.insert(table, table_rows)

    def rows(
        self, rows: Rows, event: Event, base: dict[str, Any]
    ) -> list[tuple[Table, dict[str, Any]]]:
        """The rows this event adds (without the standard columns)."""
        raise NotImplementedError

