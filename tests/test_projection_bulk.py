"""The bulk paths of a large catch-up, made to run on a small store.

A catch-up of at least ``DEFER_INDEXES_FROM`` events into empty tables sets the read models'
secondary indexes aside and builds them after the rows (a marker row says so until they are
back); on PostgreSQL rows go into tables empty when the run began by COPY; the cyclic
collector's threshold is raised while events are applied. The test stores are far smaller
than the thresholds, so these tests lower them (and the page size) to make the paths run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select

import ledger.adapters.store as store
import projections.runner as runner_module
from ledger.services import Ledger
from projections.base import Ask, BufferedSqlRows, SqlRows
from projections.runner import (
    DECISION_TRAIL,
    DEFERRED,
    PLAN_STATE,
    PROJECTIONS,
    TRACKING,
    Runner,
)

from helpers import STORY, dated, lead_corrected, open_ledger

TABLES = [table for projection in PROJECTIONS.values() for table in projection.tables]
DECLARED = {str(ix.name) for table in TABLES for ix in table.indexes if ix.name}
"""The secondary indexes the read models declare."""


class Boom(Exception):
    """The failure injected into a catch-up."""


FACTS = [
    *(fact for batch in STORY for fact in batch),
    dated("DecisionRecorded", "d-2", "2012-02-01", title="Second decision",
          originator="Treasurer", executive_summary="Another", decision="Approve plan"),
    dated("GrantAwarded", "g2", "2012-03-01", recipient="Rape Crisis", amount="750.00",
          purpose="Counselling", funding_body="pa", by_decision="d-2"),
]
"""A story touching every read model, with a correction (which retracts earlier rows)."""


def record_story(ledger: Ledger, after_each: Runner | None = None) -> None:
    """Records the story one event at a time; ``after_each`` catches up after every one."""
    for fact in FACTS:
        ledger.record([fact])
        if after_each is not None:
            after_each.catch_up()
    typo = ledger.history("deliverable", "plan/2")[0]
    ledger.record([lead_corrected(typo.id)])
    if after_each is not None:
        after_each.catch_up()


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in a fixed order."""
    with engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in TABLES
        }


def missing_indexes(engine: Engine) -> set[str]:
    """The indexes the read models declare that the database does not have."""
    found = inspect(engine)
    present = {ix["name"] for table in TABLES for ix in found.get_indexes(table.name)}
    return DECLARED - present


def marker(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            select(TRACKING.c.name).where(TRACKING.c.name == DEFERRED)).first() is not None


def answers(rows: SqlRows) -> list[Any]:
    """The decision trail and the plan's state, as queries see them."""
    return [
        DECISION_TRAIL.decisions(rows, Ask.of()),  # type: ignore[attr-defined]
        PLAN_STATE.plan(rows, "plan", Ask.of()),  # type: ignore[attr-defined]
    ]


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of three events, indexes set aside from five: the story takes several pages."""
    monkeypatch.setattr(store, "PAGE", 3)
    monkeypatch.setattr(runner_module, "DEFER_INDEXES_FROM", 5)


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    with open_ledger(store_url) as opened:
        yield opened


def fail_after(monkeypatch: pytest.MonkeyPatch, events: int) -> list[int]:
    """Makes the decision trail raise on the ``events``-th event it is given; returns the
    positions it was given."""
    seen: list[int] = []
    apply = DECISION_TRAIL.apply_stamped

    def failing(rows: Any, stamped: Any) -> None:
        seen.append(stamped.position)
        if len(seen) == events:
            raise Boom
        apply(rows, stamped)

    monkeypatch.setattr(DECISION_TRAIL, "apply_stamped", failing)
    return seen


def test_deferred_index_rebuild_equals_incremental(
    ledger: Ledger, small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_aside: list[list[str]] = []
    original = runner_module._set_aside_indexes

    def spy(conn: Any, tables: Any) -> None:
        set_aside.append([t.name for t in tables])
        original(conn, tables)

    monkeypatch.setattr(runner_module, "_set_aside_indexes", spy)
    runner = Runner(ledger)
    try:
        record_story(ledger, after_each=runner)
        assert set_aside == []  # each catch-up had fewer events: indexes stayed
        incremental = contents(runner.engine)
        assert all(incremental.values()), "every read-model table has rows"

        # pages of three, then the whole log in one page (a correction then retracts rows
        # of its own run still pending)
        for page in (3, 5_000):
            set_aside.clear()
            monkeypatch.setattr(store, "PAGE", page)
            assert runner.rebuild() >= runner_module.DEFER_INDEXES_FROM
            assert [set(names) for names in set_aside] == [{t.name for t in TABLES}]
            assert contents(runner.engine) == incremental
            assert missing_indexes(runner.engine) == set()
            assert not marker(runner.engine)
    finally:
        runner.close()


def _other_engine(ledger: Ledger) -> Engine:
    """Read models apart from the store's own (SQLite: a file beside it; PostgreSQL: a
    schema beside it, the store fixture drops it with the store's)."""
    location = ledger.location
    if location.backend == "sqlite":
        assert location.path is not None
        return create_engine(f"sqlite:///{location.path.with_name('clean.db')}")
    return runner_module.engine_for(location, audience="clean rebuild")


