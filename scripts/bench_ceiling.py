"""What the import and the rebuild could reach at best in this storage layout (SQLite).

Each ceiling keeps only the work no code of ours can remove: the very rows the measure wrote,
written again by one executemany per table into a fresh file of the same schema (its
append-only triggers too), in one transaction, plus for the import one Ed25519 signature an
event and for the rebuild the raw read and JSON decode that are its baseline. A ratio goal
above its ceiling cannot be met by making our Python faster, only by writing fewer or smaller
rows, or signing less often.

At 1M events, the rows of the first 100,000 events (or their share of a read model's table)
are written and the time is scaled up.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

SAMPLE = 100_000
STORE_TABLES = ("ledger_events", "ledger_chain", "ledger_tree")


def _schema(conn: sqlite3.Connection,
            names: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT type, sql, tbl_name FROM sqlite_master WHERE sql IS NOT NULL "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    return [(kind, sql) for kind, sql, table in rows if names is None or table in names]


def _write(schema: list[tuple[str, str]], tables: dict[str, list[tuple[object, ...]]],
           *, indexes_after: bool) -> float:
    """Seconds to write ``tables`` into a fresh file of ``schema``, one executemany each."""
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(Path(folder) / "ceiling.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        later = [sql for kind, sql in schema if kind == "index"] if indexes_after else []
        for _, sql in schema:
            if sql not in later:
                conn.execute(sql)
        started = time.perf_counter()
        conn.execute("BEGIN")
        for name, rows in tables.items():
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
        for sql in later:
            conn.execute(sql)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
    return seconds


def import_ceiling(path: Path) -> float:
    """Events a second: the store rows of up to SAMPLE events written again, and as many
    Ed25519 signatures of messages of this store's size."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    conn = sqlite3.connect(path)
    n, last_id = conn.execute("SELECT COUNT(*), MAX(notification_id) FROM (SELECT "
                              "notification_id FROM ledger_chain ORDER BY position LIMIT ?)",
                              (SAMPLE,)).fetchone()
    tables = {
        "ledger_events": conn.execute("SELECT * FROM ledger_events WHERE rowid <= ? "
                                      "ORDER BY rowid", (last_id,)).fetchall(),
        "ledger_chain": conn.execute("SELECT * FROM ledger_chain ORDER BY position LIMIT ?",
                                     (n,)).fetchall(),
        "ledger_tree": conn.execute("SELECT * FROM ledger_tree WHERE idx < (? >> level) "
                                    "ORDER BY level, idx", (n,)).fetchall(),
    }
    schema = _schema(conn, STORE_TABLES)
    conn.close()
    write = _write(schema, tables, indexes_after=False)
    key, message = Ed25519PrivateKey.generate(), os.urandom(160)  # a signed message's size
    started = time.perf_counter()
    for _ in range(n):
        key.sign(message)
    return n / (write + time.perf_counter() - started)


def rebuild_ceiling(path: Path, events: int, decode_seconds: float) -> float:
    """Events a second: the raw read and JSON decode (``decode_seconds`` for ``events``) plus
    the read models' rows written again with their indexes made after, as a rebuild does."""
    projections = path.with_name(f"{path.stem}.projections{path.suffix or '.db'}")
    conn = sqlite3.connect(projections)
    schema = _schema(conn)
    share = min(1.0, SAMPLE / events)
    tables = {}
    for kind, sql in schema:
        if kind == "table":
            name = sql.split("(", 1)[0].split()[-1].strip('"')
            count = conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            tables[name] = conn.execute(f'SELECT * FROM "{name}" LIMIT ?',
                                        (round(count * share),)).fetchall()
    conn.close()
    write = _write(schema, tables, indexes_after=True) / share
    return events / (decode_seconds + write)
