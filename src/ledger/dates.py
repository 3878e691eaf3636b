"""Every date and time a person gives the ledger is read here, by one set of rules.

A date is ``YYYY-MM-DD``; a timestamp is ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with its offset
(``Z`` or ``±HH:MM``). Nothing else is a date: ``20130501`` is refused rather than read as
Unix seconds or as ISO 8601's basic form, and so are week dates, offsets beyond ±14:00 (no
place on Earth has one) and years before 1800 (a typing slip, never a governance record).

People mean the UK's local day: a date standing alone is a day in Europe/London, so
``--as-of 2013-05-01`` asks for the world at the end of that London day, and a timestamp's
day is the London day it falls in (``2013-05-01T00:30:00+01:00`` is on 1 May, although it is
30 April in UTC). What is stored keeps its own form: these rules apply when a fact is written
or a question asked, never when the log is read back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import DomainError

LONDON = ZoneInfo("Europe/London")
"""Whose day a bare date is: every body the ledger holds is in England and Wales."""
EARLIEST_YEAR = 1800
MOST_OFFSET = timedelta(hours=14)
"""The widest UTC offset in use anywhere (Kiribati, +14:00)."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the recording clock an ``effective_at`` may be: clocks disagree a little.
A fact that happens later is not recorded yet (a deadline is a field, not an effective_at)."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?P<offset>Z|[+-]\d{2}:\d{2})?",
    re.ASCII | re.IGNORECASE,
)
FORMS = "YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS with an offset (Z or +01:00)"


@functools.lru_cache(maxsize=8_192)
def parse_when(text: str, field: str) -> date | datetime:
    """A date or an aware timestamp, by the rules above; DomainError names ``field``. Cached:
    an import gives the same few dates thousands of times."""
    text = text.strip()
    if _DAY.fullmatch(text):
        return checked(_read(date.fromisoformat, text, field), field)
    found = _TIMESTAMP.fullmatch(text)
    if found is None:
        raise DomainError(field, f"{text!r} is not a date or timestamp ({FORMS})")
    if found.group("offset") is None:
        raise DomainError(field, f"{text!r} has no offset: add Z for UTC or +01:00 for BST")
    return checked(_read(datetime.fromisoformat, text.upper(), field), field)


@functools.lru_cache(maxsize=8_192)
def parse_day(text: str, field: str) -> date:
    """A date alone (``YYYY-MM-DD``), for fields that hold a day: a deadline, a publication."""
    text = text.strip()
    if not _DAY.fullmatch(text):
        raise DomainError(field, f"{text!r} is not a date (YYYY-MM-DD)")
    return checked(_read(date.fromisoformat, text, field), field)


def _read(parse: Callable[[str], date], text: str, field: str) -> date:
    try:
        return parse(text)
    except ValueError:
        raise DomainError(field, f"{text!r} is not a real date or time ({FORMS})") from None


def checked(value: date, field: str) -> date:
    """``value`` (a date or a timestamp, given as text or as an object) if the rules allow it."""
    if value.year < EARLIEST_YEAR:
        raise DomainError(field, f"{value.isoformat()} is before {EARLIEST_YEAR}: no record "
                                 "the ledger holds is that old")
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            raise DomainError(field, f"{value.isoformat()} has no offset: add Z for UTC or "
                                     "+01:00 for BST")
        if abs(offset) > MOST_OFFSET:
            raise DomainError(field, f"{value.isoformat()} has an offset beyond ±14:00")
    return value


def local_day(value: date) -> date:
    """The London day of a timestamp; a date is its own day."""
    if isinstance(value, datetime):
        return value.astimezone(LONDON).date()
    return value


def day_start(day: date) -> datetime:
    """When a London day begins, in UTC."""
    return datetime.combine(day, time(), LONDON).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The last microsecond of a London day, in UTC."""
    return day_start(day + timedelta(days=1)) - timedelta(microseconds=1)


def today() -> date:
    """Today in London."""
    return datetime.now(LONDON).date()


def instant(value: date, *, end: bool) -> datetime:
    """A question's moment in UTC: a timestamp as it is, a date as the start or the end of
    its London day (``--from`` starts a day, ``--to`` and ``--as-of`` end one)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return day_end(value) if end else day_start(value)


def not_after(effective: date, recorded: datetime, field: str = "effective_at") -> None:
    """A fact is recorded once it has happened: ``effective`` is no later than ``recorded``
    (allowing ``CLOCK_SKEW``); a date, no later than the London day it was recorded on."""
    if isinstance(effective, datetime):
        if effective <= recorded:  # quick: most facts are long past
            return
    elif effective < recorded.date():  # a day before the recording's, in any offset
        return
    latest = recorded + CLOCK_SKEW
    if effective > (latest if isinstance(effective, datetime) else local_day(latest)):
        raise DomainError(field, f"{effective.isoformat()} is in the future (recorded at "
                                 f"{recorded.isoformat(timespec='seconds')}); record a fact "
                                 "once it has happened, and a deadline as a field")
