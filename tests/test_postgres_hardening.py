"""PostgreSQL hardened: concurrent writers and creators, schema names, plain connection errors,
and role separation (the application's writer role cannot edit or unguard the ledger).

PostgreSQL only. With CI=true an unreachable server fails these tests (conftest's helper).
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors
from psycopg.sql import SQL, Identifier

from ledger.adapters.store import StoreError, StoreLocation, StoreURLError
from ledger.entrypoints.cli import _run, cli

from conftest import PG_DB, PG_HOST, PG_PORT, PG_USER, _require_postgres, pg_connect

SETUP = "--effective-at 2013-01-01 --source-document setup"
DECISION = ("decision record {key} --title T --originator O --executive-summary S --decision D "
            "--as officer1 --effective-at 2013-05-01 --source-document rod")


def url(schema: str, user: str = PG_USER, port: int = PG_PORT, db: str = PG_DB) -> str:
    return f"postgresql://{user}@{PG_HOST}:{port}/{db}?schema={schema}"


def run(store: str, line: str | list[str]) -> tuple[int, str]:
    """`ledger --store STORE ...` in this process, as the console script runs it."""
    args = line.split() if isinstance(line, str) else line
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", store, *args])
        text = out.getvalue().decode() + err.getvalue().decode()
    return code, text


GENESIS = ("init --admin admin --name Admin --body kent-pcc --body-name Kent --body-type pcc_office"
           " --effective-at 2012-11-22")  # the body exists before the 2013 facts recorded for it


def populate(store: str) -> None:
    """The genesis (body kent-pcc and its administrator, positions 1-2), then an officer who
    may record decisions (3); their keys are in the test's key directory."""
    code, out = run(store, GENESIS)
    assert code == 0, out
    code, out = run(store, "key new officer1")
    assert code == 0, out
    officer_key = out.strip().splitlines()[-1]
    code, out = run(store, f"actor add officer1 --name Officer --acts-for kent-pcc --roles "
                           f"officer --public-key {officer_key} --as admin {SETUP}")
    assert code == 0, out


def schemas() -> set[str]:
    with pg_connect() as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}


