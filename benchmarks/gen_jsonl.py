"""Write a deterministic JSONL of chat conversations for the dataset benchmarks: `id`, `messages`, `source`.

Each line is about 3 KB: one of 2,000 distinct 2KB mixed-Unicode conversations (benchmarks/data.py)
with its own `id`. Usage: python benchmarks/gen_jsonl.py OUT.jsonl SIZE_MB [--bad-every N]
(`--bad-every N` makes every Nth line malformed: bad JSON, a null role or a numeric content, in turn).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))
import data  # noqa: E402

_BAD = (
    b'{"id": %d, "messages": [{"role": "user", "content": "unterminated}\n',
    b'{"id": %d, "messages": [{"role": null, "content": "hi"}], "source": "bench"}\n',
    b'{"id": %d, "messages": [{"role": "user", "content": 42}], "source": "bench"}\n',
)


def write(path: Path, size_mb: float, bad_every: int = 0) -> int:
    """Write about `size_mb` MB; returns the number of lines."""
    encoded = [msgspec.json.encode(c) for c in data.mixed_unicode(2000)]
    target = int(size_mb * 1_000_000)
    written = lines = 0
    with open(path, "wb") as out:
        buffer = []
        while written < target:
            if bad_every and lines % bad_every == bad_every - 1:
                line = _BAD[(lines // bad_every) % len(_BAD)] % lines
            else:
                line = b'{"id": %d, "messages": %s, "source": "bench"}\n' % (lines, encoded[lines % len(encoded)])
            buffer.append(line)
            written += len(line)
            lines += 1
            if len(buffer) == 4096:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))
    return lines


def count_lines(path: Path) -> int:
    with open(path, "rb") as lines:
        return sum(1 for _ in lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("size_mb", type=float)
    parser.add_argument("--bad-every", type=int, default=0)
    args = parser.parse_args()
    print(write(args.out, args.size_mb, args.bad_every), "lines")
