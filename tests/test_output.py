"""The one table renderer, the text a terminal is shown, and the progress line."""

from __future__ import annotations

import io
import json

from ledger.entrypoints.output import (
    CELL_MOST,
    CUT,
    Column,
    Progress,
    csv_text,
    escaped,
    json_text,
    one_line,
    readable,
    table_lines,
)
from ledger.entrypoints.tables import natural, outline, plan_view

LONG_KEY = "kent-pcc/grant/2013-14/kent-and-medway-independent-domestic-violence-advisers"
LONG_TEXT = "A purpose long enough to need cutting in a table that a person reads " * 2


def test_a_long_cell_is_cut_and_marked_but_a_key_never_is() -> None:
    rows = [{"key": LONG_KEY, "purpose": LONG_TEXT, "reference": "r" * 90}]
    header, line = table_lines(rows, ["key", "purpose", Column("reference", key=True)])
    assert LONG_KEY in line and "r" * 90 in line
    cut = line.split(LONG_KEY)[1].strip().split("  ")[0]
    assert cut.endswith(CUT) and len(cut) == CELL_MOST and LONG_TEXT.startswith(cut[:-1])
    wide = table_lines(rows, ["key", "purpose"], wide=True)[1]
    assert CUT not in wide and LONG_TEXT.strip() in wide
    short = table_lines([{"purpose": "x" * CELL_MOST}], ["purpose"])[1]
    assert short == "x" * CELL_MOST  # exactly the limit: whole, no mark


def test_cells_read_as_text_never_as_json() -> None:
    assert readable({"document": "001_5185d9c126115a94", "location": "line 529"}) == \
        "001_5185d9c126115a94 line 529"
    assert readable([]) == "" and readable(["Ann Barnes", "Mark Gilmore"]) == \
        "Ann Barnes, Mark Gilmore"
    assert readable({"actor": "ann", "role": "commissioner", "body": "kent-pcc"}) == \
        "ann (commissioner, kent-pcc)"
    assert readable([{"person": "Ann", "interest": "None"}]) == "person: Ann; interest: None"
    assert readable(True) == "yes" and readable(None) == ""
    rows = [{"holders": [], "source": {"document": "d", "location": "l 1"}, "n": None}]
    line = table_lines(rows, ["holders", "source", "n"])[1]
    assert "[" not in line and "{" not in line and "d l 1" in line
    assert csv_text(rows, ["holders", "source"]).splitlines()[1] == ",d l 1"


def test_control_and_bidi_characters_are_shown_escaped() -> None:
    spoof = "invoice\u202egpj.exe \x1b[31mred\x1b[0m\u2066x\u2069"
    shown = escaped(spoof)
    assert shown == "invoice\\u202egpj.exe \\x1b[31mred\\x1b[0m\\u2066x\\u2069"
    assert escaped("£5 ünïcode ✓ 中文") == "£5 ünïcode ✓ 中文"  # printable text is left alone
    assert escaped("a\u00a0b") == "a b"  # a no-break space reads as a space
    assert one_line("first\nsecond\r\x07") == "first\\nsecond\\r\\x07"
    line = table_lines([{"title": spoof + "\nnext line"}], ["title"], wide=True)[1]
    assert "\u202e" not in line and "\x1b" not in line and "\n" not in line
    assert "\\u202e" in line and "next line" in line
    text = json_text({"title": spoof, "astral": "\U000e0041"})
    assert json.loads(text) == {"title": spoof, "astral": "\U000e0041"}  # the same data
    assert all(ch.isprintable() or ch == "\n" for ch in text)


def test_item_numbers_sort_naturally_and_nest() -> None:
    keys = ["plan/1.1.10", "plan/1.1.2", "plan/1.10", "plan/1.9", "plan/2"]
    assert sorted(keys, key=natural) == ["plan/1.1.2", "plan/1.1.10", "plan/1.9", "plan/1.10",
                                         "plan/2"]
    items = [
        {"item": "s10", "parent": None, "number": "10", "title": "ten", "item_kind": "section"},
        {"item": "s2.d10", "parent": "s2", "number": "10", "title": "", "item_kind": "x"},
        {"item": "s2", "parent": None, "number": "2", "title": "two", "item_kind": "section"},
        {"item": "s2.d2", "parent": "s2", "number": "2", "title": "", "item_kind": "x"},
    ]
    assert [(i["item"], i["number"]) for i in outline(items)] == [
        ("s2", "2"), ("s2.d2", "2.2"), ("s2.d10", "2.10"), ("s10", "10")]


