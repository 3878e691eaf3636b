"""``ledger store ...``: looking after the store itself, as a database administrator does.

``secure`` separates the roles on PostgreSQL: an owner role owns the tables and their guards,
and the application connects as a writer role that can only read and append, so nobody who
runs the application can switch the guards off.
"""

from __future__ import annotations

import click

from .cli import EXIT_BAD_INPUT, Failure, _Context, cli


@cli.group("store")
def store_group() -> None:
    """Administer the store itself (PostgreSQL role separation)."""


@store_group.command("secure")
@click.option("--owner", required=True, metavar="ROLE",
              help="Role to own the tables and guards (created NOLOGIN if missing).")
@click.option("--writer", required=True, metavar="ROLE",
              help="Role the application connects as: SELECT and INSERT only (created if "
              "missing; set its password yourself).")
@click.option("--print", "print_only", is_flag=True,
              help="Print the SQL for psql instead of running it (connects to nothing).")
@click.pass_obj
def secure(obj: _Context, owner: str, writer: str, print_only: bool) -> None:
    """Separate the roles of a PostgreSQL store; run it as a database administrator.

    Creates the ledger in the URL's schema if it is absent, creates the roles if missing, makes
    OWNER own the schema, tables, sequence and guard function, and grants WRITER only SELECT
    and INSERT on the ledger's tables, the sequence it needs, and USAGE and CREATE on the
    schema (for its read models). WRITER then cannot UPDATE, DELETE, TRUNCATE, disable the
    guards, set session_replication_role or drop anything. All of it, or nothing.
    """
    from ..adapters.store import StoreLocation

    location = StoreLocation.parse(obj.store_url)
    if location.backend != "postgresql":
        raise Failure(
            EXIT_BAD_INPUT,
            "store: secure is for PostgreSQL stores (a SQLite store is one file: protect it "
            "with file permissions)",
        )
    from ..adapters.postgres import identifier_problem, secure_script, secure_store

    for field, name in (("owner", owner), ("writer", writer)):
        problem = identifier_problem(name)
        if problem:
            raise Failure(EXIT_BAD_INPUT, f"{field}: role '{name}' is not allowed: {problem}")
    if owner == writer:
        raise Failure(EXIT_BAD_INPUT, "writer: must be another role than the owner")
    if print_only:
        click.echo(secure_script(location, owner, writer), nl=False)
        return
    secure_store(location, owner, writer)
    click.echo(
        f"secured schema {location.schema} of {location.host}:{location.port}/"
        f"{location.dbname}: {owner} owns the ledger, {writer} may read and append"
    )
