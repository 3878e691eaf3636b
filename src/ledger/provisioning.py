"""Making a log and the actors a job acts as: the genesis, and registered keys.

A log starts with its genesis (a body and its administrator, who signs it); every later write
is signed by an actor whose key the log already holds. Jobs that write on their own (the main
job, the demo) make their log this way and provision the keys they sign with, in the key
directory (``adapters/keys.py``): a private key never enters the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from .adapters.keys import KeyDir, Signer
from .dates import today
from .services import Fact, Ledger, genesis

GENESIS_DOCUMENT = "ledger-init"


def init_ledger(
    url: str,
    *,
    admin: str,
    name: str,
    body: str,
    body_name: str,
    body_type: str,
    keys: KeyDir,
    effective_at: str | None = None,
) -> Ledger:
    """A new log at ``url``, its genesis signed by ``admin``. An administrator without a key
    gets one, written to the key directory only once the genesis is accepted (a refused
    ``init`` leaves no key behind); so does the log, for signing its checkpoints."""
    made = not keys.has(admin)
    signer = Signer.generate(admin) if made else keys.signer(admin)
    ledger = Ledger(url, signer=signer)
    facts = genesis(admin=admin, name=name, body=body, body_name=body_name,
                    body_type=body_type, public_key=signer.public_text,
                    effective_at=effective_at or today().isoformat())
    try:
        ledger.init(facts, admin=admin, signer=signer)
        if made:
            keys.save(signer)
        log_id = ledger.chain.log_id()
        if log_id is not None:  # the log's own key, for its checkpoints (proofs.py)
            keys.signer_or_new(f"log-{UUID(bytes=log_id)}")
    except BaseException:
        ledger.close()
        raise
    return ledger


def open_or_init(
    url: str, *, admin: str, name: str, body: str, body_name: str, body_type: str,
    keys: KeyDir,
) -> Ledger:
    """The log at ``url``, made with this genesis if it holds none yet."""
    ledger = Ledger(url)
    if ledger.chain.census().last:
        return ledger
    ledger.close()
    return init_ledger(url, admin=admin, name=name, body=body, body_name=body_name,
                       body_type=body_type, keys=keys)


def ensure_actor(
    ledger: Ledger,
    *,
    actor: str,
    name: str,
    roles: list[str],
    acts_for: str,
    keys: KeyDir,
    admin: Callable[[], Signer],
) -> Signer:
    """``actor``'s signer, registered with its key by ``admin`` if the log lacks it (the
    administrator's key is needed only then)."""
    if ledger.get("actor", actor) is not None:
        return keys.signer(actor)
    signer = keys.signer_or_new(actor)
    by = admin()
    envelope = {"actor": by.actor, "role": "administrator", "body": acts_for,
                "effective_at": today().isoformat(),
                "source": {"document": GENESIS_DOCUMENT, "location": "provisioning"}}
    ledger.record(
        [Fact(type="ActorRegistered", key=actor,
              fields={**envelope, "name": name, "acts_for": acts_for, "roles": roles,
                      "public_key": signer.public_text})],
        acting=by.actor, signer=by,
    )
    return signer
