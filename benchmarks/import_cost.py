"""What a server pays to start using chatfmt: `import chatfmt`, and importing it then rendering a built-in.

    python benchmarks/import_cost.py            # 15 runs of each; prints a table
    python benchmarks/import_cost.py --runs 40  # more runs, steadier minimums
    python benchmarks/import_cost.py --json     # the figures as JSON

Each figure is a fresh interpreter (`python -c ...`) compared with a bare one (`python -c pass`), best of
the runs, since load from other processes only ever adds time:
- wall: the subprocess's wall-clock time;
- cpu: its user + system CPU time (from `os.wait4`), which descheduling on a busy machine does not inflate;
- importtime: the cumulative microseconds `python -X importtime` reports for `chatfmt` (import only).
Bytecode is written once before timing (a first run with PYTHONDONTWRITEBYTECODE unset), so the figures
are those of an installed package, not of compiling its sources. The issue's targets: import under
15 ms, import plus a built-in render under 25 ms, both on top of bare Python, with no jinja2 loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

BARE = "pass"
IMPORT = "import chatfmt"
RENDER = (
    "import chatfmt, sys\n"
    "chatfmt.get_template('chatml').render([{'role': 'user', 'content': 'Hi'}], add_generation_prompt=True)\n"
    "assert 'jinja2' not in sys.modules, 'a built-in render loaded jinja2'\n"
)
_IMPORTTIME = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| chatfmt$", re.MULTILINE)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh interpreter running `code`."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"benchmark child failed ({child.returncode}): {code!r}")
    return wall, usage.ru_utime + usage.ru_stime


def _importtime(env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORT], env=env, capture_output=True, text=True, check=True
    )
    found = _IMPORTTIME.search(out.stderr)
    assert found is not None, out.stderr[-500:]
    return int(found.group(1)) / 1e6  # seconds, like the other figures


def measure(runs: int) -> dict[str, float]:
    """Milliseconds on top of bare Python, best of `runs`, for each figure of the module docstring."""
    env = _environment()
    _run(RENDER, env)  # writes the bytecode caches
    best: dict[str, list[float]] = {}
    for _ in range(runs):  # interleaved, so a burst of load hits every candidate alike
        for label, code in (("bare", BARE), ("import", IMPORT), ("render", RENDER)):
            wall, cpu = _run(code, env)
            best.setdefault(f"{label} wall", []).append(wall)
            best.setdefault(f"{label} cpu", []).append(cpu)
        best.setdefault("importtime", []).append(_importtime(env))
    ms = {key: min(values) * 1000 for key, values in best.items()}
    return {
        "import wall": ms["import wall"] - ms["bare wall"],
        "import cpu": ms["import cpu"] - ms["bare cpu"],
        "import importtime": ms["importtime"],
        "import+render wall": ms["render wall"] - ms["bare wall"],
        "import+render cpu": ms["render cpu"] - ms["bare cpu"],
        "bare wall": ms["bare wall"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.runs)
    if args.json:
        print(json.dumps({key: round(value, 2) for key, value in figures.items()}))
        return
    print(f"best of {args.runs} runs, ms on top of bare Python ({figures['bare wall']:.1f} ms wall)")
    for key, value in figures.items():
        if key != "bare wall":
            print(f"  {key:<20} {value:6.1f}")


if __name__ == "__main__":
    main()
