"""JSONL blocks to checked records: Arrow's JSON reader for whole good blocks, line by line otherwise.

A record is a non-blank line. It is bad when it is not JSON, not an object, has no conversation field,
or its conversation fails `chatfmt.messages.validate_conversation` (which names message and field);
for Parquet output, also when its other columns do not fit the types fixed by the first rows (the
conversation's own type may change, unless it is written too). A bad record becomes a `Reject` with
its line number and reason; it is never dropped or altered silently.

The fast path reads a whole block with `pyarrow.json` (500-600 MB/s on one core with the columns
known, about 2x msgspec into Python objects, measured) and keeps it only when every line starts with
"{" (so none is blank), the block parses, gives one row per line and types the conversation column as
list<struct<role: string, content: string, ...>>. Anything else re-reads the block line by line with
msgspec to find and name the bad lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..errors import InvalidConversation
from ..messages import validate_conversation
from .sources import RawLines

__all__ = ["Checked", "Reject", "arrow_records", "lock_schema", "python_records"]

_decoder = msgspec.json.Decoder()


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    record: str  # the line as read (or, for Parquet input, the row as JSON)


@dataclass
class Checked:
    """One batch's good records (an Arrow table, or Python objects) and what was rejected."""

    lines: list[int]  # the line number of each good record, in order
    table: Any = None
    objects: list[dict[str, Any]] | None = None
    rejects: list[Reject] = field(default_factory=list)
    blank: int = 0
    raw: list[bytes] | None = None  # the good records' lines, when known
    block: bytes | None = None  # or the block they are the lines of, one record per line
    span: int = 0  # lines (or rows) in the batch, blank ones included

    def raw_line(self, index: int) -> str | None:
        """Good record `index` as read, or None when it was not read as a line (Parquet input)."""
        if self.raw is None and self.block is not None:
            self.raw = self.block.split(b"\n")
        return None if self.raw is None else self.raw[index].decode("utf-8", "backslashreplace")


def _object_lines(block: RawLines) -> int | None:
    """The number of lines when every one starts with "{" (so none is blank: Arrow skips blank lines,
    and its rows would no longer match the lines one to one), else None. Vectorised, no regex."""
    import numpy as np

    data = np.frombuffer(block.data, dtype=np.uint8)
    if data.size == 0 or data[0] != 0x7B:
        return None
    line_ends = np.flatnonzero(data == 0x0A)  # the block ends with a newline
    return int(line_ends.size) if bool(np.all(data[line_ends[:-1] + 1] == 0x7B)) else None


class _Bad(Exception):
    pass


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _check(raw: bytes, column: str) -> dict[str, Any]:
    try:
        record = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise _Bad(f"not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise _Bad(f"a record must be a JSON object, got {_json_type(record)}")
    if column not in record:
        raise _Bad(f"no {column!r} field")
    try:
        validate_conversation(record[column])
    except InvalidConversation as exc:
        raise _Bad(f"{column}: {exc}") from None
    return record


def _split(block: RawLines) -> list[bytes]:
    lines = block.data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def python_records(block: RawLines, column: str) -> Checked:
    """Every line decoded and checked with msgspec: good records as Python objects."""
    lines = _split(block)
    checked = Checked(lines=[], objects=[], raw=[], span=len(lines))
    for offset, raw in enumerate(lines):
        number = 1 + offset
        if not raw.strip():
            checked.blank += 1
            continue
        try:
            record = _check(raw, column)
        except _Bad as exc:
            checked.rejects.append(Reject(number, str(exc), raw.decode("utf-8", "backslashreplace")))
            continue
        checked.objects.append(record)  # type: ignore[union-attr]
        checked.lines.append(number)
        checked.raw.append(raw)  # type: ignore[union-attr]
    return checked


def _read_json(data: bytes, schema: Any, free: str | None = None) -> Any:
    """`data` in `schema` (None: inferred); the column `free` is inferred per batch even then (the
    conversation, when it is not written, may gain message fields such as tool_calls later on)."""
    import pyarrow as pa
    import pyarrow.json as pj

    explicit, behaviour = schema, "error"
    if schema is None:
        behaviour = "infer"
    elif free is not None and free in schema.names:
        explicit, behaviour = schema.remove(schema.get_field_index(free)), "infer"
    table = pj.read_json(
        io.BytesIO(data),
        read_options=pj.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16)),
        parse_options=pj.ParseOptions(explicit_schema=explicit, unexpected_field_behavior=behaviour),
    )
    if schema is not None:
        extra = [name for name in table.column_names if name not in schema.names]
        if extra:
            raise pa.ArrowInvalid(f"fields that the first rows did not have: {', '.join(map(repr, extra))}")
    return table


