"""Argument checks of the generated client methods.

protobuf rejects a wrong argument type with messages that name neither the
method nor the parameter ("bad argument type for built-in operation"), and
it silently turns some wrong values into others. The generated methods call
these checks first, so that a wrong argument raises ``TypeError`` or
``ValueError`` naming ``Client.method(parameter)``, before any I/O.

Accepted values, per field kind:

* string: ``str`` that encodes as UTF-8; never ``None`` (an unset string
  field would silently become ``""``).
* bytes: ``bytes``, ``bytearray`` or ``memoryview``.
* integers: ``int`` (not ``bool``) within the field's range.
* bool: ``bool``.
* message: an instance of the model class. A ``dict`` is refused, so that a
  misspelt key cannot pass silently; build the model with ``Model(**d)``.
* repeated: a sequence (not a ``str`` or ``bytes``) of the element kind.
* map: a ``Mapping`` of the key kind to the value kind.
* free-form JSON (``google.protobuf.Struct``): a ``Mapping`` with ``str``
  keys and JSON values (None, bool, numbers, ``str``, lists and mappings).
  JSON has no NaN or infinities, and the server refuses them
  (INVALID_ARGUMENT), so they raise ``ValueError`` here, wherever they are:
  in a mapping, a Struct or Value given as is, or a message's Struct fields.
* JSON model (a dataclass of models.py): an instance, whose JSON fields
  must hold JSON values; it goes on the wire as its message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Protocol, TypeVar, cast

from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

__all__ = [
    "INT32",
    "INT64",
    "UINT32",
    "UINT64",
    "Check",
    "check_bool",
    "check_bytes",
    "check_float",
    "check_json_model",
    "check_json_value",
    "check_map",
    "check_message",
    "check_repeated",
    "check_str",
    "check_struct",
    "optional",
    "struct_dict",
]

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")

#: A check: (where, value) -> the value to put in the request.
Check = Callable[[str, object], _T]


def _kind(value: object) -> str:
    return type(value).__name__


def check_str(where: str, value: object) -> str:
    """Accept a ``str`` that encodes as UTF-8 (no lone surrogates)."""
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a str, not {_kind(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"{where} is not valid text: a lone surrogate at index {error.start}"
            ) from None
    return value


def check_bytes(where: str, value: object) -> bytes:
    """Accept ``bytes``, ``bytearray`` or ``memoryview``; return ``bytes``."""
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{where} must be bytes, not {_kind(value)}")


def check_bool(where: str, value: object) -> bool:
    """Accept a ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{where} must be a bool, not {_kind(value)}")
    return value


def check_float(where: str, value: object) -> float:
    """Accept an ``int`` or a ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where} must be a number, not {_kind(value)}")
    return float(value)


def _int_check(bits: int, signed: bool) -> Check[int]:
    low = -(1 << (bits - 1)) if signed else 0
    high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    kind = f"{'' if signed else 'u'}int{bits}"

    def check(where: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where} must be an int, not {_kind(value)}")
        if not low <= value <= high:
            raise ValueError(f"{where} is out of range for {kind}: {value}")
        return value

    return check


INT32 = _int_check(32, signed=True)
INT64 = _int_check(64, signed=True)
UINT32 = _int_check(32, signed=False)
UINT64 = _int_check(64, signed=False)


def check_message(cls: type[_T]) -> Check[_T]:
    """Return a check that accepts instances of the message class ``cls``.

    A message whose type can hold a ``google.protobuf.Value`` (a Struct
    field, say) is searched for NaN and infinities, which raise ValueError.
    """
    descriptor = getattr(cls, "DESCRIPTOR", None)
    search = isinstance(descriptor, Descriptor) and _may_hold_value(descriptor)

    def check(where: str, value: object) -> _T:
        if isinstance(value, cls):
            if search:
                _refuse_non_finite(where, cast(Message, value))
            return value
        hint = f"; build one with {cls.__name__}(**value)" if isinstance(value, Mapping) else ""
        raise TypeError(f"{where} must be a {cls.__name__}, not {_kind(value)}{hint}")

    return check


_Msg = TypeVar("_Msg", bound=Message, covariant=True)


class JSONModel(Protocol[_Msg]):
    """A dataclass of models.py that converts to its message."""

    def _to_message(self) -> _Msg: ...


def check_json_model(cls: type[JSONModel[_Msg]]) -> Check[_Msg]:
    """Return a check that accepts instances of the JSON model ``cls``.

    The check returns the instance's message; a JSON field that does not
    hold a JSON value raises, naming the parameter.
    """

    def check(where: str, value: object) -> _Msg:
        if not isinstance(value, cls):
            hint = f"; build one with {cls.__name__}(**value)" if isinstance(value, Mapping) else ""
            raise TypeError(f"{where} must be a {cls.__name__}, not {_kind(value)}{hint}")
        try:
            return value._to_message()
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: {error}") from None

    return check


def check_repeated(element: Check[_T]) -> Check[list[_T]]:
    """Return a check for a sequence whose elements pass ``element``."""

    def check(where: str, value: object) -> list[_T]:
        if isinstance(value, (str, bytes, bytearray, memoryview, Mapping)) or not isinstance(
            value, Sequence
        ):
            raise TypeError(f"{where} must be a sequence, not {_kind(value)}")
        return [element(where + " element", item) for item in value]

    return check


def check_map(key: Check[_K], value: Check[_V]) -> Check[dict[_K, _V]]:
    """Return a check for a mapping whose keys and values pass the checks."""

    def check(where: str, mapping: object) -> dict[_K, _V]:
        if not isinstance(mapping, Mapping):
            raise TypeError(f"{where} must be a mapping, not {_kind(mapping)}")
        return {key(where + " key", k): value(where + " value", v) for k, v in mapping.items()}

    return check


def check_struct(where: str, value: object) -> struct_pb2.Struct:
    """Accept a mapping of JSON values (or a Struct); return a ``Struct``.

    Keys must be ``str``; values may be None, bool, numbers, ``str``, and
    lists and mappings of those, as JSON allows. Numbers travel as doubles,
    as JSON numbers do upstream.
    """
    if isinstance(value, struct_pb2.Struct):
        _refuse_non_finite(where, value)
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} must be a mapping of JSON values, not {_kind(value)}")
    struct = struct_pb2.Struct()
    try:
        struct.update(cast("dict[str, Any]", _json_value(where, value)))
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where} is not a mapping of JSON values: {error}") from None
    return struct


def check_json_value(where: str, value: object) -> struct_pb2.Value:
    """Accept any JSON value (see :func:`check_struct`); return a ``Value``."""
    if isinstance(value, struct_pb2.Value):
        _refuse_non_finite(where, value)
        return value
    holder = struct_pb2.Struct()
    try:
        holder.update({"v": cast(Any, _json_value(where, value))})
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where} is not a JSON value: {error}") from None
    return holder.fields["v"]


def struct_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct of a response as a plain dict of JSON values."""
    return json_format.MessageToDict(struct)


