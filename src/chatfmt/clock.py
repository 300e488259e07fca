"""The clock behind the `strftime_now` template global.

Templates such as Llama 3.1 and Granite print today's date, so their output depends on when they run.
transformers reads `datetime.now()`; chatfmt does too unless a caller fixes the clock for the current
context (a thread or an asyncio task), which is what tests and reproducible dataset builds need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from ._values import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

# None: the real clock. datetime is imported on the first read, not with chatfmt (a render that prints
# no date never needs it).
_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("chatfmt_clock", default=None)


def now() -> datetime:
    """The current naive local time, or the time a caller fixed with `fixed_clock`."""
    read = _clock.get()
    if read is None:
        from datetime import datetime

        return datetime.now()
    return read()


@contextlib.contextmanager
def fixed_clock(moment: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Make `strftime_now` read `moment` (a datetime, or a function returning one) inside the block."""
    read = moment if callable(moment) else (lambda: moment)
    token = _clock.set(read)
    try:
        yield
    finally:
        _clock.reset(token)
