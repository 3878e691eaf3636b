"""The ``ledger`` command: a thin entrypoint over the application services.

Heavy modules are imported inside commands so that ``ledger --help`` starts fast.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..collector import collect_less
from .output import Progress, clear_progress, json_text, on_terminal, one_line, set_quiet

if TYPE_CHECKING:
    from ..services import Ledger

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_NOT_PERMITTED, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_STORE = 5
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""
DEFAULT_STORE_URL = "sqlite:///events_store/ledger.db"
DEMO_STORE_URL = "sqlite:///events_store/demo.db"
DEMO_GENESIS = {"admin": "demo-admin", "name": "Demo administrator", "body": "demo-records",
                "body_name": "Demo records office", "body_type": "other"}
DEMO_RECORDS_OFFICER: dict[str, Any] = {
    "actor": "demo-records-officer", "name": "Demo records officer",
    "roles": ["records_officer"], "acts_for": "demo-records",
}

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a check found a problem (verify)
  2  bad input (the message names the field)
  3  not permitted
  4  concurrent change: re-read and retry
  5  the store cannot be reached or opened
  130  interrupted (Ctrl-C): a write is all or nothing"""


class Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _fail(code: int, message: str) -> NoReturn:
    raise Failure(code, message)


def not_found(kind: str, key: str, *, field: str = "key", exists: bool = False,
              as_of: str | None = None, known_at: str | None = None,
              until: int | None = None) -> Failure:
    """The one answer of every reading command for an entity it cannot find: bad input
    (exit 2), naming what was asked for. The dates (and a last position) are named only when
    they were given, each as the option that gave it: an entity the ledger holds (``exists``)
    that is not there as of what was asked is missing "as of today" when no date was given."""
    when = [f"as of {as_of}"] if as_of else []
    if known_at:
        when.append(f"as known at {known_at}")
    if until is not None:
        when.append(f"up to position {until}")
    if exists and not when:
        when.append("as of today")
    where = " ".join(when) or "in the ledger"
    return Failure(EXIT_BAD_INPUT, f"{field}: no {kind} '{key}' {where}")


class _ReaderGone(Exception):
    """Whoever read our output closed it (`ledger log | head -1`): not an error. A closed
    pipe is the only source of BrokenPipeError in a command (a database's lost connection is
    the driver's own error), so every one is taken for it."""