def test_interrupted_catch_up_is_finished_by_the_next_runner(
    ledger: Ledger, small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_story(ledger)
    clean = Runner(ledger, _other_engine(ledger))
    try:
        with clean.reading() as rows:  # a rebuild from nothing, indexes set aside
            expected_answers = answers(rows)
        assert all(expected_answers)
        expected = contents(clean.engine)
    finally:
        clean.close()

    crashing = Runner(ledger)
    with monkeypatch.context() as patch:
        seen = fail_after(patch, 8)  # pages of three: two committed, the third fails
        with pytest.raises(Boom):
            crashing.catch_up()
        assert len(seen) == 8
    engine = crashing.engine
    # what a dead process leaves: the marker, no indexes, rows of the committed pages
    assert marker(engine)
    assert missing_indexes(engine) == DECLARED
    assert 0 < len(contents(engine)["entity_fields"]) < len(expected["entity_fields"])
    crashing.close()

    restarted = Runner(ledger)
    try:
        restarted.ensure_tables()
        assert missing_indexes(restarted.engine) == set()
        assert not marker(restarted.engine)
        with restarted.reading() as rows:  # catches up from where the crash left it
            assert answers(rows) == expected_answers
        assert contents(restarted.engine) == expected
        assert missing_indexes(restarted.engine) == set()
        assert not marker(restarted.engine)
    finally:
        restarted.close()


def test_a_runner_whose_catch_up_failed_builds_the_indexes_on_its_next(
    ledger: Ledger, small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-lived runner (a server's) does not wait for a new one: its next catch-up, or
    query, builds the indexes its failed catch-up set aside, then finishes the work."""
    record_story(ledger)
    clean = Runner(ledger, _other_engine(ledger))
    try:
        with clean.reading() as rows:
            expected_answers = answers(rows)
        expected = contents(clean.engine)
    finally:
        clean.close()

    runner = Runner(ledger)
    try:
        with monkeypatch.context() as patch:
            fail_after(patch, 8)
            with pytest.raises(Boom):
                runner.catch_up()
        assert marker(runner.engine) and missing_indexes(runner.engine) == DECLARED
        with runner.reading() as rows:
            assert missing_indexes(runner.engine) == set()
            assert not marker(runner.engine)
            assert answers(rows) == expected_answers
        assert contents(runner.engine) == expected
    finally:
        runner.close()


@pytest.fixture
def threshold() -> Iterator[tuple[int, int, int]]:
    """A threshold of this test's own, whatever earlier tests left; the process's is put back."""
    saved = gc.get_threshold()
    gc.set_threshold(1234, 11, 12)
    yield (1234, 11, 12)
    gc.set_threshold(*saved)


def test_gc_threshold_is_restored(
    ledger: Ledger, small: None, threshold: tuple[int, int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_story(ledger)
    during: list[tuple[int, int, int]] = []
    apply = DECISION_TRAIL.apply_stamped

    def watching(rows: Any, stamped: Any) -> None:
        during.append(gc.get_threshold())
        apply(rows, stamped)

    runner = Runner(ledger)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(DECISION_TRAIL, "apply_stamped", watching)
            assert runner.catch_up() > 0
        assert during and all(t == (100_000, 11, 12) for t in during)  # raised while applying
        assert gc.get_threshold() == threshold

        with monkeypatch.context() as patch:
            fail_after(patch, 1)
            with pytest.raises(Boom):
                runner.rebuild()
        assert gc.get_threshold() == threshold
    finally:
        runner.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_copy_into_empty_tables_equals_executemany(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    copy = BufferedSqlRows._copy

    def no_copy(self: BufferedSqlRows, table: Any, rows: Any) -> None:
        SqlRows.insert(self, table, rows)

    def counting(self: BufferedSqlRows, table: Any, rows: Any) -> None:
        copied.append(table.name)
        copy(self, table, rows)

    runner = Runner(ledger)  # pages as large as ever: the rebuild's correction finds the
    try:  # rows it retracts still pending, and COPY writes them retracted
        with monkeypatch.context() as patch:  # incremental, and executemany throughout
            patch.setattr(BufferedSqlRows, "_copy", no_copy)
            runner.catch_up()
            record_story(ledger, after_each=runner)
        by_executemany = contents(runner.engine)

        monkeypatch.setattr(BufferedSqlRows, "_copy", counting)
        runner.rebuild()
        assert set(copied) == {t.name for t in TABLES}  # every table went through COPY
        assert contents(runner.engine) == by_executemany
        assert missing_indexes(runner.engine) == set()
    finally:
        runner.close()
