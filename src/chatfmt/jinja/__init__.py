"""The transformers-exact sandboxed Jinja engine: chatfmt's general path for any chat template."""

from .clock import fixed_clock
from .environment import compile_template, new_environment

__all__ = ["compile_template", "fixed_clock", "new_environment"]
