"""The PostgreSQL chain recorder, kept apart so that SQLite stores never load psycopg.

A store is opened in one of three modes. "read": every connection is read-only and nothing is
created. "write": the ledger must exist and no DDL runs (DDL on every write made concurrent
writers deadlock). "create": the schema, tables, guards and log id are made once, in one
transaction under an advisory lock, so concurrent creators and first readers never race.

Every identifier goes into SQL through ``psycopg.sql.Identifier``; schema names are also
checked when the URL is parsed (``StoreLocation.parse``). The server is probed with one direct
connection before the pool is built, so a missing database, a refused connection or a bad
password is said at once, in one line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Composed, Identifier, Literal

from .chain import genesis_hash, new_links
from .store import (
    CHAIN_TABLE,
    EVENTS_TABLE,
    LOG_TABLE,
    MODES,
    TREE_TABLE,
    StoreError,
    StoreLocation,
    _stored_node,
    as_uuid,
    check_genesis,
    tree_rows,
)

TABLES = (EVENTS_TABLE, CHAIN_TABLE, LOG_TABLE, TREE_TABLE)
REFUSE_FUNCTION = "ledger_refuse_change"
CONNECT_TIMEOUT = 5
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def open_postgres(location: StoreLocation, *, mode: str) -> PostgresChainRecorder:
    """The chain recorder for ``location`` opened for ``mode`` (see MODES)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    with _connect(location, read_only=mode == "read") as conn:
        if mode == "create":
            _create(conn, location)
        _require_ledger(conn, location, writing=mode != "read")
    return PostgresChainRecorder(_Datastore(location, read_only=mode == "read"), location)


def postgres_store_exists(location: StoreLocation) -> bool:
    """Whether the schema holds a ledger (its events and chain tables); creates nothing."""
    with _connect(location, read_only=True) as conn:
        return _has_ledger(_tables(conn, location.schema))


