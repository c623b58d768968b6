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

from .messages import cut

__all__ = ["dump", "load", "one_line"]


def _check(value: object, where: str) -> None:
    """Refuse what json.dumps lets through but JSON cannot hold, anywhere in value.

    That is NaN and the infinities, and object keys that are not str
    (json.dumps would turn 1 into "1").
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} holds {value}, which is not a JSON number")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} is not a JSON value: object keys must be str")
            _check(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check(item, where)


def dump(model: str, field: str, value: object) -> str:
    """The JSON text of a JSON field's value; "" for None.

    Raises TypeError for a value that is not JSON (a set, bytes, an object,
    a dict with keys other than str) and ValueError for NaN or infinity.
    """
    if value is None:
        return ""
    where = f"{model}.{field}"
    _check(value, where)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where} is not a JSON value: {error}") from None


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
        parts.append(f"{field.name}={cut(repr(value))}")
    return f"{type(model).__name__}({', '.join(parts)})"
