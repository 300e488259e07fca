"""The benchmark bar chart as SVG, built with plain string formatting (no plotting library).

    python benchmarks/chart.py [RESULTS_JSON] [OUT_SVG]   # defaults: results/latest.json -> chart.svg

benchmarks/run.py calls `render_svg` after a full run. One panel per format, side by side, sharing the
engine labels; per engine one bar per data set, µs per conversation on a log scale (shorter is
faster), the value printed at the end of each bar; chatfmt's own rows sit on a tinted band.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
COLOURS = ("#1f5fa8", "#f28e2b", "#59a14f", "#b07aa1")  # one per data set
BAND = "#e8f0fa"  # behind chatfmt's rows
GRID = "#c8c8c8"
INK = "#222222"
MUTED = "#666666"

LABEL_WIDTH = 300  # the engine-label column
PANEL_WIDTH = 330  # one format's plot area
PANEL_GAP = 70  # room for the value labels after the longest bar
BAR = 11
BAR_GAP = 2
ROW_PAD = 8
TOP = 134  # title, subtitle, legend, panel titles
BOTTOM = 52  # axis labels and caption


def _value(us: float) -> str:
    if us < 1:
        return f"{us:.3f}"
    if us < 10:
        return f"{us:.2f}"
    if us < 100:
        return f"{us:.1f}"
    return f"{us:.0f}"


def _decade(value: float) -> str:
    return f"{value:g}" if value >= 1 else f"{value:.{-math.floor(math.log10(value))}f}"


def render_svg(results: dict[str, Any]) -> str:
    """The chart for a results dict as benchmarks/run.py writes it."""
    formats = results["formats"]
    engines = [
        key
        for key in results["engines"]
        if any(key in d["engines"] for f in formats.values() for d in f["datasets"].values())
    ]
    labels = [dataset for dataset in next(iter(formats.values()))["datasets"]]
    values = [
        d["engines"][key]["us_per_conversation"]
        for f in formats.values()
        for d in f["datasets"].values()
        for key in engines
        if key in d["engines"]
    ]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    decades = round(math.log10(hi / lo))

    def x_of(us: float) -> float:
        return PANEL_WIDTH * math.log10(us / lo) / decades

    row_height = len(labels) * (BAR + BAR_GAP) - BAR_GAP + 2 * ROW_PAD
    plot_height = len(engines) * row_height
    width = LABEL_WIDTH + len(formats) * (PANEL_WIDTH + PANEL_GAP) + 10
    height = TOP + plot_height + BOTTOM

    machine, settings = results["machine"], results["settings"]
    versions = machine.get("versions", {})
    subtitle = (
        f"{settings['conversations_per_dataset']} conversations per data set, add_generation_prompt=True; "
        f"best of {settings['rounds']} interleaved rounds of thread CPU time, all engines in one process.",
        f"Python {machine['python']} on {machine['cores_available']} shared cores ({machine['cpu']}); "
        f"transformers {versions.get('transformers', '?')}, jinja2 {versions.get('jinja2', '?')}, "
        f"minijinja {versions.get('minijinja', '?')}; chatfmt's builder: {machine['chatfmt_builder']}.",
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" fill="{INK}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        '<text x="16" y="28" font-size="19" font-weight="bold">'
        "Rendering a chat prompt: µs per conversation (log scale, shorter is faster)</text>",
        f'<text x="16" y="50" font-size="12" fill="{MUTED}">{escape(subtitle[0])}</text>',
        f'<text x="16" y="66" font-size="12" fill="{MUTED}">{escape(subtitle[1])}</text>',
    ]
    # Legend: one swatch per data set, and the chatfmt band.
    x = 16.0
    for index, label in enumerate(labels):
        mean = next(iter(formats.values()))["datasets"][label]["mean_prompt_chars"]
        text = f"{label} (prompts of ~{mean:,.0f} characters)"
        out.append(f'<rect x="{x}" y="80" width="14" height="14" fill="{COLOURS[index % len(COLOURS)]}"/>')
        out.append(f'<text x="{x + 20}" y="92" font-size="13">{escape(text)}</text>')
        x += 30 + 7.2 * len(text)
    out.append(f'<rect x="{x}" y="80" width="14" height="14" fill="{BAND}" stroke="{GRID}"/>')
    out.append(f'<text x="{x + 20}" y="92" font-size="13">chatfmt\'s own paths</text>')

    plot_top = TOP
    # chatfmt's rows: a band across the whole width, under everything else.
    for row, key in enumerate(engines):
        if results["engines"][key]["chatfmt"]:
            y = plot_top + row * row_height
            out.append(f'<rect x="8" y="{y}" width="{width - 16}" height="{row_height}" fill="{BAND}"/>')
    # Engine labels.
    for row, key in enumerate(engines):
        y = plot_top + row * row_height + row_height / 2 + 4.5
        weight = ' font-weight="bold"' if results["engines"][key]["chatfmt"] else ""
        label = escape(results["engines"][key]["label"])
        out.append(f'<text x="{LABEL_WIDTH - 12}" y="{y:.1f}" font-size="13" text-anchor="end"{weight}>{label}</text>')

    for panel, fmt in enumerate(formats.values()):
        left = LABEL_WIDTH + panel * (PANEL_WIDTH + PANEL_GAP)
        out.append(
            f'<text x="{left + PANEL_WIDTH / 2}" y="{plot_top - 14}" font-size="15" font-weight="bold" '
            f'text-anchor="middle">{escape(fmt["title"])}</text>'
        )
        # Decade grid lines and their labels.
        for k in range(decades + 1):
            gx = left + PANEL_WIDTH * k / decades
            out.append(
                f'<line x1="{gx:.1f}" y1="{plot_top}" x2="{gx:.1f}" y2="{plot_top + plot_height}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            unit = " µs" if k == decades else ""
            out.append(
                f'<text x="{gx:.1f}" y="{plot_top + plot_height + 16}" font-size="12" fill="{MUTED}" '
                f'text-anchor="middle">{_decade(lo * 10**k)}{unit}</text>'
            )
        out.append(
            f'<line x1="{left}" y1="{plot_top}" x2="{left}" y2="{plot_top + plot_height}" stroke="{INK}" stroke-width="1"/>'
        )
        for row, key in enumerate(engines):
            for index, label in enumerate(labels):
                result = fmt["datasets"].get(label, {}).get("engines", {}).get(key)
                if result is None:
                    continue
                us = result["us_per_conversation"]
                y = plot_top + row * row_height + ROW_PAD + index * (BAR + BAR_GAP)
                w = max(x_of(us), 1.0)
                tooltip = escape(f"{fmt['title']}, {label}, {results['engines'][key]['label']}: {us:.3f} µs")
                out.append(
                    f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{COLOURS[index % len(COLOURS)]}">'
                    f"<title>{tooltip}</title></rect>"
                )
                out.append(
                    f'<text x="{left + w + 4:.1f}" y="{y + BAR - 1.5}" font-size="10.5" fill="{MUTED}">{_value(us)}</text>'
                )
    out.append(
        f'<text x="{LABEL_WIDTH}" y="{height - 14}" font-size="11.5" fill="{MUTED}">'
        "Every engine's output is byte-equal to transformers' apply_chat_template(tokenize=False). "
        "Reproduce: python benchmarks/run.py</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else HERE / "results" / "latest.json"
    target = Path(args[1]) if len(args) > 1 else HERE / "chart.svg"
    target.write_text(render_svg(json.loads(source.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