class LedgerGroup(click.Group):
    """The root group: a closed output pipe and Ctrl-C are caught here, before click turns
    them into an exit 1 or a blank line and an abort."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Failure(EXIT_INTERRUPTED, "interrupted") from None
        except BrokenPipeError:
            _silence_stdout()
            raise _ReaderGone() from None


class _Context:
    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._ledger: Ledger | None = None
        self.reader: str | None = None
        """Whom a reading command reads for (``--as``); None: the public."""

    def adopt(self, ledger: Ledger) -> None:
        """A ledger opened elsewhere for this command, closed when it ends."""
        self._ledger = ledger
        click.get_current_context().call_on_close(ledger.close)
        _started()

    def ledger(self, *, mode: str = "write") -> Ledger:
        """The store, opened once per command: "read" for reading commands (read-only, never
        created), "write" for commands that append (created by the first accepted append).
        It is closed when the command ends."""
        if self._ledger is None:
            from ..services import Ledger

            self._ledger = Ledger(self.store_url, mode=mode)
            click.get_current_context().call_on_close(self._ledger.close)
            _started()
            if self.reader is not None:
                from ..disclosure import identify

                self._ledger.reader = identify(self._ledger, self.reader)
        return self._ledger


@click.group(cls=LedgerGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store_url",
    envvar="LEDGER_STORE_URL",
    default=DEFAULT_STORE_URL,
    show_default=True,
    metavar="URL",
    help="sqlite:///path.db or postgresql://user@host:port/db[?schema=name] "
    "(env LEDGER_STORE_URL).",
)
@click.option("--quiet", "-q", is_flag=True,
              help="No progress lines (shown only on a terminal, for work over a second).")
@click.pass_context
def cli(ctx: click.Context, store_url: str, quiet: bool) -> None:
    """Tamper-evident accountability ledger for police governance."""
    ctx.obj = _Context(store_url)
    set_quiet(ctx, quiet)


@cli.command()
@click.option(
    "--digest",
    "digest_path",
    type=click.Path(path_type=Path),
    help="Also prove the log extends this earlier digest (catches rewrites and truncation).",
)
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path),
    help="Also check this signed checkpoint (its signature, and that the log extends it).",
)
@click.option("--verifier-key", help="The log's published verifier key, for --checkpoint "
              "(default: this machine's log key).")
@click.option("--witness", "witnesses", multiple=True, metavar="VKEY",
              help="A witness's verifier key; repeat. The checkpoint needs their co-signatures.")
@click.option("--threshold", type=click.IntRange(min=1),
              help="How many --witness co-signatures are needed (default: all).")
@click.pass_obj
def verify(obj: _Context, digest_path: Path | None, checkpoint_path: Path | None,
           verifier_key: str | None, witnesses: tuple[str, ...], threshold: int | None) -> None:
    """Account for every row of the store and recompute the hash chain, every signature and
    the Merkle tree: OK with the head position and hash, or FAILED with the first bad position
    and the kind of problem."""
    from ..audit import load_digest
    from ..audit import verify as verify_chain

    digest = load_digest(digest_path) if digest_path else None
    ledger = obj.ledger(mode="read")
    if checkpoint_path is not None:
        from ..proofs import read_checkpoint
        from .cli_proofs import _key, _read

        raw = _read(checkpoint_path, "checkpoint")
        read_checkpoint(ledger, raw, _key(obj, ledger, verifier_key), "checkpoint")
        if witnesses:
            _witnessed(raw, witnesses, threshold)
    progress = Progress("verify")
    result = verify_chain(ledger, digest, progress.ticks(ledger.chain.census().last))
    progress.close()
    if result.problem is not None:
        click.echo(f"FAILED {result.problem}")
        raise Failure(EXIT_CHECK_FAILED, "")
    extends = f" (extends digest at {digest['position']})" if digest else ""
    click.echo(f"OK position {result.head_position} hash {result.head_hash.hex()}{extends}")
    click.echo(f"log {_log_name(result.log_id)}")
    signers = ", ".join(f"{name} {n:,}" for name, n in sorted(result.signers.items()))
    click.echo(f"{result.head_position:,} events checked, {result.signatures:,} signatures "
               f"checked; signers: {signers or 'none'}")
    if result.withheld:
        click.echo(f"a public copy: {result.withheld:,} payloads withheld (their digests are "
                   "linked and signed; what the copy shows of them cannot be checked)")


def _witnessed(raw: bytes, witnesses: tuple[str, ...], threshold: int | None) -> None:
    """Enough witnesses co-signed: a log showing two histories to two audiences would need
    them to sign both."""
    from ..adapters.keys import verify_signature
    from ..integrity.checkpoint import NoteError, check_cosignatures, parse_note
    from ..integrity.checkpoint import parse_verifier_key as vkey

    try:
        keys = [vkey(w) for w in witnesses]
        check_cosignatures(parse_note(raw), keys, threshold or len(keys), verify_signature)
    except NoteError as exc:
        raise Failure(EXIT_CHECK_FAILED, str(exc)) from None


def _log_name(log_id: bytes | None) -> str:
    from uuid import UUID

    return "(none: created before log ids)" if log_id is None else str(UUID(bytes=log_id))


@cli.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write to FILE too.")
@click.pass_obj
def digest(obj: _Context, output: Path | None) -> None:
    """Verify the store as `verify` does, then print a JSON digest (log id, position, head
    hash, time, checkpoints) for an auditor to keep, or write it to FILE (-o) and say so in
    one line. A failing store gets no digest (exit 1)."""
    from ..audit import take_digest

    kept = take_digest(obj.ledger(mode="read"))
    text = json.dumps(kept, indent=2)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n")
    except OSError as exc:
        _fail(EXIT_BAD_INPUT, f"output: cannot write {output}: {exc.strerror}")
    click.echo(one_line(f"wrote the digest of position {kept['position']} (head "
                        f"{kept['head_hash']}) to {output}"))


@cli.command()
@click.argument("type_", metavar="TYPE")
@click.argument("key")
@click.option("--as", "acting", envvar="LEDGER_ACTOR", metavar="ACTOR", required=True,
              help="The acting actor (env LEDGER_ACTOR); it signs with its key.")
@click.option("--role", help="Role acted in (default: the actor's first role).")
@click.option("--body", help="Body acted for (default: the body the actor acts for).")
@click.option("--effective-at", required=True, help="When it happened: ISO date or timestamp.")
@click.option("--reason", help="Why; required when changing an existing fact.")
@click.option("--source-document", required=True,
              help="The document this fact comes from (its id).")
@click.option("--source-location", default="", help="Place in the document (lines, page).")
@click.option("--corrects", help="Id of the event this one corrects.")
@click.option("--kind", help="Entity kind (needed for EventRetracted).")
@click.option(
    "--field",
    "-f",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="An event field; repeat. A JSON array or object value is parsed.",
)
@click.pass_obj
def record(obj: _Context, type_: str, key: str, fields: tuple[str, ...], **envelope: Any) -> None:
    """Record one fact: an event TYPE (see `ledger types`) on the entity KEY.

    The generic form of the write commands: the same permission checks apply, and the role
    and body default, as there, to the actor's first role and its body.
    """
    from .cli_write import record_as

    data: dict[str, Any] = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            _fail(EXIT_BAD_INPUT, f"field: '{item}' is not NAME=VALUE")
        data[name] = json.loads(value) if value[:1] in ("[", "{") and _is_json(value) else value
    kind = envelope.pop("kind")
    record_as(obj, type_, key, envelope, data, kind=kind, spell=lambda name: f"-f {name}=...")


def signer_of(actor: str) -> Any:
    """The acting actor's key from the key directory: every write is signed with it."""
    from ..adapters.keys import KeyDir

    return KeyDir().signer(actor)


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


