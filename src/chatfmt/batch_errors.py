"""Batches that name the bad row: `on_error="raise" | "skip" | "null"` for render_batch and render_arrow.

A dataset has bad rows, and one of them must neither stop a million good ones silently nor vanish:
with "raise" the error is the one transformers raises (same type and message), with the failing row's
index attached (`exc.row_index`, and a note on Python 3.11+); with "skip" or "null" every failure is
returned as a `RowFailure` (row, reason, message and field when known) next to the results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "ON_ERROR",
    "OnError",
    "RenderedBatch",
    "RowFailure",
    "check_on_error",
    "failure",
    "render_each",
    "render_rows",
    "tag_row",
]

OnError = Literal["raise", "skip", "null"]
ON_ERROR: tuple[str, ...] = ("raise", "skip", "null")

T = TypeVar("T")


@dataclass(frozen=True)
class RowFailure:
    """Why row `row` of a batch was not rendered.

    `error` is the exception's type name and `reason` its message; `message_index` and `field` say
    where in the conversation the problem is, when chatfmt knows (a null role, a non-string content).
    """

    row: int
    error: str
    reason: str
    message_index: int | None = None
    field: str | None = None

    def describe(self) -> str:
        """The error without the row: type, where in the conversation, and message."""
        where = [f"message {self.message_index}"] if self.message_index is not None else []
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{self.error}: {', '.join(where)}: {self.reason}" if where else f"{self.error}: {self.reason}"

    def __str__(self) -> str:
        return f"row {self.row}: {self.describe()}"


class RenderedBatch(list, Generic[T]):  # type: ignore[type-arg]
    """The results of a batch rendered with on_error "skip" or "null", plus `failures`.

    With "null" it has one entry per input row (None where the row failed); with "skip" the failed rows
    are left out and `rows` gives each result's input row.
    """

    def __init__(self, results: Sequence[T], failures: Sequence[RowFailure], rows: Sequence[int]) -> None:
        super().__init__(results)
        self.failures: tuple[RowFailure, ...] = tuple(failures)
        self.rows: tuple[int, ...] = tuple(rows)


def check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {', '.join(map(repr, ON_ERROR))}, got {on_error!r}")


def failure(row: int, exc: BaseException) -> RowFailure:
    """A RowFailure from the exception a row raised (InvalidConversation knows the message and field)."""
    return RowFailure(
        row=row,
        error=type(exc).__name__,
        reason=str(getattr(exc, "reason", None) or exc),
        message_index=getattr(exc, "message_index", None),
        field=getattr(exc, "field", None),
    )


def tag_row(exc: BaseException, row: int) -> BaseException:
    """The same exception (type and message unchanged, as transformers raises it) naming its row."""
    exc.row_index = row  # type: ignore[attr-defined]
    if sys.version_info >= (3, 11):
        exc.add_note(f"(chatfmt: in row {row} of the batch)")
    return exc


def render_rows(
    render_all: Callable[[], list[T]],
    render_one: Callable[[Any], T],
    items: Sequence[Any],
    on_error: OnError,
) -> list[T]:
    """`render_all()` (the fast whole-batch path); when it raises, find and handle the bad rows one by one.

    With "raise" the original exception is re-raised, tagged with the first row that raises the same
    error; the per-row pass runs only after a failure, so good batches pay nothing.
    """
    check_on_error(on_error)
    try:
        results = render_all()
    except Exception as exc:
        if on_error == "raise":
            for row, item in enumerate(items):
                try:
                    render_one(item)
                except Exception as again:
                    if type(again) is type(exc) and str(again) == str(exc):
                        raise tag_row(exc, row) from None
                    break
            raise
        return render_each(render_one, items, on_error)
    return results if on_error == "raise" else RenderedBatch(results, (), range(len(results)))


def render_each(render_one: Callable[[Any], T], items: Sequence[Any], on_error: OnError) -> RenderedBatch[T]:
    """`render_one` on every item, one by one; failures are kept (see `RenderedBatch`) or, with "raise",
    the first one is raised naming its row."""
    check_on_error(on_error)
    results: list[Any] = []
    failures: list[RowFailure] = []
    rows: list[int] = []
    for row, item in enumerate(items):
        try:
            text: Any = render_one(item)
        except Exception as exc:
            if on_error == "raise":
                raise tag_row(exc, row) from None  # the same exception, re-raised with its row
            failures.append(failure(row, exc))
            if on_error == "null":
                results.append(None)
                rows.append(row)
            continue
        results.append(text)
        rows.append(row)
    return RenderedBatch(results, failures, rows)
