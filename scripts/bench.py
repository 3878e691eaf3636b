"""Benchmark suite: each figure beside a baseline measured in the same run, as a ratio.

    bash scripts/bench [--quick] [--events N] [--runs N] [--backend sqlite|postgresql ...]

--quick: 10,000 events on each backend (2-3 minutes), a smoke check. Default: 1,000,000
events, the scale the goals are set for (an estimated hour on two idle cores: Ed25519 signing
and verifying cost ~50 and ~180 us an event there). SQLite is a temporary
file; PostgreSQL (127.0.0.1:5432, database test, or $BENCH_POSTGRES) a schema created for the
run and dropped after it. Writes bench-results/bench.json and bench-results/bench.md.
Absolute times on a shared machine are noise; the ratios are the point. Every log is signed:
it starts with a genesis and the synthetic records officer signs the history
(src/ledger/synthetic.py); the CLI measures write as a registered officer with a key in a
temporary LEDGER_KEY_DIR, against the peer click CLI `sqlite-utils` (a dev dependency).
Issue 14's proofs, their size and the tree's cost to appends are in scripts/bench_proofs.py;
the tree-upkeep measure appends to the log, so it runs last. On SQLite the import and the
rebuild are also shown beside their ceilings (scripts/bench_ceiling.py): the same rows
written with no code of ours around them.
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
PEER = [str(Path(sys.executable).parent / "sqlite-utils")]
"""The peer click CLI the ledger's is timed against (a dev dependency)."""
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SMALL = 10_000
VERIFY_SAMPLE = 250_000
"""Events the verify baseline reads (each of its two runs): at 1M, all of them took as long
as the two measures of verify it is compared with."""
"""The decision-trail query's baseline: the same query on a ledger of this many events."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(line: list[str], env: dict[str, str] | None = None) -> None:
    """Runs a command to completion; a failure stops the bench with the command's own error."""
    done = subprocess.run(line, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        sys.exit(f"error: {' '.join(line[:6])} ... exited {done.returncode}: {' / '.join(tail)}")


def cold_starts(commands: dict[str, Callable[[], list[str]]], runs: int = 7,
                env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall time of each command run afresh each time (a cold process). The commands
    take turns, round by round, so that a slow spell of the machine hits them alike; the first
    round (caches, a table the peer creates) is not counted."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, command in commands.items():
            line = command()
            started = time.perf_counter()
            run(line, env)
            if round_:
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


def generate(url: str, events: int) -> float:
    """Bulk import of a synthetic history in batches of 1,000 facts, validated, signed and
    hash-chained, on a log made by its genesis; events per second of ``Ledger.record`` (the
    facts are built outside the clock, as the baseline's rows are)."""
    from ledger.synthetic import create, history

    ledger = create(url)
    done, elapsed = 0, 0.0

    def record(batch: list[Any]) -> None:
        nonlocal done, elapsed
        started = time.perf_counter()
        ledger.record(batch)
        elapsed += time.perf_counter() - started
        done += len(batch)
        if done % 100_000 == 0:
            say(f"  imported {done:,} of {events:,}")

    batch: list[Any] = []
    for fact in history(events):
        batch.append(fact)
        if len(batch) == 1_000:
            record(batch)
            batch = []
    if batch:
        record(batch)
    ledger.close()
    return done / elapsed


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
limit = int(sys.argv[3]) if len(sys.argv) > 3 else -1  # the raw baselines' sample; -1: all
count = 0
if what in ("read-decode", "read-verify"):
    import base64, sqlite3, struct
    import psycopg
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from ledger.adapters.store import CHAIN_TABLE, EVENTS_TABLE, LOG_TABLE, StoreLocation
    where = StoreLocation.parse(url)
    sqlite = where.backend == "sqlite"
    prefix = "" if sqlite else f'"{where.schema}".'
    nid = "rowid" if sqlite else "notification_id"
    conn = sqlite3.connect(where.path) if sqlite else psycopg.connect(url.split("?", 1)[0])
    if what == "read-decode":  # every stored event, decoded
        sql = f"SELECT state FROM {prefix}{EVENTS_TABLE} ORDER BY {nid}"
    else:  # the rows verify reads (links joined to events), each payload hashed, each
        # signature checked against its signer's key; the keys and the log id are read first
        log_id = conn.execute(f"SELECT log_id FROM {prefix}{LOG_TABLE}").fetchone()[0]
        keys = {}
        for (state,) in conn.execute(f"SELECT state FROM {prefix}{EVENTS_TABLE} WHERE topic IN "
                                     "('ActorRegistered', 'ActorKeyRotated')").fetchall():
            fields = json.loads(state)
            raw = base64.b64decode(fields["public_key"].split(":", 1)[1])
            keys[(fields["key"], hashlib.sha256(raw).digest()[:8])] = (
                Ed25519PublicKey.from_public_bytes(raw))
        originator = "e.originator_id" if sqlite else "uuid_send(e.originator_id)"
        sql = (f"SELECT c.salt, e.state, {originator}, e.originator_version, e.topic, "
               f"c.signer, c.key_id, c.signature, c.signed_at FROM {prefix}{CHAIN_TABLE} c "
               f"JOIN {prefix}{EVENTS_TABLE} e ON e.{nid} = c.notification_id "
               "ORDER BY c.position" + (f" LIMIT {limit}" if limit >= 0 else ""))
    started = time.perf_counter()  # after imports, as for the ledger below
    if sqlite:
        cursor = conn.execute(sql)
    else:
        cursor = conn.cursor(name="raw")
        cursor.execute(sql)
    sha256, payload, head = hashlib.sha256, b"ledger-payload/v1\x00", struct.Struct(">16sQ")
    signed = b"ledger-signature/v1\x00" + (log_id or bytes(16)) if what == "read-verify" else b""
    while rows := cursor.fetchmany(5000):
        if what == "read-decode":
            for (state,) in rows:
                json.loads(state); count += 1
        else:  # Ed25519PublicKey.verify raises on a bad signature: each one is checked
            for salt, state, oid, version, topic, signer, key_id, signature, signed_at in rows:
                digest = sha256(payload + salt + state).digest()
                raw = bytes.fromhex(oid) if sqlite else oid
                topic_b, signer_b, at_b = topic.encode(), signer.encode(), signed_at.encode()
                message = (signed + head.pack(raw, version)
                           + len(topic_b).to_bytes(4, "big") + topic_b + digest
                           + len(signer_b).to_bytes(4, "big") + signer_b
                           + len(at_b).to_bytes(4, "big") + at_b)
                keys[(signer, key_id)].verify(signature, message)
                count += 1
else:
    from ledger.services import Ledger
    from ledger.audit import verify
    from projections.runner import Runner
    ledger = Ledger(url, mode="read")
    started = time.perf_counter()
    if what.startswith("verify"):
        result = verify(ledger, processes=1 if what == "verify-one" else None)
        assert result.ok and sum(result.signers.values()) == result.head_position, result
        count = result.head_position
    else:
        count = Runner(ledger).rebuild()
print(json.dumps({"events": count, "seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(url: str, what: str, limit: int | None = None) -> dict[str, float]:
    """One measure in a fresh process, so that its peak RSS is its own (a raw baseline may
    read only the first ``limit`` events)."""
    say(f"  {what}")
    out = subprocess.run([sys.executable, "-c", CHILD, url, what,
                          *([] if limit is None else [str(limit)])], capture_output=True,
                         text=True)
    if out.returncode != 0:
        sys.exit(f"error: {what}: " + " / ".join(out.stderr.strip().splitlines()[-3:]))
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def fastest(*results: dict[str, float]) -> dict[str, float]:
    return max(results, key=rate)


def rate(result: dict[str, float]) -> float:
    return result["events"] / result["seconds"]


def trail_latency(url: str, runs: int = 200) -> tuple[float, float]:
    """p50 and p95 of the Panel's first page (50) of the trail from a date: by free text, then
    by the first area's commissioner. Every page is full at 10k events too (the dates run from
    2012, when the commissioners took over, to 2021), so the sizes compare like for like."""
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
            question: dict[str, Any] = {"date_from": f"{2012 + n % 10}-01-01", "limit": 50,
                        **({"text": "decision"} if n % 2 else {"body": COMMISSIONER})}
            started = time.perf_counter()
            found = DECISION_TRAIL.decisions(rows, Ask.of(), **question)
            samples.append(time.perf_counter() - started)
            assert len(found) == 50, f"a full page: {question} found {len(found)}"
    runner.close()
    ledger.close()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


OFFICER = "bench-officer"


def cli_environment(url: str, folder: Path) -> dict[str, str]:
    """The environment the CLI measures run in: a key directory holding a new key for an
    officer of the first area's commissioner, whom the synthetic administrator registers, and
    the log's own key, which signs its checkpoints (made at the genesis, as `ledger init`
    makes it: see ledger.provisioning)."""
    from ledger.adapters.keys import KeyDir
    from ledger.services import Ledger
    from ledger.synthetic import COMMISSIONER, register

    keys = KeyDir(folder / "keys")
    officer = keys.signer_or_new(OFFICER)
    with Ledger(url) as ledger:
        if ledger.get("actor", OFFICER) is None:
            register(ledger, OFFICER, "Bench officer", ["officer"], COMMISSIONER,
                     officer.public_text)
        log_id = ledger.chain.log_id()
        assert log_id is not None, "a synthetic log has a log id"
        keys.signer_or_new(f"log-{uuid.UUID(bytes=log_id)}")
    env = {**os.environ, "LEDGER_KEY_DIR": str(keys.path),
           # bytecode cached as on any installed machine, for ledger and the peer alike (an
           # editable install has none until a first run writes it; PYTHONDONTWRITEBYTECODE
           # would make every run compile the ledger's ~30 modules again, ~60 ms)
           "PYTHONPYCACHEPREFIX": str(folder / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def record_decision(url: str) -> list[str]:
    return [*LEDGER, "--store", url, "decision", "record", f"bench-{uuid.uuid4().hex[:8]}",
            "--as", OFFICER, "--title", "Bench decision", "--originator", "Policy officer",
            "--executive-summary", "Summary of the decision", "--decision", "Agreed",
            "--effective-at", "2024-06-01", "--source-document", "bench"]


def peer_insert(folder: Path) -> list[str]:
    """The peer: `sqlite-utils insert` of one row of the same fields into a SQLite file."""
    row = folder / "row.json"
    if not row.exists():
        row.write_text(json.dumps({
            "key": "bench", "title": "Bench decision", "originator": "Policy officer",
            "executive_summary": "Summary of the decision", "decision": "Agreed",
            "effective_at": "2024-06-01", "source_document": "bench", "actor": OFFICER}))
    return [*PEER, "insert", str(folder / "peer.db"), "decisions", str(row)]


def mean_state_size(url: str) -> int:
    from ledger.services import Ledger

    with Ledger(url, mode="read") as ledger:
        sizes = [len(n.state or b"") for n in ledger.chain.linked(until=SMALL)]
    return round(sum(sizes) / len(sizes))


def measure(backend: str, events: int, runs: int) -> list[dict[str, Any]]:
    from bench_ceiling import import_ceiling, rebuild_ceiling
    from bench_proofs import (
        APPEND_BATCH,
        APPEND_PAIRS,
        REPEATS,
        SAMPLES,
        proof_measures,
        tree_upkeep,
    )

    from ledger.adapters.store import StoreLocation

    def row(measure: str, value: float, baseline: float, goal: str, met: bool | None,
            **extra: Any) -> None:
        found.append({"measure": measure, "value": value, "baseline": baseline,
                      "ratio": value / baseline, "goal": goal, "met": met, **extra})

    found: list[dict[str, Any]] = []
    with stores(backend) as fresh, tempfile.TemporaryDirectory() as scratch:
        url = fresh("ledger")
        say(f"{backend}: importing {events:,} synthetic events, signed")
        imported = generate(url, events)
        size = mean_state_size(url)
        raw = raw_insert_rate(url, min(events, 100_000), size)
        row("bulk import, validated, signed and hash-chained (events/s)", imported, raw,
            ">= 0.25", imported / raw >= 0.25,
            baseline_is=f"raw executemany, rows of {size} bytes")
        where = StoreLocation.parse(url)
        if where.path is not None:  # SQLite: what no faster code of ours could pass
            row("the import's ceiling: its rows written again by one executemany per table, "
                "and one Ed25519 signature an event, nothing else (events/s)",
                import_ceiling(where.path), raw, "report", None,
                baseline_is=f"raw executemany, rows of {size} bytes")

        folder = Path(scratch)
        env = cli_environment(url, folder)
        say(f"{backend}: {SAMPLES} inclusion and {SAMPLES} consistency proofs, beside raw reads")
        proofs = proof_measures(url, LEDGER, env)
        at = f"{proofs['size']:,} events"
        for kind in ("inclusion", "consistency"):
            (p50, p95), first = proofs[kind], proofs[f"{kind} first"][1]
            row(f"{kind} proof generation p95 at {at}, best of {REPEATS} tries (s; p50 "
                f"{p50 * 1000:.2f} ms; first tries' p95 {first * 1000:.2f} ms)", p95,
                proofs[f"{kind} raw"][1], "<= 0.005 s", p95 <= 0.005, p50=p50, first_p95=first,
                baseline_is=f"one raw SELECT of each tree row it reads (<= "
                f"{proofs['reads'][kind]}), p95")
        for kind in ("inclusion", "consistency"):
            size = proofs[f"{kind} bytes"]
            hashes = (f"{size['hashes'] - 1} hashes and the leaf hash" if kind == "inclusion"
                      else f"{size['hashes']} hashes")
            row(f"largest {kind} proof at {at}, the JSON `ledger proof` prints (bytes; "
                f"{hashes}; compact JSON {size['compact']})", size["printed"],
                size["raw"], "<= 1024 bytes", size["printed"] <= 1024, hashes=size["hashes"],
                compact=size["compact"], baseline_is="its hashes as raw bytes")

        say(f"{backend}: CLI cold starts, medians of {runs} (beside sqlite-utils)")
        times = cold_starts({
            "record": lambda: record_decision(url),
            "insert": lambda: peer_insert(folder),
            "checkpoint": lambda: [*LEDGER, "--store", url, "checkpoint", "-o",
                                   str(folder / "checkpoint.note")],
            "help": lambda: [*LEDGER, "--help"],
            "peer help": lambda: [*PEER, "--help"],
            "pass": lambda: [sys.executable, "-c", "pass"],
        }, runs=runs, env=env)
        row(f"one officer `decision record` through the CLI (s; `python -c pass` "
            f"{times['pass']:.3f})", times["record"], times["insert"], "<= 1.5x",
            times["record"] / times["insert"] <= 1.5, python=times["pass"],
            baseline_is="one `sqlite-utils insert` of a row into a SQLite file")
        row(f"`ledger --help` cold start (s; `python -c pass` {times['pass']:.3f})",
            times["help"], times["peer help"], "<= 1.0x and <= 0.25 s",
            times["help"] <= min(times["peer help"], 0.25), python=times["pass"],
            baseline_is="`sqlite-utils --help`")
        beyond = times["checkpoint"] - times["help"]
        row(f"`ledger checkpoint -o FILE` cold start (s; {beyond * 1000:+.0f} ms beyond "
            "`ledger --help`)", times["checkpoint"], times["help"], "<= `--help` + 0.050 s",
            beyond <= 0.050, beyond=beyond, baseline_is="`ledger --help` cold start")

        say(f"{backend}: rebuild, verify and their raw baselines")
        # each baseline runs before and after what it is compared with, and the faster run
        # counts: a busy spell of a shared machine can then only lower the ratio, never raise it
        decoded, rebuilt = child(url, "read-decode"), child(url, "rebuild")
        decoded = fastest(decoded, child(url, "read-decode"))
        row(f"rebuild of all projections (events/s; peak RSS {rebuilt['rss_mb']:.0f} MB)",
            rate(rebuilt), rate(decoded), ">= 0.30; RSS <= 300 MB",
            rate(rebuilt) / rate(decoded) >= 0.30 and rebuilt["rss_mb"] <= 300,
            rss_mb=rebuilt["rss_mb"], baseline_is="raw read + JSON decode")
        if where.path is not None:
            row("the rebuild's ceiling: raw read + JSON decode, and the read models' rows "
                "written again by one executemany per table, nothing else (events/s)",
                rebuild_ceiling(where.path, int(decoded["events"]), decoded["seconds"]),
                rate(decoded), "report", None, baseline_is="raw read + JSON decode")
        # its rate is Ed25519's, flat along the log: the first VERIFY_SAMPLE events give it
        checked, verified = child(url, "read-verify", VERIFY_SAMPLE), child(url, "verify")
        one = child(url, "verify-one")
        checked = fastest(checked, child(url, "read-verify", VERIFY_SAMPLE))
        sample = (f", first {int(checked['events']):,} events"
                  if checked["events"] < verified["events"] else "")
        baseline_is = ("raw read of links + events, SHA-256 of each payload, Ed25519 verify of "
                       f"each{sample}")
        row(f"verify with signatures, default: {processes(int(verified['events']))} (events/s)",
            rate(verified), rate(checked), ">= 0.70", rate(verified) / rate(checked) >= 0.70,
            baseline_is=baseline_is + " (one process)")
        row("verify with signatures, one process (events/s)", rate(one), rate(checked),
            ">= 0.70", rate(one) / rate(checked) >= 0.70, baseline_is=baseline_is)

        say(f"{backend}: decision-trail query")
        p50, p95 = trail_latency(url)
        small_p95 = p95
        if events > SMALL:
            small = fresh("small")
            generate(small, SMALL)
            small_p95 = trail_latency(small)[1]
        row(f"decision-trail first page p95 (s; p50 {p50:.4f})", p95, small_p95,
            "<= 0.020 s; growth <= 2x", p95 <= 0.020 and p95 / small_p95 <= 2, p50=p50,
            baseline_is=f"same query at {SMALL:,}")

        say(f"{backend}: appends with the tree kept and with its table set aside, in turns")
        upkeep = tree_upkeep(url)  # last: it appends to the log
        for kind, what in (("batched", f"batches of {APPEND_BATCH:,}"),
                           ("single", "one fact per call")):
            low, high = upkeep[f"{kind} range"]
            row(f"append with tree upkeep, {what} (events/s; end to end against the tree "
                f"table set aside: median {upkeep[f'{kind} end to end']:.2f} of "
                f"{APPEND_PAIRS} pairs, range {low:.2f}-{high:.2f})", upkeep[kind],
                upkeep[f"{kind} less tree"], "report", None,
                end_to_end=upkeep[f"{kind} end to end"], end_to_end_range=[low, high],
                baseline_is="the same appends less the tree's upkeep timed inside them")
    return found


def processes(head: int) -> str:
    """How the default verify walks a log of this length (see ledger.audit)."""
    from ledger.audit import PARALLEL_FROM, _cores

    parts = min(_cores(), 8) if head >= PARALLEL_FROM else 1
    return f"{parts} process{'es' if parts > 1 else ''}"


MET = {True: "yes", False: "no", None: "-"}


def table(events: int, results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [f"events: {events:,} ({time.strftime('%Y-%m-%d')})", "",
             "| backend | measure | value | baseline in the same run | ratio | goal | met |",
             "|---|---|---|---|---|---|---|"]
    for backend, rows in results.items():
        for r in rows:
            lines.append(f"| {backend} | {r['measure']} | {r['value']:,.4g} | "
                         f"{r['baseline']:,.4g} ({r['baseline_is']}) | {r['ratio']:.3f} | "
                         f"{r['goal']} | {MET[r['met']]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{SMALL:,} events, 2-3 minutes")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7,
                        help="cold starts per CLI measure, of which the median counts")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    events = SMALL if args.quick else args.events
    if events < SMALL:
        parser.error(f"--events: at least {SMALL:,} (the trail query's baseline size)")
    if args.runs < 1:
        parser.error("--runs: at least 1")
    if not Path(PEER[0]).exists():
        sys.exit(f"error: peer: no {PEER[0]}; install the dev dependencies "
                 "(pip install -e '.[dev]')")
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
    results = {backend: measure(backend, events, args.runs) for backend in backends}
    text = table(events, results)
    print(text)
    say(f"done in {time.perf_counter() - started:,.0f} s")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"events": events, "date": time.strftime(
        "%Y-%m-%d"), "results": results}, indent=2))
    (out / "bench.md").write_text(text + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
