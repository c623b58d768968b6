"""The Plugin base classes, the ``hook`` decorator and the answer sentinels."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, TypeVar

from .._async_client import AsyncClient
from .._client import Client
from .hookspec import HOOKS, HookName
from .spec import HookSpec, hooks_section

if TYPE_CHECKING:
    # Only the annotation: logging is imported by the runtime that sets the logger.
    import logging

__all__ = ["DISMISS", "AsyncPlugin", "Plugin", "PluginBase", "hook"]

_F = TypeVar("_F", bound=Callable[..., Any])
_API = TypeVar("_API", Client, AsyncClient)

#: The attribute that :func:`hook` sets on a handler: the hook's name.
_HOOK_ATTRIBUTE = "__mattermost_hook__"
#: Hooks by the name of their handler method, and by their Go name.
_BY_METHOD = {spec.method: spec for spec in HOOKS.values()}
_BY_NAME: dict[str, HookSpec] = {spec.name: spec for spec in HOOKS.values()}
#: Hooks by their name folded: lower case, without underscores.
_BY_FOLDED = {spec.name.lower(): spec for spec in HOOKS.values()}
#: How alike a method's name must be to a hook's to count as a misspelling.
_MISSPELLING_CUTOFF = 0.85


class _Dismiss:
    """The type of :data:`DISMISS`; there is one instance."""

    _instance: ClassVar[_Dismiss | None] = None

    def __new__(cls) -> _Dismiss:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "mattermost_plugin.DISMISS"

    def __reduce__(self) -> str:
        return "DISMISS"


#: Returned by ``message_will_be_posted``: drop the post without an error
#: for the user, as Go's ``plugin.DismissPostError`` does.
DISMISS = _Dismiss()


def hook(name: HookName | str) -> Callable[[_F], _F]:
    """Declare a method as the handler of a hook, whatever its name.

    ::

        class MyPlugin(Plugin):
            @hook(HookName.MESSAGE_WILL_BE_POSTED)
            def filter_posts(self, context, post):
                return post

    Args:
        name: The hook, as a :class:`HookName` or its Go name
            (``"MessageWillBePosted"``).

    Raises:
        ValueError: There is no such hook; the message names the closest.
    """
    spec = _spec_for_name(name)

    def mark(function: _F) -> _F:
        setattr(function, _HOOK_ATTRIBUTE, spec.name)
        return function

    return mark


def _spec_for_name(name: HookName | str) -> HookSpec:
    if isinstance(name, HookName):
        return HOOKS[name]
    if not isinstance(name, str):
        raise TypeError(f"hook() takes a HookName or a hook's name, not {type(name).__name__}")
    spec = _BY_NAME.get(name) or _BY_METHOD.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"there is no hook {name[:100]!r}{hint}")
    return spec


def _check_signature(cls_name: str, attribute: str, function: object, spec: HookSpec) -> None:
    """Raise TypeError unless ``function`` takes the hook's arguments."""
    target = function.__func__ if isinstance(function, (staticmethod, classmethod)) else function
    if not callable(target):
        raise TypeError(f"{cls_name}.{attribute} handles {spec.name} but is not a function")
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # builtins without a signature: trust them
        return
    arguments = [object()] * (len(spec.params) + (0 if isinstance(function, staticmethod) else 1))
    if isinstance(function, classmethod):
        arguments = arguments[1:]
    try:
        signature.bind(*arguments)
    except TypeError as error:
        raise TypeError(
            f"{cls_name}.{attribute}{signature} cannot handle {spec.name}: {error}; "
            f"the hook calls {spec.signature}"
        ) from None


