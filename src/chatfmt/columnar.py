"""Conversations as an Arrow column in, prompts as an Arrow column out (`Template.render_arrow`).

Input: a pyarrow Array or ChunkedArray, or any object speaking the Arrow PyCapsule interface
(`__arrow_c_array__` / `__arrow_c_stream__`: polars, DuckDB, nanoarrow ...), of
`list<struct<role, content, ...>>`. list, large_list and list_view; string, large_string, string_view
and dictionary strings; sliced arrays and nulls are all accepted. Output: a `large_string` array (a
ChunkedArray when the input was chunked or a stream), one prompt per row.

Each chunk renders in the compiled kernel (`chatfmt._fast._arrow_c`) when the call takes the compiled
route and the extension is built; every row the kernel hands back, and every row when it cannot run,
renders with `Template.render` on the row's Python value (`Array.to_pylist()`): the same text either way.

Every row's prompt equals `Template.render(row)`, except that these are errors naming the row (an
`InvalidConversation`), handled by `on_error` like any other failure: a null conversation, a null
message, a null role. A null content renders as transformers renders a None content (the key is
dropped), because that is what the reference does.

Spans (`spans=True`, or "chars" / "bytes"): per row, the generation spans as `list<struct<start: int64,
end: int64>>`: what the model must learn to emit, as `Template.render_spans(row).generation` gives.
"chars" (and True) count code points, i.e. Python string indices, which is what `tokenizers` reports
as offsets for a str; "bytes" count UTF-8 bytes into the Arrow data (for byte-level tooling). The
kernel records them while it writes; rows rendered outside it get theirs from `render_spans`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .batch_errors import OnError, RowFailure, check_on_error, failure, tag_row
from .errors import InvalidConversation
from .formats.spec import Format

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ArrowRender", "as_chunked", "generation_spans", "render_arrow"]


@dataclass(frozen=True)
class ArrowRender:
    """What `render_arrow` returns with `spans` or an `on_error` other than "raise".

    `text`: the prompts (null where a row failed, with "null"); `spans`: the generation spans or None;
    `failures`: each failed row and why; `rows`: with "skip", the input row of each output (int64).
    """

    text: Any
    spans: Any
    failures: tuple[RowFailure, ...]
    rows: Any


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("render_arrow needs pyarrow: pip install 'chatfmt[arrow]'") from exc
    return pyarrow


def as_chunked(conversations: Any) -> pa.ChunkedArray:
    """Any accepted input as a pyarrow ChunkedArray, without copying the data."""
    pa = _pyarrow()
    if isinstance(conversations, pa.ChunkedArray):
        return conversations
    if isinstance(conversations, pa.Array):
        return pa.chunked_array([conversations], type=conversations.type)
    if hasattr(conversations, "__arrow_c_stream__"):
        return pa.chunked_array(conversations)
    if hasattr(conversations, "__arrow_c_array__"):
        array = pa.array(conversations)
        return pa.chunked_array([array], type=array.type)
    raise TypeError(
        "render_arrow takes an Arrow array or chunked array (or an object with __arrow_c_array__ / "
        f"__arrow_c_stream__) of list<struct<role, content>>, got {type(conversations).__name__}"
    )


def _plain_type(t: Any) -> Any:
    """The type with views and dictionaries replaced by the types the kernel reads."""
    pa = _pyarrow()
    types = pa.types
    if types.is_string_view(t) or (types.is_dictionary(t) and types.is_string(t.value_type)):
        return pa.large_string()
    if types.is_list(t):
        return pa.list_(t.value_field.with_type(_plain_type(t.value_type)))
    if types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_plain_type(t.value_type)))
    if types.is_struct(t):
        return pa.struct([t.field(i).with_type(_plain_type(t.field(i).type)) for i in range(t.num_fields)])
    return t


def _kernel_reads(t: Any) -> bool:
    """Whether the kernel can read this (plain) chunk type: a list of structs with string role and content."""
    pa = _pyarrow()
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        return False
    struct = t.value_type
    names = [struct.field(i).name for i in range(struct.num_fields)]
    if len(set(names)) != len(names):
        return False  # duplicate field names: to_pylist keeps the last, the kernel could not tell which
    return all(
        name in names
        and (pa.types.is_string(struct.field(name).type) or pa.types.is_large_string(struct.field(name).type))
        for name in ("role", "content")
    )


@functools.lru_cache(maxsize=64)
def _kernel(fmt: Format, tokens: tuple[tuple[str, str], ...]) -> Any | None:
    """The compiled kernel for a format and its tokens, or None (extension not built, or nothing to render)."""
    from . import _fast

    if _fast.NO_EXTENSIONS or fmt.dynamic:  # a dynamic format's text depends on the call (date, switch)
        return None
    try:
        from ._fast._arrow_c import ArrowKernel
    except ImportError:
        return None
    from ._fast._plan import build_plan

    kernel = ArrowKernel(build_plan(fmt, dict(tokens)))
    return kernel if kernel.usable else None


def _check_nulls(value: Any) -> None:
    """Raise InvalidConversation for the nulls that are errors (see the module docstring)."""
    if value is None:
        raise InvalidConversation("the conversation is null")
    for index, message in enumerate(value):
        if message is None:
            raise InvalidConversation("the message is null", message_index=index)
        if isinstance(message, Mapping) and "role" in message and message["role"] is None:
            raise InvalidConversation("'role' is null", message_index=index, field="role")


class _Rows:
    """Renders rows outside the kernel and records failures by their row number in the whole column."""

    def __init__(self, render_row: Callable[[Any], str], on_error: OnError) -> None:
        self.render_row = render_row
        self.on_error = on_error
        self.failures: list[RowFailure] = []

    def text(self, row: int, value: Any) -> str | None:
        try:
            _check_nulls(value)
            return self.render_row(value)
        except Exception as exc:
            if self.on_error == "raise":
                raise tag_row(exc, row) from None  # the same exception, re-raised with its row
            self.failures.append(failure(row, exc))
            return None


def _list_view_as_large_list(chunk: Any) -> Any:
    """A list_view array as a large_list of the same rows: its views may overlap or run out of order,
    so the values are gathered in row order (pyarrow's own cast gets these rows wrong, in 26.0)."""
    import numpy as np

    pa = _pyarrow()
    nulls = chunk.is_null().to_numpy(zero_copy_only=False)
    sizes = np.where(nulls, 0, chunk.sizes.to_numpy(zero_copy_only=False).astype(np.int64))
    starts = chunk.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.arange(offsets[-1]) - np.repeat(offsets[:-1], sizes) + np.repeat(starts, sizes)
    values = chunk.values.take(pa.array(indices, type=pa.int64()))
    return pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values, mask=pa.array(nulls))