def lock_key(purpose: str, schema: str) -> int:
    """An advisory lock key (signed 64 bits) for one purpose on one schema's ledger: locks
    are database-wide, so each schema gets its own."""
    digest = hashlib.sha256(f"ledger/{purpose}/{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# ---------------------------------------------------------------------------- connecting


def _where(location: StoreLocation) -> str:
    return f"{location.host}:{location.port}/{location.dbname}"


def _connect(location: StoreLocation, *, read_only: bool) -> psycopg.Connection[Any]:
    """One direct connection, or a StoreError saying in one line why there is none."""
    try:
        return psycopg.connect(autocommit=True, **_connection_kwargs(location, read_only))
    except psycopg.Error as exc:
        raise StoreError(connection_problem(location, exc)) from exc


def _connection_kwargs(location: StoreLocation, read_only: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "dbname": location.dbname,
        "host": location.host,
        "port": location.port,
        "user": location.user,
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": "ledger",
    }
    if location.password:  # else libpq looks in PGPASSWORD and ~/.pgpass (not if given "")
        kwargs["password"] = location.password
    if read_only:
        kwargs["options"] = READ_ONLY_OPTIONS
    return kwargs


def connection_problem(location: StoreLocation, exc: BaseException) -> str:
    """What a failed connection means, in one line, without libpq's wording around it."""
    text = str(exc)
    where = f"{location.host}:{location.port}"
    user = location.user
    if re.search(r'database ".*" does not exist', text):
        return f"store: no database '{location.dbname}' at {where}"
    if re.search(r'role ".*" does not exist', text):
        return f"store: no role '{user}' at {where}"
    if "password authentication failed" in text:
        return f"store: password refused for role '{user}' at {where}"
    if "no password supplied" in text:
        return f"store: role '{user}' needs a password at {where} (in the URL or PGPASSWORD)"
    if "Connection refused" in text:
        return f"store: nothing answers at {where} (connection refused: is PostgreSQL running?)"
    if "resolve host" in text or "translate host name" in text:
        return f"store: unknown host '{location.host}'"
    if "timeout expired" in text:
        return f"store: no answer from {where} within {CONNECT_TIMEOUT} s"
    if "permission denied for database" in text or "not permitted to log in" in text:
        return f"store: role '{user}' may not connect to database '{location.dbname}' at {where}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = re.sub(r"^.*?failed: (FATAL: +)?", "", lines[-1] if lines else type(exc).__name__)
    return f"store: cannot connect to {_where(location)}: {detail}"


def _tables(conn: psycopg.Connection[Any], schema: str) -> dict[str, tuple[bool, bool]]:
    """The ledger's tables present in ``schema``: name -> (may read, may append)."""
    rows = conn.execute(
        "SELECT c.relname, has_schema_privilege(n.oid, 'USAGE') "
        "AND has_table_privilege(c.oid, 'SELECT'), "
        "has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'INSERT') "
        "FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p')",
        (schema, list(TABLES)),
    ).fetchall()
    return {r[0]: (bool(r[1]), bool(r[2])) for r in rows}


def _has_ledger(tables: dict[str, tuple[bool, bool]]) -> bool:
    """A ledger is its events and chain tables; a store made before log ids has no log."""
    return EVENTS_TABLE in tables and CHAIN_TABLE in tables


def _require_ledger(
    conn: psycopg.Connection[Any], location: StoreLocation, *, writing: bool
) -> None:
    tables = _tables(conn, location.schema)
    if not _has_ledger(tables):
        raise StoreError(f"store: no ledger in schema {location.schema} of {_where(location)}")
    for name, (may_read, may_append) in sorted(tables.items()):
        if not may_read:
            raise StoreError(
                f"store: role '{location.user}' may not read {location.schema}.{name} "
                f"at {_where(location)}"
            )
        if writing and name != LOG_TABLE and not may_append:
            raise StoreError(
                f"store: role '{location.user}' may not append to {location.schema}.{name} "
                f"at {_where(location)}"
            )


# ---------------------------------------------------------------------------- creating


def _create(conn: psycopg.Connection[Any], location: StoreLocation) -> None:
    """Makes the ledger once, if absent: one transaction, under an advisory lock, so that
    concurrent creators wait for the first and then find it made. A store that has its
    events and chain is left as it is (one made before log ids must not get one now: that
    would change hash_0)."""
    schema = location.schema
    if _has_ledger(_tables(conn, schema)):
        return  # the usual case: no lock, no DDL
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("create", schema),))
            if _has_ledger(_tables(conn, schema)):
                return
            found = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone()
            if found is None:
                conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
            for statement in create_statements(schema):
                conn.execute(statement)
            conn.execute(
                SQL(
                    "INSERT INTO {}.{} (one, log_id, created_at) VALUES (1, %s, %s) "
                    "ON CONFLICT (one) DO NOTHING"
                ).format(Identifier(schema), Identifier(LOG_TABLE)),
                (uuid4().bytes, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
            )
    except psycopg.Error as exc:
        raise StoreError(
            f"store: cannot create a ledger in schema {schema} of {_where(location)}: "
            f"{_first_line(exc)}"
        ) from exc


def create_statements(schema: str) -> list[Composed]:
    """The ledger's tables and guards. The events table is the eventsourcing library's own
    layout; the chain and the log are the ledger's. UPDATE, DELETE and TRUNCATE are refused on
    all three by triggers (owned, with the tables, by the owner role; see ``secure_statements``).
    """
    s = Identifier(schema)
    refuse = SQL("{}.{}").format(s, Identifier(REFUSE_FUNCTION))
    statements = [
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
            "state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version)) "
            "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
            "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
            "autovacuum_analyze_scale_factor = 0.01)"
        ).format(s, Identifier(EVENTS_TABLE)),
        SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {}.{} (notification_id ASC)").format(
            Identifier(f"{EVENTS_TABLE}_notification_id_idx"), s, Identifier(EVENTS_TABLE)
        ),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "position bigint PRIMARY KEY, notification_id bigint NOT NULL UNIQUE, "
            "salt bytea NOT NULL, payload_digest bytea NOT NULL, hash bytea NOT NULL, "
            "signer text, key_id bytea, signature bytea, signed_at text)"
        ).format(s, Identifier(CHAIN_TABLE)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "one smallint PRIMARY KEY CHECK (one = 1), log_id bytea NOT NULL, "
            "created_at text NOT NULL)"
        ).format(s, Identifier(LOG_TABLE)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (level integer NOT NULL, idx bigint NOT NULL, "
            "hash bytea NOT NULL, PRIMARY KEY (level, idx))"
        ).format(s, Identifier(TREE_TABLE)),
        SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; "
            "END $$"
        ).format(refuse),
    ]
    for table in TABLES:
        statements += [
            SQL(
                "CREATE OR REPLACE TRIGGER {} BEFORE UPDATE OR DELETE ON {}.{} "
                "FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(Identifier(f"{table}_append_only"), s, Identifier(table), refuse),
            SQL(
                "CREATE OR REPLACE TRIGGER {} BEFORE TRUNCATE ON {}.{} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
            ).format(Identifier(f"{table}_no_truncate"), s, Identifier(table), refuse),
        ]
    return statements


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# ---------------------------------------------------------------------------- the recorder


class _Datastore(PostgresDatastore):
    """The library's datastore with the ledger's connection settings (read-only ones for
    "read"), and no composite-type lookup: the ledger inserts through arrays, and the library
    looks its type up as ``schema.name`` unquoted, which fails for names such as ``Kent``."""

    def __init__(self, location: StoreLocation, *, read_only: bool) -> None:
        super().__init__(
            dbname=location.dbname,
            host=location.host,
            port=location.port,
            user=location.user,
            password=location.password,
            schema=location.schema,
            pool_size=1,
            max_overflow=5,
            pool_open_timeout=CONNECT_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
        )
        assert isinstance(self.pool.kwargs, dict)
        self.pool.kwargs.pop("password")  # the library passes "" when there is none
        self.pool.kwargs.update(_connection_kwargs(location, read_only))

    def register_type_adapters(self) -> None:
        """Nothing to register (see the class docstring)."""


class PostgresChainRecorder(PostgresApplicationRecorder):
    """Owns its transaction: lock, read the head, insert events, insert links, commit.

    Writers serialise on a transaction-level advisory lock rather than the library's ``LOCK
    TABLE ... IN EXCLUSIVE MODE``, which needs UPDATE privilege: a writer role that may only
    SELECT and INSERT can append. The library's insert path commits when a Python exception
    follows the INSERT; here any exception rolls everything back, so no event is ever
    committed without its link.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        location: StoreLocation | None = None,
        events_table_name: str = EVENTS_TABLE,
    ):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = self.datastore.schema
        self.location = location
        s = Identifier(schema)
        self.sql_create_statements = create_statements(schema)
        self.lock_table_statements = [
            SQL("SELECT pg_advisory_xact_lock({})").format(Literal(lock_key("write", schema)))
        ]
        self.head_statement = SQL(
            "SELECT position, hash FROM {}.{} ORDER BY position DESC LIMIT 1"
        ).format(s, Identifier(CHAIN_TABLE))
        self.log_id_statement = SQL("SELECT log_id FROM {}.{}").format(s, Identifier(LOG_TABLE))
        self.notification_ids_statement = SQL(
            "SELECT nextval({}) FROM generate_series(1, %s)"
        ).format(Literal(f'"{schema}"."{self.events_table_name}_notification_id_seq"'))
        self.copy_events_statement = SQL(
            "COPY {}.{} (originator_id, originator_version, topic, state, notification_id) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(s, Identifier(self.events_table_name))
        self.tree_name = f'"{schema}"."{TREE_TABLE}"'
        self.node_statement = SQL("SELECT hash FROM {}.{} WHERE level = %s AND idx = %s").format(
            s, Identifier(TREE_TABLE))
        self.insert_tree_statement = SQL("INSERT INTO {}.{} VALUES (%s, %s, %s)").format(
            s, Identifier(TREE_TABLE))
        self.copy_links_statement = SQL("COPY {}.{} FROM STDIN (FORMAT BINARY)").format(
            s, Identifier(CHAIN_TABLE))

    def close(self) -> None:
        """Closes the pool's connections now (the application's close leaves the recorder
        open, and a pool kept alive by a reference would hold its connections for good)."""
        self.datastore.close()

    def create_table(self) -> None:
        """Makes the ledger if absent, as opening in "create" mode does (idempotent)."""
        if self.location is None:
            raise StoreError("store: this recorder was opened without a location to create")
        with _connect(self.location, read_only=False) as conn:
            _create(conn, self.location)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        ids = [as_uuid(e.originator_id) for e in stored_events]
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            curs.execute(self.log_id_statement)
            log = curs.fetchone()
            log_id = bytes(log["log_id"]) if log else None
            curs.execute(self.head_statement)
            head = curs.fetchone()
            check_genesis(kwargs, head is None)
            if head is not None:
                position, previous = head["position"], bytes(head["hash"])
                if len(previous) != 32:
                    raise StoreError(
                        "store: the chain's last link is malformed; run `ledger verify`"
                    )
            else:
                position, previous = 0, genesis_hash(log_id)
            # the events' notification ids, taken from their sequence in order, so that the
            # events, then their links, go in by COPY (no RETURNING) in this transaction
            curs.execute(self.notification_ids_statement, (len(stored_events),))
            notification_ids = sorted(int(next(iter(r.values()))) for r in curs.fetchall())
            _copy(curs, self.copy_events_statement, ["uuid", "int8", "text", "bytea", "int8"],
                  ((oid, e.originator_version, e.topic, e.state, nid)
                   for oid, e, nid in zip(ids, stored_events, notification_ids, strict=True)))
            signing = kwargs.get("signing")
            links = new_links(
                position,
                previous,
                ((nid, oid, e.originator_version, e.topic, e.state)
                 for nid, oid, e in zip(notification_ids, ids, stored_events, strict=True)),
                None if signing is None else signing(log_id),
            )
            _copy(curs, self.copy_links_statement, LINK_TYPES, (r.values() for r in links))
            curs.execute("SELECT to_regclass(%s)", (self.tree_name,))
            row = curs.fetchone()
            if links and row is not None and next(iter(row.values())) is not None:

                def node(level: int, idx: int) -> bytes:
                    curs.execute(self.node_statement, (level, idx))
                    found = curs.fetchone()
                    return _stored_node(None if found is None else (found["hash"],), level, idx)

                curs.executemany(self.insert_tree_statement,  # about one row an event
                                 tree_rows(links, links[0].position - 1, node))
        return notification_ids


LINK_TYPES = ["int8", "int8", "bytea", "bytea", "bytea", "text", "bytea", "bytea", "text"]
"""The chain table's columns, in order, as COPY writes them."""


