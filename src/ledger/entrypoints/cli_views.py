"""Read commands over the projections: plan state, audit trail, decision trail, transition
history, target history, grants register, and the projections' own maintenance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from . import tables
from .cli import EXIT_BAD_INPUT, Failure, _Context, cli, not_found
from .output import Column, Progress, emit, emit_view, format_option, one_line

if TYPE_CHECKING:
    from projections.base import Ask, SqlRows


def bitemporal(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--known-at", help="What the ledger knew then (a date: the end of that "
                     "London day; or a timestamp with its offset); default now.")(f)
    return click.option("--as-of", help="The world as it was then (a date: the end of that "
                        "London day; or a timestamp with its offset); default today.")(f)


@contextmanager
def _reading(obj: _Context) -> Iterator[SqlRows]:
    from projections.runner import Runner

    runner = Runner(obj.ledger(mode="read"))
    try:
        progress = Progress("catching up the read models")
        runner.catch_up(progress=progress)  # shown only when it takes over a second
        progress.close()
        with runner.reading() as rows:
            yield rows
    finally:
        runner.close()


def _missing(obj: _Context, kind: str, key: str, as_of: str | None,
             known_at: str | None) -> Failure:
    """Not found (exit 2): missing from the ledger, or only as of the dates asked."""
    exists = obj.ledger(mode="read").get(kind, key) is not None
    return not_found(kind, key, exists=exists, as_of=as_of, known_at=known_at)


def _ask(as_of: str | None, known_at: str | None) -> Ask:
    """The question, by ``ledger.dates``' rules (a bad date is exit 2 naming its option):
    as of the end of today in London unless a date is given, so a fact dated later is not
    shown as if it had happened."""
    from projections.base import Ask

    from ..dates import today

    return Ask.of(today() if as_of is None else as_of, known_at)


@cli.group()
def projections() -> None:
    """Rebuild the read models or see where they stand against the log's head."""


@projections.command("status")
@format_option()
@click.pass_obj
def projections_status(obj: _Context, fmt: str) -> None:
    """Each projection's position against the head of the log."""
    from projections.runner import Runner

    runner = Runner(obj.ledger(mode="read"))
    rows = [
        {"projection": s.name, "position": s.position, "head": s.head, "behind": s.behind}
        for s in runner.status()
    ]
    runner.close()
    emit(rows, fmt)


@projections.command("rebuild")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.pass_obj
def projections_rebuild(obj: _Context, names: tuple[str, ...]) -> None:
    """Drop and replay the named projections (all when none is named)."""
    from projections.runner import Runner

    runner = Runner(obj.ledger(mode="read"))
    progress = Progress("rebuild")
    read = runner.rebuild(list(names), progress)
    progress.close()
    runner.close()
    click.echo(f"rebuilt {', '.join(names) or 'all projections'} from {read} events")


@cli.group()
def plan() -> None:
    """Plans as they stood on a date, as the ledger knew them at a time."""


@plan.command("list")
@bitemporal
@format_option()
@click.pass_obj
def plan_list(obj: _Context, as_of: str | None, known_at: str | None, fmt: str) -> None:
    """Every plan with its status and period."""
    from projections.runner import PLAN_STATE

    ask = _ask(as_of, known_at)
    with _reading(obj) as rows:
        plans = PLAN_STATE.plans(rows, ask)
    emit(plans, fmt, columns=["key", "title", "status", "period_from", "period_to"])


@plan.command("show")
@click.argument("key")
@bitemporal
@format_option()
@click.pass_obj
def plan_show(obj: _Context, key: str, as_of: str | None, known_at: str | None,
              fmt: str) -> None:
    """One plan: its status, items, deliverables (lead, deadline, status, source) and targets.
    Each deliverable says whether it is overdue as of the date asked (its due date has passed
    with no outcome recorded) and what became of it at a transfer of its body's
    responsibilities (carried over, lapsed, ended, or open with no outcome recorded)."""
    from projections.runner import PLAN_STATE

    ask = _ask(as_of, known_at)
    with _reading(obj) as rows:
        found = PLAN_STATE.plan(rows, key, ask)
    if found is None:
        raise _missing(obj, "plan", key, as_of, known_at)
    header, sections = tables.plan_view(found)
    emit_view(found, fmt, header, sections)


