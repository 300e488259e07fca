"""Frozen value classes without importing `dataclasses`.

`dataclasses` imports inspect, and with it ast, dis and tokenize: on a server's first render of a
built-in, that was more than half of what chatfmt cost to start. `value_class` gives chatfmt's record
types what they used of it and no more: fields from the class annotations, in order; defaults from the
class body; a generated positional-or-keyword `__init__` that calls `__post_init__` when the class has
one; immutability; field-wise `==`, `hash` and `repr`; pickling; optional `__slots__`; `replace` and
`field_defaults` (for `dataclasses.replace` and `dataclasses.fields`). Type checkers read
it as a dataclass (PEP 681).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

# Modules on the path of a built-in render import this instead of typing's: typing (and re, which it imports)
# would cost a fifth of a server's first render. mypy and other checkers read any TYPE_CHECKING as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform  # typing's from 3.11; only type checkers read it

    T = TypeVar("T")
else:

    def dataclass_transform(**options: object) -> Callable[[Callable], Callable]:
        return lambda decorator: decorator


__all__ = ["TYPE_CHECKING", "FrozenInstanceError", "field_defaults", "replace", "value_class"]


class FrozenInstanceError(AttributeError):
    """A field of a value object was assigned or deleted."""


@dataclass_transform(frozen_default=True)
def value_class(*, slots: bool = False) -> Callable[[type[T]], type[T]]:
    """Make the decorated class a frozen value class (see the module docstring); `slots` gives it `__slots__`."""

    def make(cls: type[T]) -> type[T]:
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        for name, following in zip(names, names[1:]):
            if name in defaults and following not in defaults:
                raise TypeError(f"{cls.__name__}: field {following!r} without a default follows one with a default")
        if slots:
            namespace = {
                key: value for key, value in cls.__dict__.items() if key not in (*names, "__dict__", "__weakref__")
            }
            metaclass: Any = type(cls)
            cls = metaclass(cls.__name__, cls.__bases__, {**namespace, "__slots__": names})
        methods = {
            "__init__": _init(names, defaults, hasattr(cls, "__post_init__")),
            "__eq__": _eq,
            "__hash__": _hash,
            "__repr__": _repr,
            "__setattr__": _refuse,
            "__delattr__": _refuse,
            "__reduce__": _reduce,
        }
        for key, method in methods.items():
            method.__qualname__ = f"{cls.__qualname__}.{key}"
            setattr(cls, key, method)
        for key in ("_fields", "__match_args__"):
            setattr(cls, key, names)
        setattr(cls, "_defaults", MappingProxyType(defaults))  # noqa: B010 - set on a class made at run time
        return cls

    return make


def _init(names: tuple[str, ...], defaults: dict[str, Any], post_init: bool) -> Callable[..., None]:
    """An `__init__` written out for these fields, as fast as a hand-written one."""
    parameters = ", ".join(f"{name}=_default_{name}" if name in defaults else name for name in names)
    lines = [f"    _set(self, {name!r}, {name})" for name in names]
    if post_init:
        lines.append("    self.__post_init__()")
    source = f"def __init__(self{', ' if names else ''}{parameters}):\n" + ("\n".join(lines) or "    pass") + "\n"
    namespace: dict[str, Any] = {
        "_set": object.__setattr__,
        **{f"_default_{name}": value for name, value in defaults.items()},
    }
    exec(source, namespace)  # noqa: S102 - the source is built from the class's own field names
    init: Callable[..., None] = namespace["__init__"]
    return init


def replace(obj: T, **changes: Any) -> T:
    """A copy of value object `obj` with some fields changed (`__post_init__` runs again), as
    `dataclasses.replace`."""
    fields: tuple[str, ...] = obj._fields  # type: ignore[attr-defined]
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no fields {sorted(unknown)}")
    return type(obj)(**{name: changes.get(name, getattr(obj, name)) for name in fields})


def field_defaults(obj: Any) -> dict[str, Any]:
    """Every field of value object (or class) `obj`, in order, mapped to its default; a field without
    one maps to `NO_DEFAULT`."""
    defaults: Mapping[str, Any] = obj._defaults
    return {name: defaults.get(name, NO_DEFAULT) for name in obj._fields}


NO_DEFAULT: Any = object()


def _values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, name) for name in obj._fields)


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
    return f"{self.__class__.__qualname__}({fields})"


def _refuse(self: Any, name: str, *value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _reduce(self: Any) -> tuple[Any, tuple[Any, ...]]:
    return self.__class__, _values(self)
