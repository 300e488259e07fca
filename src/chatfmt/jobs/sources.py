"""Reading a dataset in batches with flat memory: raw JSONL blocks cut at line ends, or Parquet batches."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["ArrowRows", "RawLines", "input_format", "open_binary", "progress_total", "read_batches"]

BLOCK_BYTES = 8 << 20  # measured: Arrow's JSON reader is fastest around 8 MB blocks on one core
PARQUET_ROWS = 4096


@dataclass(frozen=True)
class RawLines:
    """Whole lines of JSONL (ending with a newline); `first_line` is the 1-based number of the first."""

    data: bytes
    first_line: int
    lines: int
    done: int = 0  # bytes of the input file read so far (compressed bytes for .gz and .zst)


@dataclass(frozen=True)
class ArrowRows:
    """Rows of a Parquet input; `first_line` is the 1-based number of the first row."""

    table: Any
    first_line: int
    done: int = 0  # rows read so far


def input_format(path: Path) -> str:
    """"parquet" or "jsonl", from the file name."""
    name = path.name.lower()
    for suffix in (".gz", ".zst"):
        name = name.removesuffix(suffix)
    return "parquet" if name.endswith((".parquet", ".pq")) else "jsonl"


def open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(decompressed stream, the raw file under it): the raw file's position measures progress."""
    raw = open(path, "rb")
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    if name.endswith(".zst"):
        try:
            import zstandard
        except ImportError as exc:
            raw.close()
            raise ImportError("reading .zst needs zstandard: pip install 'chatfmt[dataset]'") from exc
        return zstandard.ZstdDecompressor().stream_reader(raw), raw  # type: ignore[return-value]
    return raw, raw


def progress_total(path: Path) -> tuple[int, str]:
    """What a progress bar counts to: the file's bytes for JSONL, its rows for Parquet."""
    if input_format(path) == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows), "rows"
    return path.stat().st_size, "B"


def _jsonl_blocks(stream: BinaryIO, raw: BinaryIO, block_bytes: int) -> Iterator[RawLines]:
    carry = b""
    line = 1
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            break
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:  # no line ends in this chunk: keep reading
            carry += chunk
            continue
        block = b"".join((carry, memoryview(chunk)[:cut])) if carry or cut < len(chunk) else chunk
        carry = chunk[cut:]
        count = block.count(b"\n")
        yield RawLines(block, line, count, raw.tell())
        line += count
    if carry:
        yield RawLines(carry + b"\n", line, 1, raw.tell())


def read_batches(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[RawLines | ArrowRows]:
    """The input's batches, in order."""
    if input_format(path) == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        line = 1
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=PARQUET_ROWS, use_threads=False):
                yield ArrowRows(pa.Table.from_batches([batch]), line, line - 1 + batch.num_rows)
                line += batch.num_rows
        return
    stream, raw = open_binary(path)
    with raw, stream:
        yield from _jsonl_blocks(stream, raw, block_bytes)