def _span_type() -> Any:
    pa = _pyarrow()
    return pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64())]))


def generation_spans(rendered: Any, unit: str) -> list[dict[str, int]]:
    """A RenderedSpans' generation spans as {start, end} dicts, counted in "chars" or UTF-8 "bytes"."""
    if unit == "bytes":
        text = rendered.text
        return [{"start": len(text[:a].encode()), "end": len(text[:b].encode())} for a, b in rendered.generation]
    return [{"start": a, "end": b} for a, b in rendered.generation]


class _SpanRows:
    """Generation spans of rows rendered outside the kernel, with `render_spans`."""

    def __init__(self, spans_of: Callable[[Any], Any], unit: str) -> None:
        self.spans_of, self.unit = spans_of, unit

    def of(self, value: Any, text: str | None) -> list[dict[str, int]] | None:
        return None if text is None else generation_spans(self.spans_of(value), self.unit)


def _render_chunk(
    chunk: Any, base: int, rows: _Rows, kernel: Any, add_generation_prompt: bool, spans: _SpanRows | None
) -> tuple[Any, Any]:
    """(prompts, generation spans or None) of one chunk."""
    pa = _pyarrow()
    if pa.types.is_list_view(chunk.type) or pa.types.is_large_list_view(chunk.type):
        chunk = _list_view_as_large_list(chunk)
    plain = _plain_type(chunk.type)
    if plain != chunk.type:
        chunk = chunk.cast(plain)
    if kernel is None or not _kernel_reads(plain):
        values = chunk.to_pylist()
        texts = [rows.text(base + index, value) for index, value in enumerate(values)]
        span_lists = (
            None if spans is None else pa.array([spans.of(v, t) for v, t in zip(values, texts)], type=_span_type())
        )
        return pa.array(texts, type=pa.large_string()), span_lists

    def fallback(row: int) -> bytes | None:
        text = rows.text(base + row, chunk[row].as_py())
        return None if text is None else text.encode("utf-8")

    unit = 0 if spans is None else 1 if spans.unit == "chars" else 2
    offsets, data, validity, nulls, handed_back, span_buffers = kernel.render(
        chunk, add_generation_prompt, fallback, unit
    )
    text = pa.Array.from_buffers(pa.large_string(), len(chunk), [validity, offsets, data], null_count=nulls)
    if spans is None:
        return text, None
    span_offsets, starts, ends = span_buffers
    count = len(starts) // 8
    pairs = pa.StructArray.from_arrays(
        [
            pa.Array.from_buffers(pa.int64(), count, [None, starts]),
            pa.Array.from_buffers(pa.int64(), count, [None, ends]),
        ],
        names=["start", "end"],
    )
    span_lists = pa.ListArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), len(chunk) + 1, [None, span_offsets]), pairs
    )
    if handed_back:  # rows rendered outside the kernel: their spans come from render_spans
        patched = span_lists.to_pylist()
        for row in handed_back:
            patched[row] = spans.of(chunk[row].as_py(), text[row].as_py())
        span_lists = pa.array(patched, type=_span_type())
    return text, span_lists


