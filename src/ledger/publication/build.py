"""``ledger publish``: (1) a public copy of the log in a temporary file, (2) the site and the
open data built from that copy alone, read as the public, beside the signed checkpoint of it.

Confidential content can reach the site only through the copy, and the copy is made by the
read policy's ``export_public`` (``ledger.disclosure``, issue 15), which replaces withheld
payloads by markers. The output folder is replaced whole, only once everything is written: a
failed run leaves the last publication as it was.
"""

from __future__ import annotations

import importlib
import json
import re
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..adapters.keys import KeyDir
from ..adapters.store import StoreLocation
from ..disclosure import PUBLIC
from ..domain import DomainError
from ..services import Ledger
from .opendata import PLACEHOLDER_PREFIX, write_open_data
from .site import VERIFIER_NAME, write_site
from .snapshot import parse_as_of, read_snapshot

MARKER = ".ledger-publication"
"""Written last into every publication: a folder holding it may be replaced by the next."""
VERIFIER = Path(__file__).resolve().parents[3] / "scripts" / VERIFIER_NAME
_PREFIX = re.compile(r"^360G-[A-Za-z0-9][A-Za-z0-9-]*$")


@dataclass(frozen=True)
class Published:
    out: Path
    as_of: str
    size: int
    log_id: str
    pages: list[str]
    files: list[str]


def _export_public() -> Callable[[str, Path], None] | None:
    """The read policy's public export, once issue 15 provides it."""
    try:
        module = importlib.import_module("ledger.disclosure")
    except ImportError:
        return None
    found = getattr(module, "export_public", None)
    return found if callable(found) else None


def public_copy(source_url: str, work: Path) -> str:
    """Step (1): the public copy of the log at ``source_url``, as a SQLite store in ``work``.

    Until ``ledger.disclosure.export_public`` exists (issue 15), a SQLite store is copied as
    it is (so that the site and its checkpoint are of one size) and a PostgreSQL store is read
    where it is; either way it is read as the public, so the read policy withholds what the
    public may not see.
    """
    target = work / "public.db"
    export = _export_public()
    if export is not None:
        export(source_url, target)
        return f"sqlite:///{target.resolve()}"
    with Ledger(source_url, mode="read") as source:  # refuses a missing or foreign store
        location = source.location
    if location.backend != "sqlite" or location.path is None:
        return source_url
    origin = sqlite3.connect(f"{location.path.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        copy.close()
        origin.close()
    return f"sqlite:///{target.resolve()}"


def check_out(out: Path) -> None:
    """The output folder may be new, empty, or an earlier publication (replaced whole);
    anything else is refused before anything is written."""
    if not out.exists():
        return
    if not out.is_dir():
        raise DomainError("out", f"{out} is a file, not a folder")
    if any(out.iterdir()) and not (out / MARKER).is_file():
        raise DomainError("out", f"{out} is not empty and holds no earlier publication "
                                 "(nothing written)")


def publish(source_url: str, out: Path, *, as_of: str | None = None,
            keys: KeyDir | None = None, prefix: str = PLACEHOLDER_PREFIX) -> Published:
    """The site and open data of the store at ``source_url`` as of ``as_of``, in ``out``."""
    day = parse_as_of(as_of)
    if not _PREFIX.match(prefix):
        raise DomainError("giving_prefix", f"'{prefix}' is not a 360Giving prefix "
                                           "(360G- then letters, digits and dashes)")
    StoreLocation.parse(source_url)
    check_out(out)
    keys = keys or KeyDir()
    with tempfile.TemporaryDirectory(prefix="ledger-publish-") as work:
        copy_url = public_copy(source_url, Path(work))
        # step (2): the copy read as the public; a store of its own, its read models beside it
        with Ledger(copy_url, mode="read", reader=PUBLIC) as copy:
            snap = read_snapshot(copy, day, keys)
    staging = out.parent / f".{out.name}.publishing-{secrets.token_hex(4)}"
    try:
        staging.mkdir(parents=True)
        files = write_open_data(staging, snap, prefix)
        if VERIFIER.is_file():
            (staging / "verify").mkdir()
            shutil.copyfile(VERIFIER, staging / "verify" / VERIFIER_NAME)
        pages = write_site(staging, snap, files)
        (staging / MARKER).write_text(json.dumps(
            {"log_id": snap.log_id, "size": snap.size, "as_of": snap.as_of,
             "built_at": snap.built_at}) + "\n")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Published(out, snap.as_of, snap.size, snap.log_id, pages,
                     [f["path"] for f in files])


def _replace(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    old = out.parent / f".{out.name}.replaced-{secrets.token_hex(4)}"
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