def _collect_hooks(cls: type) -> dict[str, str]:
    """Map each hook the class handles to its handler's attribute name.

    Checks every handler's signature, refuses two handlers for one hook in
    the same class and names the closest hook of a misspelled method.
    """
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__dict__.get("_is_plugin_base", False):
            continue
        own: dict[str, str] = {}
        for attribute, value in vars(klass).items():
            if attribute.startswith("_"):
                continue
            function = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            declared = getattr(function, _HOOK_ATTRIBUTE, None)
            spec = _BY_NAME[declared] if declared else _BY_METHOD.get(attribute)
            if spec is None:
                go_named = _BY_FOLDED.get(attribute.replace("_", "").lower())
                if go_named is not None and callable(function) and not declared:
                    # MessageWillBePosted, messageWillBePosted: Go's spelling.
                    raise TypeError(
                        f"{klass.__name__}.{attribute} is named like the Go hook "
                        f"{go_named.name}; rename {attribute} to {go_named.method}: hook "
                        "methods are named in snake case"
                    )
                if callable(function):
                    close = difflib.get_close_matches(
                        attribute, list(_BY_METHOD), n=1, cutoff=_MISSPELLING_CUTOFF
                    )
                    if close:
                        raise TypeError(
                            f"{klass.__name__}.{attribute} is not a hook; did you mean "
                            f"{close[0]!r} ({_BY_METHOD[close[0]].name})? Rename it with a "
                            "leading underscore if it is a helper"
                        )
                continue
            _check_signature(klass.__name__, attribute, value, spec)
            if spec.name in own:
                raise TypeError(
                    f"{klass.__name__} handles {spec.name} twice: {own[spec.name]} and {attribute}"
                )
            own[spec.name] = attribute
        # A subclass's handler replaces the inherited one, whatever its name.
        found.update(own)
    return found


class PluginBase(Generic[_API]):
    """What :class:`Plugin` and :class:`AsyncPlugin` share; subclass one of those.

    Hooks are methods. A method named like a hook in snake case
    (``message_will_be_posted``) handles it, and so does any method
    decorated with :func:`hook`. Handlers may be plain or ``async``
    functions. The class is checked when it is defined: a handler whose
    signature cannot take the hook's arguments, or a public method whose
    name is a near miss of a hook's or its Go name (``MessageWillBePosted``),
    raises TypeError there.

    Attributes:
        api: The Plugin API client, connected when the plugin is served.
        logger: A standard logger whose records reach the server log.
        manifest: The plugin's manifest (``plugin.json``), when known.
        configuration: The plugin's settings, as ``api.get_plugin_config()``
            returns them (``PluginSettings.Plugins[<plugin id>]``), plus
            the ``default`` of every setting of the manifest's
            ``settings_schema`` that is not saved, as a Go plugin's
            ``LoadPluginConfiguration`` sees them: read before
            ``on_activate`` and again before every
            ``on_configuration_change``, and empty until the first read.
            Each read replaces the dict; read it, do not change it.
    """

    _is_plugin_base: ClassVar[bool] = True
    #: The hooks the class handles, by Go name, with their handler's name.
    __mattermost_hooks__: ClassVar[Mapping[str, str]] = {}

    api: _API
    logger: logging.Logger
    manifest: Mapping[str, Any]
    configuration: Mapping[str, Any]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_is_plugin_base", False):
            cls._is_plugin_base = False
            cls.__mattermost_hooks__ = _collect_hooks(cls)

    @classmethod
    def implemented_hooks(cls) -> list[str]:
        """The Go names of the hooks this class handles, sorted."""
        return sorted(cls.__mattermost_hooks__)

    def handler(self, name: str) -> Callable[..., Any] | None:
        """The bound handler of the hook ``name`` (its Go name), or None."""
        attribute = type(self).__mattermost_hooks__.get(name)
        return getattr(self, attribute) if attribute is not None else None


class Plugin(PluginBase[Client]):
    """The base class of a plugin whose ``api`` is a blocking :class:`Client`.

    ::

        class HelloPlugin(Plugin):
            def on_activate(self):
                self.logger.info("hello")

            def message_will_be_posted(self, context, post):
                if "spam" in post.message:
                    return None, "no spam here"
                return post

        if __name__ == "__main__":
            mattermost_plugin.run(HelloPlugin)

    Plain handlers run in a thread pool, so a slow one blocks neither the
    other hooks nor the server's health checks; ``async`` handlers run on
    the event loop.
    """

    _is_plugin_base: ClassVar[bool] = True


class AsyncPlugin(PluginBase[AsyncClient]):
    """The base class of a plugin whose ``api`` is an :class:`AsyncClient`.

    Write the handlers as ``async def`` and ``await`` the API; plain
    handlers still run in a thread pool, where the async client cannot be
    used.
    """

    _is_plugin_base: ClassVar[bool] = True


def _document_hooks(*classes: type) -> None:
    """Append the list of hooks, with their signatures, to the classes' docstrings."""
    section = hooks_section(HOOKS.values())
    for cls in classes:
        cls.__doc__ = f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{section}"


_document_hooks(Plugin, AsyncPlugin)