def _copy(curs: Any, statement: Composed, types: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows into a table by COPY in binary, inside the cursor's transaction."""
    with curs.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


# ---------------------------------------------------------------------------- role separation


def identifier_problem(name: str) -> str | None:
    """Why ``name`` cannot be a schema or role name here, or None: letters, digits, _ and -,
    starting with a letter or _, at most 63 bytes, not starting with pg_ (PostgreSQL's own)."""
    if not _NAME.fullmatch(name) or len(name.encode()) > 63 or name.startswith("pg_"):
        return (
            "use letters, digits, _ and - (at most 63), starting with a letter or _, "
            "not pg_"
        )
    return None


def secure_statements(location: StoreLocation, owner: str, writer: str) -> list[Composed]:
    """SQL a database administrator runs (in one transaction) to separate the roles: ``owner``
    (NOLOGIN) owns the schema, tables, sequence and guard function, so only it could switch
    the guards off; ``writer``, whom the application connects as, may only SELECT and INSERT
    the ledger's tables and use the schema (where it keeps its own read models). The roles are
    created if missing; the script refuses a writer that is a superuser or a member of the
    owner, since either could act as the owner."""
    s = Identifier(location.schema)
    o, w = Identifier(owner), Identifier(writer)
    tables = SQL(", ").join(SQL("{}.{}").format(s, Identifier(t)) for t in TABLES)
    sequence = SQL("{}.{}").format(s, Identifier(f"{EVENTS_TABLE}_notification_id_seq"))
    function = SQL("{}.{}()").format(s, Identifier(REFUSE_FUNCTION))
    statements: list[Composed] = [
        _ensure_role(owner, SQL("NOLOGIN")),
        _ensure_role(writer, SQL("LOGIN")),
        SQL(
            "DO $$BEGIN IF (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles "
            "WHERE rolname = {}) THEN RAISE EXCEPTION 'the writer role % is a superuser "
            "(or bypasses row security): it could switch the guards off', {}; END IF; END$$"
        ).format(Literal(writer), Literal(writer)),
        SQL("REVOKE {} FROM {}").format(o, w),
    ]
    if location.schema != "public":
        statements.append(SQL("ALTER SCHEMA {} OWNER TO {}").format(s, o))
    statements += [SQL("ALTER TABLE {}.{} OWNER TO {}").format(s, Identifier(t), o)
                   for t in TABLES]
    statements += [
        SQL("ALTER SEQUENCE {} OWNER TO {}").format(sequence, o),
        SQL("ALTER FUNCTION {} OWNER TO {}").format(function, o),
        SQL("REVOKE ALL ON TABLE {} FROM PUBLIC, {}").format(tables, w),
        SQL("REVOKE ALL ON SEQUENCE {} FROM PUBLIC, {}").format(sequence, w),
        SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC, {}").format(function, w),
        # CREATE on the database: the schemas of the read models of readers who see a body's
        # withheld content (<schema>_readers_<hash>), made on their first read
        SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(Identifier(location.dbname), w),
        SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(s, w),
        SQL("GRANT SELECT, INSERT ON TABLE {} TO {}").format(tables, w),
        SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sequence, w),
        SQL(
            "DO $$BEGIN IF pg_catalog.pg_has_role({}, (SELECT nspowner FROM "
            "pg_catalog.pg_namespace WHERE nspname = {}), 'MEMBER') THEN RAISE EXCEPTION "
            "'the writer role % owns schema % (or is a member of its owner): it could drop the "
            "ledger', {}, {}; END IF; END$$"
        ).format(Literal(writer), Literal(location.schema), Literal(writer),
                 Literal(location.schema)),
    ]
    return statements


def _ensure_role(name: str, login: SQL) -> Composed:
    return SQL(
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) "
        "THEN CREATE ROLE {} {}; END IF; END$$"
    ).format(Literal(name), Identifier(name), login)


def secure_script(location: StoreLocation, owner: str, writer: str) -> str:
    """The statements as a script for psql, in one transaction."""
    body = ";\n".join(s.as_string() for s in secure_statements(location, owner, writer))
    return f"BEGIN;\n{body};\nCOMMIT;\n"


def secure_store(location: StoreLocation, owner: str, writer: str) -> None:
    """Creates the ledger if absent, then runs ``secure_statements`` in one transaction: all
    of it or nothing."""
    with _connect(location, read_only=False) as conn:
        _create(conn, location)
        try:
            with conn.transaction():
                for statement in secure_statements(location, owner, writer):
                    conn.execute(statement)
        except psycopg.Error as exc:
            raise StoreError(
                f"store: cannot separate the roles in schema {location.schema} of "
                f"{_where(location)}: {_first_line(exc)}"
            ) from exc
