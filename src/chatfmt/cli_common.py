"""What the `chatfmt` subcommands share: the usage error they print as one line, and render's options.

`render` and `format` take the same options as `Template.render`; `add_render_options` declares them
once, and `parse_variables` reads `--set`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["UsageError", "add_render_options", "parse_variables"]


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


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """The options of `Template.render` as flags: the generation prompt or continuing the final
    message, a named template, and `--set` variables."""
    flags = parser.add_mutually_exclusive_group()
    flags.add_argument("--add-generation-prompt", action="store_true", help="end with the assistant turn header")
    flags.add_argument(
        "--continue-final-message",
        nargs="?",
        const="content",
        default=None,
        metavar="FIELD",
        help="leave the final message open for the model to continue (optionally a field, e.g. reasoning_content)",
    )
    parser.add_argument(
        "--chat-template",
        metavar="NAME",
        help="which of a repo's named templates to use (e.g. tool_use, rag), as transformers' chat_template",
    )
    parser.add_argument(
        "--set",
        dest="variables",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='a template variable; VALUE is parsed as JSON when it can be (true, 3, "x"), else taken as a string',
    )


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