def _json_value(where: str, value: object) -> object:
    """Check that value is JSON: keys are str; values are JSON values."""
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(_non_finite_text(where, value))
        return value
    if isinstance(value, str):
        return check_str(where, value)
    if isinstance(value, Mapping):
        return {
            check_str(f"{where} key", k): _json_value(f"{where}[{k!r}]", v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_json_value(f"{where}[{i}]", v) for i, v in enumerate(value)]
    raise TypeError(f"{where} must be a JSON value, not {_kind(value)}")


def _non_finite_text(where: str, value: float) -> str:
    name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return f"{where} holds {name}, which is not a JSON number"


#: Whether a message type can hold a google.protobuf.Value, by full name.
_HOLDS_VALUE: dict[str, bool] = {}


def _may_hold_value(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold a ``google.protobuf.Value``, at any depth."""
    known = _HOLDS_VALUE.get(descriptor.full_name)
    if known is not None:
        return known
    target = struct_pb2.Value.DESCRIPTOR.full_name
    seen: set[str] = set()
    stack = [descriptor]
    found = False
    while stack and not found:
        current = stack.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        found = current.full_name == target
        stack.extend(f.message_type for f in current.fields if f.message_type is not None)
    _HOLDS_VALUE[descriptor.full_name] = found
    return found


def _refuse_non_finite(where: str, message: Message) -> None:
    """Raise ValueError, naming where, for a NaN or infinity in a Value of message."""
    found = _find_non_finite(message, where)
    if found is not None:
        raise ValueError(_non_finite_text(*found))


def _find_non_finite(message: Message, where: str) -> tuple[str, float] | None:
    """The path and value of the first NaN or infinity in a Value of message, if any.

    Struct and map keys read as subscripts, as in the mapping a caller gave.
    """
    if isinstance(message, struct_pb2.Value):
        kind = message.WhichOneof("kind")
        if kind == "number_value":
            return None if math.isfinite(message.number_value) else (where, message.number_value)
        if kind == "struct_value":
            return _find_non_finite(message.struct_value, where)
        if kind == "list_value":
            return _find_non_finite(message.list_value, where)
        return None
    if isinstance(message, struct_pb2.Struct):
        for key, value in message.fields.items():
            if (found := _find_non_finite(value, f"{where}[{key!r}]")) is not None:
                return found
        return None
    if isinstance(message, struct_pb2.ListValue):
        for index, value in enumerate(message.values):
            if (found := _find_non_finite(value, f"{where}[{index}]")) is not None:
                return found
        return None
    for field, value in message.ListFields():
        sub = field.message_type
        if sub is None or not _may_hold_value(sub):
            continue
        path = f"{where}.{field.name}"
        if sub.GetOptions().map_entry:
            items: list[tuple[str, Any]] = [(f"{path}[{k!r}]", v) for k, v in value.items()]
        elif field.is_repeated:
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(path, value)]
        for item_where, item in items:
            if (found := _find_non_finite(item, item_where)) is not None:
                return found
    return None


def optional(check: Check[_T]) -> Check[_T | None]:
    """Return a check that also accepts ``None`` (an unset field)."""

    def accept(where: str, value: object) -> _T | None:
        return None if value is None else check(where, value)

    return accept
