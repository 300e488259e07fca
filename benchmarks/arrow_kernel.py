"""The Arrow kernel (`Template.render_arrow`) against transformers and chatfmt's per-row paths, same rows.

For ChatML and Llama-3 (which trims), on the 2KB mixed-Unicode and short-ASCII conversations of
benchmarks/data.py (N distinct rows, in one Arrow column): µs per row, GB/s of output, and the ratio of
transformers' time (`apply_chat_template(tokenize=False)`, row by row) and of chatfmt's
`Template.render` row by row and `render_batch` to the kernel's. Every engine's output is checked equal
first. Timing is thread CPU time (one core), best of interleaved rounds (benchmarks/timing.py).

    python benchmarks/arrow_kernel.py [--rows 3000] [--rounds 7]

Targets (issue 9): >= 2 GB/s of output on one core, >= 50x transformers on the same rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
import engines  # noqa: E402
import timing  # noqa: E402

import chatfmt  # noqa: E402
from chatfmt import _fast  # noqa: E402

TARGET_GBPS = 2.0
TARGET_VS_TRANSFORMERS = 50.0


def measure(name: str, label: str, conversations: list, rounds: int) -> dict[str, float]:
    template = chatfmt.get_template(name)
    tokenizer = engines._load_oracle().make_tokenizer(template.source, dict(template.special_tokens))
    column = pa.array(conversations)
    expected = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    kernel_out = template.render_arrow(column, add_generation_prompt=True)
    assert kernel_out.to_pylist() == expected, f"{name}/{label}: the kernel differs from transformers"
    assert template.render_batch(conversations, add_generation_prompt=True) == expected
    output_bytes = kernel_out.nbytes - 8 * (len(kernel_out) + 1)  # the UTF-8 data, without the offsets

    def transformers_rows() -> None:
        for c in conversations:
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)

    def render_rows() -> None:
        for c in conversations:
            template.render(c, add_generation_prompt=True)

    best = timing.best_seconds(
        {
            "kernel": lambda: template.render_arrow(column, add_generation_prompt=True),
            "render_batch": lambda: template.render_batch(conversations, add_generation_prompt=True),
            "render": render_rows,
            "transformers": transformers_rows,
        },
        rounds,
        budget=0.05,
    )
    kernel = best["kernel"]
    return {
        "kernel_us": kernel / len(conversations) * 1e6,
        "kernel_gbps": output_bytes / kernel / 1e9,
        "vs_transformers": best["transformers"] / kernel,
        "vs_render": best["render"] / kernel,
        "vs_render_batch": best["render_batch"] / kernel,
        "transformers_us": best["transformers"] / len(conversations) * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if not _fast.USING_C:
        print("the C extension is not built: run `python setup.py build_ext --inplace` first")
        return 2
    timing.hold_freed_memory()
    sets = data.datasets(args.rows)
    failed = False
    print(
        f"{'format':10} {'data':18} {'kernel µs/row':>13} {'GB/s out':>9} {'vs transformers':>16} {'vs render':>10} {'vs render_batch':>16}"
    )
    for name in ("chatml", "llama-3"):
        for label, conversations in sets.items():
            r = measure(name, label, conversations, args.rounds)
            print(
                f"{name:10} {label:18} {r['kernel_us']:13.2f} {r['kernel_gbps']:9.2f} {r['vs_transformers']:15.1f}x "
                f"{r['vs_render']:9.1f}x {r['vs_render_batch']:15.1f}x"
            )
            if label == data.MIXED and (
                r["kernel_gbps"] < TARGET_GBPS or r["vs_transformers"] < TARGET_VS_TRANSFORMERS
            ):
                failed = True
    print(
        f"targets on 2KB rows: >= {TARGET_GBPS} GB/s of output, >= {TARGET_VS_TRANSFORMERS:g}x transformers:",
        "missed" if failed else "met",
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
