"""Resource limits for templates: they are untrusted code (anyone can publish one on the Hub).

Jinja's sandbox stops templates from reaching Python internals, but not from running forever or
building gigabytes of text. chatfmt bounds each render by wall time and output size. The time budget is
checked on every call a template makes (functions, filters' callables, macros, `range`) and every
arithmetic operator, which every loop that is not bounded by the input's own size has to go through;
loops over `range` are capped at 100 000 items per call by the sandbox. Output is counted as it streams,
and `+`, `*` and `**` are checked before they allocate. Limits never change what a render returns: a render
within them gives exactly transformers' string.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import ChatfmtError


class TemplateLimitExceeded(ChatfmtError, RuntimeError):
    """A render went past its time or output-size limit and was stopped."""


@dataclass(frozen=True)
class Limits:
    """Per-render bounds. `None` disables one. The defaults are far above any real chat prompt."""

    max_seconds: float | None = 10.0
    max_output_chars: int | None = 50_000_000


DEFAULT_LIMITS = Limits()
UNLIMITED = Limits(max_seconds=None, max_output_chars=None)


class _Budget:
    __slots__ = ("deadline", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TemplateLimitExceeded(f"the template ran longer than {self.limits.max_seconds} s and was stopped")

    def check_size(self, size: int, what: str = "the output") -> None:
        limit = self.limits.max_output_chars
        if limit is not None and size > limit:
            raise TemplateLimitExceeded(f"{what} would exceed {limit} characters; the render was stopped")


_budget: ContextVar[_Budget | None] = ContextVar("chatfmt_budget", default=None)


@contextlib.contextmanager
def budget(limits: Limits) -> Iterator[_Budget]:
    """Apply `limits` to the renders made inside the block (this thread or task only)."""
    current = _Budget(limits)
    token = _budget.set(current)
    try:
        yield current
    finally:
        _budget.reset(token)


def tick() -> None:
    """Called by the sandbox on every template call and operator: stop the render when time is up."""
    current = _budget.get()
    if current is not None:
        current.check_time()


def check_binop(operator: str, left: object, right: object) -> None:
    """Refuse `*` and `**` whose result would be larger than the output limit, before computing it."""
    current = _budget.get()
    if current is None:
        return
    current.check_time()
    if operator == "+":
        if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            current.check_size(len(left) + len(right), "'+' on sequences")
    elif operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
                current.check_size(len(seq) * count, f"'{operator}' on a sequence")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        digits = right * math.log10(abs(left))
        current.check_size(int(digits), "a number computed by '**'")
