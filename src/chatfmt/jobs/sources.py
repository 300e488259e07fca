"""Reading a dataset in batches with flat memory: raw JSONL blocks cut at line ends, or Parquet batches."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["ArrowRows", "FileRange", "RawLines", "input_format", "open_binary", "progress_total", "read_batches"]

BLOCK_BYTES = 8 << 20  # measured: Arrow's JSON reader is fastest around 8 MB blocks on one core
PARQUET_ROWS = 4096


@dataclass(frozen=True)
class RawLines:
    """Whole lines of JSONL, ending with a newline. Line numbers inside a batch count from 1; the
    command adds the lines of the batches before it (so workers need not know where a batch sits)."""

    data: bytes
    done: int = 0  # bytes of the input file read so far (compressed bytes for .gz and .zst)


@dataclass(frozen=True)
class FileRange:
    """Bytes start:end of an uncompressed JSONL file, cut at line ends: the worker reads them itself,
    so the command process only finds the cuts."""

    path: str
    start: int
    end: int

    @property
    def done(self) -> int:
        return self.end

    def load(self) -> RawLines:
        with open(self.path, "rb") as file:
            file.seek(self.start)
            data = file.read(self.end - self.start)
        return RawLines(data if data.endswith(b"\n") else data + b"\n", self.end)


@dataclass(frozen=True)
class ArrowRows:
    """Rows of a Parquet input; rows count from 1 inside a batch, as lines do."""

    table: Any
    done: int = 0  # rows read so far


def input_format(path: Path) -> str:
    """ "parquet" or "jsonl", from the file name."""
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
        yield RawLines(block, raw.tell())
    if carry:
        yield RawLines(carry + b"\n", raw.tell())


def _file_ranges(path: Path, block_bytes: int) -> Iterator[FileRange]:
    """Cuts of about `block_bytes` at line ends, found by reading only around each cut."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        start = 0
        while start < size:
            end = min(start + block_bytes, size)
            file.seek(end)
            while end < size:
                piece = file.read(1 << 16)
                at = piece.find(b"\n")
                if at >= 0:
                    end += at + 1
                    break
                end += len(piece)
            yield FileRange(str(path), start, end)
            start = end


def read_batches(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[RawLines | FileRange | ArrowRows]:
    """The input's batches, in order. An uncompressed JSONL file comes as FileRanges: each batch's bytes
    are read once, by whoever renders it (a worker process, or this one), with no copy to join lines."""
    if input_format(path) == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        done = 0
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=PARQUET_ROWS, use_threads=False):
                done += batch.num_rows
                yield ArrowRows(pa.Table.from_batches([batch]), done)
        return
    if not path.name.lower().endswith((".gz", ".zst")):
        yield from _file_ranges(path, block_bytes)
        return
    stream, raw = open_binary(path)
    with raw, stream:
        yield from _jsonl_blocks(stream, raw, block_bytes)
