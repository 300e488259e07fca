"""Compiled string builders for declarative formats, with a pure-Python twin (the yarl pattern).

`Renderer` is the Cython class from `_render_c` when it is built and importable, else the identical
pure-Python class from `_render_py`. CHATFMT_NO_EXTENSIONS=1 forces the pure one; so does any
interpreter other than CPython. `IMPLEMENTATION` ("c" or "py") and `USING_C` say which one is active.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any

from ..formats.spec import Format
from ._render_py import Renderer as PyRenderer

__all__ = ["IMPLEMENTATION", "USING_C", "PyRenderer", "Renderer", "compile_format"]

_NO_EXTENSIONS = os.environ.get("CHATFMT_NO_EXTENSIONS", "") not in ("", "0")

if not _NO_EXTENSIONS and platform.python_implementation() == "CPython":
    try:
        from ._render_c import Renderer
    except ImportError:  # not built: stay correct, just slower
        Renderer = PyRenderer  # type: ignore[misc,assignment]
else:
    Renderer = PyRenderer  # type: ignore[misc,assignment]

USING_C: bool = Renderer is not PyRenderer
IMPLEMENTATION: str = "c" if USING_C else "py"


def compile_format(fmt: Format, special_tokens: Mapping[str, Any] | None = None) -> Renderer:
    """Compile `fmt` against a special-tokens mapping (name -> str; absent = undefined) once, render many."""
    return Renderer(fmt, special_tokens)
