"""Benchmark suite: each figure beside a baseline measured in the same run, as a ratio.

    bash scripts/bench [--quick] [--events N]

--quick: 10,000 events (under a minute). Default: 100,000. Writes bench-results/bench.json and
bench-results/bench.md. Absolute times on a shared machine are noise; the ratios are the point.
SQLite only so far (issue 7 adds PostgreSQL beside it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEDGER = [str(Path(sys.executable).parent / "ledger")]


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
    from ledger.services import Ledger
    from ledger.synthetic import history

    ledger = Ledger(url)
    batch: list[Any] = []
    started = time.perf_counter()
    for fact in history(events):
        batch.append(fact)
        if len(batch) == 1_000:
            ledger.record(batch)
            batch = []
    if batch:
        ledger.record(batch)
    elapsed = time.perf_counter() - started
    ledger.close()
    return events / elapsed


def raw_insert_rate(events: int, size: int) -> float:
    from bench_append import raw_sqlite  # the same baseline as the append benchmark

    with tempfile.TemporaryDirectory() as folder:
        return raw_sqlite(Path(folder) / "raw.db", events, size)


CHILD = r"""
import hashlib, json, resource, sys, time
url, what = sys.argv[1], sys.argv[2]
from ledger.services import Ledger
ledger = Ledger(url, create=False)
started = time.perf_counter()
count = 0
if what == "read-decode":
    for note in ledger.chain.linked():
        json.loads(note.state); count += 1
elif what == "read-sha":
    for note in ledger.chain.linked():
        hashlib.sha256(note.state).digest(); count += 1
elif what == "verify":
    from ledger.audit import verify
    result = verify(ledger); assert result.ok; count = result.head_position
else:
    from projections.runner import Runner
    count = Runner(ledger).rebuild()
print(json.dumps({"events": count, "seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(url: str, what: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, url, what], check=True,
                         capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def trail_latency(url: str, runs: int = 30) -> tuple[float, float]:
    from ledger.services import Ledger
    from projections.base import Ask
    from projections.runner import DECISION_TRAIL, Runner

    ledger = Ledger(url, create=False)
    runner = Runner(ledger)
    samples = []
    with runner.reading() as rows:
        for n in range(runs):
            started = time.perf_counter()
            DECISION_TRAIL.decisions(rows, Ask.of(), text=f"decision {n % 20}",
                                     date_from="2011-01-01")
            samples.append(time.perf_counter() - started)
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
    with Ledger(url, create=False) as ledger:
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


def measure(url: str, events: int, small_url: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    rate = generate(url, events)
    raw = raw_insert_rate(min(events, 100_000), 400)
    rows.append({"measure": "bulk import, validated and hash-chained (events/s)",
                 "value": rate, "baseline": raw, "ratio": rate / raw, "goal": "ratio >= 0.25"})
    pass_time = timed([sys.executable, "-c", "pass"])
    register_officer(url)
    record_time = timed(lambda: record_decision(url), runs=3)
    rows.append({"measure": "one `record DecisionRecorded` through the CLI (s)",
                 "value": record_time, "baseline": pass_time, "ratio": record_time / pass_time,
                 "goal": "<= 4x and <= 0.4 s"})
    decode, rebuild = child(url, "read-decode"), child(url, "rebuild")
    rebuild_rate = rebuild["events"] / rebuild["seconds"]
    decode_rate = decode["events"] / decode["seconds"]
    rows.append({"measure": f"rebuild of all projections (events/s; peak RSS "
                            f"{rebuild['rss_mb']:.0f} MB)",
                 "value": rebuild_rate, "baseline": decode_rate,
                 "ratio": rebuild_rate / decode_rate, "goal": "ratio >= 0.30; RSS <= 300 MB"})
    sha, verified = child(url, "read-sha"), child(url, "verify")
    verify_rate = verified["events"] / verified["seconds"]
    sha_rate = sha["events"] / sha["seconds"]
    rows.append({"measure": "verify (events/s)", "value": verify_rate, "baseline": sha_rate,
                 "ratio": verify_rate / sha_rate, "goal": "ratio >= 0.70"})
    p50, p95 = trail_latency(url)
    small_p95 = trail_latency(small_url)[1] if small_url is not None else p95
    rows.append({"measure": f"decision-trail query p95 (s; p50 {p50:.4f}), baseline: at 10k",
                 "value": p95, "baseline": small_p95, "ratio": p95 / small_p95,
                 "goal": "p95 <= 0.020 s; growth <= 2x"})
    help_time = timed([*LEDGER, "--help"])
    rows.append({"measure": "`ledger --help` cold start (s)", "value": help_time,
                  "baseline": pass_time, "ratio": help_time / pass_time, "goal": "<= 0.25 s"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 events, under a minute")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    events = 10_000 if args.quick else args.events
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        small = None
        if events > 10_000:
            small = f"sqlite:///{folder}/small.db"
            generate(small, 10_000)
        results["sqlite"] = measure(f"sqlite:///{folder}/ledger.db", events, small)
    lines = [f"events: {events:,}", "",
             "| backend | measure | value | baseline in the same run | ratio | goal |",
             "|---|---|---|---|---|---|"]
    for backend, rows in results.items():
        for r in rows:
            lines.append(f"| {backend} | {r['measure']} | {r['value']:,.4g} | "
                         f"{r['baseline']:,.4g} | {r['ratio']:.3f} | {r['goal']} |")
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"events": events, "results": results},
                                               indent=2))
    (out / "bench.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
