"""Resource limits for templates: they are untrusted code (anyone can publish one on the Hub).

Jinja's sandbox stops templates from reaching Python internals, but not from running forever or
building gigabytes of text. chatfmt bounds each render by wall time, loop iterations and output size.
Every `{% for %}` loop counts its iterations and checks the clock on each, and the clock is also
checked on every call a template makes (functions, methods, macros, `range`) and every namespace
assignment, which every loop that is not bounded by the input's own size has to go through; loops over
`range` are capped at 100 000 items per call by the sandbox. Output is counted as it streams; `*` and
`**` are checked before they allocate, and strings passed to calls or stored in a namespace are checked
against the output limit, which bounds templates that double a string on each step. Limits never change what a render returns: a render
within them gives exactly transformers' string.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..errors import ChatfmtError


class TemplateLimitExceeded(ChatfmtError, RuntimeError):
    """A render went past its time or output-size limit and was stopped."""


@dataclass(frozen=True)
class Limits:
    """Per-render bounds. `None` disables one. The defaults are far above any real chat prompt."""

    max_seconds: float | None = 10.0
    max_output_chars: int | None = 50_000_000
    max_loop_iterations: int | None = 10_000_000


DEFAULT_LIMITS = Limits()


class budget:
    """Context manager: apply `limits` to the renders made inside the block (this thread or task only)."""

    __slots__ = ("_token", "deadline", "iterations_left", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
        self.iterations_left = limits.max_loop_iterations

    def __enter__(self) -> budget:
        self._token = _budget.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _budget.reset(self._token)

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TemplateLimitExceeded(f"the template ran longer than {self.limits.max_seconds} s and was stopped")

    def check_size(self, size: int, what: str = "the output") -> None:
        limit = self.limits.max_output_chars
        if limit is not None and size > limit:
            raise TemplateLimitExceeded(f"{what} would exceed {limit} characters; the render was stopped")


_budget: ContextVar[budget | None] = ContextVar("chatfmt_budget", default=None)


def tick(values: tuple[object, ...] = ()) -> None:
    """Called by the sandbox on every call (with its arguments) and namespace assignment (with the value):
    stop the render when time is up, or when a string or list passed around has outgrown the output limit."""
    current = _budget.get()
    if current is not None:
        current.check_time()
        for value in values:
            if isinstance(value, (str, list, tuple)):
                current.check_size(len(value), "a value built by the template")


def guard_loop(iterable: Any) -> Any:
    """Every `{% for %}` iterates through this (see `LimitedSandbox`): it counts iterations and checks the
    clock on each, so even loops that call nothing are bounded. It yields the same items, lazily."""
    current = _budget.get()
    if current is None:
        yield from iterable
        return
    for item in iterable:
        if current.iterations_left is not None:
            current.iterations_left -= 1
            if current.iterations_left < 0:
                raise TemplateLimitExceeded(
                    f"the template's loops ran more than {current.limits.max_loop_iterations} iterations; the render was stopped"
                )
        current.check_time()
        yield item


def check_binop(operator: str, left: object, right: object) -> None:
    """Refuse `*` and `**` whose result would be larger than the output limit, before computing it."""
    current = _budget.get()
    if current is None:
        return
    current.check_time()
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
                current.check_size(len(seq) * count, f"'{operator}' on a sequence")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        digits = right * math.log10(abs(left))
        current.check_size(int(digits), "a number computed by '**'")
