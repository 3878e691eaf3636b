"""The ledger validates its facts without pydantic plugins.

A pydantic plugin (found through the ``pydantic`` entry points of whatever is installed) sees
every value validated and can make a validation fail: the rules a fact must meet are the
domain's alone, so none is loaded, as ``PYDANTIC_DISABLE_PLUGINS=__all__`` would say. Saying it
here, before any model is built, also spares every command importing ``importlib.metadata`` and
scanning the installed packages only to find that there are none (a tenth of a write's start-up).
"""

from __future__ import annotations

import sys
import types

LOADER = "pydantic.plugin._loader"
"""The module pydantic asks for its plugins (``get_plugins``) when it builds a validator."""


def without_plugins() -> None:
    """Answers pydantic's plugin lookup with none, unless pydantic already looked them up."""
    if LOADER in sys.modules:
        return
    loader = types.ModuleType(LOADER, "No pydantic plugins: see ledger.domain._plugins.")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[LOADER] = loader


without_plugins()
