"""The two scripts `chatfmt format` is measured against (benchmarks/format_job.py runs each in its own process).

    python benchmarks/baselines.py handwritten IN.jsonl OUT.parquet   # msgspec per line + render_batch + pyarrow writer
    python benchmarks/baselines.py user-script IN.jsonl OUT.parquet   # datasets.map + transformers apply_chat_template

"handwritten" is the careful pipeline of issue 9: stream 10,000 lines at a time, decode each with
msgspec, `Template.render_batch`, build a pyarrow table of the other columns plus the prompts, append
it to one Parquet file. "user-script" is what most people write: `datasets.load_dataset("json")`,
`.map()` calling a transformers tokenizer's `apply_chat_template` per row, `.to_parquet()` (the
tokenizer is built locally with the template and its special tokens, as tests/oracle.py does).
Both use ChatML with add_generation_prompt=False, like the `chatfmt format chatml` run.
"""

from __future__ import annotations

import sys
from itertools import islice
from pathlib import Path

BATCH_LINES = 10_000


def handwritten(source: Path, target: Path) -> None:
    import msgspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    import chatfmt

    template = chatfmt.get_template("chatml")
    decoder = msgspec.json.Decoder()
    writer = None
    with open(source, "rb") as lines:
        while batch := list(islice(lines, BATCH_LINES)):
            records = [decoder.decode(line) for line in batch]
            texts = template.render_batch([r.pop("messages") for r in records])
            table = pa.Table.from_pylist(records)
            table = table.append_column("text", pa.array(texts, type=pa.large_string()))
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table)
    if writer is not None:
        writer.close()


def user_script(source: Path, target: Path) -> None:
    import datasets

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from oracle import make_tokenizer

    import chatfmt

    reference = chatfmt.get_template("chatml")
    tokenizer = make_tokenizer(reference.source, dict(reference.special_tokens))
    dataset = datasets.load_dataset("json", data_files=str(source), split="train")
    dataset = dataset.map(
        lambda row: {"text": tokenizer.apply_chat_template(row["messages"], tokenize=False)},
        remove_columns=["messages"],
    )
    dataset.to_parquet(str(target))


if __name__ == "__main__":
    kind, source, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    {"handwritten": handwritten, "user-script": user_script}[kind](source, target)