def test_a_plan_view_has_its_header_items_deliverables_and_targets() -> None:
    found = {
        "plan": {"key": "p", "title": "Plan", "status": "issued", "period_from": "2011-03-01",
                 "period_to": "2012-11-21", "source": {"document": "000", "location": "l 4"},
                 "extensions": [{"period_to": "2012-11-21", "effective_at": "2012-05-31",
                                 "reason": "transfer later"}],
                 "variations": [], "items": [
                     {"item": "s1", "parent": None, "number": "1", "title": "S",
                      "item_kind": "section"},
                     {"item": "s1.d1", "parent": "s1", "number": "1", "title": "D",
                      "item_kind": "descriptor"}]},
        "deliverables": [{"key": "p/1.1.2", "item": "s1.d1", "number": "2", "title": "T"}],
        "targets": [],
    }
    header, sections = plan_view(found)
    said = dict(header)
    assert said["period"] == "2011-03-01 to 2012-11-21" and said["status"] == "issued"
    assert "to 2012-11-21" in said["extension"] and "transfer later" in said["extension"]
    assert [(s.title, len(s.records)) for s in sections] == [
        ("Items", 2), ("Deliverables", 1), ("Targets", 0)]
    assert sections[1].records[0]["number"] == "1.1.2"  # its item's numbers, then its own


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_appears_after_a_second_with_an_eta_and_clears() -> None:
    screen, clock = _Terminal(), _Clock()
    progress = Progress("verify", 1000, stream=screen, clock=clock)
    progress(100)
    assert screen.getvalue() == ""  # quick work shows nothing
    clock.now += 2.0
    progress(250)  # 250 in 2 s: 750 more take 6 s
    assert screen.getvalue() == "\rverify: 250/1,000 (25%), ETA 0:06"
    clock.now += 0.05
    progress(260)
    assert screen.getvalue().count("\r") == 1  # not redrawn more than five times a second
    clock.now += 1.0
    progress(300, 3000)
    assert screen.getvalue().endswith("\rverify: 300/3,000 (10%), ETA 0:27")
    progress.close()
    assert screen.getvalue().endswith("\r" + " " * len("verify: 300/3,000 (10%), ETA 0:27")
                                      + "\r")


def test_progress_stays_off_when_not_a_terminal_or_quiet() -> None:
    import click

    piped, clock = io.StringIO(), _Clock()
    progress = Progress("import", 10, stream=piped, clock=clock)
    clock.now += 5
    progress(5)
    progress.close()
    assert piped.getvalue() == ""
    with click.Context(click.Command("x")) as ctx:
        ctx.meta["ledger.quiet"] = True
        screen = _Terminal()
        quiet = Progress("import", 10, stream=screen, clock=clock)
        clock.now += 5
        quiet(5)
    assert screen.getvalue() == ""


def test_progress_ticks_for_a_walk() -> None:
    screen, clock = _Terminal(), _Clock()
    progress = Progress("verify", stream=screen, clock=clock)
    ticks = progress.ticks(204_800, every=512)
    clock.now += 3
    for _ in range(1024):
        next(ticks)
    assert screen.getvalue() == "\rverify: 512/204,800 (0%), ETA 19:57"
    short = Progress("verify", stream=screen, clock=clock).ticks(76)
    screen.truncate(0)
    screen.seek(0)
    clock.now += 3
    next(short)  # a short walk is looked at on every step
    assert screen.getvalue() == "\rverify: 1/76 (1%), ETA 3:45"


def test_a_progress_line_left_by_an_error_is_cleared_before_the_message() -> None:
    from ledger.entrypoints.output import clear_progress

    screen, clock = _Terminal(), _Clock()
    progress = Progress("rebuild", 10, stream=screen, clock=clock)
    clock.now += 2
    progress(5)  # and then the work fails: nobody calls close
    drawn = screen.getvalue()
    clear_progress()
    assert screen.getvalue() == drawn + "\r" + " " * (len(drawn) - 1) + "\r"
    clear_progress()  # once only
    assert screen.getvalue().count("\r") == 3