@cli.command()
@click.argument("kind")
@click.argument("key")
@click.pass_obj
def show(obj: _Context, kind: str, key: str) -> None:
    """Current state of one entity (KIND: body, plan, deliverable, target, grant, ...) as JSON."""
    state = obj.ledger(mode="read").get(kind, key)
    if state is None:
        raise not_found(kind, key)
    click.echo(json_text(state.model_dump(mode="json")))


@cli.command()
@click.argument("kind")
@click.argument("key")
@click.pass_obj
def history(obj: _Context, kind: str, key: str) -> None:
    """Every event of one entity, oldest first, as JSON lines."""
    events = obj.ledger(mode="read").history(kind, key)
    if not events:
        raise not_found(kind, key)
    for event in events:
        click.echo(_event_json(event))


@cli.command()
@click.option("--after", default=0, show_default=True, help="Start after this position.")
@click.option("--until", type=int, help="Stop at this position.")
@click.pass_obj
def log(obj: _Context, after: int, until: int | None) -> None:
    """Every event in chain order, as JSON lines with their positions."""
    for position, event in obj.ledger(mode="read").log(after, until):
        click.echo(_event_json(event, position=position))


def _event_json(event: Any, **extra: Any) -> str:
    return json_text(
        {**extra, "event_id": str(event.id), "type": event.type, **event.model_dump(mode="json")},
        indent=None,
    )


