"""Issue 14's measures for scripts/bench.py: proofs from the stored Merkle tree, their size, and
what keeping the tree costs an append. Each beside a baseline taken in the same run.

- Proof generation: ``ledger.proofs.inclusion`` and ``consistency`` (what `ledger proof`
  prints) at the log's size, over random positions (inclusion) and random old sizes against
  the log's size (consistency), each the fastest of 3 tries (the first tries' p95 is kept
  too); the baseline, timed beside each try, is one raw driver SELECT by primary key of each
  ``ledger_tree`` row that proof reads.
- Proof size: the JSON `ledger proof ... --format json` prints (``json.dumps(..., indent=2)``
  and a newline), for the longest proofs at that size (position 1, and old sizes around powers
  of two, where the paths are longest); the baseline is the proof's hashes as raw bytes. The
  inclusion proof of position 1 is also run through the CLI and must print the same bytes.
- Tree upkeep: appends (a batch of 1,000, then single facts) to the bench's own log, the tree's
  share of their time clocked inside them (``TreeClock``: the store's ``tree_rows`` and the
  INSERT of its rows, observed in this process, nothing changed); and, as an end-to-end check,
  rounds taking turns with rounds on the same log with its ``ledger_tree`` table set aside (a
  store without the table is one made before the tree: the append path keeps none for it), the
  table put back and caught up after each. Nothing in the ledger had to gain a switch that
  turns the tree off. It appends to the log, so it runs last.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

SAMPLES, WARM, REPEATS = 200, 50, 3
"""Proofs of each kind timed at the log's size, after WARM of each at other positions (not
counted); each is made REPEATS times in a row and its fastest counts, beside the fastest of
its baseline's (a shared machine's preemptions are not the proof's cost). The first tries'
p95 is kept too."""
APPEND_PAIRS, APPEND_BATCH, APPEND_SINGLES = 6, 1_000, 20
"""The tree-upkeep comparison: pairs of rounds (one with the tree, one without), each round
one batch of APPEND_BATCH facts, then APPEND_SINGLES appends of one fact."""


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """p50 and p95, as the decision-trail measure takes them."""
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[max(0, int(len(ordered) * 0.95) - 1)]


@contextlib.contextmanager
def raw_nodes(url: str) -> Iterator[Callable[[int, int], bytes]]:
    """The baseline's reader: one SELECT of one tree row by its key on a plain driver
    connection (SQLite opened read-only; PostgreSQL autocommit, as psycopg prepares it)."""
    from ledger.adapters.store import TREE_TABLE, StoreLocation

    where = StoreLocation.parse(url)
    if where.backend == "sqlite":
        conn = sqlite3.connect(f"file:{where.path}?mode=ro", uri=True)
        sql = f"SELECT hash FROM {TREE_TABLE} WHERE level = ? AND idx = ?"

        def read(level: int, idx: int) -> bytes:
            row = conn.execute(sql, (level, idx)).fetchone()
            return bytes(row[0])

        try:
            yield read
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as pg:
        statement = (f'SELECT hash FROM "{where.schema}"."{TREE_TABLE}" '
                     "WHERE level = %s AND idx = %s")

        def read_pg(level: int, idx: int) -> bytes:
            row = pg.execute(statement, (level, idx)).fetchone()
            assert row is not None, (level, idx)
            return bytes(row[0])

        yield read_pg


def printed(proof: dict[str, Any]) -> bytes:
    """The bytes `ledger proof ... --format json` writes for this proof."""
    return (json.dumps(proof, indent=2) + "\n").encode()


def _tries(make: Callable[[], dict[str, Any]], read: Callable[[int, int], bytes],
           nodes: Sequence[tuple[int, int]]) -> tuple[dict[str, Any], list[float], list[float]]:
    """A proof made REPEATS times, each time followed by the baseline's raw reads of its
    nodes: the proof, and both lists of times."""
    made, raw = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        proof = make()
        middle = time.perf_counter()
        for level, idx in nodes:
            read(level, idx)
        made.append(middle - started)
        raw.append(time.perf_counter() - middle)
    return proof, made, raw


def proof_measures(url: str, cli: list[str], env: dict[str, str],
                   samples: int = SAMPLES, seed: int = 14) -> dict[str, Any]:
    """Latency and size of inclusion and consistency proofs at the log's size now, each proof
    timed beside raw reads of the tree rows it needs (see the module docstring)."""
    from ledger.integrity.merkle import consistency_nodes, inclusion_nodes
    from ledger.proofs import consistency, inclusion
    from ledger.services import Ledger

    ledger = Ledger(url, mode="read")
    size = ledger.chain.census().last
    rng = random.Random(seed)
    positions = [rng.randint(1, size) for _ in range(samples)]
    olds = [rng.randint(1, size - 1) for _ in range(samples)]
    times: dict[str, list[float]] = {}
    reads = {"inclusion": 0, "consistency": 0}

    def sample(kind: str, make: Callable[[], dict[str, Any]],
               nodes: Sequence[tuple[int, int]]) -> None:
        proof, made, raw = _tries(make, read, nodes)
        assert len(nodes) >= len(proof["hashes"]), (kind, len(nodes), proof)
        times.setdefault(kind, []).append(min(made))
        times.setdefault(f"{kind} first", []).append(made[0])
        times.setdefault(f"{kind} raw", []).append(min(raw))
        reads[kind] = max(reads[kind], len(nodes))

    with raw_nodes(url) as read:
        for _ in range(WARM):  # other positions, uncounted: the code, the tree's upper levels
            inclusion(ledger, rng.randint(1, size), size)
            consistency(ledger, rng.randint(1, size - 1), size)
        for position, old in zip(positions, olds, strict=True):  # the kinds take turns
            sample("inclusion", partial(inclusion, ledger, position, size),
                   list(dict.fromkeys([(0, position - 1), *inclusion_nodes(position - 1, size)])))
            sample("consistency", partial(consistency, ledger, old, size),
                   consistency_nodes(old, size))

    # the longest proofs at this size: position 1's path is the deepest; consistency proofs
    # are longest from old sizes next to a power of two (checked over every old size at 10k
    # and a sample of 50,000 at 1M)
    longest = inclusion(ledger, 1, size)
    edges = {1, size - 1} | {(1 << j) + d for j in range(size.bit_length()) for d in (-1, 1)}
    widest = max((consistency(ledger, m, size) for m in edges if 0 < m < size),
                 key=lambda p: len(printed(p)))
    shown = subprocess.run([*cli, "--store", url, "proof", "inclusion", "1", "--format", "json"],
                           capture_output=True, env=env)
    if shown.returncode != 0 or shown.stdout != printed(longest):
        raise SystemExit(f"error: `ledger proof inclusion 1` printed {shown.stdout[:80]!r} "
                         f"(exit {shown.returncode}), not the proof the bench sizes")
    ledger.close()
    result: dict[str, Any] = {"size": size, "reads": reads}
    for kind, samples_ in times.items():
        result[kind] = percentiles(samples_)
    for kind, proof in (("inclusion", longest), ("consistency", widest)):
        hashes = len(proof["hashes"]) + (1 if "leaf_hash" in proof else 0)
        result[f"{kind} bytes"] = {
            "printed": len(printed(proof)), "hashes": hashes, "raw": 32 * hashes,
            "compact": len(json.dumps(proof, separators=(",", ":")).encode())}
    return result


def _tree_sql(url: str, *statements: str) -> None:
    """Runs DDL or DML on the store's tree table through a plain driver connection
    (``{tree}`` and ``{aside}`` name the table and its set-aside name)."""
    from ledger.adapters.store import TREE_TABLE, StoreLocation

    where = StoreLocation.parse(url)
    if where.backend == "sqlite":
        conn = sqlite3.connect(str(where.path))
        try:
            for statement in statements:
                conn.execute(statement.format(tree=TREE_TABLE, aside=f"{TREE_TABLE}_aside"))
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as pg:
        for statement in statements:
            pg.execute(statement.format(tree=f'"{where.schema}"."{TREE_TABLE}"',
                                        aside=f"{TREE_TABLE}_aside"))


def drop_tree(url: str) -> None:
    """Makes the store one without a tree, as stores made before the tree are (irreversible:
    a bench's own store only)."""
    _tree_sql(url, "DROP TABLE {tree}")


def _set_aside(url: str) -> None:
    _tree_sql(url, "ALTER TABLE {tree} RENAME TO {aside}")


def _restore(url: str, before: int) -> None:
    """Puts the tree table back and adds the rows of the links appended while it was set
    aside, computed by the store's own ``tree_rows`` (outside the clock)."""
    from ledger.adapters.store import TREE_TABLE, StoreLocation, tree_rows
    from ledger.services import Ledger

    where = StoreLocation.parse(url)
    aside = f"{TREE_TABLE}_aside" if where.backend == "sqlite" else (
        f'"{where.schema}"."{TREE_TABLE}_aside"')
    _tree_sql(url, f"ALTER TABLE {aside} RENAME TO {TREE_TABLE}")
    with Ledger(url, mode="read") as ledger:
        links = [linked.link for linked in ledger.chain.linked(before)]
        rows = tree_rows(links, before, ledger.chain.node)
    if where.backend == "sqlite":
        conn = sqlite3.connect(str(where.path))
        try:
            conn.executemany(f"INSERT INTO {TREE_TABLE} VALUES (?, ?, ?)", rows)
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url.split("?", 1)[0]) as pg, pg.cursor() as cursor:
        cursor.executemany(f'INSERT INTO "{where.schema}"."{TREE_TABLE}" VALUES (%s, %s, %s)',
                           rows)


