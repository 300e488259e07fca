"""The `datasets` and Ray Data integrations, run for real on small data: every row equals `render`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

import chatfmt

ROWS = [
    {
        "id": i,
        "messages": [{"role": "user", "content": f"question {i} é"}, {"role": "assistant", "content": f" answer {i} "}],
    }
    for i in range(60)
]
BAD = {7: [], 9: [{"role": None, "content": "x"}]}


def rows_with_bad() -> list[dict[str, Any]]:
    rows = [dict(row) for row in ROWS]
    for index, messages in BAD.items():
        rows[index]["messages"] = messages
    return rows


def test_datasets_add_prompts_with_num_proc() -> None:
    datasets = pytest.importorskip("datasets")
    from chatfmt.integrations.datasets import add_prompts

    template = chatfmt.get_template("llama-3")
    dataset = datasets.Dataset.from_list(ROWS)
    out = add_prompts(dataset, "llama-3", num_proc=2, batch_size=16, add_generation_prompt=True)
    assert out.column_names == ["id", "messages", "text"]
    assert out["text"] == [template.render(row["messages"], add_generation_prompt=True) for row in ROWS]
    assert out.format["type"] == dataset.format["type"]
    splits = add_prompts(datasets.DatasetDict(train=dataset, test=dataset.select(range(5))), template, output="prompt")
    assert splits["test"]["prompt"] == [template.render(row["messages"]) for row in ROWS[:5]]


def test_datasets_bad_rows_follow_on_error() -> None:
    datasets = pytest.importorskip("datasets")
    from chatfmt.integrations.datasets import add_prompts

    template = chatfmt.get_template("chatml")
    rows = rows_with_bad()
    dataset = datasets.Dataset.from_list(rows)
    with pytest.raises(ValueError, match="empty conversation") as raised:
        add_prompts(dataset, template, batch_size=4)
    assert raised.value.row_index == 7
    nulled = add_prompts(dataset, template, on_error="null", batch_size=4)
    assert nulled["text"][7] is None and nulled["text"][9] is None
    assert nulled["text_error"][9] == "row 9: InvalidConversation: message 0, field 'role': 'role' is null"
    kept, rejected = add_prompts(dataset, template, on_error="skip", num_proc=2, batch_size=4)
    assert kept["id"] == [row["id"] for row in rows if row["id"] not in BAD]
    assert kept["text"] == [template.render(row["messages"]) for row in rows if row["id"] not in BAD]
    assert rejected["id"] == [7, 9] and rejected["text_error"][0].startswith("row 7: ValueError")


@pytest.fixture(scope="module")
def ray_runtime() -> Any:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")  # Ray warns about its own defaults
def test_ray_prompt_renderer(ray_runtime: Any) -> None:
    from chatfmt.integrations.ray import PromptRenderer

    template = chatfmt.Template.from_jinja(
        chatfmt.get_template("qwen2.5").source, special_tokens={"eos_token": "<|im_end|>"}
    )
    dataset = ray_runtime.data.from_arrow(pa.Table.from_pylist(rows_with_bad()))
    renderer = PromptRenderer(template, on_error="null", add_generation_prompt=True)
    out = sorted(
        dataset.map_batches(renderer, batch_format="pyarrow", batch_size=16).take_all(), key=lambda row: row["id"]
    )
    assert len(out) == len(ROWS)
    for row in out:
        if row["id"] in BAD:
            assert row["text"] is None and row["text_error"]
        else:
            assert row["text"] == template.render(row["messages"], add_generation_prompt=True)
            assert row["text_error"] is None
