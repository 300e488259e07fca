"""`chatfmt format`: a dataset file in, one prompt per record out, every record accounted for."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import chatfmt
from chatfmt.cli import main

CONVERSATIONS = [
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi 👋"},
        {"role": "assistant", "content": " Hello "},
    ],
    [{"role": "user", "content": "  é 你好  "}],
    [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
    [{"role": "tool", "content": "42"}, {"role": "user", "content": "x", "name": "alice"}],
]


def records(n: int, conversations: list[Any] = CONVERSATIONS) -> list[dict[str, Any]]:
    return [
        {"id": i, "messages": conversations[i % len(conversations)], "meta": {"split": "train", "n": i}}
        for i in range(n)
    ]


GEMMA_OK = CONVERSATIONS[1:3]  # Gemma refuses system messages and roles out of turn


def write_jsonl(path: Path, rows: list[Any], extra_lines: dict[int, str] | None = None) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    for index, line in sorted((extra_lines or {}).items()):
        lines.insert(index, line)
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".zst"):
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["format", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def read_output(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
@pytest.mark.parametrize("output", ["out.parquet", "out.jsonl"])
def test_every_record_becomes_its_prompt(tmp_path: Path, suffix: str, output: str) -> None:
    rows = records(40)
    source = write_jsonl(tmp_path / f"in{suffix}", rows)
    code, out, err = run(
        "llama-3", str(source), "-o", str(tmp_path / output), "--add-generation-prompt", "--block-bytes", "700"
    )
    assert (code, err) == (0, "")
    assert "40 records in, 40 written, 0 rejected" in out
    template = chatfmt.get_template("llama-3")
    written = read_output(tmp_path / output)
    assert [list(r) for r in written] == [["id", "meta", "text"]] * 40  # every other column, in order
    assert [r["id"] for r in written] == list(range(40))
    assert [r["meta"] for r in written] == [r["meta"] for r in rows]
    assert [r["text"] for r in written] == [template.render(r["messages"], add_generation_prompt=True) for r in rows]
    assert leftovers(tmp_path) == []


def test_keep_conversation_spans_and_columns(tmp_path: Path) -> None:
    rows = records(6)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    code, _, err = run(
        "chatml",
        str(source),
        "-o",
        str(tmp_path / "o.parquet"),
        "--keep-conversation",
        "--spans",
        "chars",
        "--column",
        "messages",
        "--output-column",
        "prompt",
    )
    assert code == 0, err
    written = read_output(tmp_path / "o.parquet")
    template = chatfmt.get_template("chatml")
    assert list(written[0]) == ["id", "messages", "meta", "prompt", "prompt_spans"]
    for row, out in zip(rows, written):
        assert [(s["start"], s["end"]) for s in out["prompt_spans"]] == list(
            template.render_spans(row["messages"]).generation
        )


def test_parquet_input(tmp_path: Path) -> None:
    rows = records(30)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=7)
    template = chatfmt.get_template("qwen2.5")
    for output in ("o.parquet", "o.jsonl"):
        code, out, err = run("qwen2.5", str(tmp_path / "in.parquet"), "-o", str(tmp_path / output))
        assert code == 0, err
        assert [r["text"] for r in read_output(tmp_path / output)] == [template.render(r["messages"]) for r in rows]


BAD_LINES = {
    3: '{"id": "bad json", "messages": [',
    7: "[1, 2]",
    10: '{"id": 100, "conversation": []}',
    12: '{"id": 101, "messages": [{"role": null, "content": "x"}], "meta": {"split": "train", "n": 0}}',
    15: '{"id": 102, "messages": [{"role": "user", "content": 5}], "meta": {"split": "train", "n": 0}}',
    18: '{"id": 103, "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "meta": {"split": "x", "n": 1}}',
    20: '{"id": 104, "messages": [], "meta": {"split": "x", "n": 1}}',
    24: '{"id": "105", "messages": [{"role": "user", "content": "a"}], "meta": {"split": "x", "n": 1}}',
}


@pytest.mark.parametrize("output", ["out.parquet", "out.jsonl"])
def test_bad_records_fail_with_file_and_line_and_leave_no_output(tmp_path: Path, output: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(30, GEMMA_OK), BAD_LINES)
    target = tmp_path / output
    target.write_text("an earlier output")
    code, out, err = run("gemma", str(source), "-o", str(target), "--block-bytes", "500")
    assert code == 1
    assert err.startswith(f"chatfmt: error: {source}:4: not valid JSON")
    assert target.read_text() == "an earlier output"  # untouched: written to a temporary file, never renamed
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("output", ["out.parquet", "out.jsonl"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_skip_writes_each_bad_record_with_its_line_and_reason(tmp_path: Path, output: str, workers: str) -> None:
    rows = records(30, GEMMA_OK)
    source = write_jsonl(tmp_path / "in.jsonl", rows, BAD_LINES)
    target = tmp_path / output
    code, out, err = run(
        "gemma",
        str(source),
        "-o",
        str(target),
        "--on-error",
        "skip",
        "--json",
        "--block-bytes",
        "500",
        "--workers",
        workers,
    )
    assert code == 0, err
    summary = json.loads(out)
    rejected = [json.loads(line) for line in (tmp_path / f"{output}.rejects.jsonl").read_text().splitlines()]
    reasons = {r["line"]: r["reason"] for r in rejected}
    expected_lines = {index + 1 for index in BAD_LINES}
    if output.endswith(".jsonl"):
        expected_lines.discard(25)  # a string id is a fine JSON value; only Parquet needs one type per column
    assert set(reasons) == expected_lines
    assert reasons[4].startswith("not valid JSON")
    assert reasons[8] == "a record must be a JSON object, got array"
    assert reasons[11] == "no 'messages' field"
    assert "message 0, field 'role'" in reasons[13]
    assert "message 0, field 'content'" in reasons[16]
    assert reasons[19].startswith("the template refused it: TemplateError: Conversation roles must alternate")
    assert reasons[21].startswith(
        "the template refused it: ValueError: Cannot apply chat template to an empty conversation"
    )
    if output.endswith(".parquet"):
        assert "does not fit the output's columns" in reasons[25]
    assert all(r["record"] == (tmp_path / "in.jsonl").read_text().splitlines()[r["line"] - 1] for r in rejected)
    assert summary["records"] == 38 and summary["written"] + summary["rejected"] == 38
    assert summary["rejected"] == len(expected_lines)
    template = chatfmt.get_template("gemma")
    lines = (tmp_path / "in.jsonl").read_text().splitlines()
    kept = [json.loads(line) for number, line in enumerate(lines, 1) if number not in reasons]
    assert [r["text"] for r in read_output(target)] == [template.render(r["messages"]) for r in kept]


def test_a_first_batch_with_no_good_record_does_not_fix_the_columns(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 0, "messages": []}] * 3 + records(6))
    code, out, err = run(
        "chatml", str(source), "-o", str(tmp_path / "o.parquet"), "--on-error", "skip", "--block-bytes", "100", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["rejected"] == 3 and pq.read_table(tmp_path / "o.parquet")["id"].to_pylist() == list(
        range(6)
    )


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(5), {2: "", 4: "   \t"})
    code, out, err = run("chatml", str(source), "-o", str(tmp_path / "o.parquet"), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["records"], summary["written"], summary["blank_lines"], summary["rejected"]) == (5, 5, 2, 0)


def test_workers_keep_the_order(tmp_path: Path) -> None:
    rows = records(200)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    outputs = []
    for workers in ("1", "2"):
        target = tmp_path / f"o{workers}.parquet"
        code, _, err = run("llama-3", str(source), "-o", str(target), "--workers", workers, "--block-bytes", "2000")
        assert code == 0, err
        outputs.append(pq.read_table(target))
    assert outputs[0].equals(outputs[1])
    assert outputs[0]["id"].to_pylist() == list(range(200))


def test_usage_errors(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "messages": CONVERSATIONS[1], "text": "already"}])
    for output in ("o.parquet", "o.jsonl"):
        code, _, err = run("chatml", str(source), "-o", str(tmp_path / output))
        assert code == 2 and "already has a column 'text'" in err
    code, _, err = run("chatml", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.parquet"))
    assert code == 2 and "no such file" in err
    code, _, err = run("chatml", str(source), "-o", str(tmp_path / "o.parquet"), "--set", "add_generation_prompt=true")
    assert code == 2 and "--add-generation-prompt" in err
    assert leftovers(tmp_path) == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(20))
    quiet_err = io.StringIO()
    assert (
        main(["format", "chatml", str(source), "-o", str(tmp_path / "a.jsonl")], stdout=io.StringIO(), stderr=quiet_err)
        == 0
    )
    assert quiet_err.getvalue() == ""
    terminal = Terminal()
    assert (
        main(["format", "chatml", str(source), "-o", str(tmp_path / "b.jsonl")], stdout=io.StringIO(), stderr=terminal)
        == 0
    )
    assert "in.jsonl" in terminal.getvalue() and "100%" in terminal.getvalue()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_last_line_without_newline_and_lines_longer_than_a_block(tmp_path: Path, workers: str) -> None:
    rows = records(9)
    rows[4]["messages"] = [{"role": "user", "content": "long " * 400}]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")  # no final newline
    code, out, err = run(
        "chatml", str(source), "-o", str(tmp_path / "o.jsonl"), "--block-bytes", "300", "--workers", workers
    )
    assert code == 0, err
    template = chatfmt.get_template("chatml")
    assert [r["text"] for r in read_output(tmp_path / "o.jsonl")] == [template.render(r["messages"]) for r in rows]


@pytest.mark.parametrize("output", ["o.parquet", "o.jsonl"])
def test_spans_in_bytes(tmp_path: Path, output: str) -> None:
    rows = records(8)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    code, _, err = run("llama-3", str(source), "-o", str(tmp_path / output), "--spans", "bytes")
    assert code == 0, err
    template = chatfmt.get_template("llama-3")
    for row, out in zip(rows, read_output(tmp_path / output)):
        reference = template.render_spans(row["messages"])
        data = out["text"].encode()
        pieces = [data[span["start"] : span["end"]].decode() for span in out["text_spans"]]
        assert pieces == [reference.text[a:b] for a, b in reference.generation]


def test_jsonl_to_jsonl_needs_no_pyarrow_and_parquet_says_what_to_install(tmp_path: Path) -> None:
    import subprocess
    import sys

    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    script = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from chatfmt.cli import main\n"
        f"print(main(['format', 'chatml', {str(source)!r}, '-o', {str(tmp_path / 'o.jsonl')!r}, '--quiet']))\n"
        f"print(main(['format', 'chatml', {str(source)!r}, '-o', {str(tmp_path / 'o.parquet')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-2:] == ["0", "2"]
    assert "pip install 'chatfmt[dataset]'" in done.stderr
    assert len(read_output(tmp_path / "o.jsonl")) == 3
