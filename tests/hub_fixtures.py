"""Pytest plugin: a `FakeHub` on 127.0.0.1 that huggingface_hub and transformers really talk to.

huggingface_hub reads `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE` and friends into
`huggingface_hub.constants` once, at import (and builds its default `HfApi` then). So this module starts the hub
and sets the environment *when it is imported*, and refuses to load if huggingface_hub or transformers came
first. Nothing in huggingface_hub is patched. Register it in the top-level conftest, importing it before
anything that imports transformers (pytest handles `pytest_plugins` only after the conftest body has run):

    sys.path.insert(0, str(Path(__file__).parent))
    import hub_fixtures  # noqa: F401,E402 - sets HF_ENDPOINT/HF_HOME before transformers is imported
    from oracle import ...
    pytest_plugins = ["hub_fixtures"]

(`pytest -p hub_fixtures` with `tests/` on `PYTHONPATH` works too: `-p` plugins load before conftests.)

One server serves the whole session; each test using `fake_hub` gets it running, emptied, and with an empty
`HF_HOME`, so tests see neither each other's repos nor each other's cache.

PYTEST_DONT_REWRITE: imported before pytest registers it as a plugin, so pytest could not rewrite its asserts
anyway and would warn (an error under filterwarnings=error); it has none to rewrite.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hubserver import FakeHub

# Read at import by huggingface_hub; whatever the developer's shell sets here would change what tests exercise.
_CLEARED_ENV = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HUGGINGFACE_CO_STAGING",
    "HUGGINGFACE_HUB_CACHE",
    "HUGGINGFACE_ASSETS_CACHE",
    "HF_ASSETS_CACHE",
    "HF_XET_CACHE",
    "HF_MODULES_CACHE",
    "HF_HUB_ENABLE_HF_TRANSFER",  # makes huggingface_hub warn at import, which filterwarnings=error turns fatal
    "HF_HUB_ETAG_TIMEOUT",
    "HF_HUB_DOWNLOAD_TIMEOUT",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
    "HF_HUB_DISABLE_SYMLINKS",
    "HF_DEBUG",
    "HF_OIDC_ID_TOKEN",
    "HF_OIDC_RESOURCE",
)
# Read at call time: cleared again for every test, in case a test or the code under test set them.
_TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class _Session:
    """The session's hub, its `HF_HOME`, and the environment to restore at the end."""

    def __init__(self) -> None:
        early = [name for name in ("huggingface_hub", "transformers") if name in sys.modules]
        if early:
            raise RuntimeError(
                f"hub_fixtures must be imported before {' and '.join(early)}: HF_ENDPOINT and HF_HOME are read"
                " once, at import. Import hub_fixtures at the top of conftest.py, before any module that imports"
                " transformers or huggingface_hub."
            )
        self.hub = FakeHub().start()
        self.home = Path(tempfile.mkdtemp(prefix="chatfmt-hf-home-"))
        environment = {
            "HF_ENDPOINT": self.hub.url,
            "HF_HOME": str(self.home),
            "HF_HUB_CACHE": str(self.home / "hub"),
            "HF_HUB_DISABLE_TELEMETRY": "1",  # also skips the agent-harness registry fetched for the user agent
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",
            "HF_HUB_DISABLE_XET": "1",  # the fake serves plain git files; keep the native Xet client out of it
        }
        self._saved = {name: os.environ.get(name) for name in (*_CLEARED_ENV, *environment)}
        for name in _CLEARED_ENV:
            os.environ.pop(name, None)
        os.environ.update(environment)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.hub.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.home, ignore_errors=True)


_SESSION = _Session()
atexit.register(_SESSION.close)  # in case the module was imported but never registered as a plugin


def pytest_unconfigure(config: pytest.Config) -> None:
    _SESSION.close()


@pytest.fixture(scope="session")
def hf_home() -> Path:
    """The session's `HF_HOME`; emptied before each test that uses `fake_hub`."""
    return _SESSION.home


@pytest.fixture(scope="session")
def hub_cache(hf_home: Path) -> Path:
    """`HF_HUB_CACHE`, where `hf_hub_download` and `from_pretrained` cache files unless given `cache_dir`."""
    return hf_home / "hub"


@pytest.fixture
def fake_hub(hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """The session's hub, running, with no repos, tokens or recorded requests, and an empty `HF_HOME`."""
    from huggingface_hub import constants

    hub = _SESSION.hub
    if constants.ENDPOINT != hub.url or Path(constants.HF_HUB_CACHE) != hf_home / "hub":
        pytest.fail(
            f"huggingface_hub uses endpoint {constants.ENDPOINT} and cache {constants.HF_HUB_CACHE}, not the fake"
            f" hub's {hub.url} and {hf_home / 'hub'}: it was imported with another environment."
        )
    hub.start()  # a previous test may have stopped it to play offline
    hub.reset()
    shutil.rmtree(hf_home, ignore_errors=True)
    hf_home.mkdir()
    for name in _TOKEN_ENV:
        monkeypatch.delenv(name, raising=False)
    return hub


def run_offline(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a Python process of its own with HF_HUB_OFFLINE=1 (huggingface_hub reads it at import),
    sharing this process's HF_HOME."""
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
