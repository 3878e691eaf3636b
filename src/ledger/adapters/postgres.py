"""The PostgreSQL chain recorder, kept apart so that SQLite stores never load psycopg."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Composed

from .chain import ZERO_HASH, new_links
from .store import CHAIN_TABLE, EVENTS_TABLE, StoreLocation, as_uuid


def open_postgres(location: StoreLocation, *, create: bool) -> PostgresChainRecorder:
    datastore = PostgresDatastore(
        dbname=location.dbname,
        host=location.host,
        port=location.port,
        user=location.user,
        password=location.password,
        schema=location.schema,
        pool_size=2,
        max_overflow=4,
        pool_open_timeout=5,
        connect_timeout=5,
    )
    if create and location.schema != "public":
        with datastore.transaction(commit=True) as curs:
            curs.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    return PostgresChainRecorder(datastore)


class PostgresChainRecorder(PostgresApplicationRecorder):
    """Owns its transaction: lock, read the head, insert events, insert links, commit.

    The library's own insert path commits when a Python exception follows the INSERT; here
    any exception rolls everything back, so no event is ever committed without its link.
    """

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = self.datastore.schema
        events = f'"{schema}"."{self.events_table_name}"'
        chain = f'"{schema}"."{CHAIN_TABLE}"'
        refuse = f'"{schema}"."ledger_refuse_change"'
        self.chain_table = chain
        self.sql_create_statements += [
            _sql(
                f"CREATE TABLE IF NOT EXISTS {chain} ("
                "position bigint PRIMARY KEY, notification_id bigint NOT NULL UNIQUE, "
                "salt bytea NOT NULL, payload_digest bytea NOT NULL, hash bytea NOT NULL)"
            ),
            _sql(
                f"CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; "
                "END $$"
            ),
        ]
        for table, name in ((events, self.events_table_name), (chain, CHAIN_TABLE)):
            self.sql_create_statements += [
                _sql(
                    f'CREATE OR REPLACE TRIGGER "{name}_append_only" BEFORE UPDATE OR DELETE '
                    f"ON {table} FOR EACH ROW EXECUTE FUNCTION {refuse}()"
                ),
                _sql(
                    f'CREATE OR REPLACE TRIGGER "{name}_no_truncate" BEFORE TRUNCATE ON {table} '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {refuse}()"
                ),
            ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        statement = self.insert_events_statement + SQL(", originator_id, originator_version")
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            curs.execute(
                f"SELECT position, hash FROM {self.chain_table} ORDER BY position DESC LIMIT 1"
            )
            head = curs.fetchone()
            curs.execute(statement, (rows,))
            ids = {
                (as_uuid(r["originator_id"]), r["originator_version"]): r["notification_id"]
                for r in curs.fetchall()
            }
            inserted = sorted(
                (ids[(as_uuid(e.originator_id), e.originator_version)], e) for e in stored_events
            )
            links = new_links(
                head["position"] if head else 0,
                bytes(head["hash"]) if head else ZERO_HASH,
                (
                    (nid, as_uuid(e.originator_id), e.originator_version, e.topic, e.state)
                    for nid, e in inserted
                ),
            )
            curs.executemany(
                f"INSERT INTO {self.chain_table} VALUES (%s,%s,%s,%s,%s)",
                [(r.position, r.notification_id, r.salt, r.payload_digest, r.hash) for r in links],
            )
        return [ids[(as_uuid(e.originator_id), e.originator_version)] for e in stored_events]


def _sql(text: str) -> Composed:
    """The library keeps its create statements as Composed; ours are plain text."""
    return Composed([SQL(text)])
