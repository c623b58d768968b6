"""What the JSON models of models.py share: JSON text in, JSON values out.

Upstream carries a property value as ``json.RawMessage``, and the contract
as JSON text in a string field. The SDK's dataclasses for those models hold
the decoded value instead, so that a plugin reads and writes any JSON value:
``dump`` encodes one for the wire, ``load`` decodes one from it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, cast

from .messages import MAX_VALUE_REPR

__all__ = ["dump", "load", "one_line"]


def _check_finite(value: object, where: str) -> None:
    """Refuse NaN and the infinities, which JSON cannot hold, anywhere in value."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} holds {value}, which is not a JSON number")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item, where)


def dump(model: str, field: str, value: object) -> str:
    """The JSON text of a JSON field's value; "" for None.

    Raises TypeError for a value that is not JSON (a set, bytes, an object,
    a dict with keys other than str) and ValueError for NaN or infinity.
    """
    if value is None:
        return ""
    where = f"{model}.{field}"
    _check_finite(value, where)
    if not all(isinstance(k, str) for k in _keys(value)):
        raise TypeError(f"{where} is not a JSON value: object keys must be str")
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where} is not a JSON value: {error}") from None


def _keys(value: object) -> list[object]:
    """Every object key in a JSON value, nested ones included."""
    keys: list[object] = []
    if isinstance(value, dict):
        for key, item in value.items():
            keys.append(key)
            keys += _keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            keys += _keys(item)
    return keys


def load(text: str) -> object:
    """The value of JSON text; None for "" (no value)."""
    return json.loads(text) if text else None


def one_line(model: object) -> str:
    """``Name(field=value, ...)`` with the fields that differ from their defaults.

    Long values are cut, as the protobuf models print.
    """
    parts = []
    for field in dataclasses.fields(cast(Any, model)):
        value = getattr(model, field.name)
        default = field.default_factory() if callable(field.default_factory) else field.default
        if value == default:
            continue
        text = repr(value)
        if len(text) > MAX_VALUE_REPR:
            text = f"{text[:MAX_VALUE_REPR]}...<{len(text)} chars>"
        parts.append(f"{field.name}={text}")
    return f"{type(model).__name__}({', '.join(parts)})"
