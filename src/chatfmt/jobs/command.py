"""`chatfmt format TEMPLATE INPUT -o OUTPUT`: stream a dataset through a template, in order, in batches.

Memory stays flat: the input is read in blocks of about 8 MB, at most two batches per worker are in
flight, and each batch is written as it comes back. With `--workers N` (N >= 2) the batches render in
N processes (which read uncompressed input themselves, by byte range) while this one writes, in input
order. Line numbers count from 1 inside each batch; this process adds the lines of the batches before.

Every record is accounted for: records in = rows written + records rejected (checked; blank lines are
not records). `--on-error fail` (the default) stops at the first bad record with FILE:LINE and the
reason and leaves no output; `--on-error skip` writes each bad record to OUTPUT.rejects.jsonl.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from ..cli_common import UsageError, add_render_options, parse_variables
from ..errors import ChatfmtError
from .records import lock_schema
from .sinks import JsonlSink, ParquetSink, RejectsSink, output_format
from .sources import BLOCK_BYTES, ArrowRows, FileRange, RawLines, input_format, progress_total, read_batches
from .work import Job, Result, process

__all__ = ["add_arguments", "run"]

EXIT_OK, EXIT_BAD_RECORD, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `chatfmt format` (the CLI hooks this into its subcommand)."""
    parser.add_argument("name", help="a template name, .jinja file or Hub repo id")
    parser.add_argument("input", help="JSONL (optionally .gz or .zst) or Parquet")
    parser.add_argument("-o", "--output", required=True, help="OUTPUT.parquet or OUTPUT.jsonl")
    parser.add_argument("--column", default="messages", help="the conversation column (default: messages)")
    parser.add_argument("--output-column", default="text", help="the prompt column (default: text)")
    parser.add_argument("--keep-conversation", action="store_true", help="also write the conversation column")
    parser.add_argument(
        "--spans", choices=("chars", "bytes"), help="also write TEXT_spans: the generation spans of each prompt"
    )
    parser.add_argument(
        "--on-error",
        choices=("fail", "skip"),
        default="fail",
        help="fail: stop at the first bad record (default); skip: write bad records to OUTPUT.rejects.jsonl",
    )
    parser.add_argument(
        "--compression",
        default="snappy",
        choices=("snappy", "zstd", "lz4", "gzip", "none"),
        help="Parquet compression (default snappy; none writes fastest, zstd smallest)",
    )
    parser.add_argument("--workers", type=int, default=1, help="render in N processes, keeping the order (default 1)")
    parser.add_argument(
        "--block-bytes", type=int, default=BLOCK_BYTES, help=argparse.SUPPRESS
    )  # tests: many small batches
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_render_options(parser)


_worker_job: Job | None = None
_worker_template: Any = None


def _start_worker(job: Job) -> None:
    global _worker_job, _worker_template
    from ..registry import get_template

    _worker_job, _worker_template = job, get_template(job.template)


def _work(batch: RawLines | FileRange | ArrowRows) -> Result:
    assert _worker_job is not None
    return process(batch, _worker_job, _worker_template)


