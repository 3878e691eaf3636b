"""The read models, one module each."""

import re


def natural(key: str) -> list[tuple[int, str]]:
    """Sort key that reads numbers by value: 'plan/1.1.2' before 'plan/1.1.10', 'promise-9'
    before 'promise-10'. Every read model lists keys in this order."""
    return [(int(part), "") if part.isdigit() else (-1, part)
            for part in re.split(r"(\d+)", key) if part]


def by_kind_and_key(item: tuple[tuple[str, str], object]) -> tuple[str, list[tuple[int, str]]]:
    """For ``sorted(entities.items(), key=...)``: by kind, then by key in natural order."""
    (kind, key), _ = item
    return kind, natural(key)
