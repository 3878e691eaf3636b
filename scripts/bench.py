"""Benchmark suite: each figure beside a baseline measured in the same run, as a ratio.

    bash scripts/bench [--quick] [--events N] [--backend sqlite|postgresql ...]

--quick: 10,000 events on each backend (under a minute), a smoke check. Default: 1,000,000
events, the scale the goals are set for (about 25 minutes on two cores). SQLite is a temporary
file; PostgreSQL (127.0.0.1:5432, database test, or $BENCH_POSTGRES) a schema created for the
run and dropped after it. Writes bench-results/bench.json and bench-results/bench.md.
Absolute times on a shared machine are noise; the ratios are the point.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEDGER = [str(Path(sys.executable).parent / "ledger")]
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SMALL = 10_000
"""The decision-trail query's baseline: the same query on a ledger of this many events."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(command: list[str] | Callable[[], list[str]], runs: int = 5) -> float:
    """Median wall time of a command run afresh each time (a cold process)."""
    samples = []
    for _ in range(runs):
        line = command() if callable(command) else command
        started = time.perf_counter()
        subprocess.run(line, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def generate(url: str, events: int) -> float:
    """Bulk import of a synthetic history in batches of 1,000 facts; events per second."""
    from ledger.services import Ledger
    from ledger.synthetic import history

    ledger = Ledger(url)
    batch: list[Any] = []
    done = 0
    started = time.perf_counter()
    for fact in history(events):
        batch.append(fact)
        if len(batch) == 1_000:
            ledger.record(batch)
            done += len(batch)
            batch = []
            if done % 100_000 == 0:
                say(f"  imported {done:,} of {events:,}")
    if batch:
        ledger.record(batch)
    elapsed = time.perf_counter() - started
    ledger.close()
    return events / elapsed


@contextlib.contextmanager
def stores(backend: str) -> Iterator[Callable[[str], str]]:
    """Hands out fresh store URLs on one backend and removes them all afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield lambda name: f"sqlite:///{folder}/{name}.db"
        return
    import psycopg

    base = POSTGRES.split("?", 1)[0]
    schemas: list[str] = []

    def fresh(name: str) -> str:
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return f"{base}?schema={schema}"

    try:
        yield fresh
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def raw_insert_rate(url: str, events: int, size: int) -> float:
    """The baseline: one executemany of rows of the same byte size, in one transaction."""
    from bench_append import raw_postgres, raw_sqlite

    from ledger.adapters.store import StoreLocation

    where = StoreLocation.parse(url)
    if where.backend == "sqlite":
        assert where.path is not None
        return raw_sqlite(where.path.with_name("raw.db"), events, size)
    return raw_postgres(where.schema, events, size, POSTGRES.split("?", 1)[0])


CHILD = r"""
import hashlib, json, resource, sys, time
url, what = sys.argv[1], sys.argv[2]
count = 0
if what in ("read-decode", "read-sha"):
    from ledger.adapters.store import CHAIN_TABLE, EVENTS_TABLE, StoreLocation
    import sqlite3, psycopg
    where = StoreLocation.parse(url)
    sqlite = where.backend == "sqlite"
    prefix = "" if sqlite else f'"{where.schema}".'
    nid = "rowid" if sqlite else "notification_id"
    if what == "read-decode":  # every stored event, decoded
        sql = f"SELECT state FROM {prefix}{EVENTS_TABLE} ORDER BY {nid}"
    else:  # the rows verify reads (links joined to events), each payload hashed
        sql = (f"SELECT c.salt, e.state FROM {prefix}{CHAIN_TABLE} c "
               f"JOIN {prefix}{EVENTS_TABLE} e ON e.{nid} = c.notification_id ORDER BY c.position")
    started = time.perf_counter()  # after imports, as for the ledger below
    if sqlite:
        cursor = sqlite3.connect(where.path).execute(sql)
    else:
        cursor = psycopg.connect(url.split("?", 1)[0]).cursor(name="raw")
        cursor.execute(sql)
    sha256, payload = hashlib.sha256, b"ledger-payload/v1\x00"
    while rows := cursor.fetchmany(5000):
        if what == "read-decode":
            for (state,) in rows:
                json.loads(state); count += 1
        else:
            for salt, state in rows:
                sha256(payload + salt + state).digest(); count += 1
else:
    from ledger.services import Ledger
    from ledger.audit import verify
    from projections.runner import Runner
    ledger = Ledger(url, mode="read")
    started = time.perf_counter()
    if what.startswith("verify"):
        result = verify(ledger, processes=1 if what == "verify-one" else None)
        assert result.ok; count = result.head_position
    else:
        count = Runner(ledger).rebuild()
print(json.dumps({"events": count, "seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(url: str, what: str) -> dict[str, float]:
    """One measure in a fresh process, so that its peak RSS is its own."""
    say(f"  {what}")
    out = subprocess.run([sys.executable, "-c", CHILD, url, what], check=True,
                         capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def rate(result: dict[str, float]) -> float:
    return result["events"] / result["seconds"]


def trail_latency(url: str, runs: int = 40) -> tuple[float, float]:
    """p50 and p95 of the Panel's first page (50) of the trail from a date: by free text, then
    by body. Every page is full at 10k events too, so the sizes compare like for like."""
    from ledger.services import Ledger
    from ledger.synthetic import COMMISSIONER
    from projections.base import Ask
    from projections.runner import DECISION_TRAIL, Runner

    ledger = Ledger(url, mode="read")
    runner = Runner(ledger)
    runner.catch_up()
    samples = []
    with runner.reading() as rows:
        for n in range(runs):
            question = {"date_from": f"{2011 + n % 20}-01-01", "limit": 50,
                        **({"text": "decision"} if n % 2 else {"body": COMMISSIONER})}
            started = time.perf_counter()
            found = DECISION_TRAIL.decisions(rows, Ask.of(), **question)
            samples.append(time.perf_counter() - started)
            assert len(found) == 50, "a full page"
    runner.close()
    ledger.close()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def register_officer(url: str) -> None:
    """The synthetic history has no ledger users: the bootstrap administrator adds one."""
    from ledger.services import Fact, Ledger

    envelope = {"role": "administrator", "body": "synthetic-pcc", "effective_at": "2014-01-01",
                "source": {"document": "bench"}, "acts_for": "synthetic-pcc",
                "actor": "bench-admin"}
    with Ledger(url, mode="read") as ledger:
        ledger.record([Fact(type="ActorRegistered", key="bench-admin",
                            fields={**envelope, "name": "Admin", "roles": ["administrator"]})],
                      acting="bench-admin")
        ledger.record([Fact(type="ActorRegistered", key="bench-officer",
                            fields={**envelope, "name": "Officer", "roles": ["officer"]})],
                      acting="bench-admin")


def record_decision(url: str) -> list[str]:
    return [*LEDGER, "--store", url, "decision", "record", f"bench-{uuid.uuid4().hex[:8]}",
            "--as", "bench-officer", "--title", "T", "--originator", "O",
            "--executive-summary", "S", "--decision", "D",
            "--effective-at", "2014-01-01", "--source-document", "bench"]


def mean_state_size(url: str) -> int:
    from ledger.services import Ledger

    with Ledger(url, mode="read") as ledger:
        sizes = [len(n.state or b"") for n in ledger.chain.linked(until=SMALL)]
    return round(sum(sizes) / len(sizes))


def measure(backend: str, events: int) -> list[dict[str, Any]]:
    def row(measure: str, value: float, baseline: float, goal: str, **extra: Any) -> None:
        found.append({"measure": measure, "value": value, "baseline": baseline,
                      "ratio": value / baseline, "goal": goal, **extra})

    found: list[dict[str, Any]] = []
    with stores(backend) as fresh:
        url = fresh("ledger")
        say(f"{backend}: importing {events:,} synthetic events")
        imported = generate(url, events)
        size = mean_state_size(url)
        raw = raw_insert_rate(url, min(events, 100_000), size)
        row("bulk import, validated and hash-chained (events/s)", imported, raw,
            "ratio >= 0.25", baseline_is=f"raw executemany, rows of {size} bytes")

        say(f"{backend}: CLI cold starts")
        pass_time = timed([sys.executable, "-c", "pass"])
        register_officer(url)
        record_time = timed(lambda: record_decision(url), runs=5)
        row("one officer `decision record` through the CLI (s)", record_time, pass_time,
            "<= 4x and <= 0.4 s", baseline_is="python -c pass")

        say(f"{backend}: rebuild, verify and their raw baselines")
        decoded, rebuilt = child(url, "read-decode"), child(url, "rebuild")
        row(f"rebuild of all projections (events/s; peak RSS {rebuilt['rss_mb']:.0f} MB)",
            rate(rebuilt), rate(decoded), "ratio >= 0.30; RSS <= 300 MB",
            rss_mb=rebuilt["rss_mb"], baseline_is="raw read + JSON decode")
        hashed, verified = child(url, "read-sha"), child(url, "verify")
        one = child(url, "verify-one")
        row(f"verify (events/s; {rate(one):,.0f} in one process)", rate(verified), rate(hashed),
            "ratio >= 0.70", one_process=rate(one),
            baseline_is="raw read of links + events, SHA-256 of each payload")

        say(f"{backend}: decision-trail query")
        p50, p95 = trail_latency(url)
        small_p95 = p95
        if events > SMALL:
            small = fresh("small")
            generate(small, SMALL)
            small_p95 = trail_latency(small)[1]
        row(f"decision-trail first page p95 (s; p50 {p50:.4f})", p95, small_p95,
            "p95 <= 0.020 s; growth <= 2x", p50=p50, baseline_is=f"same query at {SMALL:,}")

        help_time = timed([*LEDGER, "--help"])
        row("`ledger --help` cold start (s)", help_time, pass_time, "<= 0.25 s",
            baseline_is="python -c pass")
    return found


def table(events: int, results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [f"events: {events:,}", "",
             "| backend | measure | value | baseline in the same run | ratio | goal |",
             "|---|---|---|---|---|---|"]
    for backend, rows in results.items():
        for r in rows:
            lines.append(f"| {backend} | {r['measure']} | {r['value']:,.4g} | "
                         f"{r['baseline']:,.4g} ({r['baseline_is']}) | {r['ratio']:.3f} | "
                         f"{r['goal']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{SMALL:,} events, under a minute")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    events = SMALL if args.quick else args.events
    if events < SMALL:
        parser.error(f"--events: at least {SMALL:,} (the trail query's baseline size)")
    backends = args.backend or ["sqlite", "postgresql"]
    if "postgresql" in backends:
        import psycopg

        try:
            psycopg.connect(POSTGRES.split("?", 1)[0], connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreachable"
            sys.exit(f"error: postgresql: cannot connect to {POSTGRES} ({first}); start it, set "
                     "BENCH_POSTGRES, or pass --backend sqlite")
    started = time.perf_counter()
    results = {backend: measure(backend, events) for backend in backends}
    text = table(events, results)
    print(text)
    say(f"done in {time.perf_counter() - started:,.0f} s")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"events": events, "results": results},
                                               indent=2))
    (out / "bench.md").write_text(text + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
