"""Officers' write commands, one per event type, generated from the event catalogue.

Each command's options are the event's own fields (same names, dashes for underscores) plus
the envelope. Fields may also come from a JSON or YAML file (``--file``); options win.
Every write is checked against the acting actor's roles and body: a refusal exits 3 and writes
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import click

from .cli import EXIT_BAD_INPUT, EXIT_CODES, Failure, _Context, cli, signer_of

VERBS: list[tuple[str, str, str]] = [
    ("actor", "add", "ActorRegistered"),
    ("actor", "grant", "ActorRoleGranted"),
    ("actor", "revoke", "ActorRoleRevoked"),
    ("actor", "rotate-key", "ActorKeyRotated"),
    ("actor", "revoke-key", "ActorKeyRevoked"),
    ("actor", "deactivate", "ActorDeactivated"),
    ("body", "establish", "BodyEstablished"),
    ("body", "abolish", "BodyAbolished"),
    ("term", "start", "OfficeTermStarted"),
    ("term", "end", "OfficeTermEnded"),
    ("responsibility", "transfer", "ResponsibilityTransferred"),
    ("plan", "draft", "PlanDrafted"),
    ("plan", "add-item", "PlanItemAdded"),
    ("plan", "send-to-panel", "PlanSentToPanel"),
    ("plan", "panel-report", "PanelReportReceived"),
    ("plan", "issue", "PlanIssued"),
    ("plan", "vary", "PlanVaried"),
    ("plan", "extend", "PlanExtended"),
    ("plan", "supersede", "PlanSuperseded"),
    ("deliverable", "add", "DeliverableAdded"),
    ("deliverable", "lead", "DeliverableLeadAssigned"),
    ("deliverable", "deadline", "DeliverableDeadlineChanged"),
    ("deliverable", "status", "DeliverableStatusChanged"),
    ("deliverable", "carry-over", "DeliverableCarriedOver"),
    ("deliverable", "lapse", "DeliverableLapsed"),
    ("target", "set", "TargetSet"),
    ("target", "baseline", "BaselineRecorded"),
    ("target", "revise", "TargetRevised"),
    ("target", "measure", "OutcomeMeasured"),
    ("grant", "award", "GrantAwarded"),
    ("grant", "vary", "GrantVaried"),
    ("grant", "pay", "GrantPaid"),
    ("grant", "withdraw", "GrantWithdrawn"),
    ("decision", "record", "DecisionRecorded"),
    ("decision", "sign-off", "DecisionSignedOff"),
    ("decision", "publish", "DecisionPublished"),
    ("interest", "declare", "InterestDeclared"),
    ("budget", "draft", "BudgetDrafted"),
    ("budget", "line", "BudgetLineSet"),
    ("budget", "savings", "SavingsRequirementSet"),
    ("precept", "propose", "PreceptProposed"),
    ("precept", "review", "PreceptReviewed"),
    ("precept", "veto", "PreceptVetoed"),
    ("precept", "issue", "PreceptIssued"),
    ("inspection", "report", "InspectionReported"),
    ("inspection", "grade", "InspectionGraded"),
    ("inspection", "raise", "AreaForImprovementRaised"),
    ("inspection", "plan-action", "ImprovementActionPlanned"),
    ("inspection", "complete-action", "ImprovementActionCompleted"),
]

GROUP_HELP = {
    "actor": "Ledger users and their roles (administrators).",
    "body": "Bodies: police authorities, PCC offices, Panels, forces, inspectorates.",
    "term": "Office terms: who held an office of a body, from when to when.",
    "responsibility": "Transfers of responsibility between bodies.",
    "plan": "Plans: record their cycle, or read them as of a date.",
    "deliverable": "Deliverables of a plan: lead, deadline, status.",
    "target": "Targets: set, baseline, revise (with justification), measure.",
    "grant": "Grants: award, vary, pay, withdraw.",
    "decision": "Records of Decision: record, sign off, publish.",
    "interest": "Declared interests on a decision.",
    "budget": "A body's budget for a financial year: lines and savings.",
    "precept": "The precept cycle: propose, Panel review or veto, issue.",
    "inspection": "Inspections: grades, areas for improvement, improvement actions.",
}

ENVELOPE_HELP = """
\b
The envelope (every write):
  --as ACTOR (or LEDGER_ACTOR), --role and --body (default: the actor's first role and
  its body), --effective-at (ISO date or timestamp), --source-document, --source-location,
  --reason (required when changing an existing fact), --corrects EVENT_ID.
