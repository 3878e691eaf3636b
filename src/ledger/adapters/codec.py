"""How events become stored bytes and back: canonical JSON under the event's class name.

Writing dumps a validated event, stamps ``class_version`` when the class is past version 1, and
refuses the event (``DomainError`` naming the field, nothing written) unless its bytes read back
as an equal event. Reading never validates: validation happened once, when the event was built,
and a stored history must replay forever under whatever rules the code has since. A stored state
is upcast to its class's current version, then each field is converted from JSON by its
annotation (a plan made once per class) and the frozen event is put together directly.
"""

from __future__ import annotations

import functools
import json
import re
import types
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from pydantic import AwareDatetime, BaseModel
from pydantic_core import PydanticSerializationError, from_json, to_json

from ..domain import DomainError, Event
from ..domain.base import refused_character
from ..domain.catalogue import known_event_type, stored_event_type

ENVELOPE_KEYS: set[str] = {"originator_id", "originator_version"}
"""Kept in the stored event's own columns, not in its state."""
CLASS_VERSION = "class_version"
"""The key a state of a class past version 1 carries its version under."""


def canonical_json(obj: Any) -> bytes:
    """A JSON value (dicts, lists, text, integers, booleans, null) in the canonical form:
    keys sorted, no spaces, UTF-8 with only what JSON must escape escaped: the bytes
    ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` encodes,
    written by pydantic_core's serializer (in half the time) from a key-sorted copy."""
    return to_json(_key_sorted(obj))


def canonical_json_reference(obj: Any) -> bytes:
    """The canonical form as the standard library writes it: what ``canonical_json`` must
    equal byte for byte (the tests hold the two to it)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _key_sorted(value: Any) -> Any:
    """A copy with every object's keys in order (only what nests is walked: an event's state
    is mostly text)."""
    if type(value) is dict:
        return {key: item if type(item) not in _NESTED else _key_sorted(item)
                for key, item in sorted(value.items())}
    if type(value) in _NESTED:
        return [item if type(item) not in _NESTED else _key_sorted(item) for item in value]
    return value


_NESTED = frozenset({dict, list, tuple})


_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def _suspect(data: bytes) -> bool:
    """Whether canonical JSON may hold a refused character, by a few substring scans.

    JSON escapes the C0 controls (tab and newline as ``\\t`` and ``\\n``; the rest as ``\\b``,
    ``\\f``, ``\\r`` or ``\\u00XX``) and writes DEL and C1 as they are (UTF-8 cannot hold a
    surrogate: writing one fails first). A literal backslash before those letters matches too;
    the field walk then finds nothing.
    """
    return (
        b"\\u00" in data or b"\\r" in data or b"\\b" in data or b"\\f" in data or b"\x7f" in data
        or (not data.isascii() and _C1.search(data) is not None)
    )


class EventMapper(Mapper[UUID]):
    """Stores each event as canonical JSON under its class name (stable across refactors)."""

    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return encode_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )


def encode_event(event: Event) -> StoredEvent:
    """The stored form of a validated event; refused unless it reads back as the same event."""
    cls = type(event)
    state = event.model_dump(mode="json", exclude=ENVELOPE_KEYS)
    if cls.class_version != 1:
        state[CLASS_VERSION] = cls.class_version
    try:
        data = canonical_json(state)
    except PydanticSerializationError:  # text UTF-8 cannot hold (an unpaired surrogate)
        _refuse_characters(state)
        raise
    if _suspect(data):  # a quick look at the bytes; the walk names the field
        _refuse_characters(state)
    stored = StoredEvent(
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        topic=cls.__name__,
        state=data,
    )
    if known_event_type(stored.topic) is not cls:
        raise DomainError("type", f"{cls.__name__} is not an event type of the catalogue")
    back = decode_event(event.originator_id, event.originator_version, stored.topic, stored.state)
    if back != event:
        raise _difference(event, back)
    return stored


def _refuse_characters(value: Any, path: str = "") -> None:
    """The domain's field validators refuse these already; this is the store's own guard, for an
    event built any other way (PostgreSQL could not hold a NUL, and every read would fail)."""
    if isinstance(value, str):
        problem = refused_character(value)
        if problem is not None:
            raise DomainError(path or "event", problem)
    elif isinstance(value, dict):
        for name, item in value.items():
            _refuse_characters(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_characters(item, f"{path}.{i}")


def _difference(event: Event, back: Event) -> DomainError:
    for name in type(event).model_fields:
        if getattr(event, name) != getattr(back, name):
            return DomainError(
                name,
                f"would not read back as written ({getattr(event, name)!r} is stored as"
                f" {getattr(back, name)!r})",
            )
    return DomainError("event", "would not read back as written")


def decode_event(
    originator_id: UUID | str | bytes, version: int, topic: str, state: bytes
) -> Event:
    """The event a stored row holds, as its current class; no validation runs."""
    cls = stored_event_type(topic)
    data = from_json(state)
    stored_version = data.pop(CLASS_VERSION, 1)
    if stored_version != cls.class_version:
        data = upcast(cls, stored_version, data)
    data["originator_id"] = (
        originator_id if isinstance(originator_id, UUID) else _uuid(originator_id)
    )
    data["originator_version"] = version
    return _plan(cls).make(data)  # type: ignore[return-value]


def _uuid(stored: str | bytes) -> UUID:
    """An originator id as a driver returns it (text, or 16 bytes); a replay meets each
    entity's id many times."""
    found = _UUIDS.get(stored)
    if found is None:
        if len(_UUIDS) >= _CACHE_LIMIT:
            _UUIDS.clear()
        found = UUID(bytes=stored) if isinstance(stored, bytes) else UUID(stored)
        _UUIDS[stored] = found
    return found


