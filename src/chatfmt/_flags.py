"""On/off switches read from the environment, parsed one way everywhere (setup.py loads this file too).

A switch is on when its variable is set to anything but "" or "0", as yarl and multidict read theirs.
"""

from __future__ import annotations

import os


def env_flag(name: str) -> bool:
    """Whether the environment variable `name` turns its switch on."""
    return os.environ.get(name, "") not in ("", "0")
