"""Shared fixtures: the corpus, a fixed clock on both sides, the transformers oracle, and both builders.

The `builder` fixture runs a test on the compiled builder (id `c`, marked `c_extension`) and on its
pure-Python twin (id `py`), as multidict's conftest does: a module that wants every test on both says
`pytestmark = pytest.mark.usefixtures("builder")`. `--no-c-extensions` (or CHATFMT_NO_EXTENSIONS=1) skips
the `c_extension` tests; with CHATFMT_REQUIRE_EXTENSIONS=1 a missing extension fails them instead.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules (oracle, hubserver) live beside the tests

# Must come before anything imports huggingface_hub or transformers: it starts the local fake Hub and
# points HF_ENDPOINT / HF_HOME at it, which huggingface_hub reads once at import.
import hub_fixtures  # noqa: E402, F401
from oracle import FIXED_NOW, hf_fixed_clock  # noqa: E402

import chatfmt  # noqa: E402
from chatfmt import _fast, registry  # noqa: E402
from chatfmt._flags import env_flag  # noqa: E402

pytest_plugins = ["hub_fixtures"]

CORPUS = Path(__file__).parent / "data" / "corpus"
TEMPLATE_FILES = sorted((CORPUS / "templates").glob("*.jinja"))
CONTEXT_FILES = sorted((CORPUS / "contexts").glob("*.json"))


def load_context(name: str) -> dict:
    return json.loads((CORPUS / "contexts" / f"{name}.json").read_text(encoding="utf-8"))


def load_template_source(name: str) -> str:
    return (CORPUS / "templates" / f"{name}.jinja").read_text(encoding="utf-8")


@pytest.fixture
def fixed_clocks():
    """Both renderers read the same fixed time for `strftime_now`."""
    with hf_fixed_clock(), chatfmt.fixed_clock(FIXED_NOW):
        yield FIXED_NOW


def extensions_required() -> bool:
    return env_flag("CHATFMT_REQUIRE_EXTENSIONS")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-c-extensions", action="store_true", help="skip the tests of the compiled builder")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "c_extension: the test runs on the compiled (Cython) builder")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("c_extension") is None:
        return
    if item.config.getoption("--no-c-extensions") or _fast.NO_EXTENSIONS:
        pytest.skip("the compiled builder is switched off")
    try:
        importlib.import_module("chatfmt._fast._render_c")
    except ImportError:
        if extensions_required():
            raise
        pytest.skip("the compiled builder is not built (python setup.py build_ext --inplace)")


@pytest.fixture(scope="module", params=[pytest.param("c", marks=pytest.mark.c_extension), "py"])
def builder(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The builder module (`_render_c` or `_render_py`), active for every Template the test builds: compiled
    routes use it, and `get_template` answers from a fresh registry so no template built before is reused."""
    module = importlib.import_module(f"chatfmt._fast._render_{request.param}")
    saved = _fast.Renderer, registry.REGISTRY
    _fast.Renderer, registry.REGISTRY = module.Renderer, registry.Registry()
    try:
        yield module
    finally:
        _fast.Renderer, registry.REGISTRY = saved
