"""`chatfmt format` end to end on a generated JSONL of about 1 GB (not committed: written, then deleted).

Each run is a separate process; MB/s are of input, rows/s of records; CPU is user + system seconds
(of every thread and worker); peak RSS is the process's high-water mark (os.wait4). "One core" runs are
pinned with `taskset -c 0`; `--workers 2` runs unpinned on the machine's two cores.

    python benchmarks/format_job.py [--mb 1000] [--dir /tmp/chatfmt-bench] [--user-script-mb 100] [--keep]

Runs: `chatfmt format chatml IN.jsonl -o OUT.parquet` with --workers 1 (one core) and 2 (two cores),
snappy (the default) and uncompressed (with workers, this process's Parquet writing is the serial part);
the hand-written msgspec + render_batch + pyarrow pipeline (one core); the typical user script,
datasets.map + apply_chat_template (one core, on the first --user-script-mb MB only: it is slow).
The prompts of chatfmt and of the hand-written pipeline are checked equal, row by row.

Targets (issue 9): chatfmt >= 150 MB/s of input on one core, >= 3x the hand-written pipeline, peak
RSS < 500 MB, --workers 2 >= 1.6x --workers 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_jsonl  # noqa: E402


def timed(command: list[str], pin: bool, runs: int = 2) -> dict[str, float]:
    """The best of `runs` (noise only ever adds time): wall seconds, CPU seconds and peak RSS (MB) of
    one process and the children it waited for (the worker processes)."""
    results = [_timed_once(command, pin) for _ in range(runs)]
    return min(results, key=lambda r: r["wall"])


def _timed_once(command: list[str], pin: bool) -> dict[str, float]:
    if pin and shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def same_prompts(a: Path, b: Path) -> int:
    import pyarrow.parquet as pq

    rows = 0
    left = pq.ParquetFile(a).iter_batches(batch_size=8192, columns=["text"])
    right = pq.ParquetFile(b).iter_batches(batch_size=8192, columns=["text"])
    for x, y in zip(left, right, strict=True):
        assert x.column(0).cast("large_string").equals(y.column(0).cast("large_string")), (
            f"prompts differ near row {rows}"
        )
        rows += x.num_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/chatfmt-bench"))
    parser.add_argument("--user-script-mb", type=float, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    big, small = args.dir / "convs.jsonl", args.dir / "convs-small.jsonl"
    rows = gen_jsonl.write(big, args.mb)
    gen_jsonl.write(small, args.user_script_mb)
    size, small_size = big.stat().st_size / 1e6, small.stat().st_size / 1e6
    print(f"input: {size:.0f} MB, {rows} records (2KB mixed-Unicode conversations); user script on {small_size:.0f} MB")
    python = sys.executable
    chatfmt = [python, "-m", "chatfmt", "format", "chatml", str(big), "--quiet"]
    runs = {
        "chatfmt format, 1 worker (1 core)": (
            timed([*chatfmt, "-o", str(args.dir / "w1.parquet")], pin=True),
            size,
            rows,
        ),
        "chatfmt format --workers 1 (2 cores)": (
            timed([*chatfmt, "-o", str(args.dir / "w1b.parquet")], pin=False),
            size,
            rows,
        ),
        "chatfmt format --workers 2 (2 cores)": (
            timed([*chatfmt, "-o", str(args.dir / "w2.parquet"), "--workers", "2"], pin=False),
            size,
            rows,
        ),
        "chatfmt format --compression none --workers 1 (2 cores)": (
            timed([*chatfmt, "-o", str(args.dir / "n1.parquet"), "--compression", "none"], pin=False),
            size,
            rows,
        ),
        "chatfmt format --compression none --workers 2 (2 cores)": (
            timed([*chatfmt, "-o", str(args.dir / "n2.parquet"), "--compression", "none", "--workers", "2"], pin=False),
            size,
            rows,
        ),
        "hand-written msgspec + render_batch + pyarrow (1 core)": (
            timed(
                [python, str(HERE / "baselines.py"), "handwritten", str(big), str(args.dir / "hand.parquet")], pin=True
            ),
            size,
            rows,
        ),
        "datasets.map + apply_chat_template (1 core)": (
            timed(
                [python, str(HERE / "baselines.py"), "user-script", str(small), str(args.dir / "user.parquet")],
                pin=True,
                runs=1,
            ),
            small_size,
            gen_jsonl.count_lines(small),
        ),
    }
    assert same_prompts(args.dir / "w1.parquet", args.dir / "hand.parquet") == rows
    assert same_prompts(args.dir / "w1.parquet", args.dir / "w2.parquet") == rows
    print("\n| run | MB/s of input (wall) | MB/s per CPU-second | rows/s | peak RSS |\n|---|---:|---:|---:|---:|")
    rates = {}
    for name, (r, mb, n) in runs.items():
        rates[name] = mb / r["wall"]
        print(f"| {name} | {mb / r['wall']:.1f} | {mb / r['cpu']:.1f} | {n / r['wall']:,.0f} | {r['rss_mb']:.0f} MB |")
    one = rates["chatfmt format, 1 worker (1 core)"]
    hand = rates["hand-written msgspec + render_batch + pyarrow (1 core)"]
    user = rates["datasets.map + apply_chat_template (1 core)"]
    scale = rates["chatfmt format --workers 2 (2 cores)"] / rates["chatfmt format --workers 1 (2 cores)"]
    scale_none = (
        rates["chatfmt format --compression none --workers 2 (2 cores)"]
        / rates["chatfmt format --compression none --workers 1 (2 cores)"]
    )
    peak = max(r["rss_mb"] for name, (r, _, _) in runs.items() if name.startswith("chatfmt"))
    cpu_rate = {name: mb / r["cpu"] for name, (r, mb, _) in runs.items()}
    cpu_one = cpu_rate["chatfmt format, 1 worker (1 core)"]
    cpu_hand = cpu_rate["hand-written msgspec + render_batch + pyarrow (1 core)"]
    print(
        f"\nchatfmt vs hand-written: {one / hand:.1f}x (wall), {cpu_one / cpu_hand:.1f}x (CPU); vs the user script: "
        f"{one / user:.1f}x (wall), {cpu_one / cpu_rate['datasets.map + apply_chat_template (1 core)']:.1f}x (CPU); "
        f"--workers 2 vs 1: {scale:.2f}x (wall; {scale_none:.2f}x uncompressed); chatfmt peak RSS {peak:.0f} MB"
    )
    print(f"load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    checks = [
        ("one core >= 150 MB/s", one >= 150),
        ("vs hand-written >= 3x", one / hand >= 3),
        ("peak RSS < 500 MB", peak < 500),
        ("--workers 2 >= 1.6x", scale >= 1.6),
    ]
    for label, ok in checks:
        print(f"  {label}: {'met' if ok else 'MISSED'}")
    if not args.keep:
        shutil.rmtree(args.dir)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
