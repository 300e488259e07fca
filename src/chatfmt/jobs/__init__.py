"""`chatfmt format`: a whole dataset (JSONL, .gz, .zst or Parquet) to prompts (Parquet or JSONL), streamed.

sources.py reads the input in batches (raw JSONL blocks, Parquet record batches); records.py turns a
JSONL block into checked records (Arrow's JSON reader, or line by line when a block has a bad line);
work.py renders one batch (the unit a worker process runs); sinks.py writes outputs and rejects to
temporary files renamed on success; command.py is the subcommand (flags, workers, progress, summary).
"""

from .command import add_arguments, run

__all__ = ["add_arguments", "run"]
