"""One suite, two backends: every test taking ``store_url`` runs on SQLite and on PostgreSQL.

With CI=true an unreachable PostgreSQL fails the PostgreSQL tests; elsewhere they are skipped
with the reason. Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PG_HOST = os.environ.get("LEDGER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LEDGER_TEST_PG_PORT", "5432"))
PG_DB = os.environ.get("LEDGER_TEST_PG_DB", "test")
PG_USER = os.environ.get("LEDGER_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_connect() -> psycopg.Connection:
    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        dbname=PG_DB,
        user=PG_USER,
        autocommit=True,
        connect_timeout=5,
    )


def _require_postgres() -> None:
    try:
        with pg_connect() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DB} is unreachable: {exc}".strip()
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def pg_url(schema: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"


@pytest.fixture(autouse=True)
def key_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's actors keep their private keys in a key directory of its own."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("LEDGER_KEY_DIR", str(folder))
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
        return
    _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield pg_url(schema)
    with pg_connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        for (readers,) in conn.execute(  # the read models of readers who see withheld content
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{schema}_readers_%",)
        ).fetchall():
            conn.execute(f'DROP SCHEMA IF EXISTS "{readers}" CASCADE')


@pytest.fixture
def service(store_url: str) -> Iterator[object]:
    from helpers import open_ledger

    with open_ledger(store_url) as opened:
        yield opened


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says how many tests ran on each backend, so CI output shows PostgreSQL really ran."""
    counts: dict[tuple[str, str], int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for backend in ("sqlite", "postgresql"):
                if f"[{backend}" in nodeid or f"-{backend}]" in nodeid or f"-{backend}-" in nodeid:
                    counts[(backend, outcome)] = counts.get((backend, outcome), 0) + 1
    for backend in ("sqlite", "postgresql"):
        parts = [f"{n} {o}" for (b, o), n in sorted(counts.items()) if b == backend]
        terminalreporter.write_line(f"{backend} backend: {', '.join(parts) or 'no tests'}")
