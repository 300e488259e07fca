"""Outputs written to a temporary file beside the target and renamed only on success.

A failed or interrupted run leaves no output (and no rejects file) behind, and never a half-written
file under the output's name.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import Any

import msgspec

from .records import Reject

__all__ = ["JsonlSink", "ParquetSink", "RejectsSink", "output_format"]


def output_format(path: Path) -> str:
    return "parquet" if path.name.lower().endswith((".parquet", ".pq")) else "jsonl"


class _Atomic(abc.ABC):
    """A file written under a temporary name; `commit` renames it, `discard` deletes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")

    def commit(self) -> None:
        self.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        self.close()
        self.temporary.unlink(missing_ok=True)

    @abc.abstractmethod
    def close(self) -> None: ...


class ParquetSink(_Atomic):
    """Row groups appended as batches arrive; the schema is the first batch's."""

    def __init__(self, path: Path, plain: tuple[str, ...] = (), compression: str = "snappy") -> None:
        """`plain`: columns never dictionary-encoded (the prompts: all distinct, so trying costs a third
        of the write, measured, for nothing)."""
        super().__init__(path)
        self.plain = plain
        self.compression = compression
        self.writer: Any = None
        self.schema: Any = None

    def _open(self, schema: Any) -> None:
        import pyarrow.parquet as pq

        dictionary = [name for name in schema.names if name not in self.plain]
        self.schema = schema
        self.writer = pq.ParquetWriter(self.temporary, schema, compression=self.compression, use_dictionary=dictionary)

    def write(self, table: Any) -> None:
        if self.writer is None:
            self._open(table.schema)
        elif table.schema != self.schema:
            table = table.cast(self.schema)
        self.writer.write_table(table)

    def commit_empty(self, schema: Any) -> None:
        if self.writer is None:
            self._open(schema)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class JsonlSink(_Atomic):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.file: Any = open(self.temporary, "wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()


class RejectsSink(_Atomic):
    """`OUTPUT.rejects.jsonl`: one line per bad record: its line number, the reason, and the record as read."""

    def __init__(self, output: Path) -> None:
        super().__init__(output.with_name(output.name + ".rejects.jsonl"))
        self.file: Any = None
        self.count = 0
        self._encoder = msgspec.json.Encoder()

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        if self.file is None:
            self.file = open(self.temporary, "wb")
        for reject in rejects:
            self.file.write(
                self._encoder.encode({"line": reject.line, "reason": reject.reason, "record": reject.record}) + b"\n"
            )
        self.count += len(rejects)

    def commit(self) -> None:
        """Keep the file when there were rejects; otherwise remove a stale one from an earlier run."""
        if self.file is None:
            self.path.unlink(missing_ok=True)
            return
        super().commit()

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()
