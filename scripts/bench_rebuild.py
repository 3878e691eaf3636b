#!/usr/bin/env python3
"""Rebuild rate and peak memory of all projections, beside raw read + JSON decode of the rows.

    .venv/bin/python scripts/bench_rebuild.py [--events 100000] [--store URL]

Generates a synthetic history into a fresh SQLite store (unless --store names one that already
holds it), then, each in a fresh process so peak RSS is its own: the baseline (read every
stored event and decode its JSON) and `Runner.rebuild()`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
url, what = sys.argv[1], sys.argv[2]
from ledger.services import Ledger
ledger = Ledger(url, create=False)
started = time.perf_counter()
if what == "baseline":
    count = 0
    for note in ledger.chain.linked():
        json.loads(note.state)
        count += 1
else:
    from projections.runner import Runner
    count = Runner(ledger).rebuild()
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"events": count, "seconds": elapsed, "peak_rss_mb": peak_mb}))
"""


def generate(url: str, events: int) -> float:
    from ledger.services import Ledger
    from ledger.synthetic import history

    ledger = Ledger(url)
    batch: list = []
    started = time.perf_counter()
    for fact in history(events):
        batch.append(fact)
        if len(batch) == 1_000:
            ledger.record(batch)
            batch = []
            print(f"generated {ledger.chain.head()[0]:,}", file=sys.stderr, end="\r")
    if batch:
        ledger.record(batch)
    ledger.close()
    return time.perf_counter() - started


def measure(url: str, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, url, what], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--store", help="an existing store holding the history")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-rebuild-")
    url = args.store or f"sqlite:///{Path(folder) / 'ledger.db'}"
    if not args.store:
        seconds = generate(url, args.events)
        print(f"generated {args.events:,} events in {seconds:.1f} s "
              f"({args.events / seconds:,.0f} events/s, batches of 1,000)", file=sys.stderr)
    baseline, rebuild = measure(url, "baseline"), measure(url, "rebuild")
    rows = [
        ("raw read + JSON decode", baseline),
        ("rebuild of all projections", rebuild),
    ]
    print("| measure | events | events/s | peak RSS (MB) | ratio to baseline |")
    print("|---|---|---|---|---|")
    base_rate = baseline["events"] / baseline["seconds"]
    for name, r in rows:
        rate = r["events"] / r["seconds"]
        print(f"| {name} | {r['events']:,} | {rate:,.0f} | {r['peak_rss_mb']:.0f} | "
              f"{rate / base_rate:.3f} |")


if __name__ == "__main__":
    main()
