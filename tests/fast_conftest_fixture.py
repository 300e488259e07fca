"""The `fast_impl` fixture: a test that takes it runs on the compiled builder (id `c`) and on its
pure-Python twin (id `py`), as multidict's conftest does for its two implementations.

Import it into a test module (`from fast_conftest_fixture import fast_impl`) or into conftest.py.
The `c` case skips when the extension is not built, unless CHATFMT_REQUIRE_EXTENSIONS is set, when
it fails instead.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def extensions_required() -> bool:
    return os.environ.get("CHATFMT_REQUIRE_EXTENSIONS", "") not in ("", "0")


@pytest.fixture(scope="session", params=["c", "py"])
def fast_impl(request: pytest.FixtureRequest) -> ModuleType:
    """The module `chatfmt._fast._render_c` or `chatfmt._fast._render_py` (both export `Renderer`)."""
    if request.param == "c":
        try:
            return importlib.import_module("chatfmt._fast._render_c")
        except ImportError:
            if extensions_required():
                raise
            pytest.skip("the compiled builder is not built (python setup.py build_ext --inplace)")
    return importlib.import_module("chatfmt._fast._render_py")
