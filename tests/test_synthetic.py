"""The benchmark's synthetic histories: signed from a genesis, deterministic, with real dates."""

from __future__ import annotations

from ledger.audit import verify
from ledger.synthetic import (
    ADMIN,
    MOST_AREAS,
    PER_AREA_YEAR,
    RECORDS_OFFICER,
    YEARS,
    create,
    history,
    shape,
)


def test_a_synthetic_log_is_signed_from_its_genesis_and_verifies(store_url: str) -> None:
    ledger = create(store_url)
    try:
        facts = list(history(1_500))
        for i in range(0, len(facts), 500):
            ledger.record(facts[i:i + 500])
        result = verify(ledger)
    finally:
        ledger.close()
    assert result.ok
    assert result.head_position == 3 + 1_500  # genesis (2) + records officer + the history
    assert result.signers == {ADMIN: 3, RECORDS_OFFICER: 1_500}


def test_a_history_is_data_the_same_for_the_same_seed() -> None:
    first = [f.model_dump() for f in history(3_000)]
    assert first == [f.model_dump() for f in history(3_000)]
    assert first != [f.model_dump() for f in history(3_000, seed=8)]
    assert len(first) == 3_000


def test_dates_stay_within_the_years_however_large_the_history() -> None:
    """Volume grows by areas and entities per area-year, never by years."""
    for events in (1_000, 40_000):
        years = {f.fields["effective_at"][:4] for f in history(events)}
        assert max(years) <= "2025", events
    for events in (10_000, 1_000_000, 5_000_000):
        areas, scale = shape(events)
        assert areas <= MOST_AREAS
        assert areas * YEARS * PER_AREA_YEAR * scale > events  # room inside the years
    assert shape(1_000_000)[0] == MOST_AREAS
