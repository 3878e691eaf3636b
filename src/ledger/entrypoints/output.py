"""Output for every read: JSON (stable shapes), CSV (RFC 4180) or a table for people, and the
progress line long work shows on a terminal.

One renderer for every table: a cell reads as text (a source as ``001_… line 529``, a list as
its items), never as raw JSON; a long cell is cut and marked ``…`` (``--wide`` shows it whole),
but a key never is, so what a person copies from a table is always a key the ledger knows.
Characters a terminal would act on (controls, bidirectional overrides) are shown escaped, in
tables, JSON and one-line messages alike, so a record cannot rewrite what is shown around it.

Hand-written rather than tabulate or rich: either, imported here, would add more start-up time
to every command (``ledger --help`` included) than the whole CLI takes to import
(``python -X importtime``), and neither keeps keys whole while cutting other cells.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TextIO

import click

FORMATS = ("table", "json", "csv")
CELL_MOST = 60
"""A table cell longer than this is cut (and marked), unless --wide or the column is a key."""
CUT = "…"
KEY_COLUMNS = frozenset({
    "key", "reference", "target", "deliverable", "transfer", "actor", "event_id", "plan",
    "item", "grant", "document", "body", "acts_for", "from_body", "to_body", "office_body",
    "funding_body", "carried_over_to", "projection", "parent", "to_plan", "by_plan",
    "by_decision", "decision_key",
})
"""Columns that hold keys: never cut, whatever their length."""
_WIDE = "ledger.wide"
_QUIET = "ledger.quiet"


def format_option(default: str = "table") -> Callable[[Any], Any]:
    """``--format`` and ``--wide``, for every command that prints records."""

    def decorate(f: Any) -> Any:
        f = click.option("--wide", is_flag=True, expose_value=False, callback=_remember,
                         help="Tables: show every cell whole (long cells are otherwise cut "
                         "at 60 characters, marked …; keys never are).")(f)
        return click.option(
            "--format", "fmt", type=click.Choice(FORMATS), default=default, show_default=True,
            help="table for people, json (documented shapes) or csv (RFC 4180).",
        )(f)

    return decorate


def _remember(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    ctx.meta[_WIDE] = bool(value)


def _meta(name: str) -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(name))


# ------------------------------------------------------------------ text a terminal can show

_SPACES = re.compile(r"[\t\n\r\f\v]+")
_NAMED = {"\r": "\\r", "\t": "\\t"}


def escaped(text: str, *, newlines: str = "\\n") -> str:
    """``text`` with every character Python does not call printable (controls, bidirectional
    overrides such as U+202E, other format characters, line separators, unassigned code points)
    shown as its escape (``\\x1b``, ``\\u202e``); a newline reads ``newlines``."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ch == "\n":
            out.append(newlines)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif ch == " " or (ch.isspace() and ch not in "\r\t\f\v\x1c\x1d\x1e\x1f\x85"):
            out.append(" ")  # no-break and other spaces read as spaces
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def one_line(text: str) -> str:
    """A message on one line, whatever the user typed into it, with nothing a terminal acts on."""
    return escaped(text)


def _terminal_safe_json(text: str) -> str:
    """JSON text whose non-printable characters are written as JSON escapes: the same data,
    but a terminal shows ``\\u202e`` instead of reversing the line."""
    if text.isprintable() or all(ch.isprintable() or ch == "\n" for ch in text):
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == "\n":
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:  # JSON spells a code point beyond the BMP as a surrogate pair
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON for a terminal or a file: UTF-8 as is, but with controls and
    bidirectional overrides escaped (JSON escapes, so the data is unchanged)."""
    return _terminal_safe_json(json.dumps(data, indent=indent, ensure_ascii=False))


# ------------------------------------------------------------------ cells


def readable(value: Any) -> str:
    """A value as a person reads it: a source as its document and place, a list as its items,
    an object as its named parts; never JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if value and set(value) <= {"document", "location"}:
            return " ".join(str(value[k]) for k in ("document", "location") if value.get(k))
        if set(value) == {"actor", "role", "body"}:
            return f"{value['actor']} ({value['role']}, {value['body']})"
        return "; ".join(f"{k}: {readable(v)}" for k, v in value.items()
                         if v not in (None, "", [], {}))
    if isinstance(value, list | tuple):
        items = [readable(v) for v in value]
        joiner = "; " if any(isinstance(v, dict | list | tuple) for v in value) else ", "
        return joiner.join(i for i in items if i)
    return str(value)


class Column(NamedTuple):
    """One column of a table: the record's field, its heading, whether it holds keys (never
    cut), and how a value reads (default: ``readable``). (A named tuple, not a dataclass:
    ``ledger --help`` loads this module, and dataclasses costs start-up time.)"""

    name: str
    header: str = ""
    key: bool | None = None
    text: Callable[[Any], str] | None = None

    @property
    def heading(self) -> str:
        return self.header or self.name

    @property
    def is_key(self) -> bool:
        return self.name in KEY_COLUMNS if self.key is None else self.key

    def cell(self, row: dict[str, Any]) -> str:
        value = row.get(self.name)
        return (self.text or readable)(value) if value is not None else ""


ColumnSpec = str | Column


def _columns(specs: Sequence[ColumnSpec]) -> list[Column]:
    return [s if isinstance(s, Column) else Column(s) for s in specs]


