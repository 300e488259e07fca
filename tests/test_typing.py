"""The public API is typed (py.typed; the compiled builder takes its types from its pure-Python twin):
the package must type-check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chatfmt

ROOT = Path(__file__).resolve().parents[1]


def test_package_type_checks_with_mypy():
    package = Path(chatfmt.__file__).parent
    assert (package / "py.typed").is_file()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(ROOT / "src" / "chatfmt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
