"""What the `chatfmt` subcommands share: the usage error they print as one line, and `--set` variables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["UsageError", "parse_variables"]


class UsageError(Exception):
    """A mistake in how the command was called; printed as one line."""


# Keywords `Template.render` takes itself: as --set variables they would collide with its arguments.
_RESERVED_VARIABLES = {
    "messages": "the conversation is the input",
    "add_generation_prompt": "use --add-generation-prompt",
    "continue_final_message": "use --continue-final-message",
    "tools": "use --tools FILE",
    "documents": "use --documents FILE",
    "chat_template": "use --chat-template NAME",
    "on_error": "use --on-error",
    "validate": "use --no-validate to switch the input checks off",
}


def parse_variables(assignments: Sequence[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` flags as template variables; VALUE is JSON when it parses, else a string."""
    variables = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise UsageError(f"--set takes KEY=VALUE, got {assignment!r}")
        if key in _RESERVED_VARIABLES:
            raise UsageError(f"--set cannot set {key!r}; {_RESERVED_VARIABLES[key]}")
        try:
            variables[key] = json.loads(value)
        except json.JSONDecodeError:
            variables[key] = value
        except RecursionError as exc:
            raise UsageError(f"--set {key}: the value nests arrays or objects too deeply") from exc
    return variables
