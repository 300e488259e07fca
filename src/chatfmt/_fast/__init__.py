"""Compiled string builders for declarative formats, with a pure-Python twin (the yarl pattern).

`Renderer` is the Cython class from `_render_c` when it is built and importable, else the identical
pure-Python class from `_render_py`, which also gives both their types. CHATFMT_NO_EXTENSIONS=1 forces
the pure one; so does any interpreter other than CPython. `IMPLEMENTATION` ("c" or "py") and `USING_C`
say which one is active.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._flags import env_flag
from ..formats.spec import Format
from ._render_py import Renderer as PyRenderer

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "USING_C", "PyRenderer", "Renderer", "compile_format"]

NO_EXTENSIONS: bool = env_flag("CHATFMT_NO_EXTENSIONS") or platform.python_implementation() != "CPython"

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._render_py import Renderer
else:
    try:
        from ._render_c import Renderer
    except ImportError:  # not built: stay correct, just slower
        from ._render_py import Renderer

USING_C: bool = Renderer is not PyRenderer
IMPLEMENTATION: Literal["c", "py"] = "c" if USING_C else "py"


def compile_format(fmt: Format, special_tokens: Mapping[str, Any] | None = None) -> Renderer:
    """Compile `fmt` against a special-tokens mapping (name -> str; absent = undefined) once, render many."""
    return Renderer(fmt, special_tokens)
