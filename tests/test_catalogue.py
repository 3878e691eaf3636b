"""The lazy event catalogue: each module's entry says what it defines, a command loads only the
modules it touches, and a stored history of every type replays in a process that loaded none."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ledger.domain
from ledger.domain import AGGREGATE_OF, AGGREGATES, EVENT_TYPES, Aggregate, Event, catalogue
from ledger.domain.base import DomainError
from ledger.services import Fact

from helpers import open_ledger

ENTITY_MODULES = {f"ledger.domain.{m}" for m in catalogue.MODULES}


def _domain_modules() -> list[str]:
    return [f"ledger.domain.{m.name}" for m in pkgutil.iter_modules(ledger.domain.__path__)]


def test_every_entry_is_what_its_module_defines() -> None:
    catalogue.load_all()  # refuses an entry that is not exactly its module's kinds and events
    for module, names in catalogue.MODULES.items():
        assert len(set(names)) == len(names), module
        for name in names:
            if name[:1].islower():
                assert AGGREGATES[name].__module__ == f"ledger.domain.{module}"
            else:
                assert EVENT_TYPES[name].__module__ == f"ledger.domain.{module}"


def test_every_aggregate_and_event_class_of_the_domain_is_catalogued() -> None:
    """A module left out of MODULES (or an event left out of ANY_KIND) fails here, before a
    store holds an event no command can read."""
    for name in _domain_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            if issubclass(cls, Aggregate) and "kind" in vars(cls):
                assert AGGREGATES.get(cls.kind) is cls, f"{cls.__name__} ({name}) is not in MODULES"
            elif issubclass(cls, Event) and not cls.__subclasses__():  # not a shared base
                assert EVENT_TYPES.get(cls.__name__) is cls, f"{cls.__name__} is not catalogued"
    assert set(EVENT_TYPES) == {c.__name__ for c in (*AGGREGATE_OF, *catalogue.ANY_KIND)}


def test_an_entry_that_is_not_its_module_is_refused() -> None:
    probe = """
import sys
from ledger.domain import catalogue
catalogue.MODULES["grants"] = (*catalogue.MODULES["grants"], "GrantForgiven")
try:
    catalogue.event_type("GrantPaid")
except TypeError as exc:
    print(exc)
"""
    out = _python(probe)
    assert "['GrantForgiven']" in out and "does not define" in out, out


def test_unknown_names_are_named() -> None:
    with pytest.raises(DomainError, match="unknown event type 'GrantForgiven'"):
        catalogue.event_type("GrantForgiven")
    with pytest.raises(DomainError, match=r"unknown kind 'gizmo' \(known: actor, body"):
        catalogue.aggregate_kind("gizmo")
    assert catalogue.aggregate_of(catalogue.ANY_KIND[0]) is None


def test_an_officer_write_loads_only_the_modules_it_touches(tmp_path: Path) -> None:
    """`decision record` needs decisions, and the actor and body it checks: not plans, grants,
    budgets, inspections or documents; and it validates without pydantic plugins (nor looks
    for any in the installed packages)."""
    from ledger.adapters.keys import KeyDir

    url = f"sqlite:///{tmp_path}/ledger.db"
    officer = KeyDir().signer_or_new("officer1")
    envelope = {"actor": "test-admin", "role": "administrator", "body": "test-records",
                "effective_at": "2013-01-01", "source": {"document": "setup"}}
    with open_ledger(url) as ledger:
        ledger.record([Fact(type="BodyEstablished", key="kent-pcc", fields={
            **envelope, "name": "Kent", "body_type": "pcc_office"})], acting="test-admin")
        ledger.record([Fact(type="ActorRegistered", key="officer1", fields={
            **envelope, "name": "Officer", "acts_for": "kent-pcc", "roles": ["officer"],
            "public_key": officer.public_text})], acting="test-admin")
    probe = """
import sys
from ledger.entrypoints.cli import _run, cli
code = _run(cli, sys.argv[1:])
print(code, sorted(m for m in sys.modules if m.startswith("ledger.domain.")))
from pydantic.plugin._loader import get_plugins
print("pydantic plugins:", list(get_plugins()), "importlib.metadata" in sys.modules)
"""
    out = _python(probe, "--store", url, "decision", "record", "rod-1", "--as", "officer1",
                  "--title", "T", "--originator", "O", "--executive-summary", "S",
                  "--decision", "Agreed", "--effective-at", "2013-05-01",
                  "--source-document", "r")
    assert "recorded DecisionRecorded" in out, out
    assert "pydantic plugins: [] False" in out, out  # none: see ledger.domain._plugins
    loaded = {m for m in ENTITY_MODULES if m in out}
    assert loaded == {"ledger.domain.actors", "ledger.domain.bodies", "ledger.domain.decisions"}


def test_a_stored_history_of_every_type_replays_in_a_fresh_process(store_url: str) -> None:
    """Reading loads each module as the log names its types: nothing is missing however few
    modules the process had loaded."""
    from ledger.demo import corrections, sample_history

    with open_ledger(store_url) as ledger:
        recorded = [r for fact in sample_history() for r in ledger.record([fact])]
        superseded = next(r.event for r in recorded if r.event.type == "PlanSuperseded")
        ledger.record(corrections(str(superseded.id)))
        expected = sorted({e.type for _, e in ledger.log()})
    probe = """
import json, sys
from ledger.services import Ledger
with Ledger(sys.argv[1], mode="read") as ledger:
    before = sorted(m for m in sys.modules if m.startswith("ledger.domain."))
    types = sorted({e.type for _, e in ledger.log()})
print(json.dumps({"before": before, "types": types}))
"""
    found = json.loads(_python(probe, store_url).splitlines()[-1])
    assert not {"ledger.domain.plans", "ledger.domain.grants"} & set(found["before"])
    assert found["types"] == expected
    assert {EVENT_TYPES[t].__module__ for t in expected} >= ENTITY_MODULES


def _python(source: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", source, *args], capture_output=True,
                          text=True, timeout=120)
    return done.stdout + done.stderr