@cli.command("audit")
@click.argument("kind")
@click.argument("key")
@bitemporal
@format_option()
@click.pass_obj
def audit(obj: _Context, kind: str, key: str, as_of: str | None, known_at: str | None,
          fmt: str) -> None:
    """The audit trail of one entity: every change, who, when, why, from what."""
    from projections.runner import AUDIT_TRAIL

    ask = _ask(as_of, known_at)
    with _reading(obj) as rows:
        trail = AUDIT_TRAIL.trail(rows, kind, key, ask)
    if not trail:
        raise _missing(obj, kind, key, as_of, known_at)
    emit(trail, fmt, columns=tables.AUDIT)


FILTER_MOST = 500
"""The longest filter value: longer is no search a person makes (and SQLite refuses LIKE
patterns beyond 50,000 bytes)."""


def _bounded(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and len(value) > FILTER_MOST:
        raise click.BadParameter(f"at most {FILTER_MOST} characters ({len(value):,} given)")
    return value


FLAGS = {"date_from": "--from", "date_to": "--to"}
"""A query's filter by the option that gives it, where the two names differ."""


def _flag(name: str, value: Any) -> str:
    flag = FLAGS.get(name, "--" + name.replace("_", "-"))
    return flag if value is True else f"{flag} {value}"


def _say_unmatched(command: str, given: dict[str, Any],
                   finds: Callable[[dict[str, Any]], bool]) -> None:
    """After a filtered read found nothing: one line on stderr naming the filter that
    matched nothing (the first, asked alone), or saying that the filters match nothing
    together. The exit code stays 0: an empty answer is an answer. ``given`` holds the
    filters as the person wrote them; ``finds`` asks the query with some of them."""
    if not given:
        return
    alone = [name for name in given if len(given) == 1 or not finds({name: given[name]})]
    if alone:
        said = _flag(alone[0], given[alone[0]])
        click.echo(one_line(f"{command}: {said} matched nothing"), err=True)
        return
    both = " and ".join(_flag(n, v) for n, v in given.items())
    click.echo(one_line(f"{command}: nothing matches {both} together"), err=True)


def _holder_names(obj: _Context, holder: str) -> list[str]:
    """What ``--holder`` may mean: a holder's name, or an actor id (the registered actor's
    name; the query also reads an id as the name in lowercase with hyphens)."""
    from ..domain import DomainError

    names = [holder]
    try:
        actor = obj.ledger(mode="read").get("actor", holder.strip().casefold())
    except DomainError:
        actor = None
    if actor is not None:
        names.append(actor.name)  # type: ignore[attr-defined]
    return names


@cli.command("decisions")
@click.option("--body", callback=_bounded, help="Body key (any case).")
@click.option("--holder", callback=_bounded,
              help="Office holder at the decision date: a name in any case (Ann Barnes) or "
                   "an actor id (ann-barnes).")
@click.option("--from", "date_from", callback=_bounded, help="Decided on or after (ISO date).")
@click.option("--to", "date_to", callback=_bounded, help="Decided on or before (ISO date).")
@click.option("--priority", callback=_bounded, help="Plan item key the decision relates to.")
@click.option("--text", callback=_bounded,
              help="Free text in reference, title, summary, recommendation, decision.")
@click.option("--awarding-grants", is_flag=True, default=False,
              help="Only decisions that awarded grants (a grant award names them), with "
                   "their sign-offs, interests and grants.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (a page).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first.")
@bitemporal
@format_option()
@click.pass_obj
def decisions(obj: _Context, as_of: str | None, known_at: str | None, fmt: str,
              **filters: Any) -> None:
    """The decision trail: Records of Decision with sign-offs, interests and publication."""
    from projections.base import asked
    from projections.runner import DECISION_TRAIL

    ask = _ask(as_of, known_at)
    for name, option in (("date_from", "from"), ("date_to", "to")):
        if filters[name] is not None:  # checked before the read models catch up
            asked(filters[name], option)
    if filters["date_from"] is not None and filters["date_to"] is not None and (
            asked(filters["date_from"], "from", end=False) > asked(filters["date_to"], "to")):
        raise Failure(EXIT_BAD_INPUT, f"from: {filters['date_from']} is later than --to "
                                      f"{filters['date_to']}")
    given = {n: v for n, v in filters.items()
             if n not in ("limit", "offset") and v not in (None, False)}
    query = {**given, **({"holder": _holder_names(obj, given["holder"])}
                         if "holder" in given else {})}
    with _reading(obj) as rows:
        found = DECISION_TRAIL.decisions(
            rows, ask, limit=filters["limit"], offset=filters["offset"], **query)
        if not found and (not filters["offset"]
                          or not DECISION_TRAIL.decisions(rows, ask, limit=1, **query)):
            _say_unmatched("decisions", given, lambda some: bool(DECISION_TRAIL.decisions(
                rows, ask, limit=1, **{n: query[n] for n in some})))
    columns: list[Any] = tables.DECISIONS
    if filters["awarding_grants"]:
        columns = [*tables.DECISIONS, Column("grants_awarded", "grants awarded", text=_awarded)]
    emit(found, fmt, columns=columns)


def _awarded(value: Any) -> str:
    """The grants a decision awarded, in a cell: each grant, to whom, how much, when."""
    return "; ".join(f"{g['grant']} to {g['recipient']}, {g['amount']} on {g['awarded_on']}"
                     for g in value or [])


@cli.command("transitions")
@bitemporal
@format_option()
@click.pass_obj
def transitions(obj: _Context, as_of: str | None, known_at: str | None, fmt: str) -> None:
    """Bodies, office terms, transfers, and what became of each open commitment."""
    from projections.runner import TRANSITIONS

    ask = _ask(as_of, known_at)
    with _reading(obj) as rows:
        found = TRANSITIONS.history(rows, ask)
    emit_view(found, fmt, [], tables.transitions_view(found))


@cli.command("targets")
@click.argument("key", required=False)
@bitemporal
@format_option()
@click.pass_obj
def targets(obj: _Context, key: str | None, as_of: str | None, known_at: str | None,
            fmt: str) -> None:
    """Target history: set, baseline, revised (with justification) and measured values."""
    from projections.runner import TARGET_HISTORY

    ask = _ask(as_of, known_at)
    with _reading(obj) as rows:
        one = TARGET_HISTORY.target(rows, key, ask) if key else None
        found = [one] if one is not None else TARGET_HISTORY.targets(rows, ask)
    if key and one is None:
        raise _missing(obj, "target", key, as_of, known_at)
    emit(one if one is not None else found, fmt, records=tables.target_rows(found),
         columns=tables.TARGETS)


@cli.command("grants")
@click.option("--recipient", callback=_bounded, help="Recipient name, or part of it, in any "
              "case.")
@click.option("--year", callback=_bounded,
              help="Financial year, April to March, of the award: 2013, 2013/14 and 2013-14 "
                   "each mean April 2013 to March 2014.")
@click.option("--funding-body", callback=_bounded, help="Funding body key (any case).")
@click.option("--decision", callback=_bounded,
              help="The decision that awarded the grant (its reference).")
@bitemporal
@format_option()
@click.pass_obj
def grants(obj: _Context, as_of: str | None, known_at: str | None, fmt: str,
           **filters: Any) -> None:
    """Grants register: awards (with the decision behind each, where named), variations,
    payments, withdrawals and totals."""
    from projections.models.grants import financial_year_asked
    from projections.runner import GRANTS

    ask = _ask(as_of, known_at)
    if filters["year"] is not None:
        try:
            filters["year"] = financial_year_asked(filters["year"])
        except ValueError as exc:
            raise Failure(EXIT_BAD_INPUT, f"year: {exc}") from None
    given = {n: v for n, v in filters.items() if v is not None}
    with _reading(obj) as rows:
        found = GRANTS.register(rows, ask, **given)
        if not found["grants"]:
            _say_unmatched("grants", given, lambda some: bool(GRANTS.register(
                rows, ask, **some)["grants"]))
    emit(found, fmt, records=found["grants"],
         columns=["key", "recipient", "funding_body", "financial_year", "amount", "paid",
                  "status", "by_decision"])
