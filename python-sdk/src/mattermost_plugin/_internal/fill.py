"""LoadPluginConfiguration's Python side: settings into the plugin's own type.

Upstream decodes a plugin's settings into a Go struct with mapstructure:
keys match field names regardless of case, unknown keys are ignored, and
types convert where it is safe. :func:`fill` does the same for a dataclass
(class or instance), a TypedDict class or a dict. JSON numbers arrive as
floats, so a whole float fills an ``int`` field; a mismatch raises
``TypeError`` naming the setting.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Mapping, MutableMapping
from typing import Any, Union

__all__ = ["fill"]


def _key(name: str) -> str:
    """The form in which a field name and a setting key match: EnableX ~ enable_x."""
    return name.replace("_", "").replace("-", "").lower()


def _is_typeddict(value: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, dict)
        and hasattr(value, "__total__")
        and hasattr(value, "__annotations__")
    )


def _convert(where: str, hint: object, value: object) -> object:
    """Value as the type hint wants it, or TypeError."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:
        return value
    if origin is Union or (sys.version_info >= (3, 10) and _is_union_type(hint)):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(where, option, value)
            except TypeError as error:
                errors.append(str(error))
        raise TypeError(errors[0] if errors else f"{where}: no type fits {value!r}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{where} must be a mapping for {hint.__name__}, not {type(value).__name__}"
            )
        return _dataclass_from(where, hint, value)
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{where} must be a bool, not {type(value).__name__}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where} must be an int, not {type(value).__name__}")
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"{where} must be a whole number, not {value}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where} must be a number, not {type(value).__name__}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(f"{where} must be a str, not {type(value).__name__}")
        return value
    if origin in (list, typing.List) or hint is list:  # noqa: UP006 - 3.9
        if not isinstance(value, list):
            raise TypeError(f"{where} must be a list, not {type(value).__name__}")
        element = args[0] if args else Any
        return [_convert(f"{where}[{i}]", element, v) for i, v in enumerate(value)]
    if origin in (dict, typing.Dict) or hint is dict:  # noqa: UP006 - 3.9
        if not isinstance(value, Mapping):
            raise TypeError(f"{where} must be a mapping, not {type(value).__name__}")
        element = args[1] if len(args) == 2 else Any
        return {k: _convert(f"{where}[{k!r}]", element, v) for k, v in value.items()}
    return value


def _is_union_type(hint: object) -> bool:
    import types

    return isinstance(hint, types.UnionType)


def _matching(settings: Mapping[str, Any], names: typing.Iterable[str]) -> dict[str, object]:
    """The settings whose keys match the names, by name."""
    by_key = {_key(k): v for k, v in settings.items()}
    return {name: by_key[_key(name)] for name in names if _key(name) in by_key}


def _dataclass_from(where: str, cls: type, settings: Mapping[str, Any]) -> object:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    values = _matching(settings, (f.name for f in fields))
    kwargs = {
        name: _convert(f"{where}.{name}", hints.get(name, Any), v) for name, v in values.items()
    }
    missing = [
        f.name
        for f in fields
        if f.name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise TypeError(f"{where}: the settings lack {', '.join(missing)}, which have no default")
    return cls(**kwargs)


def fill(where: str, dest: object, settings: Mapping[str, Any]) -> object:
    """Fill dest from settings and return the result.

    Args:
        where: How errors name the call and parameter.
        dest: A dataclass class (a new instance is returned), a dataclass
            instance (its matching fields are set), a TypedDict class (a
            new dict with its keys is returned) or a dict (updated with
            every setting).
        settings: The plugin's settings.
    """
    if isinstance(dest, type) and dataclasses.is_dataclass(dest):
        return _dataclass_from(where, dest, settings)
    if dataclasses.is_dataclass(dest) and not isinstance(dest, type):
        hints = typing.get_type_hints(type(dest))
        names = [f.name for f in dataclasses.fields(dest)]
        for name, value in _matching(settings, names).items():
            setattr(dest, name, _convert(f"{where}.{name}", hints.get(name, Any), value))
        return dest
    if _is_typeddict(dest):
        assert isinstance(dest, type)
        hints = typing.get_type_hints(dest)
        values = _matching(settings, hints)
        return {name: _convert(f"{where}[{name!r}]", hints[name], v) for name, v in values.items()}
    if isinstance(dest, MutableMapping):
        dest.update(settings)
        return dest
    raise TypeError(
        f"{where} must be a dataclass (class or instance), a TypedDict class or a dict, "
        f"not {type(dest).__name__}"
    )
