"""Resource limits for templates: they are untrusted code (anyone can publish one on the Hub).

Jinja's sandbox stops templates from reaching Python internals, but not from running forever or
building gigabytes of text. chatfmt bounds each render four ways:

* a work budget (`Limits.max_work`), deterministic, the same on a fast or a loaded machine: every loop
  iteration, call, macro invocation and long string a template stores is charged (see `WORK_PER_CALL`);
  the allowance is a fixed amount plus a share per character of the input, granted only when the fixed
  amount runs out, so a hostile template on a short conversation stops within a fraction of a second;
* an output cap: output is counted as it streams, and every operation that can build a long string in
  one step (`*`, `**`, string `%`, `format`, `replace`, `center` and its kin, `indent`, `join`,
  `tojson`) is refused before it allocates when its result would pass the cap (see `bounds.py`), as is
  any long string passed to a call or stored by `{% set %}` or in a namespace;
* a loop-iteration count (`max_loop_iterations`);
* a wall clock (`max_seconds`), read when loops start, every 64 items of an unsized loop, and on every
  call, as a backstop.

A loop over a list, tuple, str, dict or range is charged its whole length when it starts; loops over
`range` are capped at 100 000 items per call by the sandbox. Limits never change what a render returns:
a render within them gives exactly transformers' string.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..errors import ChatfmtError
from . import bounds


class TemplateLimitExceeded(ChatfmtError, RuntimeError):
    """A render went past one of its `Limits` and was stopped; `limit` names the field of `Limits`."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


# What one unit of work stands for (about 50 ns of interpreter time each): a loop iteration is one, a
# call (function, method) twenty, a macro invocation (a frame, its arguments, its buffer) a hundred, and
# building text one per this many characters.
WORK_PER_CALL = 20
WORK_PER_MACRO = 100
FREE_LENGTH = 1024  # strings and lists stored by a template cost nothing below this length
_STORED_SIZED = frozenset((str, list, tuple))
CHARS_PER_WORK = 16


@dataclass(frozen=True)
class Limits:
    """Per-render bounds. `None` disables one. The defaults are far above any real chat prompt.

    `max_work` is a deterministic budget, the same on a fast or a loaded machine: loop iterations, calls
    and characters built (see `WORK_PER_CALL`, `CHARS_PER_WORK`), with `work_per_input_char` more units
    for each character of the render's input (messages, tools, documents, variables), granted when the
    fixed allowance runs out, so long conversations get room in proportion and a hostile template on a
    short one stops early. The output cap scales the same way (`output_per_input_char`). `max_seconds`
    is a wall-clock backstop; `None` disables any of them.
    """

    max_seconds: float | None = 10.0
    max_output_chars: int | None = 1_000_000
    output_per_input_char: int = 20
    max_loop_iterations: int | None = 10_000_000
    max_work: int | None = 2_000_000
    work_per_input_char: int = 20


DEFAULT_LIMITS = Limits()
_default_limits = DEFAULT_LIMITS


def set_default_limits(limits: Limits) -> None:
    """The limits of every template created without its own (`Template(..., limits=...)` overrides them)."""
    global _default_limits
    _default_limits = limits


def effective(limits: Limits) -> Limits:
    """`limits`, or the global default (`set_default_limits`) for a template left at `DEFAULT_LIMITS`."""
    return _default_limits if limits is DEFAULT_LIMITS else limits


class budget:
    """Context manager: apply `limits` to the renders made inside the block (this thread or task only).

    `input_size`, called at most once and only when a fixed allowance runs out, gives the size of the
    render's input in characters (see `Limits`): the work budget and the output cap grow by their share.
    """

    __slots__ = (
        "_input_chars",
        "_input_size",
        "_token",
        "deadline",
        "granted",
        "iterations_left",
        "limits",
        "output_cap",
        "output_granted",
        "work_left",
    )

    def __init__(self, limits: Limits, input_size: Callable[[], int] | None = None) -> None:
        self.limits = limits
        self.deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
        self.iterations_left = limits.max_loop_iterations
        self.work_left = limits.max_work
        self.granted = limits.max_work
        self.output_cap = limits.max_output_chars
        self.output_granted = False
        self._input_size = input_size
        self._input_chars: int | None = None

    def input_chars(self) -> int:
        if self._input_chars is None:
            self._input_chars = 0 if self._input_size is None else self._input_size()
        return self._input_chars

    def spend(self, units: int) -> None:
        """Charge `units` of work; past the allowance, grant the input's share once, then stop the render."""
        if self.work_left is not None:
            self.work_left -= units
            if self.work_left < 0:
                self._grant_input_share()

    def _grant_input_share(self) -> None:
        if self.work_left is None or self.granted is None:
            return
        if self.granted == self.limits.max_work:
            extra = self.limits.work_per_input_char * self.input_chars()
            self.work_left += extra
            self.granted += extra
        if self.work_left < 0:
            raise TemplateLimitExceeded(
                f"the template did more than {self.granted} units of work (max_work: loop iterations, calls and "
                "characters built, scaled with the input) and was stopped",
                limit="max_work",
            )

    def __enter__(self) -> budget:
        self._token = _budget.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _budget.reset(self._token)

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TemplateLimitExceeded(
                f"the template ran longer than {self.limits.max_seconds} s (max_seconds) and was stopped",
                limit="max_seconds",
            )

    def check_size(self, size: int, what: str = "the output") -> None:
        """Refuse `size` characters over the output cap (the fixed cap, then once with the input's share)."""
        cap = self.output_cap
        if cap is not None and size > cap:
            if not self.output_granted:
                self.output_granted = True
                self.output_cap = cap = cap + self.limits.output_per_input_char * self.input_chars()
            if size > cap:
                raise TemplateLimitExceeded(
                    f"{what} would exceed {self.limits.max_output_chars} characters plus "
                    f"{self.limits.output_per_input_char} per input character ({cap} in all, max_output_chars); "
                    "the render was stopped",
                    limit="max_output_chars",
                )


