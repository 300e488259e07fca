"""The clock behind the `strftime_now` template global.

Templates such as Llama 3.1 and Granite print today's date, so their output depends on when they run.
transformers reads `datetime.now()`; chatfmt does too unless a caller fixes the clock for the current
context (a thread or an asyncio task), which is what tests and reproducible dataset builds need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime

_clock: ContextVar[Callable[[], datetime]] = ContextVar("chatfmt_clock", default=datetime.now)


def now() -> datetime:
    """The current naive local time, or the time a caller fixed with `fixed_clock`."""
    return _clock.get()()


@contextlib.contextmanager
def fixed_clock(moment: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Make `strftime_now` read `moment` (a datetime, or a function returning one) inside the block."""
    read = moment if callable(moment) else (lambda: moment)
    token = _clock.set(read)
    try:
        yield
    finally:
        _clock.reset(token)
