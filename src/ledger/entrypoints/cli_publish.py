"""`ledger publish`: the static site and open data, from the public copy of the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .cli import EXIT_CODES, _Context, cli

PLACEHOLDER_PREFIX = "360G-kentpcc-ledger"  # the same as publication.opendata's


@cli.command("publish", epilog=EXIT_CODES)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for the site: new, empty, or an earlier publication (replaced "
              "whole once the new one is written).")
@click.option("--as-of", help="The world as it was on this date (ISO); default today.")
@click.option("--giving-prefix", default=PLACEHOLDER_PREFIX, show_default=True,
              help="The body's registered 360Giving prefix for grant identifiers (the default "
              "is a placeholder).")
@click.pass_obj
def publish(obj: _Context, out: Path, as_of: str | None, giving_prefix: str) -> None:
    """A static site (decision log, plan progress, grants register, transition timeline,
    reconciliation) and open data (360Giving, Popolo, every read model as CSV and JSON), built
    from a public copy of the log and beside the signed checkpoint of it. Needs no server:
    open OUT/index.html."""
    from ..publication.build import publish as build

    _report(build(obj.store_url, out, as_of=as_of, prefix=giving_prefix))


def _report(done: Any) -> None:
    click.echo(f"published {len(done.pages)} pages and {len(done.files)} open data files as of "
               f"{done.as_of}, from the signed checkpoint of {done.size} events of log "
               f"{done.log_id}")
    click.echo(f"site: {done.out / 'index.html'}")


def main_site_folder(store_url: str) -> Path:
    """Where the main job publishes: ``site/`` beside a SQLite store (``events_store/site/``
    for the default store), ``events_store/site/`` for a PostgreSQL one."""
    from ..adapters.store import StoreLocation

    location = StoreLocation.parse(store_url)
    if location.backend == "sqlite" and location.path is not None:
        return location.path.parent / "site"
    return Path("events_store") / "site"


def publish_main_site(store_url: str) -> None:
    """The main job's last step: publish its store's site and say where it is."""
    from ..publication.build import publish as build

    _report(build(store_url, main_site_folder(store_url)))