class TreeClock:
    """Times the tree's upkeep inside each append, in this process only, changing nothing it
    does: the store's ``tree_rows`` (the frontier's node reads and the hashing) and the
    ``executemany`` that inserts its rows, on either backend."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.computed = self.inserted = 0
        """Calls seen of each part: every append that keeps the tree makes one of both."""

    @contextlib.contextmanager
    def watching(self) -> Iterator[TreeClock]:
        import psycopg
        from eventsourcing.sqlite import SQLiteCursor

        from ledger.adapters import postgres, store

        real_rows = store.tree_rows
        real_sqlite, real_pg = SQLiteCursor.executemany, psycopg.Cursor.executemany
        clock = self

        def tree_rows(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return real_rows(*args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.computed += 1

        def timed(real: Callable[..., Any]) -> Callable[..., Any]:
            def executemany(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
                if store.TREE_TABLE not in str(query):
                    return real(cursor, query, *args, **kwargs)
                started = time.perf_counter()
                try:
                    return real(cursor, query, *args, **kwargs)
                finally:
                    clock.seconds += time.perf_counter() - started
                    clock.inserted += 1
            return executemany

        store.tree_rows = postgres.tree_rows = tree_rows  # type: ignore[assignment]
        SQLiteCursor.executemany = timed(real_sqlite)  # type: ignore[method-assign]
        psycopg.Cursor.executemany = timed(real_pg)  # type: ignore[method-assign]
        try:
            yield self
        finally:
            store.tree_rows = postgres.tree_rows = real_rows
            SQLiteCursor.executemany = real_sqlite  # type: ignore[method-assign]
            psycopg.Cursor.executemany = real_pg  # type: ignore[method-assign]


def _round(url: str, tag: str, clock: TreeClock) -> list[tuple[int, float, float]]:
    """One round of appends by the synthetic records officer (validated, signed,
    hash-chained, as the import's): one batch, then single appends; for each, the events, the
    seconds in ``Ledger.record`` and the seconds of those in the tree's upkeep."""
    from bench_append import facts

    from ledger.services import Ledger
    from ledger.synthetic import RECORDS_OFFICER, signer

    found = []
    with Ledger(url, signer=signer(RECORDS_OFFICER)) as ledger:
        ledger.record(facts(10, f"{tag}-warm"))  # the connection and caches, uncounted
        for batches in ([facts(APPEND_BATCH, f"{tag}-batch")],
                        [[one] for one in facts(APPEND_SINGLES, f"{tag}-single")]):
            tree, started = clock.seconds, time.perf_counter()
            for batch in batches:
                ledger.record(batch)
            found.append((sum(map(len, batches)), time.perf_counter() - started,
                          clock.seconds - tree))
    return found


def tree_upkeep(url: str) -> dict[str, Any]:
    """What keeping the tree costs appends to this log, measured two ways in the same rounds.

    Inside: the tree's upkeep timed within the appends that keep it (``TreeClock``); the rate
    without it is those appends' events over their time less the tree's. Precise on a busy
    machine (both times come from the same appends), but it leaves out what the tree's rows
    add to the commit.

    End to end: APPEND_PAIRS pairs of rounds, one with the tree and one with its table set
    aside (appends to a store without the table, as one made before the tree, keep none), the
    pairs taking turns at which side goes first (ABBA); after each round without it, the table
    is put back and caught up. Each pair gives a ratio (with / without): their median and
    range. Counts everything, but a busy machine's noise is as large as the effect.

    Checks that the rounds without the table did no tree work and made no table, and that the
    tree is whole at the end (one row per complete subtree)."""
    from bench_append import body

    from ledger.services import Ledger
    from ledger.synthetic import RECORDS_OFFICER, signer

    with Ledger(url, signer=signer(RECORDS_OFFICER)) as ledger:
        if ledger.get("body", "bench-body") is None:
            ledger.record([body()])
    clock = TreeClock()
    pairs: list[dict[bool, list[tuple[int, float, float]]]] = []
    for pair in range(APPEND_PAIRS):
        rounds: dict[bool, list[tuple[int, float, float]]] = {}
        for tree in (True, False) if pair % 2 == 0 else (False, True):
            tag = f"{'tree' if tree else 'bare'}-{pair}"
            if tree:
                with clock.watching():
                    rounds[True] = _round(url, tag, clock)
                continue
            with Ledger(url, mode="read") as ledger:
                before, kept = ledger.chain.census().last, ledger.chain.tree_count()
            _set_aside(url)
            with clock.watching():
                rounds[False] = _round(url, tag, clock)
            assert not any(t for _, _, t in rounds[False]), "tree work without the tree"
            with Ledger(url, mode="read") as ledger:
                assert not ledger.chain.has_tree(), "appends without the tree table made one"
            _restore(url, before)  # outside the clock
            with Ledger(url, mode="read") as ledger:
                assert ledger.chain.tree_count() > kept, "the tree was not caught up"
        pairs.append(rounds)
    appends = APPEND_PAIRS * (1 + 1 + APPEND_SINGLES)  # each round's warm-up, batch, singles
    assert clock.computed == clock.inserted == appends, (
        f"the clock saw {clock.computed} tree computations and {clock.inserted} inserts of "
        f"tree rows over {appends} appends keeping the tree")
    with Ledger(url, mode="read") as ledger:
        size, count = ledger.chain.census().last, ledger.chain.tree_count()
    whole = sum(size >> level for level in range(size.bit_length()))
    assert count == whole, f"the tree holds {count} rows; {size} leaves make {whole}"
    found: dict[str, Any] = {}
    for k, kind in enumerate(("batched", "single")):
        kept_rounds = [r[True][k] for r in pairs]
        events = sum(n for n, _, _ in kept_rounds)
        seconds = sum(t for _, t, _ in kept_rounds)
        in_tree = sum(t for _, _, t in kept_rounds)
        found[kind] = events / seconds
        found[f"{kind} less tree"] = events / (seconds - in_tree)
        ratios = [(r[True][k][0] / r[True][k][1]) / (r[False][k][0] / r[False][k][1])
                  for r in pairs]
        found[f"{kind} end to end"] = statistics.median(ratios)
        found[f"{kind} range"] = (min(ratios), max(ratios))
    return found
