"""Words for messages: the article a noun takes ("an auditor", "a commissioner")."""

from __future__ import annotations

_A_BEFORE = ("one", "uni", "use", "usu", "eu")
"""Vowel-led words said with a consonant sound: "a unit", "a one-off"."""


def a(noun: object) -> str:
    """``noun`` with its indefinite article: ``a(Role.AUDITOR)`` is "an auditor"."""
    text = str(noun)
    lower = text.lower()
    vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_A_BEFORE)
    return f"{'an' if vowel else 'a'} {text}"
