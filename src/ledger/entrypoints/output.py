"""Output for every read: JSON (stable shapes), CSV (RFC 4180) or a plain table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click

FORMATS = ("table", "json", "csv")


def format_option(default: str = "table") -> Any:
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default=default, show_default=True,
        help="table for people, json (documented shapes) or csv (RFC 4180).",
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def emit(data: Any, fmt: str, records: Sequence[dict[str, Any]] | None = None,
         columns: Sequence[str] | None = None) -> None:
    """Prints ``data`` as JSON, or ``records`` (rows of it) as CSV or a table."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))
        return
    rows = list(records if records is not None else data)
    cols = list(columns or (list(rows[0]) if rows else []))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
        click.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        click.echo("(nothing)")
        return
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in cols] for row in rows]
    widths = [min(max(len(c), *(len(r[i]) for r in cells)), 60) for i, c in enumerate(cols)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
