"""One batch in, its output and its rejects out: the unit of work a `--workers` process runs.

Parquet output renders an Arrow table with `Template.render_arrow` (the compiled kernel for built-in
formats); JSONL output renders Python records with `Template.render`. Either way each prompt is
`Template.render` of the record's conversation, and a record the template refuses is a reject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..batch_errors import RowFailure, render_each
from ..cli_common import UsageError
from ..columnar import generation_spans
from .records import Checked, Reject, arrow_records, python_records
from .sources import ArrowRows, FileRange, RawLines

__all__ = ["Job", "Result", "process"]

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Job:
    """What every batch needs: picklable, so worker processes get it once."""

    template: str
    column: str
    output: str  # the prompt column's name
    output_format: str  # "parquet" or "jsonl"
    options: dict[str, Any]
    keep_conversation: bool = False
    spans: str | None = None  # None, "chars" or "bytes"
    schema: Any = None  # for Parquet output from JSONL: the columns fixed by the first rows


@dataclass
class Result:
    payload: Any  # a pyarrow Table (Parquet output) or bytes (JSONL output); None when no row survived
    records: int  # records read (non-blank lines, or Parquet rows)
    written: int
    lines: int  # lines (or rows) in the batch: reject line numbers count from 1 within it
    rejects: list[Reject] = field(default_factory=list)
    blank: int = 0
    schema: Any = None  # the table's schema before the prompt column (to lock it after the first batch)


def _reason(failure: RowFailure) -> str:
    return f"the template refused it: {failure.describe()}"


def _checked(batch: RawLines | ArrowRows, job: Job) -> Checked:
    if isinstance(batch, ArrowRows):
        lines = list(range(1, 1 + batch.table.num_rows))
        if job.output_format == "parquet":
            return Checked(lines=lines, table=batch.table, span=len(lines))
        return Checked(lines=lines, objects=batch.table.to_pylist(), span=len(lines))
    if job.output_format == "parquet":
        return arrow_records(batch, job.column, job.schema, None if job.keep_conversation else job.column)
    return python_records(batch, job.column)


def _record_text(checked: Checked, index: int) -> str:
    line = checked.raw_line(index)
    if line is not None:
        return line
    if checked.objects is not None:
        return _encoder.encode(checked.objects[index]).decode()
    return _encoder.encode(checked.table.slice(index, 1).to_pylist()[0]).decode()


def _arrow_output(checked: Checked, job: Job, template: Any) -> tuple[Any, list[Reject]]:
    import pyarrow as pa

    table = checked.table
    rendered = template.render_arrow(table[job.column], on_error="skip", spans=job.spans or False, **job.options)
    rejects = [Reject(checked.lines[f.row], _reason(f), _record_text(checked, f.row)) for f in rendered.failures]
    if rendered.rows is not None:
        table = table.take(rendered.rows)
    names = [name for name in table.column_names if job.keep_conversation or name != job.column]
    columns = [table[name] for name in names] + [rendered.text]
    names.append(job.output)
    if job.spans:
        columns.append(rendered.spans)
        names.append(f"{job.output}_spans")
    return pa.table(columns, names=names), rejects


def _jsonl_output(checked: Checked, job: Job, template: Any) -> tuple[bytes, list[Reject], int]:
    objects = checked.objects or []

    def render(record: dict[str, Any]) -> Any:
        conversation = record[job.column]
        if job.spans:
            spans = template.render_spans(conversation, **job.options)
            return spans.text, generation_spans(spans, job.spans)
        return template.render(conversation, **job.options), None

    results = render_each(render, objects, "skip")
    rejects = [Reject(checked.lines[f.row], _reason(f), _record_text(checked, f.row)) for f in results.failures]
    out = []
    replaces = job.output == job.column and not job.keep_conversation
    for row, (text, spans) in zip(results.rows, results):
        record = dict(objects[row])
        if not replaces and job.output in record:
            raise UsageError(f"the input already has a column {job.output!r}; choose another with --output-column")
        if not job.keep_conversation:
            del record[job.column]
        record[job.output] = text
        if spans is not None:
            record[f"{job.output}_spans"] = spans
        out.append(_encoder.encode(record))
    out.append(b"")
    return b"\n".join(out) if len(out) > 1 else b"", rejects, len(results)


def process(batch: RawLines | FileRange | ArrowRows, job: Job, template: Any) -> Result:
    """Render one batch; the rejects come out sorted by line."""
    if isinstance(batch, FileRange):
        batch = batch.load()
    checked = _checked(batch, job)
    records = len(checked.lines) + len(checked.rejects)
    if job.output_format == "parquet":
        if checked.table is None:
            return Result(None, records, 0, checked.span, checked.rejects, checked.blank)
        schema = checked.table.schema
        table, rejects = _arrow_output(checked, job, template)
        rejected = sorted(checked.rejects + rejects, key=lambda r: r.line)
        return Result(table, records, table.num_rows, checked.span, rejected, checked.blank, schema)
    payload, rejects, written = _jsonl_output(checked, job, template)
    return Result(
        payload, records, written, checked.span, sorted(checked.rejects + rejects, key=lambda r: r.line), checked.blank
    )