_CACHE_LIMIT = 65_536
_UUIDS: dict[str | bytes, UUID] = {}


def upcast(cls: type[Event], stored_version: int, state: dict[str, Any]) -> dict[str, Any]:
    """A stored state of an older version of ``cls``, as its current version."""
    if not isinstance(stored_version, int) or not 1 <= stored_version <= cls.class_version:
        raise DomainError(
            CLASS_VERSION,
            f"a stored {cls.__name__} is at version {stored_version!r}; this program reads"
            f" versions 1 to {cls.class_version} (written by a newer program?)",
        )
    for step in range(stored_version, cls.class_version):
        state = _upcaster(cls, step)(state)
    return state


def _upcaster(cls: type[Event], step: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    name = f"upcast_v{step}_v{step + 1}"
    found = getattr(cls, name, None)
    if found is None:
        raise TypeError(f"{cls.__name__} is at version {cls.class_version} but has no {name}")
    return found  # type: ignore[no-any-return]


def check_upcasters(cls: type[Event]) -> None:
    """Raises TypeError unless every step from version 1 to the class's version has its method."""
    for step in range(1, cls.class_version):
        _upcaster(cls, step)


# ---------------------------------------------------------------- the conversion plan

Convert = Callable[[Any], Any] | None
"""JSON value -> field value; None where JSON already gives the value (str, int, bool)."""


class _Plan:
    """How to make one class's instance from JSON: which fields need converting, and how."""

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.names = tuple(cls.model_fields)
        self.fields_set = set(self.names)
        self.converted: list[tuple[str, Callable[[Any], Any]]] = []
        self.defaults: dict[str, Callable[[], Any]] = {}
        for name, info in cls.model_fields.items():
            convert = None if name in ENVELOPE_KEYS else _converter(info.annotation)
            if convert is not None:
                self.converted.append((name, convert))
            self.defaults[name] = (
                functools.partial(_required, cls, name)
                if info.is_required()
                else functools.partial(info.get_default, call_default_factory=True)
            )

        self.make: Callable[[dict[str, Any]], BaseModel] = self._compile()
        """The instance from its JSON ``data`` (keys it has no field for are left out)."""

    def _compile(self) -> Callable[[dict[str, Any]], BaseModel]:
        """``make`` as one generated function (as ``dataclasses`` generates ``__init__``).

        It does what ``model_construct`` does, without its per-field lookups of aliases and
        defaults: each field is taken in the class's order (``model_dump`` keeps it) and
        converted inline. A state missing a field goes the slow way, to its default.
        """
        converters = dict(self.converted)
        items = []
        for name in self.names:
            if name in converters:
                items.append(f"{name!r}: None if (x := data[{name!r}]) is None else c_{name}(x)")
            else:
                items.append(f"{name!r}: data[{name!r}]")
        source = (
            "def make(data):\n"
            "    try:\n"
            f"        values = {{{', '.join(items)}}}\n"
            "    except KeyError:\n"
            "        return with_defaults(data)\n"
            "    return build(values, fields_set.copy())\n"
        )
        namespace: dict[str, Any] = {f"c_{name}": c for name, c in converters.items()}
        namespace.update(
            with_defaults=self._with_defaults, build=self._build, fields_set=self.fields_set
        )
        exec(source, namespace)  # noqa: S102 - our own text, from field names
        return namespace["make"]  # type: ignore[no-any-return]

    def _with_defaults(self, data: dict[str, Any]) -> BaseModel:
        """A state without some fields (stored before they were added): their defaults."""
        given = {name: data[name] for name in self.names if name in data}
        values = {**given}
        for name, convert in self.converted:
            raw = given.get(name)
            if raw is not None:
                values[name] = convert(raw)
        values = {
            name: values[name] if name in given else self.defaults[name]()
            for name in self.names
        }
        return self._build(values, set(given))

    def _build(self, values: dict[str, Any], fields_set: set[str]) -> BaseModel:
        model = self.cls.__new__(self.cls)
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", fields_set)
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


_set = object.__setattr__


def _required(cls: type[BaseModel], name: str) -> Any:
    raise DomainError(name, f"a stored {cls.__name__} has no {name} (an upcaster is missing)")


@functools.cache
def _plan(cls: type[BaseModel]) -> _Plan:
    return _Plan(cls)


def _converter(annotation: Any) -> Convert:
    """The conversion a field of this annotation needs; TypeError for a type it cannot read."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _converter(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _converter(members[0])  # None passes through before conversion
        if {_bare(m) for m in members} == {AwareDatetime, date}:
            return _moment
        raise TypeError(f"the codec cannot read a field of type {annotation}")
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"the codec reads tuple[X, ...] only, not {annotation}")
        return _sequence(tuple, _converter(args[0]))
    if origin is list:
        return _sequence(list, _converter(get_args(annotation)[0]))
    if origin is not None:
        raise TypeError(f"the codec cannot read a field of type {annotation}")
    return _scalar(annotation)


def _bare(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _scalar(annotation: Any) -> Convert:
    if annotation in (str, int, bool):
        return None
    if annotation is UUID:
        return UUID
    if annotation is Decimal:
        return _decimal
    if annotation in (datetime, AwareDatetime):  # a stored datetime was aware when written
        return datetime.fromisoformat
    if annotation is date:
        return date.fromisoformat
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _nested(annotation)
    raise TypeError(f"the codec cannot read a field of type {annotation!r}")


def _sequence(kind: type, item: Convert) -> Convert:
    if item is None:
        return kind
    return lambda values: kind(map(item, values))


def _decimal(value: Any) -> Decimal:
    """Stored as text ('1000.00'); a number from an upcaster goes through its text form, as
    pydantic would take it."""
    return Decimal(value) if type(value) is str else Decimal(str(value))


def _moment(value: str) -> date | datetime:
    """``AwareDatetime | date``: a date is stored as 'YYYY-MM-DD', a datetime always longer."""
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _enum(cls: type[Enum]) -> Callable[[Any], Enum]:
    members = cls._value2member_map_

    def convert(value: Any) -> Enum:
        found = members.get(value)
        return found if found is not None else cls(value)

    return convert


def _nested(cls: type[BaseModel]) -> Callable[[dict[str, Any]], BaseModel]:
    """A nested frozen model (an event's Source): the same few recur, so each distinct one is
    made once and shared (it cannot change)."""
    made: dict[Any, BaseModel] = {}

    def convert(data: dict[str, Any]) -> BaseModel:
        try:
            key = tuple(data.items())
            found = made.get(key)
        except TypeError:  # a value that is not hashable: nothing to share
            return _plan(cls).make(data)
        if found is None:
            if len(made) >= _CACHE_LIMIT:
                made.clear()
            found = made[key] = _plan(cls).make(data)
        return found

    if not cls.model_config.get("frozen"):
        return lambda data: _plan(cls).make(data)
    return convert