def conversation_typed(table: Any, column: str) -> bool:
    """Whether a column is list<struct<role: string, content: string, ...>>: what the checks accept."""
    import pyarrow as pa

    if column not in table.column_names:
        return False
    t = table.schema.field(column).type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        return False
    names = [t.value_type.field(i).name for i in range(t.value_type.num_fields)]
    return all(name in names and pa.types.is_string(t.value_type.field(name).type) for name in ("role", "content"))


def lock_schema(schema: Any, column: str) -> Any:
    """The schema of the first rows, kept for every later batch; role and content typed as strings even
    when the first rows had only nulls there."""
    import pyarrow as pa

    index = schema.get_field_index(column)
    if index < 0:
        return schema
    t = schema.field(index).type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        return schema
    struct = t.value_type
    fields = [
        struct.field(i).with_type(pa.string())
        if struct.field(i).name in ("role", "content") and pa.types.is_null(struct.field(i).type)
        else struct.field(i)
        for i in range(struct.num_fields)
    ]
    return schema.set(index, schema.field(index).with_type(pa.list_(t.value_field.with_type(pa.struct(fields)))))


def arrow_records(block: RawLines, column: str, schema: Any, free: str | None = None) -> Checked:
    """The block as an Arrow table in `schema` (None: inferred; `free`: see `_read_json`), bad lines rejected with their reason."""
    import pyarrow as pa

    lines = _object_lines(block)
    if lines is not None:
        try:
            table = _read_json(block.data, schema)  # every column as in the first rows: the fastest read
        except pa.ArrowInvalid:
            table = None
        if table is None and schema is not None and free is not None:
            try:
                table = _read_json(block.data, schema, free)
            except pa.ArrowInvalid:
                pass
        if table is not None and table.num_rows == lines and conversation_typed(table, column):
            return Checked(lines=list(range(1, 1 + lines)), table=table, block=block.data, span=lines)
    checked = python_records(block, column)
    raws = checked.raw or []
    checked.objects = None
    if not raws:
        checked.table = None if schema is None else schema.empty_table()
        return checked
    keep = list(range(len(raws)))
    table = _table_or_none(raws, schema, free)
    if table is None:  # some good records do not fit the schema: find them one by one
        keep = []
        for index, raw in enumerate(raws):
            try:
                _read_json(raw, schema, free)
            except pa.ArrowInvalid as exc:
                reason = f"does not fit the output's columns (set by the first rows): {exc}"
                checked.rejects.append(Reject(checked.lines[index], reason, raw.decode("utf-8", "backslashreplace")))
                continue
            keep.append(index)
        table = _table_or_none([raws[i] for i in keep], schema, free)
        if table is None:  # the rows fit one by one but not together (inferred types disagree)
            raise ValueError("the rows of a batch fit the columns one by one but not together: their types disagree")
    checked.rejects.sort(key=lambda reject: reject.line)
    checked.lines = [checked.lines[i] for i in keep]
    checked.raw = [raws[i] for i in keep]
    checked.table = table
    return checked


def _table_or_none(raws: list[bytes], schema: Any, free: str | None) -> Any:
    import pyarrow as pa

    try:
        return _read_json(b"\n".join(raws) + b"\n", schema, free)
    except pa.ArrowInvalid:
        return None