def render_arrow(
    conversations: Any,
    *,
    render_row: Callable[[Any], str],
    fmt: Format | None,
    special_tokens: Mapping[str, str],
    add_generation_prompt: bool,
    spans: Callable[[Any], Any] | None = None,
    span_unit: str = "chars",
    on_error: OnError = "raise",
) -> Any:
    """See the module docstring; `Template.render_arrow` passes the template's own renderers."""
    pa = _pyarrow()
    check_on_error(on_error)
    if span_unit not in ("chars", "bytes"):
        raise ValueError(f"spans count 'chars' or 'bytes', got {span_unit!r}")
    chunked_input = not isinstance(conversations, pa.Array)
    column = as_chunked(conversations)
    kernel = None if fmt is None else _kernel(fmt, tuple(sorted(special_tokens.items())))
    rows = _Rows(render_row, on_error)
    span_rows = None if spans is None else _SpanRows(spans, span_unit)
    texts, span_chunks, base = [], [], 0
    for chunk in column.chunks:
        chunk_text, chunk_spans = _render_chunk(chunk, base, rows, kernel, add_generation_prompt, span_rows)
        texts.append(chunk_text)
        span_chunks.append(chunk_spans)
        base += len(chunk)
    text = pa.chunked_array(texts, type=pa.large_string())
    failed = {f.row for f in rows.failures}
    span_column = None if spans is None else pa.chunked_array(span_chunks, type=_span_type())
    kept = None
    if on_error == "skip" and failed:
        mask = pa.array([row not in failed for row in range(len(column))])
        kept = pa.array([row for row in range(len(column)) if row not in failed], type=pa.int64())
        text = text.filter(mask)
        span_column = None if span_column is None else span_column.filter(mask)
    if not chunked_input:
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
        if span_column is not None:
            span_column = span_column.combine_chunks() if span_column.num_chunks != 1 else span_column.chunk(0)
    if spans is None and on_error == "raise":
        return text
    return ArrowRender(text=text, spans=span_column, failures=tuple(rows.failures), rows=kept)