def log_rows(schema: str) -> int:
    with pg_connect() as conn:
        row = conn.execute(
            SQL("SELECT COUNT(*) FROM {}.ledger_log").format(Identifier(schema))
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def fresh() -> Iterator[Callable[..., str]]:
    """Unique schema names (stem + random hex); whatever they became is dropped afterwards."""
    _require_postgres()
    made: list[str] = []

    def name(stem: str = "t_") -> str:
        made.append(f"{stem}{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield name
    with pg_connect() as conn:
        for schema in made:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


# ---------------------------------------------------------------------------- concurrency

AT_ONCE = textwrap.dedent("""
    import json, os, pathlib, sys, time
    import ledger.adapters.postgres, ledger.audit, ledger.services, projections.runner
    from ledger.entrypoints.cli import _run, cli
    work, commands = pathlib.Path(sys.argv[1]), json.loads(sys.argv[2])
    pids = []
    for i, args in enumerate(commands):  # one process each, forked with the modules loaded
        pid = os.fork()
        if pid == 0:
            for fd, name in ((1, f"out-{i}"), (2, f"err-{i}")):
                os.dup2(os.open(work / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            while not (work / "go").exists():
                time.sleep(0.005)
            try:
                code = _run(cli, args)
            except BaseException as exc:
                print(repr(exc), file=sys.stderr)
                code = 99
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        pids.append(pid)
    (work / "go").touch()
    print(json.dumps([os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]))
""")


def at_once(tmp_path: Path, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Runs `ledger ...` commands in as many processes, which all start their work at the same
    moment (forked from one that has loaded the modules, so the race is the store's, not the
    imports'); returns (exit code, stdout, stderr) of each."""
    done = subprocess.run([sys.executable, "-c", AT_ONCE, str(tmp_path), json.dumps(commands)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    codes = json.loads(done.stdout)
    return [(code, (tmp_path / f"out-{i}").read_text(), (tmp_path / f"err-{i}").read_text())
            for i, code in enumerate(codes)]


@pytest.mark.slow
def test_twenty_officers_recording_different_decisions_at_once_all_succeed(
    fresh: Callable[..., str], tmp_path: Path
) -> None:
    store = url(fresh())
    populate(store)
    results = at_once(tmp_path, [["--store", store, *DECISION.format(key=f"d-{i}").split()]
                                 for i in range(20)])
    assert [(code, err) for code, _, err in results] == [(0, "")] * 20
    code, out = run(store, "verify")
    assert code == 0 and out.startswith("OK position 23 "), out
    code, out = run(store, "decisions --format json")
    assert code == 0 and out.count('"reference"') == 20, out


@pytest.mark.slow
def test_first_writers_and_readers_of_a_fresh_schema_at_once(
    fresh: Callable[..., str], tmp_path: Path
) -> None:
    """Four administrators' copies of the same genesis at once, and two readers, on a schema
    that does not exist yet: the store is made once, one genesis is recorded and the others
    are refused in one line (2: it already holds a ledger, or 4: the entities were just
    made), never a DDL race."""
    schema = fresh()
    store = url(schema)
    code, out = run(store, "key new admin")  # the one key all four sign with
    assert code == 0, out
    writers = [["--store", store, *GENESIS.split()]] * 4
    readers = [["--store", store, "verify"]] * 2
    results = at_once(tmp_path, writers + readers)
    written = sorted((code, err.count("\n")) for code, _, err in results[:4])
    assert written[0] == (0, 0) and all(c in (2, 4) and n == 1 for c, n in written[1:]), results
    assert all(err.startswith("error: ") for code, _, err in results[:4] if code), results
    for code, out, err in results[4:]:  # before the ledger exists, or after: never a race
        assert (code, err) == (0, "") and out.startswith("OK position ") or (code, out, err) == (
            5, "", f"error: store: no ledger in schema {schema} of {PG_HOST}:{PG_PORT}/{PG_DB}\n"
        ), (code, out, err)
    code, out = run(store, "verify")
    assert code == 0 and out.startswith("OK position 2 "), out
    assert log_rows(schema) == 1


def test_concurrent_creators_make_one_ledger(fresh: Callable[..., str]) -> None:
    from ledger.adapters.postgres import open_postgres

    schema = fresh()
    location = StoreLocation.parse(url(schema))
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def create() -> None:
        start.wait()
        try:
            open_postgres(location, mode="create").datastore.close()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert log_rows(schema) == 1
    with pg_connect() as conn:
        log_id, created_at = conn.execute(
            SQL("SELECT log_id, created_at FROM {}.ledger_log").format(Identifier(schema))
        ).fetchall()[0]
    assert len(log_id) == 16 and created_at.endswith("Z")


def test_read_and_write_modes_create_nothing(fresh: Callable[..., str]) -> None:
    from ledger.adapters.postgres import open_postgres, postgres_store_exists

    schema = fresh()
    location = StoreLocation.parse(url(schema))
    for mode in ("read", "write"):
        with pytest.raises(StoreError) as raised:
            open_postgres(location, mode=mode)
        assert str(raised.value) == (
            f"store: no ledger in schema {schema} of {PG_HOST}:{PG_PORT}/{PG_DB}"
        )
    assert not postgres_store_exists(location)
    assert schema not in schemas()
    open_postgres(location, mode="create").datastore.close()
    assert postgres_store_exists(location)


def test_reading_connections_are_read_only(fresh: Callable[..., str]) -> None:
    from ledger.adapters.postgres import open_postgres

    store = url(fresh())
    populate(store)
    recorder = open_postgres(StoreLocation.parse(store), mode="read")
    try:
        with recorder.datastore.get_connection() as conn:
            row = conn.execute("SHOW default_transaction_read_only").fetchone()
            assert row is not None and row["default_transaction_read_only"] == "on"
        with (
            pytest.raises(Exception, match="read-only transaction"),
            recorder.datastore.get_connection() as conn,
        ):
            conn.execute(SQL("CREATE TABLE {}.x (y int)").format(
                Identifier(recorder.datastore.schema)))
    finally:
        recorder.datastore.close()


def test_opening_an_existing_store_runs_no_ddl(fresh: Callable[..., str]) -> None:
    """While another transaction holds the ledger's tables exclusively, every mode still
    opens at once: opening touches no table (DDL there would wait for the lock)."""
    from ledger.adapters.postgres import open_postgres

    schema = fresh()
    store = url(schema)
    populate(store)
    location = StoreLocation.parse(store)
    with pg_connect() as holder:
        holder.autocommit = False
        holder.execute(SQL("LOCK TABLE {s}.ledger_events, {s}.ledger_chain, {s}.ledger_log "
                           "IN ACCESS EXCLUSIVE MODE").format(s=Identifier(schema)))
        for mode in ("read", "write", "create"):
            done = threading.Event()

            def open_it(mode: str = mode, done: threading.Event = done) -> None:
                open_postgres(location, mode=mode).datastore.close()
                done.set()

            threading.Thread(target=open_it, daemon=True).start()
            assert done.wait(5), f"opening for {mode} waited for a lock on the ledger's tables"
        holder.rollback()


# ---------------------------------------------------------------------------- schema names


@pytest.mark.parametrize("stem", ["kent-2-", "Kent"])
def test_schema_names_that_need_quoting_work_end_to_end(
    fresh: Callable[..., str], stem: str
) -> None:
    schema = fresh(stem)
    store = url(schema)
    populate(store)
    assert run(store, DECISION.format(key="d1"))[0] == 0
    code, out = run(store, "show body kent-pcc")
    assert code == 0 and '"name": "Kent"' in out, out
    code, out = run(store, "history decision d1")
    assert code == 0 and "DecisionRecorded" in out, out
    code, out = run(store, "decisions --format json")
    assert code == 0 and '"reference": "d1"' in out, out
    code, out = run(store, "verify")
    assert code == 0 and out.startswith("OK position 4 "), out
    present = schemas()
    assert schema in present and (schema == schema.lower() or schema.lower() not in present)


@pytest.mark.parametrize("line", ["verify", f"body establish b --name B --body-type pcc_office "
                                            f"--as admin {SETUP}"])
def test_a_schema_name_with_sql_in_it_is_refused_before_any_sql(
    fresh: Callable[..., str], line: str
) -> None:
    started = time.monotonic()
    code, out = run(url("x;select pg_sleep(3)"), line)
    assert time.monotonic() - started < 1.5
    assert (code, out) == (2, "error: store: schema 'x;select pg_sleep(3)' is not allowed: give "
                              "one name of ASCII letters, digits, _ and - (at most 63), starting "
                              "with a letter or _, not pg_\n")
    assert not [s for s in schemas() if s.startswith("x;") or s == "x"]  # others' may come and go


def test_schema_name_rule() -> None:
    """Letters, digits, _ and -, from a letter or _, at most 63, not pg_: kept as written."""
    for name in ["Kent", "kent-2", "_x", "a" * 63, "public", "Pg_x"]:
        assert StoreLocation.parse(f"postgresql://u@h/db?schema={name}").schema == name
    for name in ["", "1kent", "kent 2", 'ke"nt', "kent;", "kent.x", "pg_kent", "a" * 64, "kënt",
                 "kent%00", "kent%0Ax"]:
        with pytest.raises(StoreURLError, match="is not allowed: give one name of ASCII"):
            StoreLocation.parse(f"postgresql://u@h/db?schema={name}")
    with pytest.raises(StoreURLError, match="schema 'a', 'b' is not allowed: give one name"):
        StoreLocation.parse("postgresql://u@h/db?schema=a&schema=b")


# ---------------------------------------------------------------------------- connection errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PasswordRefusingServer:
    """Speaks just enough of PostgreSQL's protocol to ask for a password and refuse it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.stopped = False
        self.passwords: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self.refuse(conn)

    def refuse(self, conn: socket.socket) -> None:
        while True:
            length, code = struct.unpack("!ii", conn.recv(8, socket.MSG_WAITALL))
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
                conn.sendall(b"N")
                continue
            conn.recv(length - 8, socket.MSG_WAITALL)  # the startup message
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        self.passwords.append(conn.recv(1024)[5:].rstrip(b"\0"))  # 'p', length, password
        fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"alice\"\0"
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 5) + fields + b"\0")

    def close(self) -> None:
        self.stopped = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def refusing_server() -> Iterator[PasswordRefusingServer]:
    server = PasswordRefusingServer()
    yield server
    server.close()


def test_connection_errors_are_one_line_at_once(
    fresh: Callable[..., str], refusing_server: PasswordRefusingServer
) -> None:
    missing_db, absent, port = f"nodb_{uuid.uuid4().hex[:8]}", fresh(), free_port()
    cases = [
        (url("s", db=missing_db), f"store: no database '{missing_db}' at {PG_HOST}:{PG_PORT}"),
        (url("s", port=port), f"store: nothing answers at {PG_HOST}:{port} (connection "
                              "refused: is PostgreSQL running?)"),
        (f"postgresql://alice:wrong@127.0.0.1:{refusing_server.port}/test",
         f"store: password refused for role 'alice' at 127.0.0.1:{refusing_server.port}"),
        (url("s", user="nobody_" + uuid.uuid4().hex[:8]), "store: no role 'nobody_"),
        (url(absent), f"store: no ledger in schema {absent} of {PG_HOST}:{PG_PORT}/{PG_DB}"),
    ]
    for store, message in cases:
        for line in ("verify", "show body kent-pcc", "decisions"):
            started = time.monotonic()
            code, out = run(store, line)
            elapsed = time.monotonic() - started
            assert code == 5 and out.startswith(f"error: {message}"), (store, line, out)
            assert out.count("\n") == 1 and elapsed < 3, (store, line, out, elapsed)
    assert absent not in schemas()
    assert refusing_server.passwords == [b"wrong"] * 3


def test_without_a_password_in_the_url_libpq_looks_in_pgpassword(
    fresh: Callable[..., str], refusing_server: PasswordRefusingServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ledger.adapters.postgres import open_postgres

    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    with pytest.raises(StoreError, match="store: password refused for role 'alice'"):
        open_postgres(StoreLocation.parse(f"postgresql://alice@127.0.0.1:{refusing_server.port}"
                                          "/test"), mode="read")
    assert refusing_server.passwords == [b"from-the-environment"]
    store = url(fresh())
    populate(store)
    recorder = open_postgres(StoreLocation.parse(store), mode="read")
    kwargs = recorder.datastore.pool.kwargs
    assert isinstance(kwargs, dict) and "password" not in kwargs  # so the pool's look there too
    recorder.datastore.close()


# ---------------------------------------------------------------------------- role separation


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    """Unique owner and writer role names, dropped (with anything they own) afterwards."""
    _require_postgres()
    tag = uuid.uuid4().hex[:10]
    names = (f"ledger_owner_{tag}", f"ledger_writer_{tag}")
    yield names
    with pg_connect() as conn:
        for name in names:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(SQL("DROP OWNED BY {} CASCADE").format(Identifier(name)))
                conn.execute(SQL("DROP ROLE {}").format(Identifier(name)))


def role_exists(name: str) -> bool:
    with pg_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() \
            is not None


ATTACKS = [
    "UPDATE {s}.ledger_events SET topic = topic",
    "UPDATE {s}.ledger_chain SET hash = hash",
    "UPDATE {s}.ledger_log SET created_at = created_at",
    "DELETE FROM {s}.ledger_events",
    "DELETE FROM {s}.ledger_chain",
    "TRUNCATE {s}.ledger_events",
    "TRUNCATE {s}.ledger_log",
    "ALTER TABLE {s}.ledger_events DISABLE TRIGGER ALL",
    "ALTER TABLE {s}.ledger_chain DISABLE TRIGGER ledger_chain_append_only",
    "SET session_replication_role = replica",
    "DROP TABLE {s}.ledger_chain",
    "DROP TRIGGER ledger_events_append_only ON {s}.ledger_events",
    "DROP FUNCTION {s}.ledger_refuse_change() CASCADE",
    "DROP SCHEMA {s} CASCADE",
    "ALTER TABLE {s}.ledger_events OWNER TO CURRENT_USER",
    "CREATE TRIGGER t BEFORE INSERT ON {s}.ledger_chain FOR EACH ROW "
    "EXECUTE FUNCTION {s}.ledger_refuse_change()",
    "SELECT setval('{s}.ledger_events_notification_id_seq', 1)",
    "SET ROLE {owner}",
]


def test_the_writer_role_appends_and_reads_but_cannot_edit_or_unguard(
    fresh: Callable[..., str], roles: tuple[str, str]
) -> None:
    owner, writer = roles
    schema = fresh()
    admin_store, writer_store = url(schema), url(schema, user=writer)
    populate(admin_store)

    code, out = run(admin_store, f"store secure --owner {owner} --writer {writer} --print")
    assert code == 0 and out.startswith("BEGIN;\n") and out.endswith("COMMIT;\n"), out
    assert (f'GRANT SELECT, INSERT ON TABLE "{schema}"."ledger_events", "{schema}".'
            f'"ledger_chain", "{schema}"."ledger_log", "{schema}"."ledger_tree" TO '
            f'"{writer}";') in out
    assert not role_exists(owner) and not role_exists(writer)  # printed, not run

    for _ in range(2):  # safe to run again
        code, out = run(admin_store, f"store secure --owner {owner} --writer {writer}")
        assert code == 0 and out.startswith(f"secured schema {schema} of "), out
    with pg_connect() as conn:
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname LIKE 'ledger_%%'",
            (schema,),
        ).fetchall()
        login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
                             (owner,)).fetchone()
    assert owners == [(owner,)] and login == (False,)

    code, out = run(writer_store, DECISION.format(key="d1"))
    assert code == 0 and "at position 4" in out, out
    code, out = run(writer_store, "decisions --format json")
    assert code == 0 and '"reference": "d1"' in out, out
    code, head = run(writer_store, "verify")
    assert code == 0 and head.startswith("OK position 4 "), head

    with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user=writer,
                         autocommit=True) as conn:
        for attack in ATTACKS:
            statement = attack.format(s=f'"{schema}"', owner=f'"{owner}"')
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        with pytest.raises(errors.UniqueViolation):
            conn.execute(SQL("INSERT INTO {}.ledger_log VALUES (1, 'x', 'y')").format(
                Identifier(schema)))
        conn.execute(SQL("CREATE TABLE {}.writers_own_model (x int)").format(Identifier(schema)))
    assert run(admin_store, "verify") == (0, head)


def test_secure_refuses_a_superuser_writer_and_changes_nothing(
    fresh: Callable[..., str], roles: tuple[str, str]
) -> None:
    owner, _ = roles
    store = url(fresh())
    populate(store)
    code, out = run(store, f"store secure --owner {owner} --writer {PG_USER}")
    assert code == 5 and out.count("\n") == 1, out
    assert f"the writer role {PG_USER} is a superuser" in out
    assert not role_exists(owner)


@pytest.mark.parametrize(("args", "message"), [
    ("--owner o --writer x;drop", "error: writer: role 'x;drop' is not allowed: use letters"),
    ("--owner pg_o --writer w", "error: owner: role 'pg_o' is not allowed: use letters"),
    ("--owner same --writer same", "error: writer: must be another role than the owner"),
])
def test_secure_refuses_bad_role_names(args: str, message: str) -> None:
    code, out = run("postgresql://u@127.0.0.1:1/db?schema=s", ["store", "secure",
                                                               *args.split()])
    assert code == 2 and out.startswith(message) and out.count("\n") == 1, out


def test_secure_is_refused_on_sqlite(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/ledger.db"
    code, out = run(store, "store secure --owner o --writer w")
    assert (code, out) == (2, "error: store: secure is for PostgreSQL stores (a SQLite store is "
                              "one file: protect it with file permissions)\n")
    assert list(tmp_path.iterdir()) == []
