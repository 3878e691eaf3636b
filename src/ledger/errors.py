"""The error every layer raises for a fact or a request that cannot be accepted.

Kept apart from the domain's models so that a command which only reads the chain (a checkpoint,
a proof) can raise it without importing them.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A fact that cannot be recorded; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
