"""Writes a copy of a log into a new SQLite store, row by row, as the caller transforms it.

The copy has the store's own tables, so every command reads it as a store, plus one:
``ledger_withheld`` names the positions whose payload and salt the copy does not hold (their
``salt`` is NULL; their ``state`` is the event as the public is shown it). Its log id is the
original's, so it verifies to the same head hash.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eventsourcing.sqlite import SQLiteDatastore

from .store import (
    CHAIN_TABLE,
    EVENTS_TABLE,
    LOG_TABLE,
    TREE_TABLE,
    ChainReader,
    SQLiteChainRecorder,
)

WITHHELD_TABLE = "ledger_withheld"


class CopyWriter:
    """One copy, written to a temporary file and moved into place only when complete."""

    def __init__(self, path: Path, log_id: bytes | None, created_at: str) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.partial.unlink(missing_ok=True)
        statements = SQLiteChainRecorder(
            SQLiteDatastore(":memory:")
        ).construct_create_table_statements()
        self.conn = sqlite3.connect(self.partial, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("BEGIN")
        for statement in statements:
            if statement.lstrip().upper().startswith(f"INSERT INTO {LOG_TABLE}".upper()):
                continue  # the copy keeps the original's log id, below
            self.conn.execute(statement.replace("salt BLOB NOT NULL", "salt BLOB"))
        self.conn.execute(
            f"CREATE TABLE {WITHHELD_TABLE} (position INTEGER PRIMARY KEY, "
            "fields TEXT NOT NULL, basis TEXT NOT NULL)"
        )
        if log_id is not None:
            self.conn.execute(f"INSERT INTO {LOG_TABLE} VALUES (1, ?, ?)", (log_id, created_at))

    def add(self, events: Iterable[tuple[Any, ...]], links: Iterable[tuple[Any, ...]],
            withheld: Iterable[tuple[int, str, str]]) -> None:
        """Events (notification id, originator id as 32 hex digits, version, topic, state),
        links (the chain table's nine columns) and withheld positions (position, fields,
        basis)."""
        self.conn.executemany(
            f"INSERT INTO {EVENTS_TABLE} (rowid, originator_id, originator_version, topic, "
            "state) VALUES (?,?,?,?,?)", events)
        self.conn.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?,?,?,?)", links)
        self.conn.executemany(f"INSERT INTO {WITHHELD_TABLE} VALUES (?,?,?)", withheld)

    def add_tree(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        self.conn.executemany(f"INSERT INTO {TREE_TABLE} VALUES (?,?,?)", nodes)

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.conn.close()
        self.partial.unlink(missing_ok=True)


def withheld_positions(reader: ChainReader) -> dict[int, tuple[str, str]] | None:
    """A public copy's withheld positions (fields, basis); None for a store that is not a
    copy (a master holds every payload: a NULL salt there is tampering)."""
    if not reader.sqlite:
        return None
    found = reader._rows(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (WITHHELD_TABLE,))
    if not found:
        return None
    return {int(p): (str(f), str(b)) for p, f, b in reader._rows(
        f"SELECT position, fields, basis FROM {WITHHELD_TABLE}", ())}
