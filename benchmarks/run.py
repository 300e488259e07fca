"""chatfmt's benchmark suite: every engine renders the same conversations, byte-equal, timed in one process.

    python benchmarks/run.py              # ~30 s: tables on stdout, benchmarks/results/latest.json, benchmarks/chart.svg
    python benchmarks/run.py --quick      # smoke run (fewer conversations and rounds); writes nothing
    python benchmarks/chart.py            # redraw benchmarks/chart.svg from benchmarks/results/latest.json

Needs the `bench` extra (transformers, tokenizers, minijinja) and, for the C rows, the extension built
in place (`python setup.py build_ext --inplace`). Nothing is downloaded: transformers runs on a
tokenizer built locally, as the test suite's oracle builds it (tests/oracle.py).

For ChatML and Llama-3 (which trims content), on two deterministic data sets (benchmarks/data.py: a
few hundred ~2 KB mixed-Unicode conversations, and as many short ASCII ones), it renders with
`add_generation_prompt=True`:

* chatfmt `Template.render` on the built-in template: the compiled path, what users get;
* chatfmt `Template.render_batch` over the whole data set (dataset throughput);
* chatfmt's C builder called directly, and its pure-Python twin (the fallback without the extension);
* chatfmt's Jinja path (`Template.jinja_only()`, the transformers-exact sandboxed engine);
* transformers `apply_chat_template(tokenize=False)`, per conversation and as one batched call;
* raw jinja2 (an immutable sandbox with trim_blocks/lstrip_blocks, the template compiled once);
* minijinja (`Environment(trim_blocks=True, lstrip_blocks=True)`, the template added once);
* a hand-written Python f-string + `"".join`, and the floor: `"".join` of the output's pieces, precomputed.

Every engine's output must be byte-equal to transformers' for every conversation: otherwise the run
prints the first difference and exits 1 before timing anything. Timing interleaves every engine, format
and data set round by round and keeps each one's best round of thread CPU time (see
benchmarks/timing.py), so load from other processes does not skew the ratios. Per-conversation engines render one conversation at a time
and drop the result; batch engines return the list of prompts.

Columns: µs per conversation, conversations per second, speed-up over transformers' per-conversation
`apply_chat_template` (higher is better), and time relative to the join floor (1.0 would be a builder
that costs nothing beyond concatenating its output).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the sibling modules, when run as a script from anywhere

import data  # noqa: E402
import engines  # noqa: E402
import timing  # noqa: E402

from chatfmt import _fast  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
CHART = HERE / "chart.svg"
BUILDERS = {"c": "C extension", "py": "pure Python"}
REFERENCE = "transformers"
FLOOR = "join_floor"

# The targets the suite reports against (printed; a miss does not fail the run).
TARGET_VS_TRANSFORMERS = 8.0  # compiled ChatML, both data sets
TARGET_VS_FLOOR = 1.5  # compiled ChatML, both data sets
TARGET_PURE_VS_TRANSFORMERS = 3.0  # pure-Python twin, ChatML


def _first_difference(got: str, want: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    lo = max(0, at - 30)
    return (
        f"lengths {len(got)} vs {len(want)}, first difference at character {at}:\n"
        f"      got:          {got[lo : at + 30]!r}\n"
        f"      transformers: {want[lo : at + 30]!r}"
    )


def check(outputs: dict[str, list[Any]], where: str) -> list[str]:
    """Every engine's strings against transformers', conversation by conversation; the problems found."""
    want = outputs[REFERENCE]
    problems = []
    for key, got in outputs.items():
        if len(got) != len(want):
            problems.append(f"{where}, {key}: {len(got)} results for {len(want)} conversations")
            continue
        for index, (a, b) in enumerate(zip(got, want)):
            if type(a) is not str or a != b:
                detail = f"returned {type(a).__name__}" if type(a) is not str else _first_difference(a, b)
                problems.append(f"{where}, {key}, conversation {index}: {detail}")
                break  # one example per engine is enough
    return problems


def _versions() -> dict[str, str]:
    found = {}
    for dist in ("chatfmt", "transformers", "tokenizers", "jinja2", "minijinja"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores_available": cores,
        "chatfmt_builder": BUILDERS[_fast.IMPLEMENTATION],
        "versions": _versions(),
    }


def _fmt_rate(per_second: float) -> str:
    return f"{per_second / 1e6:.2f}M" if per_second >= 1e6 else f"{per_second / 1e3:.1f}k"


def print_table(case: engines.FormatCase, per_dataset: dict[str, dict[str, Any]]) -> None:
    labels = {engine.key: engine.label for engine in engines.ENGINES}
    keys = [engine.key for engine in engines.ENGINES if any(engine.key in d["engines"] for d in per_dataset.values())]
    width = max(len(labels[key]) for key in keys)
    cell = "{:>9} {:>8} {:>8} {:>7}"
    print(f"\n{case.title}: built-in {case.name!r}, chatfmt's builder: {BUILDERS[_fast.IMPLEMENTATION]}")
    heading = " " * width
    for label, d in per_dataset.items():
        title = f"{label} ({d['conversations']} conv, ~{d['mean_prompt_chars']:.0f} chars out)"
        heading += f"  | {title:<35}"
    print(heading)
    print(f"{'engine':<{width}}" + f"  | {cell.format('µs/conv', 'conv/s', 'vs tf', 'x floor'):<35}" * len(per_dataset))
    for key in keys:
        row = f"{labels[key]:<{width}}"
        for d in per_dataset.values():
            r = d["engines"].get(key)
            if r is None:
                row += f"  | {'(skipped)':<35}"
                continue
            values = (
                f"{r['us_per_conversation']:.3f}",
                _fmt_rate(r["conversations_per_second"]),
                f"{r['speedup_vs_transformers']:.1f}x",
                f"{r['vs_join_floor']:.2f}",
            )
            row += f"  | {cell.format(*values):<35}"
        print(row)


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables, one per format (what README.md's Speed section shows)."""
    labels = {key: engine["label"] for key, engine in results["engines"].items()}
    out = []
    for fmt in results["formats"].values():
        datasets = fmt["datasets"]
        head = (
            "| "
            + fmt["title"]
            + " | "
            + " | ".join(f"{label}: µs/conv | conv/s | vs transformers" for label in datasets)
            + " |"
        )
        out += [head, "|---" + "|---:|---:|---:" * len(datasets) + "|"]
        for key, label in labels.items():
            cells = []
            for d in datasets.values():
                r = d["engines"].get(key)
                cells += (
                    ["n/a"] * 3
                    if r is None
                    else [
                        f"{r['us_per_conversation']:.2f}",
                        _fmt_rate(r["conversations_per_second"]),
                        f"{r['speedup_vs_transformers']:.1f}×",
                    ]
                )
            strong = "**" if key == "compiled" else ""
            out.append(f"| {strong}{label}{strong} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def targets(results: dict[str, Any]) -> list[tuple[str, bool]]:
    """(description with the numbers, met?) for each target the suite reports against."""
    chatml = results["formats"].get("chatml")
    if chatml is None:
        return []
    lines = []
    for key, field, target, above, what in (
        ("compiled", "speedup_vs_transformers", TARGET_VS_TRANSFORMERS, True, "compiled ChatML >= {t:g}x transformers"),
        ("compiled", "vs_join_floor", TARGET_VS_FLOOR, False, "compiled ChatML within {t:g}x of the join floor"),
        (
            "pure_python",
            "speedup_vs_transformers",
            TARGET_PURE_VS_TRANSFORMERS,
            True,
            "pure-Python twin >= {t:g}x transformers (ChatML)",
        ),
    ):
        values = {label: d["engines"].get(key, {}).get(field) for label, d in chatml["datasets"].items()}
        if any(v is None for v in values.values()):
            continue
        met = all(v >= target if above else v <= target for v in values.values())
        shown = ", ".join(f"{label}: {v:.2f}x" for label, v in values.items())
        lines.append((f"{what.format(t=target)}: {shown}", met))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds; each engine keeps its best")
    parser.add_argument("--budget", type=float, default=0.02, help="CPU seconds of work per engine per round")
    parser.add_argument("--conversations", type=int, default=300, help="conversations per data set")
    parser.add_argument(
        "--formats", default=",".join(engines.CASES), help="comma-separated: " + ", ".join(engines.CASES)
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    parser.add_argument("--chart", type=Path, default=CHART, help="bar chart SVG")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown (for README.md)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 conversations, 3 rounds, writes nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.conversations, args.no_write = 3, 40, True
    names = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = [name for name in names if name not in engines.CASES]
    if unknown:
        parser.error(f"unknown format(s) {unknown}; choose from {list(engines.CASES)}")

    held = timing.hold_freed_memory()
    sets = data.datasets(args.conversations)

    # 1. Prepare every engine and check its output before timing anything.
    prepared: dict[tuple[str, str], dict[str, engines.Prepared]] = {}
    skipped: dict[str, str] = {}
    problems: list[str] = []
    prompt_chars: dict[tuple[str, str], float] = {}
    for name in names:
        case = engines.CASES[name]
        for label, conversations in sets.items():
            ready, outputs = {}, {}
            for engine in engines.ENGINES:
                try:
                    ready[engine.key] = engine.prepare(case, conversations)
                except engines.Unavailable as exc:
                    skipped[engine.key] = str(exc)
                    continue
                outputs[engine.key] = ready[engine.key].outputs()
            problems += check(outputs, f"{case.title} / {label}")
            prepared[name, label] = ready
            prompt_chars[name, label] = sum(map(len, outputs[REFERENCE])) / len(conversations)
    for key, why in skipped.items():
        print(f"skipped {key}: {why}")
    if problems:
        print("\nOUTPUT MISMATCH: these engines do not render byte-equal to transformers:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"all engines byte-equal to transformers on {args.conversations} conversations per data set")

    # 2. Time: every (format, data set, engine) in one interleaved set, so that all of them sample the
    # same stretches of machine time and even absolute numbers compare across formats and data sets.
    candidates = {(name, label, key): p.run for (name, label), ready in prepared.items() for key, p in ready.items()}
    print(f"timing {len(candidates)} candidates: {args.rounds} rounds of ~{len(candidates) * args.budget:.1f} s ...")
    best = timing.best_seconds(candidates, args.rounds, args.budget)
    results: dict[str, Any] = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "rounds": args.rounds,
            "budget_seconds": args.budget,
            "conversations_per_dataset": args.conversations,
            "add_generation_prompt": True,
            "timer": "thread CPU time, best of interleaved rounds, gc disabled",
            "glibc_trim_threshold_raised": held,
        },
        "engines": {e.key: {"label": e.label, "chatfmt": e.chatfmt, "batch": e.batch} for e in engines.ENGINES},
        "formats": {},
    }
    for name in names:
        case = engines.CASES[name]
        per_dataset = {}
        for label, conversations in sets.items():
            us = {key: best[name, label, key] / len(conversations) * 1e6 for key in prepared[name, label]}
            per_dataset[label] = {
                "conversations": len(conversations),
                "mean_prompt_chars": prompt_chars[name, label],
                "engines": {
                    key: {
                        "us_per_conversation": value,
                        "conversations_per_second": 1e6 / value,
                        "speedup_vs_transformers": us[REFERENCE] / value,
                        "vs_join_floor": value / us[FLOOR],
                    }
                    for key, value in us.items()
                },
            }
        results["formats"][name] = {"title": case.title, "datasets": per_dataset}
        print_table(case, per_dataset)

    print("\nTargets")
    for line, met in targets(results):
        print(f"  [{'met' if met else 'MISSED'}] {line}")

    if args.markdown:
        print("\n" + markdown(results))

    if not args.no_write:
        import chart

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        args.chart.write_text(chart.render_svg(results), encoding="utf-8")
        print(f"\nwrote {args.out} and {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
