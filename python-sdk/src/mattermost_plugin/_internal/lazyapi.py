"""Client methods imported on first use, one domain module at a time.

The Plugin API has hundreds of methods in a few dozen domain modules
(``_api/kv.py``, ``_api/users.py``...). Importing them all, with the
protobuf modules of their messages, was most of the cost of importing the
SDK. So the clients' base classes (``_api.SyncPluginAPI`` and
``_api.AsyncPluginAPI``) hold a table of their methods instead of the
methods: the first access to a method, on the class or on an instance,
imports its domain module and copies that domain's methods onto the base
class. From then on they are ordinary methods, found without a detour;
signatures, docstrings and exceptions are those of the domain module.

Type checkers and IDEs see the methods through the ``TYPE_CHECKING``
branch of ``_api/__init__.py``, which composes the domain mixins.

Thread safety: imports are locked by Python; two threads that load the same
domain at once copy the same function objects onto the class, so either
order leaves the same class.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["LazyInstance", "LazyMethods", "load", "load_all"]

#: The package whose client classes stay lazy when they derive from a base.
_PACKAGE = __name__.split(".", 1)[0] + "."


def _home(cls: type) -> type | None:
    """The class of cls's MRO that holds the method table, if any.

    Read from the class dictionaries, not with getattr, which would come back
    to LazyMethods.__getattr__.
    """
    for klass in cls.__mro__:
        if "_lazy_methods" in vars(klass):
            return klass
    return None


def load(cls: type, name: str) -> Any:  # noqa: ANN401 - a method of any signature
    """Import the domain of method ``name`` of ``cls``, install its methods, return the function.

    Raises:
        AttributeError: ``cls`` has no such method; the message is Python's own.
    """
    home = _home(cls)
    methods: Mapping[str, str] = vars(home)["_lazy_methods"] if home is not None else {}
    if home is None or name not in methods:
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
    domain = methods[name]
    module = importlib.import_module(f"{vars(home)['_lazy_package']}.{domain}")
    mixin = getattr(module, vars(home)["_lazy_mixins"][domain])
    for attribute, value in vars(mixin).items():
        if methods.get(attribute) == domain:
            setattr(home, attribute, value)
    if name not in vars(home):  # a method of the other flavour only
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
    return vars(home)[name]


def load_all(home: type) -> None:
    """Install every method of the class holding the method table, domain by domain."""
    methods: Mapping[str, str] = vars(home)["_lazy_methods"]
    first_of_domain = {domain: name for name, domain in sorted(methods.items(), reverse=True)}
    for name in first_of_domain.values():
        if name not in vars(home):
            load(home, name)


class LazyMethods(type):
    """The metaclass of a client base whose methods load on first access.

    The base class defines ``_lazy_methods`` (method name to domain module),
    ``_lazy_mixins`` (domain module to the name of its mixin class) and
    ``_lazy_package`` (the package of the domain modules).
    """

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> None:
        super().__init__(name, bases, namespace)
        # super().method() looks in the classes' dictionaries only, never
        # through __getattr__: a class derived from a client outside this
        # package (a user's subclass of Client) gets every method in place
        # when it is defined, whatever it overrides, so that super() finds
        # any of them. The SDK's own clients stay lazy.
        home = _home(cls)
        if home is not None and home is not cls and not cls.__module__.startswith(_PACKAGE):
            load_all(home)

    def __getattr__(cls, name: str) -> Any:  # noqa: ANN401 - a method of any signature
        """A method not loaded yet, looked up on the class."""
        return load(cls, name)

    def __dir__(cls) -> list[str]:
        """The class's attributes, with the methods not loaded yet."""
        home = _home(cls)
        methods = vars(home)["_lazy_methods"] if home is not None else {}
        return sorted(set(super().__dir__()) | set(methods))


class LazyInstance:
    """What the instances of a LazyMethods class add: method lookup and dir()."""

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - a bound method
        """A method not loaded yet, looked up on an instance."""
        try:
            function = load(type(self), name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None
        return function.__get__(self, type(self))

    def __dir__(self) -> list[str]:
        """The instance's attributes, with the methods not loaded yet."""
        return sorted(set(super().__dir__()) | set(dir(type(self))))
