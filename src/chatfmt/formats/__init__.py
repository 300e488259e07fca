"""Known chat formats and the names a format author needs.

A format is data (`Format`, `Turn`, `Token`, `ROLE`, ...; see `chatfmt.formats.spec`), most easily
written as per-role patterns (`format_from_patterns`, `read_toml`); `format_jinja` writes its Jinja.
"""

from __future__ import annotations

from importlib import import_module

from .._values import TYPE_CHECKING
from .spec import DECLINE, ROLE, SKIP, Date, Format, Reject, Switch, SystemPolicy, Token, Transform, Turn

if TYPE_CHECKING:
    from typing import Any

    from .jinja_source import UnsupportedFormat, format_jinja
    from .patterns import GENERIC, PatternFile, course_patterns, format_from_patterns, read_toml

# The authoring tools load on first use: a built-in's render needs only the spec (and the generator and
# the pattern reader import dataclasses, typing and string).
_AUTHORING = {
    "UnsupportedFormat": ".jinja_source",
    "format_jinja": ".jinja_source",
    "GENERIC": ".patterns",
    "PatternFile": ".patterns",
    "course_patterns": ".patterns",
    "format_from_patterns": ".patterns",
    "read_toml": ".patterns",
}


def __getattr__(name: str) -> Any:
    home = _AUTHORING.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)


__all__ = [
    "DECLINE",
    "GENERIC",
    "ROLE",
    "SKIP",
    "Date",
    "Format",
    "PatternFile",
    "Reject",
    "Switch",
    "SystemPolicy",
    "Token",
    "Transform",
    "Turn",
    "UnsupportedFormat",
    "course_patterns",
    "format_from_patterns",
    "format_jinja",
    "read_toml",
]