"""


class WriteGroup(click.Group):
    """A group whose write commands are built from the event catalogue only when used, so that
    `ledger --help` need not import the domain."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verbs: dict[str, str] = {}
        """Verb -> event type, of the commands not built yet."""

    def _load(self, verb: str | None = None) -> None:
        """Builds one verb's command (the one being run), or all of them (for help)."""
        for name in [verb] if verb is not None else list(self.verbs):
            type_name = self.verbs.pop(name, None)
            if type_name is not None:
                self.add_command(_make(type_name, name))

    def list_commands(self, ctx: click.Context | None) -> list[str]:  # type: ignore[override]
        self._load()
        return super().list_commands(ctx)  # type: ignore[arg-type]

    def get_command(  # type: ignore[override]
        self, ctx: click.Context | None, cmd_name: str
    ) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)  # type: ignore[arg-type]


def _groups() -> dict[str, WriteGroup]:
    groups: dict[str, WriteGroup] = {}
    for group_name, _, _ in VERBS:
        if group_name in groups:
            continue
        group = WriteGroup(group_name, help=GROUP_HELP.get(group_name))
        existing = cli.commands.get(group_name)
        if isinstance(existing, click.Group):  # e.g. `plan`, whose reads are defined elsewhere
            group.help = existing.help
            for command in existing.commands.values():
                group.add_command(command)
        cli.add_command(group)
        groups[group_name] = group
    return groups


FILLED_BY_LEDGER = {("DecisionSignedOff", "signed_by")}
"""Fields the ledger fills in from the acting actor, so no option gives them (a sign-off is
signed by its signer's registered name)."""


class FieldOption(click.Option):
    """An option for one field of an event: its help (what the field means, from the event
    class or the glossary, and whether it is required) is worked out only when help is shown,
    so running a write reads no source code."""

    def __init__(self, decls: list[str], *, event: type[Any], field: str, required: bool,
                 **kwargs: Any) -> None:
        choices = kwargs.get("type")
        if isinstance(choices, click.Choice) and len(choices.choices) > SHOWN_INLINE:
            kwargs["metavar"] = field.rstrip("s").upper()  # the values go in the help
        super().__init__(decls, **kwargs)
        self.event, self.field, self.needed = event, field, required

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.help is None:
            from ..domain.glossary import meaning

            said = meaning(self.event, self.field) or self.field.replace("_", " ") + "."
            if self.multiple and "repeat" not in said:
                said += " Repeat for several."
            self.help = said + _values(self.type) + (" [required]" if self.needed else "")
        return super().get_help_record(ctx)


SHOWN_INLINE = 6
"""Up to this many valid values show in the option's metavar; more go in its help."""


def _values(kind: Any) -> str:
    if isinstance(kind, click.Choice) and len(kind.choices) > SHOWN_INLINE:
        return f" One of: {', '.join(map(str, kind.choices))}."
    return ""


def _field_options(type_name: str) -> list[click.Option]:
    from ..domain import event_type
    from ..domain.base import ENVELOPE_FIELDS

    cls = event_type(type_name)
    options: list[click.Option] = []
    for name, info in cls.model_fields.items():
        if name in ENVELOPE_FIELDS or name == "key" or (type_name, name) in FILLED_BY_LEDGER:
            continue
        flag = "--" + name.replace("_", "-")
        common: dict[str, Any] = {"event": cls, "field": name, "required": info.is_required()}
        annotation = info.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is tuple or any(get_origin(a) is tuple for a in args):
            inner = [a for t in [annotation, *args] if get_origin(t) is tuple
                     for a in get_args(t) if a is not Ellipsis]
            kinds = _choice(inner[0]) if inner else None
            options.append(FieldOption([flag, name], multiple=True, type=kinds, **common))
        elif _choice(annotation) is not None:
            options.append(FieldOption([flag, name], type=_choice(annotation), **common))
        elif annotation is bool:
            options.append(FieldOption([f"{flag}/--not-{flag[2:]}", name], default=None,
                                       **common))
        else:
            options.append(FieldOption([flag, name], **common))
    return options


def _choice(annotation: Any) -> click.Choice | None:
    """The valid values of an enumerated field, which click lists in the help."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return click.Choice([e.value for e in annotation])
    return None


ENVELOPE_OPTIONS = {"acting": "--as", "effective_at": "--effective-at",
                    "source_document": "--source-document", "role": "--role", "body": "--body",
                    "reason": "--reason"}
"""The envelope's options, by the name a missing value is reported under."""