def table_lines(rows: Sequence[dict[str, Any]], columns: Sequence[ColumnSpec], *,
                wide: bool = False) -> list[str]:
    """The rows as aligned text lines under a heading line."""
    cols = _columns(columns)
    cells = [[_fit(c.cell(r), c.is_key or wide) for c in cols] for r in rows]
    widths = [max([len(c.heading), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.heading.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    for r in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return lines


def _fit(text: str, whole: bool) -> str:
    text = escaped(_SPACES.sub(" ", text), newlines=" ")
    if whole or len(text) <= CELL_MOST:
        return text
    return text[: CELL_MOST - 1].rstrip() + CUT


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[ColumnSpec]) -> str:
    import csv
    import io

    cols = _columns(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.heading for c in cols])
    for row in rows:
        writer.writerow([c.cell(row) for c in cols])
    return buffer.getvalue()


# ------------------------------------------------------------------ emitting


def emit(data: Any, fmt: str, records: Sequence[dict[str, Any]] | None = None,
         columns: Sequence[ColumnSpec] | None = None, *, empty: str = "(nothing)") -> None:
    """Prints ``data`` as JSON, or ``records`` (rows of it) as CSV or a table; a table with no
    rows prints ``empty``."""
    if fmt == "json":
        click.echo(json_text(data))
        return
    rows = list(records if records is not None else data)
    cols = list(columns or (list(rows[0]) if rows else []))
    if fmt == "csv":
        click.echo(csv_text(rows, cols), nl=False)
        return
    if not rows:
        click.echo(empty)
        return
    for line in table_lines(rows, cols, wide=_meta(_WIDE)):
        click.echo(line)


class Section(NamedTuple):
    """One part of a view made of several tables (a plan: its items, deliverables, targets)."""

    title: str
    records: Sequence[dict[str, Any]]
    columns: Sequence[ColumnSpec]
    empty: str = "none"


def emit_view(data: Any, fmt: str, header: Sequence[tuple[str, Any]],
              sections: Sequence[Section]) -> None:
    """A view of one thing: JSON as ``data``; a table as its header lines (name: value) then
    each section under its title and count; CSV as one table of every section's rows, the
    first column naming the section."""
    if fmt == "json":
        click.echo(json_text(data))
        return
    if fmt == "csv":
        names: list[Column] = [Column("section")]
        seen = {"section"}
        for s in sections:
            for c in _columns(s.columns):
                if c.name not in seen:
                    seen.add(c.name)
                    names.append(c)
        rows = [{"section": s.title.lower(), **r} for s in sections for r in s.records]
        click.echo(csv_text(rows, names), nl=False)
        return
    wide = _meta(_WIDE)
    width = max((len(name) for name, _ in header), default=0)
    for name, value in header:
        text = escaped(_SPACES.sub(" ", readable(value)), newlines=" ")
        click.echo(f"{(name + ':').ljust(width + 1)} {text}".rstrip())
    for s in sections:
        click.echo("")
        click.echo(f"{s.title} ({len(s.records)})")
        if not s.records:
            click.echo(f"  ({s.empty})")
            continue
        for line in table_lines(s.records, s.columns, wide=wide):
            click.echo(f"  {line}")


# ------------------------------------------------------------------ progress


def set_quiet(ctx: click.Context, quiet: bool) -> None:
    ctx.meta[_QUIET] = quiet


class Progress:
    """A progress line with an ETA on stderr, for work that has taken over a second.

    It is shown only on a terminal (stderr a TTY) and never with ``--quiet``: piped or
    redirected output, and CI logs, stay clean. The line rewrites itself in place and is
    cleared when the work ends (``close``), or before the command prints (``clear``).
    Called as ``progress(done, total)``, the shape the runner and the public copy report in.
    """

    DELAY = 1.0
    """Seconds of silence before the line appears: quick work shows nothing."""
    EVERY = 0.2
    """Seconds between redraws."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 enabled: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.started = clock()
        self.drawn_at: float | None = None
        self.width = 0
        if enabled is None:
            enabled = not _meta(_QUIET) and on_terminal(self.stream)
        self.enabled = enabled

    def __call__(self, done: int, total: int | None = None) -> None:
        self.update(done, total)

    def update(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if total is not None:
            self.total = total
        now = self.clock()
        elapsed = now - self.started
        if elapsed < self.DELAY or (self.drawn_at is not None
                                    and now - self.drawn_at < self.EVERY):
            return
        self.drawn_at = now
        self._draw(self.line(done, elapsed))

    def line(self, done: int, elapsed: float) -> str:
        """``label: 12,000/60,000 (20%), ETA 0:40``: the ETA from the rate so far."""
        total = self.total
        if not total:
            return f"{self.label}: {done:,}"
        share = min(done / total, 1.0)
        eta = "" if done <= 0 else f", ETA {_clock(elapsed * (total - done) / done)}"
        return f"{self.label}: {done:,}/{total:,} ({share:.0%}){eta}"

    def _draw(self, line: str) -> None:
        global _SHOWN
        pad = max(self.width - len(line), 0)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self.width = len(line)
        _SHOWN = self

    def clear(self) -> None:
        """Removes the line (before the command prints, or when the work is done)."""
        global _SHOWN
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
            self.drawn_at = None
        if _SHOWN is self:
            _SHOWN = None

    close = clear

    def ticks(self, total: int, every: int = 512) -> Iterator[None]:
        """One yield per item of work (what ``audit.verify`` takes), drawing now and then;
        it goes on yielding after ``total``."""
        self.total = total
        every = max(1, min(every, total // 100))  # a short walk is looked at often enough
        done = 0
        while True:
            done += 1
            if done % every == 0:
                self.update(min(done, total))
            yield None


_SHOWN: Progress | None = None
"""The progress line on the screen now, if any."""


def clear_progress() -> None:
    """Removes a progress line left on the screen (the work stopped with an error, or Ctrl-C),
    so that the message that follows starts on a clean line."""
    if _SHOWN is not None:
        _SHOWN.clear()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def on_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a person watching), not a pipe, file or capture."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
