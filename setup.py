"""Builds the Cython extensions in src/chatfmt/_fast; all metadata lives in pyproject.toml.

CHATFMT_NO_EXTENSIONS=1 skips the build (the pure-Python twin is used).
CHATFMT_REQUIRE_EXTENSIONS=1 makes a failed build an error instead of a silent fallback (CI sets it).
"""

import os
import runpy

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The package's own switch parser, read from its file: the package is not importable while it builds.
_flag = runpy.run_path(os.path.join("src", "chatfmt", "_flags.py"))["env_flag"]

# One line per compiled module: (dotted name, .pyx path).
EXTENSIONS = [
    ("chatfmt._fast._render_c", "src/chatfmt/_fast/_render_c.pyx"),
    ("chatfmt._fast._arrow_c", "src/chatfmt/_fast/_arrow_c.pyx"),
]


class OptionalBuildExt(build_ext):
    """Falls back to the pure-Python twin when compiling fails, unless CHATFMT_REQUIRE_EXTENSIONS is set."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing, headers missing, ...
            self._give_up(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        if _flag("CHATFMT_REQUIRE_EXTENSIONS"):
            raise
        print(f"chatfmt: building the compiled extension failed ({exc}); using the pure-Python renderer")


def _extensions() -> list[Extension]:
    if _flag("CHATFMT_NO_EXTENSIONS"):
        return []
    required = _flag("CHATFMT_REQUIRE_EXTENSIONS")
    missing = [path for _, path in EXTENSIONS if not os.path.exists(path)]
    if missing:  # a wheel built from a tree without the .pyx sources ships the pure-Python twin
        if required:
            raise FileNotFoundError(f"CHATFMT_REQUIRE_EXTENSIONS is set but these sources are missing: {missing}")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if required:
            raise
        return []
    modules = [Extension(name, [path]) for name, path in EXTENSIONS]
    return cythonize(modules, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False})


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