def _envelope_options() -> list[click.Option]:
    from ..domain import Role

    return [
        click.Option(["--as", "acting"], envvar="LEDGER_ACTOR", metavar="ACTOR",
                     help="The acting actor (env LEDGER_ACTOR); it signs with its key in the "
                     "key directory. [required]"),
        click.Option(["--role"], type=click.Choice([r.value for r in Role]), metavar="ROLE",
                     help="Role acted in (default: the actor's first role). One of: "
                     f"{', '.join(r.value for r in Role)}."),
        click.Option(["--body"], help="Body acted for (default: the body the actor acts for)."),
        click.Option(["--effective-at"], help="When it happened in the world: an ISO date or "
                     "a timestamp with its offset. [required]"),
        click.Option(["--reason"], help="Why; required when changing an existing fact."),
        click.Option(["--source-document"], help="The document this fact comes from (its id). "
                     "[required]"),
        click.Option(["--source-location"], default="", help="Where in the document (lines, "
                     "page, paragraph)."),
        click.Option(["--corrects"], metavar="EVENT_ID", help="The event this one corrects."),
        click.Option(["--file", "fields_file"], type=click.Path(path_type=Path),
                     help="JSON or YAML object of fields (options override it)."),
    ]


def _load_fields(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise Failure(EXIT_BAD_INPUT, f"file: cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # JSON or YAML syntax: report, never a traceback
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Failure(EXIT_BAD_INPUT, f"file: {path} is not valid ({first})") from None
    if not isinstance(data, dict):
        raise Failure(EXIT_BAD_INPUT, f"file: {path} must hold an object of fields")
    return data


def record_as(obj: _Context, type_name: str, key: str, envelope: dict[str, Any],
              fields: dict[str, Any], kind: str | None = None,
              spell: Callable[[str], str] | None = None) -> None:
    """Fills the envelope from the actor where left out, records, and reports the position.
    A value left out is named by its option (``spell`` says how a field is given, by default
    ``--name``) before anything is read."""
    from ..permissions import NotPermitted
    from ..services import Fact

    acting = envelope.pop("acting")
    if not acting:
        raise Failure(EXIT_BAD_INPUT, "as: say who is acting (--as ACTOR or LEDGER_ACTOR)")
    _require(type_name, fields, envelope, spell or _option)
    ledger = obj.ledger()
    if envelope.get("role") is None or envelope.get("body") is None:
        actor = ledger.get("actor", acting)
        if actor is None:
            raise NotPermitted("as", f"no actor '{acting}' in the ledger")
        envelope["role"] = envelope.get("role") or actor.roles[0].value  # type: ignore[attr-defined]
        envelope["body"] = envelope.get("body") or actor.acts_for  # type: ignore[attr-defined]
    source = {"document": envelope.pop("source_document"),
              "location": envelope.pop("source_location") or ""}
    data = {**fields, **{k: v for k, v in envelope.items() if v is not None},
            "actor": acting, "source": source}
    (recorded,) = ledger.record([Fact(type=type_name, key=key, kind=kind, fields=data)],
                                acting=acting, signer=signer_of(acting))
    click.echo(f"recorded {recorded.event.type} at position {recorded.position} "
               f"(event {recorded.event.id})")


def _option(field: str) -> str:
    return f"--{field.replace('_', '-')} (or {field} in --file)"


SET_BY_LEDGER = frozenset({"originator_id", "originator_version", "recorded_at", "actor",
                           "role", "body", "source", "key"})
"""Fields no one gives: the ledger sets them, or the envelope's own options do."""


def _require(type_name: str, fields: dict[str, Any], envelope: dict[str, Any],
             spell: Callable[[str], str]) -> None:
    """Every value the event needs is given: a missing one is bad input naming the option
    that gives it (not the event's nested field, such as ``source.document``)."""
    from ..domain import event_type

    missing = [(ENVELOPE_OPTIONS[n].lstrip("-"), ENVELOPE_OPTIONS[n])
               for n in ("effective_at", "source_document")
               if envelope.get(n) in (None, "") and n not in fields]
    cls = event_type(type_name)
    missing += [
        (name, spell(name)) for name, info in cls.model_fields.items()
        if info.is_required() and name not in SET_BY_LEDGER and name not in envelope
        and (type_name, name) not in FILLED_BY_LEDGER and fields.get(name) in (None, "", [])
    ]
    if missing:
        (name, how), rest = missing[0], missing[1:]
        more = f"; also missing: {', '.join(n for n, _ in rest)}" if rest else ""
        raise Failure(EXIT_BAD_INPUT, f"{name}: missing: give {how}{more}")


def _make(type_name: str, verb: str) -> click.Command:
    from ..domain import aggregate_of, event_type

    cls = event_type(type_name)
    field_options = _field_options(type_name)
    field_names = [o.name for o in field_options]
    aggregate = aggregate_of(cls)
    assert aggregate is not None, f"{type_name} is a write command of no kind of entity"
    kind = aggregate.kind

    @click.pass_obj
    def command(obj: _Context, key: str, fields_file: Path | None, **values: Any) -> None:
        fields = _load_fields(fields_file)
        for name in field_names:
            value = values.pop(name)
            if value not in (None, ()):
                fields[name] = list(value) if isinstance(value, tuple) else value
        record_as(obj, type_name, key, values, fields)

    doc = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split()).replace("``", "")
    summary = f"Record {type_name} on the {kind} KEY." + (f" {doc}" if doc else "")
    summary += (f"\n\nKEY: the new {kind}'s key (lowercase letters, digits and . _ : / -)."
                if cls.creates else f"\n\nKEY: the {kind}'s key.")
    return click.Command(
        verb,
        callback=command,
        params=[click.Argument(["key"]), *field_options, *_envelope_options()],
        help=summary + "\n" + ENVELOPE_HELP,
        epilog=EXIT_CODES,
        short_help=f"Record {type_name}.",
    )


def _register() -> None:
    groups = _groups()
    for group_name, verb, type_name in VERBS:
        groups[group_name].verbs[verb] = type_name


_register()


@cli.command("correct", epilog=EXIT_CODES)
@click.argument("event_ref", metavar="EVENT")
@click.option("--field", "-f", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Restate the event with this field corrected; repeat. Without any, the "
              "event is retracted.")
@click.option("--as", "acting", envvar="LEDGER_ACTOR", metavar="ACTOR", help="Acting actor.")
@click.option("--role", help="Role acted in (default: the actor's first role).")
@click.option("--body", help="Body acted for (default: the actor's body).")
@click.option("--reason", help="Why the entry is wrong (required).")
@click.option("--effective-at", help="Default: the corrected event's.")
@click.option("--source-document", help="Default: the corrected event's.")
@click.option("--source-location", default=None, help="Default: the corrected event's.")
@click.pass_obj
def correct(obj: _Context, event_ref: str, overrides: tuple[str, ...], **envelope: Any) -> None:
    """Correct EVENT (a position or an event id) by a new event: retract it, or restate it
    with fields corrected. The corrected event stays in the log."""
    ledger = obj.ledger()
    found = _find_event(ledger, event_ref)
    if found is None:
        raise Failure(EXIT_BAD_INPUT, f"event: no event '{event_ref}' in the ledger")
    target, key, kind = found
    envelope["effective_at"] = envelope["effective_at"] or target.effective_at.isoformat()
    envelope["source_document"] = envelope["source_document"] or target.source.document
    if envelope["source_location"] is None:
        envelope["source_location"] = target.source.location
    envelope["corrects"] = str(target.id)
    if not overrides:
        record_as(obj, "EventRetracted", key, envelope, {}, kind=kind)
        return
    fields = target.payload()
    fields.pop("key", None)
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise Failure(EXIT_BAD_INPUT, f"field: '{item}' is not NAME=VALUE")
        fields[name] = value
    record_as(obj, target.type, key, envelope, fields)


def _find_event(ledger: Any, ref: str) -> tuple[Any, str, str] | None:
    from ..disclosure import ReadPolicy
    from ..domain import aggregate_of

    raw = ReadPolicy.unfiltered()  # a restatement copies the event: every word of it
    if ref.isdigit():
        events = [e for _, e in ledger.log(int(ref) - 1, int(ref), policy=raw)]
    else:
        events = [e for _, e in ledger.log(policy=raw) if str(e.id) == ref]
    if not events:
        return None
    event = events[0]
    history = list(ledger.app.events.get(event.originator_id))
    creator = history[0]
    aggregate = aggregate_of(type(creator))
    assert aggregate is not None, f"a {creator.type} creates no entity"
    return event, str(creator.key), aggregate.kind