@cli.command()
def types() -> None:
    """The event catalogue: each event type, the entity kind it applies to, and its fields."""
    from ..domain import AGGREGATE_OF, EVENT_TYPES
    from ..domain.base import ENVELOPE_FIELDS

    for name, cls in sorted(EVENT_TYPES.items()):
        kind = AGGREGATE_OF[cls].kind if cls in AGGREGATE_OF else "any"
        fields = [
            f"{f}{'' if info.is_required() else '?'}"
            for f, info in cls.model_fields.items()
            if f not in ENVELOPE_FIELDS and f != "key"
        ]
        reason = " (reason required)" if cls.changes_fact else ""
        click.echo(f"{name:28} {kind:12} {', '.join(fields)}{reason}")


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Record the sample history (every event type) in a demo store, once, and verify it.

    Uses events_store/demo.db unless --store says otherwise; an existing store is never
    deleted or overwritten.
    """
    from ..audit import take_digest
    from ..audit import verify as verify_chain
    from ..demo import record_sample

    obj: _Context = ctx.obj
    assert ctx.parent is not None
    if ctx.parent.get_parameter_source("store_url") is click.core.ParameterSource.DEFAULT:
        obj.store_url = DEMO_STORE_URL
    ledger = obj.ledger()
    click.echo(f"store: {ledger.location.describe()}")
    head, _ = ledger.chain.head()
    if head:
        click.echo(f"the store already holds {head} events: recording nothing")
    else:
        from ..adapters.keys import KeyDir
        from ..provisioning import ensure_actor, init_ledger

        keys = KeyDir()
        ledger.close()
        ledger = init_ledger(obj.store_url, keys=keys, **DEMO_GENESIS)
        obj.adopt(ledger)
        ledger.signer = ensure_actor(ledger, **DEMO_RECORDS_OFFICER, keys=keys,
                                     admin=lambda: keys.signer(DEMO_GENESIS["admin"]))
        recorded = record_sample(ledger)
        click.echo(f"recorded {len(recorded)} events of the sample history, signed by "
                   f"{ledger.signer.actor}")
    from projections.base import Ask
    from projections.runner import PROJECTIONS, TRANSITIONS, Runner

    runner = Runner(ledger)
    with runner.reading() as rows:
        story = TRANSITIONS.history(rows, Ask.of())
    click.echo(f"projections: {len(PROJECTIONS)} up to date at position "
               f"{min(s.position for s in runner.status())}")
    runner.close()
    for transfer in story["transfers"]:
        click.echo(f"transfer {transfer['on']}: {transfer['from_body']} -> "
                   f"{transfer['to_body']} ({transfer['legal_basis']})")
        for c in transfer["commitments"]:
            click.echo(f"  {c['deliverable']}: {c['outcome']}")
    result = verify_chain(ledger)
    if not result.ok:
        click.echo(f"verify FAILED {result.problem}")
        raise Failure(EXIT_CHECK_FAILED, "")
    click.echo(f"verify OK position {result.head_position} hash {result.head_hash.hex()}")
    kept = take_digest(ledger)
    click.echo(f"digest: position {kept['position']} head {kept['head_hash']} taken "
               f"{kept['taken_at']} ({len(kept['checkpoints'])} checkpoints; "
               "`ledger digest -o FILE` keeps one)")


def _run(entry: click.Group, args: list[str] | None) -> int:
    if args is not None and any("\x00" in arg for arg in args):
        # no operating system passes one in a command line; only a caller in-process can
        click.echo("error: an argument holds a NUL character", err=True)
        return EXIT_BAD_INPUT
    try:
        try:
            returned = entry.main(args=args, prog_name="ledger", standalone_mode=False)
        except BaseException:
            clear_progress()  # a message starts on a line of its own, not after a progress line
            raise
    except Failure as exc:
        if exc.code == EXIT_INTERRUPTED:
            _interrupted()
        elif str(exc):
            click.echo(f"error: {one_line(str(exc))}", err=True)
        return exc.code
    except click.ClickException as exc:  # usage errors too: one line, not click's block
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except _ReaderGone:
        return EXIT_OK
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C while click parsed
            _interrupted()
            return EXIT_INTERRUPTED
        click.echo("aborted", err=True)
        return EXIT_CHECK_FAILED
    except KeyboardInterrupt:  # Ctrl-C outside any command (its opening or closing)
        _interrupted()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # one line, never a traceback
        if _is_validation_error(exc):
            from ..domain.base import domain_error_from

            click.echo(f"error: {one_line(str(domain_error_from(exc)))}", err=True)  # type: ignore[arg-type]
            return EXIT_BAD_INPUT
        return _report(exc)
    return returned if isinstance(returned, int) else EXIT_OK


def _interrupted() -> None:
    """One line for Ctrl-C; on a terminal it starts after the ``^C`` the terminal echoed."""
    if on_terminal(sys.stderr):
        click.echo("", err=True)
    click.echo("error: interrupted", err=True)


def _is_validation_error(exc: Exception) -> bool:
    """pydantic's, asked without importing pydantic: a command that never loaded it (a
    checkpoint, --help) cannot have raised one, and starts without its import time."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(exc, pydantic.ValidationError)


def _report(exc: Exception) -> int:
    from ..adapters.keys import KeyFileError
    from ..adapters.store import StoreError, StoreURLError
    from ..audit import CheckFailed
    from ..domain import DomainError
    from ..permissions import NotPermitted
    from ..services import ConflictError

    message = one_line(str(exc).strip()) or type(exc).__name__
    if isinstance(exc, CheckFailed):
        click.echo(f"FAILED {exc.problem}")
        return EXIT_CHECK_FAILED
    if isinstance(exc, DomainError | StoreURLError | KeyFileError):
        click.echo(f"error: {message}", err=True)
        return EXIT_BAD_INPUT
    if isinstance(exc, NotPermitted):
        click.echo(f"error: not permitted: {message}", err=True)
        return EXIT_NOT_PERMITTED
    if isinstance(exc, ConflictError):
        click.echo(f"error: {message}", err=True)
        return EXIT_CONFLICT
    if isinstance(exc, StoreError):
        click.echo(f"error: {message}", err=True)
        return EXIT_STORE
    driver = _driver_error(exc)
    if driver is not None:
        click.echo(f"error: store: {driver}", err=True)
        return EXIT_STORE
    click.echo(f"error: internal: {type(exc).__name__}: {message}", err=True)
    return EXIT_STORE


