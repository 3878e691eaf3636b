#!/usr/bin/env python3
"""Append rate, validated and hash-chained, beside raw inserts of rows of the same size.

    .venv/bin/python scripts/bench_append.py [--events 20000] [--single 500] [--no-postgres]

On SQLite (a temporary file) and PostgreSQL (a schema created and dropped), in the same run:
batched appends through the service (batches of 1,000), single appends (one fact per call),
validated, signed and hash-chained on a log made by its genesis (src/ledger/synthetic.py),
and the baseline: one executemany of rows of the same byte size in one transaction. The
batched appends run again on a log whose Merkle tree table is dropped after its genesis (a store
made before the tree, for which appends keep none): the ratio is what the tree's upkeep costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG = dict(host="127.0.0.1", port=5432, dbname="test", user="postgres")


def facts(n: int, prefix: str) -> list[Any]:
    from ledger.services import Fact

    envelope = {"actor": "bench", "role": "officer", "body": "bench-body",
                "effective_at": "2013-05-01", "source": {"document": "bench", "location": "1"}}
    return [Fact(type="GrantAwarded", key=f"{prefix}-{i}", fields={
        **envelope, "recipient": f"Recipient {i % 50}", "amount": "1250.00",
        "purpose": "Community safety partnership work", "funding_body": "bench-body"})
        for i in range(n)]


def body() -> Any:
    from ledger.services import Fact

    return Fact(type="BodyEstablished", key="bench-body", fields={
        "actor": "bench", "role": "officer", "body": "bench-body", "effective_at": "2013-01-01",
        "source": {"document": "bench"}, "name": "Bench", "body_type": "pcc_office"})


def ledger_rates(url: str, n: int, single: int, tree: bool = True) -> tuple[float, float, int]:
    from ledger.services import Ledger
    from ledger.synthetic import create

    ledger = create(url)  # a signed log: genesis, then a records officer signs the rest
    if not tree:
        from bench_proofs import drop_tree

        signer = ledger.signer
        ledger.close()
        drop_tree(url)
        ledger = Ledger(url, signer=signer)
    ledger.record([body()])
    batch = facts(n, "batched")
    started = time.perf_counter()
    for i in range(0, n, 1_000):
        ledger.record(batch[i:i + 1_000])
    batched = n / (time.perf_counter() - started)
    ones = facts(single, "single")
    started = time.perf_counter()
    for one in ones:
        ledger.record([one])
    singles = single / (time.perf_counter() - started)
    first = ledger.chain.census().last - n - single + 1  # the first batched grant
    size = len(next(iter(ledger.chain.linked(first - 1, first))).state or b"")
    ledger.close()
    return batched, singles, size


def raw_rows(n: int, size: int) -> list[tuple[str, int, str, bytes]]:
    return [(uuid.uuid4().hex, 1, "GrantAwarded", os.urandom(size)) for _ in range(n)]


def raw_sqlite(path: Path, n: int, size: int) -> float:
    rows = raw_rows(n, size)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT,"
                 " state BLOB, PRIMARY KEY (originator_id, originator_version))")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO raw VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    rate = n / (time.perf_counter() - started)
    conn.close()
    return rate


def raw_postgres(schema: str, n: int, size: int, conninfo: str = "") -> float:
    import psycopg

    rows = raw_rows(n, size)
    with psycopg.connect(conninfo, **({} if conninfo else PG)) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE TABLE "{schema}".raw (originator_id uuid, originator_version '
                     "bigint, topic text, state bytea, notification_id bigserial, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(f'INSERT INTO "{schema}".raw (originator_id, originator_version, '
                            "topic, state) VALUES (%s,%s,%s,%s)", rows)
        conn.commit()
        return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        batched, singles, size = ledger_rates(f"sqlite:///{folder}/ledger.db", args.events,
                                              args.single)
        bare = ledger_rates(f"sqlite:///{folder}/bare.db", args.events, 0, tree=False)[0]
        raw = raw_sqlite(Path(folder) / "raw.db", args.events, size)
        results.append({"backend": "sqlite", "batched": batched, "single": singles,
                        "batched_without_tree": bare, "raw_executemany": raw,
                        "state_bytes": size})
    if not args.no_postgres:
        import psycopg

        schema, bare_schema = (f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2))
        with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'CREATE SCHEMA "{bare_schema}"')
        try:
            url = f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}"
            batched, singles, size = ledger_rates(url, args.events, args.single)
            bare = ledger_rates(url.replace(schema, bare_schema), args.events, 0, tree=False)[0]
            raw = raw_postgres(schema, args.events, size)
            results.append({"backend": "postgresql", "batched": batched, "single": singles,
                            "batched_without_tree": bare, "raw_executemany": raw,
                            "state_bytes": size})
        finally:
            with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                conn.execute(f'DROP SCHEMA "{bare_schema}" CASCADE')
    print(f"events: {args.events:,} batched (batches of 1,000), {args.single:,} single")
    print("| backend | state bytes | raw executemany (ev/s) | batched (ev/s) | ratio | "
          "single (ev/s) | ratio | batched without tree (ev/s) | with / without tree |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['state_bytes']} | {r['raw_executemany']:,.0f} | "
              f"{r['batched']:,.0f} | {r['batched'] / r['raw_executemany']:.3f} | "
              f"{r['single']:,.0f} | {r['single'] / r['raw_executemany']:.4f} | "
              f"{r['batched_without_tree']:,.0f} | "
              f"{r['batched'] / r['batched_without_tree']:.3f} |")
    Path("bench-results").mkdir(exist_ok=True)
    Path("bench-results/append.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