_budget: ContextVar[budget | None] = ContextVar("chatfmt_budget", default=None)


def tick(values: tuple[object, ...] = (), units: int = WORK_PER_CALL) -> None:
    """Called by the sandbox on every call (with its arguments): charge the call, and stop the render when
    time is up, or when a string or list passed around has outgrown the output limit."""
    current = _budget.get()
    if current is not None:
        if current.work_left is not None:  # current.spend(units), inlined: this runs on every call
            current.work_left -= units
            if current.work_left < 0:
                current.spend(0)
        current.check_time()
        for value in values:
            if isinstance(value, (str, list, tuple)):
                current.check_size(len(value), "a value built by the template")


CLOCK_EVERY = 64
_SIZED = frozenset((list, tuple, str, dict, range))


def guard_loop(iterable: Any) -> Any:
    """Every `{% for %}` iterates through this (see `LimitedSandbox`): it counts iterations and checks the
    clock, so even loops that call nothing are bounded. It yields the same items, lazily.

    A loop over an exact list, tuple, str, dict or range (what nearly every chat-template loop walks) is charged
    its full length and checks the clock once, when it starts, and then runs on the object itself: such a
    body runs a bounded number of times with no per-item cost. Any other iterable is charged item by item.
    """
    current = _budget.get()
    if current is None:
        return iterable
    if type(iterable) in _SIZED:
        _charge(current, len(iterable))
        current.check_time()
        return iterable
    return _guarded(current, iterable)


def _charge(current: budget, iterations: int) -> None:
    if current.work_left is not None:  # current.spend(iterations), inlined: this runs on every iteration
        current.work_left -= iterations
        if current.work_left < 0:
            current.spend(0)
    if current.iterations_left is not None:
        current.iterations_left -= iterations
        if current.iterations_left < 0:
            raise TemplateLimitExceeded(
                f"the template's loops ran more than {current.limits.max_loop_iterations} iterations "
                "(max_loop_iterations); the render was stopped",
                limit="max_loop_iterations",
            )


def _guarded(current: budget, iterable: Any) -> Any:
    """Charge each item as it comes, and read the clock every `CLOCK_EVERY` items (the body of one
    iteration is bounded work: every loop and call inside it checks for itself)."""
    for count, item in enumerate(iterable, 1):
        _charge(current, 1)
        if not count % CLOCK_EVERY:
            current.check_time()
        yield item


def check_built(size: int, what: str) -> None:
    """Refuse a string a template is about to build when it alone would exceed the output limit; charge it."""
    current = _budget.get()
    if current is not None:
        current.check_size(size, f"the result of {what}")
        current.spend(size // CHARS_PER_WORK)


def stored(value: Any) -> Any:
    """Every `{% set %}` and namespace assignment passes its value through here: a string or list of
    `FREE_LENGTH` or more is charged by its length and checked against the output limit (a template that
    doubles a string on each step is stopped before the next doubling). Returns `value`."""
    if value.__class__ in _STORED_SIZED and len(value) >= FREE_LENGTH:
        current = _budget.get()
        if current is not None:
            current.check_size(len(value), "a value built by the template")
            current.spend(len(value) // CHARS_PER_WORK)
    return value


def check_binop(operator: str, left: object, right: object) -> None:
    """Refuse `*`, `**` and string `%` whose result would be larger than the output limit, before computing it."""
    current = _budget.get()
    if current is None:
        return
    current.check_time()
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
                current.check_size(len(seq) * count, f"'{operator}' on a sequence")
    elif operator == "%" and isinstance(left, str):
        current.check_size(bounds.percent_format(left, right), "'%' formatting")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        digits = right * math.log10(abs(left))
        current.check_size(int(digits), "a number computed by '**'")
