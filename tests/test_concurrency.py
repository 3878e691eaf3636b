"""Optimistic concurrency and atomic batches, on both backends, in one process and in eight."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger.audit import verify
from ledger.domain import DomainError, aggregate_id
from ledger.services import ConflictError, Ledger

from helpers import authority, fact, grant, open_ledger


def stale(reader: Ledger, kind: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Freezes what ``reader`` sees of one entity: its next write is based on an old read."""
    frozen = reader.history(kind, key)
    wanted = aggregate_id(kind, key)
    original, original_many = reader._load, reader._load_many
    monkeypatch.setattr(reader, "_load",
                        lambda oid: list(frozen) if oid == wanted else original(oid))
    monkeypatch.setattr(reader, "_load_many", lambda oids: {
        **original_many(oids), **({wanted: list(frozen)} if wanted in set(oids) else {})})


def test_two_writers_of_one_version_one_wins(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_ledger(store_url) as a, open_ledger(store_url) as b:
        a.record([authority(), grant()])
        stale(b, "grant", "grant-1", monkeypatch)
        a.record([fact("GrantPaid", "grant-1", amount="10.00")])
        count, head = a.chain.event_count(), a.chain.head()
        with pytest.raises(ConflictError, match="changed since you read it; re-read and retry"):
            b.record([fact("GrantPaid", "grant-1", amount="20.00")])
        assert (a.chain.event_count(), a.chain.head()) == (count, head)
        assert verify(a).ok
        paid = a.get("grant", "grant-1")
        assert paid is not None and str(paid.paid) == "10.00"  # type: ignore[attr-defined]


def test_a_batch_is_all_or_nothing(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_ledger(store_url) as a, open_ledger(store_url) as b:
        a.record([authority(), grant()])
        before = (a.chain.event_count(), a.chain.head())
        with pytest.raises(DomainError):  # the last fact is invalid: none is written
            a.record([grant("grant-2"), grant("grant-3"), fact("GrantPaid", "grant-1",
                                                               amount="-1")])
        assert (a.chain.event_count(), a.chain.head()) == before
        stale(b, "grant", "grant-1", monkeypatch)
        a.record([fact("GrantPaid", "grant-1", amount="1.00")])
        before = (a.chain.event_count(), a.chain.head())
        with pytest.raises(ConflictError):  # the last event collides in the database
            b.record([grant("grant-4"), grant("grant-5"), fact("GrantPaid", "grant-1",
                                                               amount="2.00")])
        assert (a.chain.event_count(), a.chain.head()) == before
        assert a.get("grant", "grant-4") is None
        assert verify(a).ok


WRITER = textwrap.dedent("""
    import sys
    from ledger.services import ConflictError, Ledger
    sys.path.insert(0, sys.argv[3])
    from helpers import fact, open_ledger
    url, rounds = sys.argv[1], int(sys.argv[2])
    ledger = open_ledger(url)
    done = conflicts = 0
    while done < rounds:
        try:
            ledger.record([fact("GrantPaid", "grant-1", amount="1.00")])
            done += 1
        except ConflictError:
            conflicts += 1
    print(conflicts)
""")


@pytest.mark.slow
def test_eight_processes_appending_to_one_entity(store_url: str, tmp_path: Path) -> None:
    writers, rounds = 8, 15
    with open_ledger(store_url) as ledger:
        ledger.record([authority(), grant(amount="1000000.00")])
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        tests = str(Path(__file__).parent)
        procs = [
            subprocess.Popen([sys.executable, str(script), store_url, str(rounds), tests],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(writers)
        ]
        results = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in results]
        history = ledger.history("grant", "grant-1")
        assert [e.originator_version for e in history] == list(range(1, 2 + writers * rounds))
        state = ledger.get("grant", "grant-1")
        assert state is not None and state.paid == writers * rounds  # type: ignore[attr-defined]
        assert verify(ledger).ok
