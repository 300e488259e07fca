"""The build: on/off switches read one way everywhere, and a required extension cannot silently go missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatfmt._flags import env_flag

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("value", "on"), [(None, False), ("", False), ("0", False), ("1", True), ("yes", True)])
def test_env_flag(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv("CHATFMT_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("CHATFMT_TEST_FLAG", value)
    assert env_flag("CHATFMT_TEST_FLAG") is on


def _setup_without_sources(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`setup.py --name` in a copy of the tree whose .pyx sources are missing."""
    shutil.copy(ROOT / "setup.py", tmp_path / "setup.py")
    (tmp_path / "src" / "chatfmt").mkdir(parents=True)
    shutil.copy(ROOT / "src" / "chatfmt" / "_flags.py", tmp_path / "src" / "chatfmt" / "_flags.py")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHATFMT_")}
    return subprocess.run(
        [sys.executable, "setup.py", "--name"], cwd=tmp_path, env={**clean, **env}, capture_output=True, text=True
    )


def test_a_required_extension_fails_the_build_when_its_source_is_missing(tmp_path):
    result = _setup_without_sources(tmp_path, CHATFMT_REQUIRE_EXTENSIONS="1")
    assert result.returncode != 0 and "sources are missing" in result.stderr


def test_without_the_requirement_a_missing_source_builds_pure_python(tmp_path):
    result = _setup_without_sources(tmp_path)
    assert result.returncode == 0, result.stderr
