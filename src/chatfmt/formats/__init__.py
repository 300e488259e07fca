"""Known chat formats and the names a format author needs.

A format is data (`Format`, `Turn`, `Token`, `ROLE`, ...; see `chatfmt.formats.spec`), most easily
written as per-role patterns (`format_from_patterns`, `read_toml`); `format_jinja` writes its Jinja.
"""

from .jinja_source import UnsupportedFormat, format_jinja
from .patterns import GENERIC, PatternFile, course_patterns, format_from_patterns, read_toml
from .spec import DECLINE, ROLE, SKIP, Date, Format, Reject, Switch, SystemPolicy, Token, Transform, Turn

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