def _results(
    batches: Iterator[RawLines | FileRange | ArrowRows], job: Job, template: Any, workers: int
) -> Iterator[tuple[Any, Result]]:
    """(batch, result) in input order. For Parquet from JSONL, batches render here until one with a
    written row fixes the output's columns (its schema), which every later batch then follows."""
    needs_schema = job.output_format == "parquet"
    for batch in batches:
        result = process(batch, job, template)
        yield batch, result
        if isinstance(batch, ArrowRows) or not needs_schema:
            break
        if result.schema is not None and result.written:  # rows that rendered: their columns are real
            job = dataclasses.replace(job, schema=lock_schema(result.schema, job.column))
            break
    if workers <= 1:
        for batch in batches:
            yield batch, process(batch, job, template)
        return
    # spawn: fresh interpreters, safe whatever threads this process runs, on every platform.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(job,)) as pool:
        pending: collections.deque[tuple[Any, Future[Result]]] = collections.deque()
        for batch in batches:
            pending.append((batch, pool.submit(_work, batch)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


class _Progress:
    """A tqdm bar on stderr when it is a terminal (rate and ETA); nothing otherwise."""

    def __init__(self, path: Path, stderr: TextIO, quiet: bool) -> None:
        self.bar = None
        self.done = 0
        if quiet or not stderr.isatty():
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        total, unit = progress_total(path)
        self.bar = tqdm(total=total, unit=unit, unit_scale=True, file=stderr, desc=path.name, dynamic_ncols=True)

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run `chatfmt format`; returns the exit code (0 done, 1 a bad record with --on-error fail, 2 usage)."""
    try:
        return _run(args, stdout, stderr)
    except (UsageError, ChatfmtError, ImportError, OSError) as exc:
        stderr.write(f"chatfmt: error: {exc}\n")
        return EXIT_USAGE


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..registry import get_template

    source, target = Path(args.input), Path(args.output)
    if not source.is_file():
        raise UsageError(f"cannot read {source}: no such file")
    if args.workers < 1:
        raise UsageError("--workers takes a positive number")
    if args.output_column == args.column and args.keep_conversation:
        raise UsageError("--output-column must differ from --column when the conversation is kept")
    options: dict[str, Any] = dict(
        add_generation_prompt=args.add_generation_prompt,
        continue_final_message=args.continue_final_message or False,
        chat_template=args.chat_template,
        **parse_variables(args.variables),
    )
    if "parquet" in (output_format(target), input_format(source)):
        try:
            import numpy  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise UsageError(
                f"Parquet input or output needs pyarrow and numpy: pip install 'chatfmt[dataset]' ({exc})"
            ) from exc
    template = get_template(args.name)
    job = Job(
        args.name, args.column, args.output_column, output_format(target), options, args.keep_conversation, args.spans
    )
    plain = (args.output_column, f"{args.output_column}_spans")
    sink = ParquetSink(target, plain, args.compression) if job.output_format == "parquet" else JsonlSink(target)
    rejects = RejectsSink(target)
    progress = _Progress(source, stderr, args.quiet)
    started = time.perf_counter()
    records = written = blank = 0
    try:
        batches = read_batches(source, args.block_bytes)
        line_base = 0  # lines (or rows) in the batches before this one
        empty_schema = None
        for batch, result in _results(batches, job, template, args.workers):
            result.rejects = [dataclasses.replace(reject, line=reject.line + line_base) for reject in result.rejects]
            line_base += result.lines
            if result.rejects and args.on_error == "fail":
                first = result.rejects[0]
                stderr.write(f"chatfmt: error: {source}:{first.line}: {first.reason}\n")
                sink.discard()
                rejects.discard()
                return EXIT_BAD_RECORD
            _check_columns(result, job)
            if result.payload is not None and result.written:
                sink.write(result.payload)
            elif result.schema is not None and empty_schema is None:
                empty_schema = result.payload.schema  # the columns of an output with no row at all
            rejects.write(result.rejects)
            records += result.records
            written += result.written
            blank += result.blank
            progress.update(batch.done)
        if records != written + rejects.count:
            raise RuntimeError(f"{records} records in but {written} written and {rejects.count} rejected")
        if isinstance(sink, ParquetSink) and sink.writer is None:
            sink.commit_empty(empty_schema or _empty_schema(job))
        sink.commit()
        rejects.commit()
    except BaseException:
        sink.discard()
        rejects.discard()
        raise
    finally:
        progress.close()
    seconds = time.perf_counter() - started
    size = source.stat().st_size
    summary = {
        "input": str(source),
        "output": str(target),
        "records": records,
        "written": written,
        "rejected": rejects.count,
        "rejects_file": str(rejects.path) if rejects.count else None,
        "blank_lines": blank,
        "seconds": round(seconds, 3),
        "input_mb_per_s": round(size / 1e6 / seconds, 1) if seconds else None,
        "rows_per_s": round(records / seconds) if seconds else None,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    if args.json:
        stdout.write(json.dumps(summary) + "\n")
    else:
        where = f" (see {rejects.path})" if rejects.count else ""
        stdout.write(
            f"chatfmt format: {records} records in, {written} written, {rejects.count} rejected{where}, "
            f"{blank} blank lines; {size / 1e6:.1f} MB in {seconds:.1f} s "
            f"({summary['input_mb_per_s']} MB/s, {summary['rows_per_s']} rows/s)\n"
        )
    return EXIT_OK


def _check_columns(result: Result, job: Job) -> None:
    if (
        result.schema is not None
        and job.output in result.schema.names
        and not (job.output == job.column and not job.keep_conversation)
    ):
        raise UsageError(f"the input already has a column {job.output!r}; choose another with --output-column")


def _empty_schema(job: Job) -> Any:
    import pyarrow as pa

    return pa.schema([(job.output, pa.large_string())])