def _driver_error(exc: BaseException) -> str | None:
    """A database driver's or library's error, said in its own first line (a full disk, a
    server gone, a file that cannot be opened), without SQLAlchemy's statement dump."""
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    kinds: tuple[type[BaseException], ...] = (PersistenceError, sqlite3.Error, OSError)
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import SQLAlchemyError

        kinds += (SQLAlchemyError,)
    if "psycopg" in sys.modules:
        import psycopg

        kinds += (psycopg.Error,)
    seen = exc
    while not isinstance(seen, kinds):
        if seen.__cause__ is None:
            return None
        seen = seen.__cause__
    original = getattr(seen, "orig", None) or seen  # SQLAlchemy wraps the driver's error
    text = str(original).strip().splitlines()
    return one_line(text[0] if text else type(original).__name__)


def _silence_stdout() -> None:
    """Stdout's reader has gone (a closed pipe, `ledger log | head -1`): stdout is pointed at
    the null device, as the Python documentation advises, so that nothing more written to it
    (the interpreter's last flush included) fails or prints a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to flush
        pass


_collecting: tuple[int, int, int] | None = None
"""The collector's thresholds to return to once start-up is over (None: not deferred)."""


def _defer_collection() -> None:
    """Start-up allocates hundreds of thousands of objects that all live to the end (see
    ``ledger.collector``). A command that opens no store keeps collecting sparsely."""
    global _collecting
    _collecting = collect_less()


def _started() -> None:
    """The command's store is open: what start-up loaded is kept out of the collector's walks
    (``gc.freeze``) and the collector runs as usual for the command's own work."""
    global _collecting
    if _collecting is not None:
        gc.freeze()
        gc.set_threshold(*_collecting)
        _collecting = None


def main(args: list[str] | None = None) -> None:
    if args is None:  # the `ledger` command itself: a caller in-process keeps its collector
        _defer_collection()
    code = _run(cli, args)
    try:
        sys.stdout.flush()  # what is still buffered goes out now, or nowhere if the reader left
    except BrokenPipeError:
        _silence_stdout()
    if args is None:  # the `ledger` command itself, not a caller in-process
        _end_process(code)
    sys.exit(code)


def _end_process(code: int) -> NoReturn:
    """Ends the process once the command is done (its store closed by its context, its output
    flushed, the exit handlers run) without the interpreter's teardown, which frees every
    object of every loaded module one by one (a fifteenth of a write's run), for nothing."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a stream closed
            stream.flush()
    os._exit(code)
from . import cli_views  # noqa: E402,F401,I001  (registers the read commands)
from . import cli_write  # noqa: E402,F401  (registers the write commands)
from . import cli_audit  # noqa: E402,F401  (registers actor list, replay, evidence)
from . import cli_import  # noqa: E402,F401  (registers import)
from . import cli_store  # noqa: E402,F401  (registers store secure)
from . import cli_keys  # noqa: E402,F401  (registers key new|show, init)
from . import cli_proofs  # noqa: E402,F401  (registers checkpoint, proof)
from . import cli_disclosure  # noqa: E402,F401  (registers redact, release, export)
from . import cli_publish  # noqa: E402,F401  (registers publish)


def _exit_codes_everywhere(group: click.Group) -> None:
    """Every command's --help ends with the exit codes."""
    for command in group.commands.values():
        command.epilog = command.epilog or EXIT_CODES
        if isinstance(command, click.Group):
            _exit_codes_everywhere(command)


NOT_READING = frozenset({"init", "types", "demo", "key", "store", "publish", "export"})
"""Commands that show nobody's records (or only what is public): no reader to name."""


def _set_reader(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(_Context).reader = value


def _readers_everywhere(group: click.Group) -> None:
    """Every reading command takes --as (or LEDGER_ACTOR): whom it reads for. One option,
    added here for all of them, so no command can forget it."""
    for name, command in group.commands.items():
        if name in NOT_READING:
            continue
        if isinstance(command, click.Group):
            _readers_everywhere(command)
        elif not any("--as" in p.opts for p in command.params if isinstance(p, click.Option)):
            command.params.append(click.Option(
                ["--as", "reader"], envvar="LEDGER_ACTOR", metavar="ACTOR",
                expose_value=False, callback=_set_reader, is_eager=True,
                help="Read as this actor, proven by its key in the key directory (env "
                "LEDGER_ACTOR); without it, as the public. See README: Read policy."))


_exit_codes_everywhere(cli)
_readers_everywhere(cli)
